-- S1: each agent stores 10 rows through its MCP stdio tool path (`ai-memory mcp` on its
-- node's database). Every other agent's node must list them, and node-4 must hold 10 rows
-- per writer with the writer's metadata.agent_id intact.
local s = scenario { id = "1", title = "Per-agent write + read, MCP stdio path", needs = { "node-4" } }

local WRITES_PER_AGENT = 10
local EXPECTED_PER_READER = 2 * WRITES_PER_AGENT
local writers = agents()
local aggregator = node(4)

local function namespace_of(writer)
  return "scenario1-" .. writer.agent_id
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

-- A failed store is logged and counted. There is no HTTP fallback, so every row the peers
-- receive was written through MCP.
log(("phase A: each agent writes %d memories via MCP"):format(WRITES_PER_AGENT))
local mcp_errors = 0
for _, writer in ipairs(writers) do
  log(("  %s on %s"):format(writer.agent_id, writer.name))
  local session = mcp.session(writer, writer.agent_id)
  for i = 1, WRITES_PER_AGENT do
    local called, result, raw = pcall(session.call, session, "memory_store", {
      title = ("w%d-%s"):format(i, writer.agent_id),
      content = ("scenario1 write %d from %s"):format(i, writer.agent_id),
      namespace = namespace_of(writer),
      tier = "mid",
      priority = 5,
    })
    if not called then
      mcp_errors = mcp_errors + 1
      log(("  !! memory_store raised for %s i=%d: %s"):format(writer.agent_id, i, tostring(result)))
    elseif type(result) ~= "table" or result.id == nil then
      -- A JSON-RPC error returns nil and the error. A tool error returns its message text,
      -- with `isError` set in the raw result.
      mcp_errors = mcp_errors + 1
      local detail = type(raw) == "table" and json.encode(raw) or tostring(raw)
      log(("  !! memory_store failed for %s i=%d: %s"):format(writer.agent_id, i, detail))
    end
  end
  session:close()
end

-- MCP stores do not fan out in ai-memory 0.6.2. Peers pull them with their catch-up poll,
-- which runs every 30 s, so the bound covers up to two poll intervals.
local wait = eventually(converged, {
  timeout = 60,
  what = "agent nodes see both other namespaces and node-4 sees 10 rows per writer",
})

log("phase B: each agent counts rows in the OTHER two namespaces")
local recall = {}
for _, reader in ipairs(writers) do
  recall[reader.agent_id] = recall_of(reader)
  s:field("per_agent", reader.agent_id, "recall", recall[reader.agent_id])
  log(("  %s recalled %d rows from the other two namespaces"):format(reader.agent_id, recall[reader.agent_id]))
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

s:field("path", "mcp-stdio")
s:field("expected_per_reader", EXPECTED_PER_READER)
s:field("amesh_mcp_errors", mcp_errors)
s:field("amesh_catchup_ms", wait.elapsed_ms)
for _, reader in ipairs(writers) do
  local got = recall[reader.agent_id]
  s:check(got >= EXPECTED_PER_READER,
    ("%s recalled %d < %d via MCP"):format(reader.agent_id, got, EXPECTED_PER_READER))
end
s:check(identity_ok, "cross-cluster identity check failed — see per_ns")
