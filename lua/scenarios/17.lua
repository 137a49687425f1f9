-- S17: the three agents write 5 rows each into one namespace, and all four nodes must
-- list the same 15 rows. The namespace is fixed, so it relies on the mesh being reset before
-- the campaign.
local s = scenario { id = "17", title = "Stats consistency", needs = { "node-4" } }

local PER_AGENT = 5
local ns = "scenario17-stats"
local writers = agents()
local expected = PER_AGENT * #writers
local all_nodes = nodes()

local function listed(n)
  local rows = n:list(ns, { limit = 200 })
  return rows and #rows or 0
end

log(("phase A: each of 3 agents writes %d memories to %s"):format(PER_AGENT, ns))
for _, writer in ipairs(writers) do
  log(("  %s on %s"):format(writer.agent_id, writer.name))
  for i = 1, PER_AGENT do
    -- The title carries the agent id because rows upsert on (title, namespace).
    local title = ("stats-%s-%d"):format(writer.agent_id, i)
    writer:write { agent = writer.agent_id, namespace = ns, title = title, content = title .. "-" .. uuid() }
  end
end

eventually(function()
  for _, n in ipairs(all_nodes) do
    if listed(n) ~= expected then return false end
  end
  return true
end, { timeout = 30, what = "all four nodes list exactly 15 rows" })

log("phase B: querying count on every peer")
local counts = {}
local distinct = {}
local distinct_count = 0
for _, n in ipairs(all_nodes) do
  local count = listed(n)
  counts[n.name] = count
  s:field("per_peer", n.field_name, count)
  log(("  %s count=%d (expected %d)"):format(n.name, count, expected))
  if not distinct[count] then
    distinct[count] = true
    distinct_count = distinct_count + 1
  end
end

s:field("expected_count", expected)
for _, n in ipairs(all_nodes) do
  s:check(counts[n.name] == expected, ("%s count=%d != expected %d"):format(n.name, counts[n.name], expected))
end
s:check(distinct_count == 1, "peer counts diverge — " .. json.encode(counts))
