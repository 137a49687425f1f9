-- S4: the three agents each write 30 rows at the same time. With W=2 quorum fanout,
-- node-4 must end up with all 30 rows per agent and no row carrying another agent's id.
local s = scenario { id = "4", title = "Federation-aware concurrent write burst", needs = { "node-4" } }

local PER_AGENT = 30
local writers = agents()
local aggregator = node(4)

local function namespace_of(writer)
  return "scenario4-fed-" .. writer.agent_id
end

-- Writes PER_AGENT rows one after another and returns how many got a 2xx response, so a
-- 503 quorum_not_met shows up in the log instead of counting as written.
local function burst(writer)
  local accepted = 0
  for i = 1, PER_AGENT do
    local id = writer:write {
      agent = writer.agent_id,
      namespace = namespace_of(writer),
      title = "fed-" .. i,
      content = ("fed-%s-%d-%s"):format(writer.agent_id, i, uuid()),
    }
    if id then accepted = accepted + 1 end
  end
  return accepted
end

log(("phase A: launching concurrent %d-row bursts from 3 agents"):format(PER_AGENT))
local results = parallel(
  function() return burst(writers[1]) end,
  function() return burst(writers[2]) end,
  function() return burst(writers[3]) end
)
for k, writer in ipairs(writers) do
  local r = results[k]
  if r.ok then
    log(("  %s burst 2xx=%d/%d"):format(writer.agent_id, r.value, PER_AGENT))
  else
    log(("  !! %s burst raised: %s"):format(writer.agent_id, tostring(r.error)))
  end
end

eventually(function()
  for _, writer in ipairs(writers) do
    local total = aggregator:count_wrong(namespace_of(writer), writer.agent_id, { limit = 200 })
    if total ~= PER_AGENT then return false end
  end
  return true
end, { timeout = 45, what = "node-4 sees 30 rows per agent namespace" })

log("phase B: querying node-4 aggregator for per-agent counts")
s:field("expected_per_agent", PER_AGENT)
for _, writer in ipairs(writers) do
  local aid = writer.agent_id
  local total, wrong = aggregator:count_wrong(namespace_of(writer), aid, { limit = 200 })
  total, wrong = total or 0, wrong or 0
  s:field("per_agent", aid, { count = total, wrong_agent_id = wrong })
  log(("  %s: count=%d (expected %d) wrong_agent_id=%d"):format(aid, total, PER_AGENT, wrong))
  s:check(total == PER_AGENT, ("%s: node-4 saw %d rows, expected %d"):format(aid, total, PER_AGENT))
  s:check(wrong == 0, ("%s: %d rows have wrong agent_id"):format(aid, wrong))
end
