-- S35: alice sets a standard on a parent namespace and one on its child on node-1. bob's
-- layered view of the child on node-2 must contain both rules, and after alice clears the
-- child's standard, bob's plain view of the child must no longer contain the child rule.
local s = scenario { id = "35", title = "Namespace standards layering" }

local suffix = uuid():sub(1, 6)
local parent = "scenario35-parent-" .. suffix
local child = parent .. "/child"
local OK_CODES = { [200] = true, [201] = true, [204] = true }

local is_object = json.is_object

-- Upstream serializes the body and searches it as text. An empty id matches any text, as
-- Python's `"" in s` does.
local function mentions(body, text, id)
  local blob = json.encode(body)
  return blob:find(text, 1, true) ~= nil or blob:find(id, 1, true) ~= nil
end

log("alice writes parent-standard-memory on node-1")
local parent_mid, p_res = node(1):write {
  agent = "ai:alice", namespace = parent, title = "parent-standard", content = "parent rule: x > 0", tier = "long",
}
parent_mid = parent_mid or ""
log(("  parent standard memory id=%s (HTTP %d)"):format(parent_mid, p_res.status))

log("alice sets namespace standard on " .. parent)
local set_p_res = node(1):post("/api/v1/namespaces", { namespace = parent, id = parent_mid }, { agent = "ai:alice" })
local set_p_code = set_p_res.status
log(("  set-parent returned HTTP %d"):format(set_p_code))

log("alice writes child-standard-memory on node-1")
local child_mid, c_res = node(1):write {
  agent = "ai:alice", namespace = child, title = "child-standard", content = "child rule: y < 10", tier = "long",
}
child_mid = child_mid or ""
log(("  child standard memory id=%s (HTTP %d)"):format(child_mid, c_res.status))

log(("alice sets namespace standard on %s with parent=%s"):format(child, parent))
local set_c_res = node(1):post("/api/v1/namespaces",
  { namespace = child, id = child_mid, parent = parent }, { agent = "ai:alice" })
local set_c_code = set_c_res.status
log(("  set-child returned HTTP %d"):format(set_c_code))

-- `inherit=true` requests the whole parent-to-child chain. Without it the server returns
-- only the child's own standard. The query is sent unencoded, as upstream sends it.
local function layered_view()
  local res = node(2):get("/api/v1/namespaces?namespace=" .. child .. "&inherit=true")
  local sees_parent, sees_child = false, false
  if is_object(res.json) then
    sees_parent = mentions(res.json, "parent rule", parent_mid)
    sees_child = mentions(res.json, "child rule", child_mid)
  end
  return res, sees_parent, sees_child
end

eventually(function()
  local _, sees_parent, sees_child = layered_view()
  return sees_parent and sees_child
end, { timeout = 20, what = "node-2's layered view of the child contains both rules" })

log(("bob gets standard for %s on node-2 (expects layered parent+child)"):format(child))
local std_res, sees_parent_rule, sees_child_rule = layered_view()
local std_code = std_res.status
log(("  get-standard returned HTTP %d"):format(std_code))
log(("  parent-rule visible=%s; child-rule visible=%s"):format(tostring(sees_parent_rule), tostring(sees_child_rule)))

log("alice clears standard on " .. child)
local clr_res = node(1):delete("/api/v1/namespaces?namespace=" .. child, { agent = "ai:alice" })
local clr_code = clr_res.status
log(("  clear returned HTTP %d"):format(clr_code))

-- Upstream guards the id here, so an empty child id matches nothing.
local function child_rule_after_clear()
  local body = node(2):get("/api/v1/namespaces?namespace=" .. child).json
  if not is_object(body) then return false end
  local blob = json.encode(body)
  return blob:find("child rule", 1, true) ~= nil or (child_mid ~= "" and blob:find(child_mid, 1, true) ~= nil)
end

eventually(function() return not child_rule_after_clear() end, {
  timeout = 20, what = "the clear reaches node-2",
})
local post_has_child_rule = child_rule_after_clear()

s:field("parent_ns", parent)
s:field("child_ns", child)
s:field("set_parent_http_code", set_p_code)
s:field("set_child_http_code", set_c_code)
s:field("get_standard_http_code", std_code)
s:field("clear_http_code", clr_code)
s:field("sees_parent_rule", sees_parent_rule)
s:field("sees_child_rule", sees_child_rule)
s:field("post_clear_has_child_rule", post_has_child_rule)
for _, step in ipairs {
  { set_p_code, "set-parent" }, { set_c_code, "set-child" },
  { std_code, "get-standard" }, { clr_code, "clear-standard" },
} do
  s:check(OK_CODES[step[1]], ("%s returned HTTP %d"):format(step[2], step[1]))
end
s:check(sees_parent_rule, "parent rule not layered into child's standard view")
s:check(sees_child_rule, "child rule missing from standard view")
s:check(not post_has_child_rule, "child rule still visible after clear")
