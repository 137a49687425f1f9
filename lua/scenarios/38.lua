-- S38: alice writes 5 rows on node-1 and exports them, bob imports the copies into a fresh
-- namespace on node-2, and node-2 must list all 5 with their content.
-- ai-memory 0.6.2 exports the whole database, so the rows are filtered here. Its import is
-- local to the receiving node, so node-2 lists the rows as soon as the import returns.
local s = scenario { id = "38", title = "Export / import round-trip" }

local ROWS = 5
local suffix = uuid():sub(1, 6)
local src_ns = "scenario38-src-" .. suffix
local dst_ns = "scenario38-dst-" .. suffix

log(("alice writes %d rows into %s"):format(ROWS, src_ns))
local markers = {}
for i = 0, ROWS - 1 do
  local marker = ("exp-%d-%s"):format(i, uuid())
  markers[#markers + 1] = marker
  local _, res = node(1):write { agent = "ai:alice", namespace = src_ns, title = "exp-" .. i, content = "marker=" .. marker }
  log(("  exp-%d write returned HTTP %d"):format(i, res.status))
end

log("alice exports on node-1 (endpoint has no namespace filter; filter client-side)")
local export_res = node(1):get("/api/v1/export")
local export_code = export_res.status
local exported = type(export_res.json) == "table" and export_res.json.memories or nil
exported = type(exported) == "table" and exported or {}
log(("  export returned HTTP %d, total_rows=%d"):format(export_code, #exported))

-- Each copy keeps every field but gets the destination namespace and a new id, so that it
-- does not collide with its original.
local rewrote = {}
for _, row in ipairs(exported) do
  if type(row) == "table" and row.namespace == src_ns then
    local copy = {}
    for key, value in pairs(row) do copy[key] = value end
    copy.namespace = dst_ns
    copy.id = "imp-" .. uuid()
    rewrote[#rewrote + 1] = copy
  end
end
local rows_exported = #rewrote
log(("  rewrote %d memories from %s -> %s"):format(rows_exported, src_ns, dst_ns))

log(("bob imports the payload into %s on node-2"):format(dst_ns))
local import_res = node(2):post("/api/v1/import", { memories = json.array(rewrote) }, { agent = "ai:bob" })
local import_code = import_res.status
log(("  import returned HTTP %d: %s"):format(import_code, import_res.body))

log("verify row counts match on destination")
local dst_rows = node(2):list(dst_ns, { limit = 200 })
local dst_count = dst_rows and #dst_rows or 0
log(("  %s has %d rows (expected %d)"):format(dst_ns, dst_count, ROWS))

local preserved = 0
for _, marker in ipairs(markers) do
  if (node(2):count(dst_ns, { contains = marker, limit = 50 }) or 0) >= 1 then preserved = preserved + 1 end
end
log(("  markers preserved in destination: %d/%d"):format(preserved, ROWS))

s:field("src_ns", src_ns)
s:field("dst_ns", dst_ns)
s:field("export_http_code", export_code)
s:field("import_http_code", import_code)
s:field("rows_exported", rows_exported)
s:field("rows_in_destination", dst_count)
s:field("markers_preserved", preserved)
s:field("expected_rows", ROWS)
s:check(export_code == 200 or export_code == 201, ("export returned HTTP %d"):format(export_code))
s:check(rows_exported >= ROWS, ("export returned %d rows (expected %d)"):format(rows_exported, ROWS))
s:check(import_code == 200 or import_code == 201 or import_code == 204, ("import returned HTTP %d"):format(import_code))
s:check(dst_count >= ROWS, ("destination count %d < expected %d"):format(dst_count, ROWS))
s:check(preserved >= ROWS, ("only %d/%d markers preserved"):format(preserved, ROWS))
