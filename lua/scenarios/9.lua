-- S9: alice writes M1 on node-1, bob updates its content on node-2, and charlie must read
-- bob's content on node-3 with alice still recorded as the writer (metadata.agent_id).
local s = scenario { id = "9", title = "Mutation round-trip" }

local ns = "scenario9-mutation"
local v1 = "v1-" .. uuid()
local v2 = "v2-" .. uuid()

log(("alice writes M1 content=%s on node-1"):format(v1))
local m1_id, write_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m1", content = v1 }
log("  M1 id=" .. tostring(m1_id))
s:field("m1_id", m1_id or "")
s:field("v1_uuid", v1)
s:field("v2_uuid", v2)
if not m1_id then
  s:fail(("alice's write of M1 on node-1 returned HTTP %d"):format(write_res.status))
end

-- bob's PUT returns 404 until M1 has replicated to node-2.
eventually(function() return node(2):get_memory(m1_id) ~= nil end, {
  timeout = 15, what = "node-2 sees M1",
})

log(("bob updates M1 content=%s on node-2 via PUT"):format(v2))
local _, put_res = node(2):update(m1_id, "ai:bob", { content = v2 })
log(("  PUT returned HTTP %d"):format(put_res.status))

eventually(function()
  local mem = node(3):get_memory(m1_id)
  return mem ~= nil and mem.content == v2
end, { timeout = 20, what = "node-3 sees bob's update" })

log("charlie reads M1 on node-3 and checks content + provenance")
local mem = node(3):get_memory(m1_id) or {}
local content = mem.content or ""
local agent_id = type(mem.metadata) == "table" and mem.metadata.agent_id or ""
log(("  charlie sees content=\"%s\" agent_id=\"%s\""):format(content, agent_id))

s:field("put_http_code", put_res.status)
s:field("charlie_view", { content = content, agent_id = agent_id })
s:check(content == v2, ("charlie expected content=%s got \"%s\""):format(v2, content))
s:check(agent_id == "ai:alice",
  ("metadata.agent_id changed from ai:alice to \"%s\" — Task 1.2 breach"):format(agent_id))
