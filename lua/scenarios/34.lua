-- S34: alice sets a governance standard on a fresh namespace (writes need ai:bob's
-- approval) and writes two rows there on node-1, which go to the pending queue. bob
-- approves one and rejects the other on node-2, and charlie on node-3 must list only the
-- approved row.
local s = scenario { id = "34", title = "Pending-approval governance" }

local ns = "scenario34-pending-" .. uuid():sub(1, 6)
local approved_marker = "approved-" .. uuid()
local rejected_marker = "rejected-" .. uuid()

local function is_present(value)
  return value ~= nil and value ~= json.null and value ~= ""
end

-- Returns the first of `keys` that `body` carries, or "".
local function first_field(body, keys)
  if type(body) ~= "table" then return "" end
  for _, key in ipairs(keys) do
    if is_present(body[key]) then return body[key] end
  end
  return ""
end

local is_object = json.is_object

-- ai-memory 0.6.2 requires all four governance fields. Promote, delete and the approver
-- type are not exercised here.
log(("alice sets namespace standard on %s: write=approve, approver=ai:bob"):format(ns))
local std_res = node(1):post("/api/v1/namespaces", {
  namespace = ns,
  standard = {
    governance = {
      write = "approve",
      promote = "any",
      delete = "owner",
      approver = { agent = "ai:bob" },
    },
  },
}, { agent = "ai:alice" })
local std_code = std_res.status
log(("  set-standard returned HTTP %d"):format(std_code))

-- The writes go to node-1, so node-1 must hold the standard before they are sent.
eventually(function()
  local body = node(1):get("/api/v1/namespaces?namespace=" .. ns).json
  local governance = is_object(body) and body.governance or nil
  return type(governance) == "table" and governance.write == "approve"
end, { timeout = 10, what = "node-1 applies the write=approve standard" })

log("alice writes two memories into the governed namespace (should land in pending)")
local _, r1 = node(1):write { agent = "ai:alice", namespace = ns, title = "to-approve", content = "token=" .. approved_marker }
local _, r2 = node(1):write { agent = "ai:alice", namespace = ns, title = "to-reject", content = "token=" .. rejected_marker }
local id_keys = { "id", "pending_id", "memory_id" }
local p1 = first_field(r1.json, id_keys)
local p2 = first_field(r2.json, id_keys)
log(("  p1=%s (HTTP %d) p2=%s (HTTP %d)"):format(p1, r1.status, p2, r2.status))

-- Returns the ids in node-2's pending queue as a set.
local function pending_ids()
  local body = node(2):get("/api/v1/pending?limit=1000").json
  local ids = {}
  if is_object(body) and type(body.pending) == "table" then
    for _, item in ipairs(body.pending) do
      if type(item) == "table" and item.id then ids[item.id] = true end
    end
  end
  return ids
end

-- bob's approve and reject return 404 until node-2 has both pending rows.
eventually(function()
  local ids = pending_ids()
  return ids[p1] and ids[p2]
end, { timeout = 20, what = "node-2 has both pending rows" })

log("bob lists pending on node-2")
local pend = node(2):get("/api/v1/pending?namespace=" .. ns .. "&limit=50").json
local pending_count = 0
if is_object(pend) then
  for _, key in ipairs { "pending", "memories" } do
    local list = pend[key]
    if type(list) == "table" and next(list) ~= nil then
      pending_count = #list
      break
    end
  end
end
log(("  pending queue has %d entries"):format(pending_count))

log("bob approves p1, rejects p2")
local approve_res = node(2):post("/api/v1/pending/" .. p1 .. "/approve", json.object(), { agent = "ai:bob" })
local reject_res = node(2):post("/api/v1/pending/" .. p2 .. "/reject", { reason = "scenario-34 reject" }, { agent = "ai:bob" })
local a_code, r_code = approve_res.status, reject_res.status
log(("  approve HTTP %d; reject HTTP %d"):format(a_code, r_code))

local function charlie_count(marker)
  return node(3):count(ns, { contains = marker, limit = 20 }) or 0
end

eventually(function() return charlie_count(approved_marker) >= 1 end, {
  timeout = 20, what = "node-3 lists the approved row",
})

-- The rejected row is checked once, after the approved row has arrived.
log("charlie reads the namespace — expects ONLY approved marker")
local sees_approved = charlie_count(approved_marker)
local sees_rejected = charlie_count(rejected_marker)
log(("  charlie sees approved=%d rejected=%d"):format(sees_approved, sees_rejected))

s:field("namespace", ns)
s:field("set_standard_http_code", std_code)
s:field("approve_http_code", a_code)
s:field("reject_http_code", r_code)
s:field("pending_queue_count", pending_count)
s:field("charlie_sees", { approved = sees_approved, rejected = sees_rejected })
s:check(std_code == 200 or std_code == 201 or std_code == 204, ("set-standard returned HTTP %d"):format(std_code))
s:check(a_code == 200 or a_code == 204, ("approve returned HTTP %d"):format(a_code))
s:check(r_code == 200 or r_code == 204, ("reject returned HTTP %d"):format(r_code))
s:check(sees_approved >= 1, "charlie did not see approved row")
s:check(sees_rejected == 0, "charlie saw rejected row — reject didn't prevent publication")
