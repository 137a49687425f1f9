-- S12: alice registers a probe agent on node-1, and node-2, node-3 and node-4 must list it.
-- ai-memory 0.6.2 stores agents as memories, so they replicate like any other row.
local s = scenario { id = "12", title = "Agent registration", needs = { "node-4" } }

local dave_id = "ai:dave-probe-" .. uuid():sub(1, 8)
local peers = { node(2), node(3), node(4) }

local function sightings(n)
  local body = n:get("/api/v1/agents?limit=100").json
  local pool = type(body) == "table" and (body.agents or body) or {}
  local hits = 0
  for _, agent in ipairs(pool) do
    if type(agent) == "table" and (agent.agent_id or agent.id) == dave_id then hits = hits + 1 end
  end
  return hits
end

-- agent_type must be a curated type or `ai:<name>`, otherwise the server returns HTTP 400.
log(("alice registers new agent %s on node-1"):format(dave_id))
local res = node(1):post("/api/v1/agents", {
  agent_id = dave_id,
  agent_type = "ai:probe-v3",
  capabilities = json.array { "memory_store", "memory_recall" },
}, { agent = "ai:alice" })
log(("  POST /api/v1/agents returned HTTP %d"):format(res.status))

eventually(function()
  for _, n in ipairs(peers) do
    if sightings(n) < 1 then return false end
  end
  return true
end, { timeout = 20, what = "node-2, node-3 and node-4 list the new agent" })

local sees = {}
for _, n in ipairs(peers) do
  sees[n.name] = sightings(n)
  s:field("peers_see", n.field_name, sees[n.name])
  log(("  %s sees %s: %d (expected >=1)"):format(n.name, dave_id, sees[n.name]))
end

s:field("registered_agent", dave_id)
s:field("register_http_code", res.status)
s:check(res.status == 200 or res.status == 201, ("register POST returned HTTP %d"):format(res.status))
for _, n in ipairs(peers) do
  s:check(sees[n.name] >= 1, ("%s did not see registered agent %s"):format(n.name, dave_id))
end
