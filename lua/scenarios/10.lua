-- S10: alice writes M1 on node-1, every peer lists it, alice deletes it, and the delete
-- must remove it from node-2, node-3 and node-4.
local s = scenario { id = "10", title = "Deletion propagation", needs = { "node-4" } }

local ns = "scenario10-deletion"
local marker = "d-" .. uuid()
local peers = { node(2), node(3), node(4) }

local function hits(n)
  return n:count(ns, { equals = marker, limit = 20 }) or 0
end

local function visible_peers()
  local visible = 0
  for _, n in ipairs(peers) do
    if hits(n) >= 1 then visible = visible + 1 end
  end
  return visible
end

log(("alice writes M1 content=%s on node-1"):format(marker))
local m1_id, write_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m1", content = marker }
log("  created memory id=" .. tostring(m1_id))
s:field("m1_id", m1_id or "")
s:field("uuid", marker)
if not m1_id then
  s:fail(("alice's write of M1 on node-1 returned HTTP %d"):format(write_res.status))
end

eventually(function() return visible_peers() == #peers end, {
  timeout = 20, what = "node-2, node-3 and node-4 see M1",
})

log("pre-delete: verifying M1 is visible on all peers")
local pre_visible = 0
for _, n in ipairs(peers) do
  local count = hits(n)
  log(("  pre-delete %s sees %d"):format(n.name, count))
  if count >= 1 then pre_visible = pre_visible + 1 end
end

log("alice deletes M1 on node-1")
local _, delete_res = node(1):delete_memory(m1_id, "ai:alice")
local delete_code = delete_res.status
log(("  DELETE returned HTTP %d"):format(delete_code))

eventually(function() return visible_peers() == 0 end, {
  timeout = 30, what = "M1 is gone from node-2, node-3 and node-4",
})

log("post-delete: verifying M1 is GONE from all peers")
local post_visible = 0
for _, n in ipairs(peers) do
  local count = hits(n)
  s:field("post_delete_hits", n.name, count)
  log(("  post-delete %s sees %d (expected 0)"):format(n.name, count))
  if count >= 1 then post_visible = post_visible + 1 end
end

s:field("delete_http_code", delete_code)
s:field("pre_delete_visible_peers", pre_visible)
s:field("post_delete_still_visible_peers", post_visible)
s:check(pre_visible >= 3, ("only %d/3 peers saw M1 before delete — fanout issue"):format(pre_visible))
s:check(post_visible == 0,
  ("%d/3 peers still see M1 after delete — tombstone not propagated"):format(post_visible))
s:check(delete_code == 200 or delete_code == 204,
  ("DELETE returned HTTP %d — expected 200/204"):format(delete_code))
