-- S40: alice posts 500 rows in one /memories/bulk call on node-1, and node-2, node-3 and
-- node-4 must each end up listing exactly 500.
-- The time limit covers the bulk call (up to 120 s) plus three 90 s polls.
local s = scenario { id = "40", title = "Bulk write fanout", needs = { "node-4" }, timeout = 480 }

local BULK_SIZE = 500
local ACCEPTED_CODES = { ["200"] = true, ["201"] = true, ["202"] = true, ["204"] = true }
local ns = "scenario40-bulk-" .. uuid():sub(1, 6)

log(("constructing %d-row bulk payload"):format(BULK_SIZE))
local rows = {}
for i = 0, BULK_SIZE - 1 do
  rows[#rows + 1] = memory.row {
    agent = "ai:alice",
    namespace = ns,
    title = "b-" .. i,
    content = "bulk-marker=" .. uuid(),
    meta = { bulk_seq = i },
  }
end

-- The handler takes a bare JSON array. serve embeds every row before it responds (23.8 s
-- for 500 rows with ai-memory 0.6.2 on a 2-core machine), so the timeout is twice the default.
log("POST /api/v1/memories/bulk on node-1")
local res = node(1):post("/api/v1/memories/bulk", json.array(rows), { agent = "ai:alice", timeout = 120 })
local code = tostring(res.status)
log(("  bulk POST returned HTTP %s%s"):format(code, res.error and (" (" .. res.error .. ")") or ""))

s:field("namespace", ns)
s:field("bulk_http_code", code)
s:field("bulk_size", BULK_SIZE)
s:check(ACCEPTED_CODES[code], "bulk returned HTTP " .. code)

local function listed(n)
  local listing = n:list(ns, { limit = BULK_SIZE + 50 })
  return listing and #listing or 0
end

local peers = { node(2), node(3), node(4) }
for _, n in ipairs(peers) do
  eventually(function() return listed(n) end, {
    equals = BULK_SIZE,
    timeout = 90,
    what = n.name .. " sees all 500 bulk rows",
  })
end

for _, n in ipairs(peers) do
  local count = listed(n)
  s:field("per_peer_count", n.field_name, count)
  log(("  %s count=%d (expected %d)"):format(n.name, count, BULK_SIZE))
  s:check(count == BULK_SIZE, ("%s saw %d/%d bulk rows after fanout"):format(n.name, count, BULK_SIZE))
end
