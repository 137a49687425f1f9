-- S1b: each agent writes 10 rows through its own node's HTTP API, which fans out to the
-- peers. Every other agent's node must list them, and node-4 must hold 10 rows per writer
-- with the writer's metadata.agent_id intact.
local s = scenario { id = "1b", title = "Per-agent write + read, HTTP path", needs = { "node-4" } }

local WRITES_PER_AGENT = 10
local EXPECTED_PER_READER = 2 * WRITES_PER_AGENT
local writers = agents()
local aggregator = node(4)

local function namespace_of(writer)
  return "scenario1b-" .. writer.agent_id
end

-- Rows a reader's node lists in the two other writers' namespaces.
local function recall_of(reader)
  local total = 0
  for _, writer in ipairs(writers) do
    if writer.name ~= reader.name then
      total = total + (reader:count(namespace_of(writer), { limit = 100 }) or 0)
    end
  end
  return total
end

local function converged()
  for _, reader in ipairs(writers) do
    if recall_of(reader) < EXPECTED_PER_READER then return false end
  end
  for _, writer in ipairs(writers) do
    local total, wrong = aggregator:count_wrong(namespace_of(writer), writer.agent_id, { limit = 100 })
    if total ~= WRITES_PER_AGENT or wrong ~= 0 then return false end
  end
  return true
end

log(("phase A: each agent POSTs %d memories to local serve"):format(WRITES_PER_AGENT))
for _, writer in ipairs(writers) do
  log(("  %s on %s"):format(writer.agent_id, writer.name))
  for i = 1, WRITES_PER_AGENT do
    local id, res = writer:write {
      agent = writer.agent_id,
      namespace = namespace_of(writer),
      title = ("w%d-%s"):format(i, writer.agent_id),
      content = ("scenario1b write %d from %s via HTTP"):format(i, writer.agent_id),
    }
    if not id then
      log(("  !! write failed %s i=%d: HTTP %d %s"):format(writer.agent_id, i, res.status, res.error or ""))
    end
  end
end

eventually(converged, {
  timeout = 30,
  what = "agent nodes see both other namespaces and node-4 sees 10 rows per writer",
})

log("phase B: count rows in other two namespaces via local serve HTTP")
local recall = {}
for _, reader in ipairs(writers) do
  recall[reader.agent_id] = recall_of(reader)
  s:field("per_agent", reader.agent_id, "recall", recall[reader.agent_id])
  log(("  %s sees %d rows from the other two namespaces"):format(reader.agent_id, recall[reader.agent_id]))
end

log("phase C: cross-cluster identity check on node-4")
local identity_ok = true
for _, writer in ipairs(writers) do
  local ns = namespace_of(writer)
  local total, wrong = aggregator:count_wrong(ns, writer.agent_id, { limit = 100 })
  total, wrong = total or 0, wrong or 0
  s:field("per_namespace_node4", ns, { count = total, wrong_agent_id = wrong })
  log(("  ns=%s count=%d wrong_agent_id=%d"):format(ns, total, wrong))
  if total ~= WRITES_PER_AGENT or wrong ~= 0 then identity_ok = false end
end

s:field("path", "serve-http")
s:field("expected_per_reader", EXPECTED_PER_READER)
for _, reader in ipairs(writers) do
  local got = recall[reader.agent_id]
  s:check(got >= EXPECTED_PER_READER,
    ("%s sees %d < %d via serve HTTP"):format(reader.agent_id, got, EXPECTED_PER_READER))
end
s:check(identity_ok, "cross-cluster identity check failed at node-4")
