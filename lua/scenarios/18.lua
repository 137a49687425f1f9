-- S18: alice and bob write two related memories that share no keyword with the query.
-- charlie's recall on node-3 must return both, which only semantic (embedding) recall can
-- do. On a keyword-only node the recall returns neither, and the scenario fails.
local s = scenario { id = "18", title = "Semantic recall across writers" }

local ns = "scenario18-semantic"
local QUERY = "morning outdoor exercise routine"
local tag_a = "alice-sunrise-" .. uuid():sub(1, 8)
local tag_b = "bob-daybreak-" .. uuid():sub(1, 8)
local charlie = node(3)

local function count_marker(rows, tag)
  local count = 0
  for _, row in ipairs(rows) do
    if type(row) == "table" and type(row.content) == "string" and row.content:find(tag, 1, true) then
      count = count + 1
    end
  end
  return count
end

local function sees_both(rows)
  return count_marker(rows, tag_a) >= 1 and count_marker(rows, tag_b) >= 1
end

local function listed()
  return charlie:list(ns, { limit = 50 }) or {}
end

-- Returns the recall rows (from `memories`, or a bare list) and the response `mode`.
local function recall()
  local path = ("/api/v1/recall?context=%s&namespace=%s&limit=20"):format(url.encode(QUERY), url.encode(ns))
  local body = charlie:get(path).json
  if type(body) ~= "table" then return {}, nil end
  return body.memories or body, body.mode
end

log("alice writes A on node-1")
node(1):write {
  agent = "ai:alice", namespace = ns, title = "dawn-walk", tier = "long",
  content = "Lyra starts every sunrise by walking the hills before most people are awake. Marker=" .. tag_a,
}
log("bob writes B on node-2")
node(2):write {
  agent = "ai:bob", namespace = ns, title = "ridge-strides", tier = "long",
  content = "Before dawn Lyra enjoys brisk uphill strides along the ridge line trails. Marker=" .. tag_b,
}

log("polling node-3 for both writes to propagate (max 30 s)")
eventually(function() return sees_both(listed()) end, { timeout = 30, what = "node-3 lists both writes" })
local rows = listed()
local list_a, list_b = count_marker(rows, tag_a), count_marker(rows, tag_b)
log(("  node-3 lists alice=%d bob=%d"):format(list_a, list_b))

-- node-3 embeds a replicated row and adds it to its vector index after the row is stored,
-- so the recall itself is polled.
eventually(function() return sees_both((recall())) end, { timeout = 45, what = "node-3 recall returns both markers" })

local probe_rows, probe_err = charlie:sql(("SELECT title, COALESCE(LENGTH(embedding),0), "
  .. "(CASE WHEN embedding IS NULL THEN 'NULL' ELSE 'BYTES' END) "
  .. "FROM memories WHERE namespace = '%s' ORDER BY title"):format(ns))
local probe_lines = {}
for _, row in ipairs(probe_rows or {}) do
  local columns = {}
  for k, value in ipairs(row) do
    columns[k] = value == json.null and "" or tostring(value)
  end
  probe_lines[#probe_lines + 1] = table.concat(columns, "|")
end
local embedding_probe = probe_err and ("error: " .. probe_err) or table.concat(probe_lines, " | ")
log(("  node-3 DB embedding probe: %s"):format(embedding_probe))

log("charlie queries on node-3 with semantically-related prompt")
local memories, mode = recall()
local saw_a, saw_b = count_marker(memories, tag_a), count_marker(memories, tag_b)
log(("  recall mode=%s returned %d rows"):format(tostring(mode), #memories))
log(("  charlie sees alice's memory: %d (expected >=1)"):format(saw_a))
log(("  charlie sees bob's memory: %d (expected >=1)"):format(saw_b))

local health = charlie:get("/api/v1/health").json
local embedder_ready = type(health) == "table" and health.embedder_ready == true

s:field("query", QUERY)
s:field("recall_mode", mode or json.null)
s:field("rows_in_recall", #memories)
s:field("diag_list_alice_present", list_a)
s:field("diag_list_bob_present", list_b)
s:field("diag_node3_embedding_probe", embedding_probe)
s:field("writers", json.array {
  { agent = "ai:alice", marker = tag_a, seen_by_charlie = saw_a },
  { agent = "ai:bob", marker = tag_b, seen_by_charlie = saw_b },
})
s:field("amesh_embedder_ready", embedder_ready)
s:check(saw_a >= 1, "semantic query did not surface alice's memory")
s:check(saw_b >= 1, "semantic query did not surface bob's memory")
if saw_a < 1 or saw_b < 1 then
  s:check(embedder_ready, "node-3 has no embedder loaded, so recall ran in keyword mode")
end
