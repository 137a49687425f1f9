-- S37: alice links her M1 to bob's M2 on node-1, and on node-3 the links of M1 must
-- include M2 (forward) and the links of M2 must include M1 (reverse).
local s = scenario { id = "37", title = "get_links bidirectional" }

local ns = "scenario37-links-bidir"

log("alice writes M1 + M2 + links M1→M2")
local m1, r1 = node(1):write { agent = "ai:alice", namespace = ns, title = "m1", content = "m1-" .. uuid() }
local m2, r2 = node(2):write { agent = "ai:bob", namespace = ns, title = "m2", content = "m2-" .. uuid() }
m1, m2 = m1 or "", m2 or ""
log(("  M1=%s (HTTP %d) M2=%s (HTTP %d)"):format(m1, r1.status, m2, r2.status))

local function has(n, id)
  return n:get_memory(id) ~= nil
end

-- ai-memory 0.6.2 rejects a link unless both memories exist on the node that receives it:
-- node-1 for the POST and node-3 for the replicated link. Upstream sends the POST at once
-- and loses this race when M2 has not reached node-1 yet.
eventually(function() return has(node(1), m2) and has(node(3), m1) and has(node(3), m2) end, {
  timeout = 15, what = "node-1 sees M2 and node-3 sees M1 and M2",
})

local link_res = node(1):post("/api/v1/links",
  { source_id = m1, target_id = m2, relation = "related_to" }, { agent = "ai:alice" })
log(("  link POST returned HTTP %d"):format(link_res.status))

local function links_of(id)
  local body = node(3):get("/api/v1/links/" .. id).json
  local links = type(body) == "table" and body.links or nil
  return type(links) == "table" and links or {}
end

local function first_id(link, a, b)
  local value = link[a]
  if value == nil or value == json.null or value == "" then value = link[b] end
  return (value ~= nil and value ~= json.null) and value or ""
end

local function forward_has_m2()
  for _, link in ipairs(links_of(m1)) do
    if type(link) == "table" and first_id(link, "target_id", "to") == m2 then return true end
  end
  return false
end

-- Either direction of the pair counts: the point is that the link is found from M2.
local function reverse_has_m1()
  for _, link in ipairs(links_of(m2)) do
    if type(link) == "table" and (first_id(link, "source_id", "from") == m1 or first_id(link, "target_id", "to") == m1) then
      return true
    end
  end
  return false
end

eventually(function() return forward_has_m2() and reverse_has_m1() end, {
  timeout = 20, what = "node-3 finds the link from both M1 and M2",
})

log("charlie queries /api/v1/links/M1 (forward)")
local fwd = forward_has_m2()
log("charlie queries /api/v1/links/M2 (reverse)")
local rev = reverse_has_m1()
log(("  forward has M2: %s; reverse has M1: %s"):format(tostring(fwd), tostring(rev)))

s:field("m1", m1)
s:field("m2", m2)
s:field("forward_has_target", fwd)
s:field("reverse_has_source", rev)
-- Upstream neither captures nor judges the link POST status.
s:field("amesh_link_http_code", link_res.status)
s:check(fwd, "forward get_links(M1) did not include M2")
s:check(rev, "reverse get_links(M2) did not include M1")
