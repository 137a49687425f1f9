-- S36: alice starts a session on node-1 and writes two rows tagged with its session_id,
-- and node-2 must list exactly those two rows with that tag.
-- ai-memory 0.6.2's list route ignores `session_id`, so the rows are filtered here, as
-- upstream does.
local s = scenario { id = "36", title = "Session start" }

local ns = "scenario36-session"

local function is_present(value)
  return value ~= nil and value ~= json.null and value ~= ""
end

log("alice starts a session on node-1")
local start_res = node(1):post("/api/v1/session/start", { agent_id = "ai:alice", namespace = ns }, { agent = "ai:alice" })
local start_code = start_res.status
local session_id = ""
if type(start_res.json) == "table" then
  local body = start_res.json
  session_id = is_present(body.session_id) and body.session_id or (is_present(body.id) and body.id or "")
end
log(("  session_start returned HTTP %d, session_id=%s"):format(start_code, tostring(session_id)))

s:field("start_http_code", start_code)
if start_code ~= 200 and start_code ~= 201 then
  s:fail(("session_start returned HTTP %d"):format(start_code))
end
if session_id == "" then
  s:fail("session_start did not return a session_id")
end

log("alice writes 2 memories tagged with session_id")
for i = 1, 2 do
  local _, res = node(1):write {
    agent = "ai:alice", namespace = ns, title = "session-" .. i,
    content = ("in-session row %d marker=%s"):format(i, uuid()),
    meta = { session_id = session_id },
  }
  log(("  session-%d write returned HTTP %d"):format(i, res.status))
end

-- Returns how many rows node-2 lists with metadata.session_id equal to this session.
local function session_rows()
  local body = node(2):get(("/api/v1/memories?namespace=%s&session_id=%s&limit=20"):format(ns, session_id)).json
  local rows = type(body) == "table" and body.memories or nil
  local count = 0
  for _, row in ipairs(type(rows) == "table" and rows or {}) do
    if type(row) == "table" and type(row.metadata) == "table" and row.metadata.session_id == session_id then
      count = count + 1
    end
  end
  return count
end

eventually(session_rows, { equals = 2, timeout = 20, what = "node-2 lists both session-tagged rows" })

log(("bob lists on node-2 filtered by session_id=%s"):format(session_id))
local count = session_rows()
log(("  bob sees %d rows tagged session_id=%s (expected 2)"):format(count, session_id))

s:field("session_id", session_id)
s:field("session_tagged_rows_on_bob", count)
s:check(count == 2, ("bob saw %d session-tagged rows, expected 2"):format(count))
