-- S29: alice writes M1 on node-1 and archives it, bob must see it in node-2's archive,
-- charlie restores it on node-3, node-4 must list it as active again, and node-4's
-- /archive/stats must return a non-empty object.
local s = scenario { id = "29", title = "Archive lifecycle", needs = { "node-4" } }

local ns = "scenario29-archive"
local marker = "arc-" .. uuid()

-- Returns the first argument that is a non-empty table, else an empty table, as Python's
-- `a or b or []` picks a list.
local first_list = require("testbook").first_list

local is_object = json.is_object

log("alice writes M1 on node-1")
local m1_id, write_res = node(1):write { agent = "ai:alice", namespace = ns, title = "archive-me", content = marker }
m1_id = m1_id or ""
log(("  M1 id=%s (HTTP %d)"):format(m1_id, write_res.status))

-- Returns whether `n`'s archive list contains M1, by id or by content.
local function archive_has_m1(n)
  local body = n:get("/api/v1/archive?limit=50").json
  if not is_object(body) then return false end
  for _, row in ipairs(first_list(body.memories, body.archived)) do
    if type(row) == "table" then
      local content = type(row.content) == "string" and row.content or ""
      if row.id == m1_id or content:find(marker, 1, true) then return true end
    end
  end
  return false
end

-- A peer archives M1 only when it has the row, so the archive fans out only after M1
-- has replicated.
eventually(function()
  for i = 2, 4 do
    if node(i):get_memory(m1_id) == nil then return false end
  end
  return true
end, { timeout = 15, what = "node-2, node-3 and node-4 see M1" })

log("alice archives M1 via POST /api/v1/archive")
local archive_res = node(1):post("/api/v1/archive",
  { ids = json.array { m1_id }, reason = "scenario-29 archive probe" }, { agent = "ai:alice" })
local archive_code = archive_res.status
log(("  archive (POST) returned HTTP %d"):format(archive_code))

-- bob's check reads node-2, and charlie's restore needs M1 in node-3's archive.
eventually(function() return archive_has_m1(node(2)) and archive_has_m1(node(3)) end, {
  timeout = 15, what = "M1 is in the archive on node-2 and node-3",
})

log("bob queries /api/v1/archive on node-2")
local bob_sees_archived = archive_has_m1(node(2))
log("  bob sees M1 in archive: " .. tostring(bob_sees_archived))

log("charlie restores M1 via /api/v1/archive/{id}/restore on node-3")
local restore_res = node(3):post("/api/v1/archive/" .. m1_id .. "/restore", nil, { agent = "ai:charlie" })
local restore_code = restore_res.status
log(("  restore returned HTTP %d"):format(restore_code))

local function node4_hits()
  return node(4):count(ns, { equals = marker, limit = 20 }) or 0
end

eventually(function() return node4_hits() >= 1 end, { timeout = 15, what = "node-4 lists M1 as active again" })

log("node-4 aggregator: M1 must be active again")
local n4_hit = node4_hits()
log(("  node-4 active rows matching marker: %d"):format(n4_hit))

log("fetch /api/v1/archive/stats on node-4")
local stats = node(4):get("/api/v1/archive/stats").json
local stats_shape_ok = is_object(stats) and next(stats) ~= nil

s:field("m1_id", m1_id)
s:field("archive_http_code", archive_code)
s:field("bob_sees_archived", bob_sees_archived)
s:field("restore_http_code", restore_code)
s:field("node4_active_rows", n4_hit)
s:field("stats_shape_ok", stats_shape_ok)

s:check(archive_code == 200 or archive_code == 201 or archive_code == 202 or archive_code == 204,
  ("archive POST returned HTTP %d"):format(archive_code))
s:check(bob_sees_archived, "bob did not see M1 in /api/v1/archive")
s:check(restore_code == 200 or restore_code == 204, ("restore returned HTTP %d"):format(restore_code))
s:check(n4_hit >= 1, "node-4 did not see M1 restored into active set")
s:check(stats_shape_ok, "/api/v1/archive/stats returned empty / unparseable response")
