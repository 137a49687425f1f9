-- S39: /sync/since delta after a partition. With node-3 frozen, alice and bob write six rows;
-- after node-3 resumes, node-3 asks node-1 for everything since a checkpoint. The checkpoint
-- is node-1's own clock (its Date header), the clock that stamps the rows compared with it.
local s = scenario { id = "39", title = "/sync/since delta after a partition" }

local n = 6
local ns = "scenario39-delta-" .. uuid():sub(1, 6)

local checkpoint = node(1):clock()
if checkpoint == nil then
  s:fail("could not read node-1's clock from its Date header")
end
log("checkpoint = " .. checkpoint)

log("suspending ai-memory on node-3")
fault.pause(node(3))

local markers = {}
log("alice + bob write " .. n .. " rows while node-3 is out")
for i = 0, n - 1 do
  local u = "delta-" .. i .. "-" .. uuid()
  markers[#markers + 1] = u
  local writer = (i % 2 == 0) and node(1) or node(2)
  writer:write { agent = writer.agent_id, namespace = ns, title = "delta-" .. i, content = "marker=" .. u }
end

log("resuming ai-memory on node-3")
fault.resume(node(3))

local health = eventually(function()
  local res = node(3):call_peer(node(1), "GET", "/api/v1/health", { timeout = 5 })
  return res.status == 200 and res.body:find('"ok"', 1, true) ~= nil
end, { timeout = 20, interval = 0.5, what = "node-3 reaches node-1's health route" })
log("  node-3 → node-1 health reachable: " .. tostring(health.ok) .. " (after " .. health.attempts .. " probes)")

local query = "?since=" .. url.encode(checkpoint) .. "&limit=500"
local function delta()
  local res = node(3):call_peer(node(1), "GET", "/api/v1/sync/since" .. query, { timeout = 15 })
  local body = type(res.json) == "table" and res.json or {}
  local pool = body.memories or body.rows or body.delta or {}
  local rows, present = 0, 0
  for _, row in ipairs(pool) do
    if type(row) == "table" and row.namespace == ns then
      rows = rows + 1
      for _, marker in ipairs(markers) do
        if type(row.content) == "string" and row.content:find(marker, 1, true) then
          present = present + 1
          break
        end
      end
    end
  end
  return { res = res, body = body, raw = #pool, rows = rows, present = present }
end

log("node-3 asks node-1 /api/v1/sync/since?since=" .. checkpoint)
local last
eventually(function()
  last = delta()
  return last.present == n
end, { timeout = 30, what = "node-1's delta holds the " .. n .. " partition rows" })

log(("  /sync/since raw=%d ns-filtered=%d; %d/%d match our markers"):format(last.raw, last.rows, last.present, n))
s:check(last.present == n, ("delta returned %d/%d expected markers — delta-sync incomplete"):format(last.present, n))

local function diag(key)
  local v = last.body[key]
  if v == nil then return json.null end
  return v
end
s:field("namespace", ns)
s:field("checkpoint", checkpoint)
s:field("expected_markers", n)
s:field("markers_present", last.present)
s:field("rows_returned", last.rows)
s:field("rows_returned_raw", last.raw)
s:field("diag_updated_since", diag("updated_since"))
s:field("diag_earliest_updated_at", diag("earliest_updated_at"))
s:field("diag_latest_updated_at", diag("latest_updated_at"))
s:field("diag_node3_health_reachable", health.ok)
-- amesh makes the call itself; curl's exit code maps to 0 when an HTTP answer arrived.
s:field("diag_curl_exit", last.res.status ~= 0 and 0 or 1)
s:field("diag_curl_http_code", last.res.status)
s:field("diag_curl_body_head", last.res.body:sub(1, 300))
s:field("diag_curl_stderr", (last.res.error or ""):sub(1, 400))
s:field("amesh_checkpoint_clock", "node-1 Date header")
