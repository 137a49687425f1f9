-- S16: alice writes M1 at tier short on node-1 and promotes it. bob must then read tier
-- long on node-2.
local s = scenario { id = "16", title = "Tier promotion" }

local ns = "scenario16-tier"

log("alice writes M1 tier=short on node-1")
local m1_id, write_res = node(1):write {
  agent = "ai:alice", namespace = ns, title = "t1", content = "t-" .. uuid(), tier = "short",
}
log("  M1 id=" .. tostring(m1_id))
s:field("m1_id", m1_id or "")
if not m1_id then
  s:fail(("alice's write of M1 on node-1 returned HTTP %d"):format(write_res.status))
end

-- Returns M1's tier on node-2, or "(missing)" when the response has no tier (404 included),
-- or "" when the body is not a JSON object.
local function bob_tier()
  local _, res = node(2):get_memory(m1_id)
  if type(res.json) ~= "table" then return "" end
  local mem = type(res.json.memory) == "table" and res.json.memory or {}
  return mem.tier or "(missing)"
end

eventually(function() return node(2):get_memory(m1_id) ~= nil end, {
  timeout = 15, what = "node-2 sees M1",
})

-- ai-memory 0.6.2 ignores the body and always promotes to long.
log("alice promotes M1 to tier=long")
local promote_res = node(1):post("/api/v1/memories/" .. m1_id .. "/promote", { tier = "long" }, { agent = "ai:alice" })
log(("  promote returned HTTP %d"):format(promote_res.status))

eventually(function() return bob_tier() == "long" end, {
  timeout = 20, what = "node-2 sees M1 at tier long",
})

local tier = bob_tier()
log(("  bob sees tier=%s (expected long)"):format(tier))

s:field("promote_http_code", promote_res.status)
s:field("bob_sees_tier", tier)
s:check(promote_res.status == 200 or promote_res.status == 204,
  ("promote endpoint returned HTTP %d"):format(promote_res.status))
s:check(tier == "long", ("bob sees tier=\"%s\", expected \"long\""):format(tier))
