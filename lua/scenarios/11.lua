-- S11: alice links her M1 to bob's M2 on node-1, and charlie must see the link from M1 to
-- M2 on node-3.
local s = scenario { id = "11", title = "Link integrity" }

local ns = "scenario11-link"
local RELATION = "related_to"

log("alice writes M1 on node-1")
local m1_id, m1_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m1", content = "l1-" .. uuid() }
log("bob writes M2 on node-2")
local m2_id, m2_res = node(2):write { agent = "ai:bob", namespace = ns, title = "m2", content = "l2-" .. uuid() }
log(("  M1=%s M2=%s"):format(tostring(m1_id), tostring(m2_id)))
s:field("m1_id", m1_id or "")
s:field("m2_id", m2_id or "")
s:field("relation", RELATION)
if not m1_id then s:fail(("alice's write of M1 on node-1 returned HTTP %d"):format(m1_res.status)) end
if not m2_id then s:fail(("bob's write of M2 on node-2 returned HTTP %d"):format(m2_res.status)) end

local function has(n, id)
  return n:get_memory(id) ~= nil
end

-- ai-memory 0.6.2 rejects a link (HTTP 500) unless both memories exist on the node that
-- receives it, which is node-1 for the POST and node-3 for the replicated link.
eventually(function() return has(node(1), m2_id) and has(node(3), m1_id) and has(node(3), m2_id) end, {
  timeout = 15, what = "node-1 sees M2 and node-3 sees M1 and M2",
})

log("alice links M1 -> M2 with relation=related_to")
local link_res = node(1):post("/api/v1/links",
  { source_id = m1_id, target_id = m2_id, relation = RELATION }, { agent = "ai:alice" })
log(("  link POST returned HTTP %d"):format(link_res.status))

local function links_to_m2()
  local body = node(3):get("/api/v1/links/" .. m1_id).json
  local pool = type(body) == "table" and (body.links or body) or {}
  local count = 0
  for _, link in ipairs(pool) do
    if type(link) == "table" and (link.target_id or link.to or link.target) == m2_id then
      count = count + 1
    end
  end
  return count
end

local WAIT_SECONDS = 20
eventually(function() return links_to_m2() >= 1 end, {
  timeout = WAIT_SECONDS, what = "node-3 sees the M1->M2 link",
})

log("charlie queries links of M1 on node-3")
local sees_m2 = links_to_m2()
log(("  charlie sees M1->M2 link: %d (expected >=1)"):format(sees_m2))

s:field("link_http_code", link_res.status)
s:field("charlie_sees_link", sees_m2)
s:check(link_res.status == 200 or link_res.status == 201,
  ("link POST returned HTTP %d — endpoint may not exist"):format(link_res.status))
s:check(sees_m2 >= 1, ("charlie could not see M1->M2 link within %ds"):format(WAIT_SECONDS))
