-- S5: the three agents write 3 rows each, and alice consolidates all 9 on node-1. The new
-- memory must list all three writers in metadata.consolidated_from_agents on node-4.
-- The namespace is fixed, so it relies on the mesh being reset before the campaign.
local s = scenario { id = "5", title = "Consolidation + provenance", needs = { "node-4" } }

local ns = "scenario5-consolidate"
local writers = agents()
local source_rows = 3 * #writers

local function source_ids()
  local ids = {}
  for _, row in ipairs(node(1):list(ns, { limit = 100 }) or {}) do
    if row.id then ids[#ids + 1] = row.id end
  end
  return ids
end

-- Returns the provenance list of the consolidated memory on node-4, or nil while node-4
-- does not have it.
local function provenance(consolidated_id)
  local mem = node(4):get_memory(consolidated_id)
  local metadata = type(mem) == "table" and mem.metadata or nil
  if type(metadata) ~= "table" then return nil end
  local agents_list = metadata.consolidated_from_agents or metadata.consolidated_from
  if type(agents_list) ~= "table" then return nil end
  return agents_list
end

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

log("phase A: each agent writes 3 related memories")
for _, writer in ipairs(writers) do
  log(("  %s on %s"):format(writer.agent_id, writer.name))
  for i = 1, 3 do
    local title = ("c-%s-%d"):format(writer.agent_id, i)
    writer:write {
      agent = writer.agent_id, namespace = ns, title = title,
      content = ("observation %d from %s: %s-%s"):format(i, writer.agent_id, title, uuid()),
    }
  end
end
eventually(function() return #source_ids() >= source_rows end, {
  timeout = 20, what = "node-1 sees all 9 source rows",
})

log("phase B: collect source ids on node-1, then trigger consolidate")
local ids = source_ids()
log(("  source ids (count=%d)"):format(#ids))
local res = node(1):post("/api/v1/consolidate", {
  ids = json.array(ids),
  title = "c-consolidated",
  summary = "scenario-5 consolidation across alice, bob, charlie",
  namespace = ns,
}, { agent = "ai:alice" })
local body = type(res.json) == "table" and res.json or {}
local consolidated_id = body.id or body.memory_id or body.consolidated_memory_id or ""
log(("  consolidate HTTP %d, consolidated_id=%s"):format(res.status, consolidated_id))

log("phase C: verifying consolidated_from_agents on node-4")
local from_agents = json.array()
if consolidated_id ~= "" then
  eventually(function() return provenance(consolidated_id) end, {
    timeout = 20, what = "node-4 sees the consolidated memory with its provenance",
  })
  from_agents = provenance(consolidated_id) or from_agents
end
log("  consolidated_from_agents=" .. json.encode(from_agents))

s:field("consolidated_id", consolidated_id)
s:field("consolidate_http_code", res.status)
s:field("consolidated_from_agents", from_agents)
s:check(res.status == 200 or res.status == 201,
  ("consolidate endpoint returned HTTP %d — may not exist in this ai-memory version"):format(res.status))
s:check(consolidated_id ~= "", "consolidate did not return a new memory id")
for _, writer in ipairs(writers) do
  s:check(contains(from_agents, writer.agent_id), "consolidated_from_agents missing " .. writer.agent_id)
end
