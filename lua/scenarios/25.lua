-- S25: clock skew tolerance. node-3 runs 300 s ahead (libfaketime, verified from its own
-- Date header); alice writes on node-1 and the write must still reach node-3 exactly once.
-- The heal phase restores node-3's clock whatever happens.
local s = scenario { id = "25", title = "Clock skew tolerance" }

local ns = "scenario25-clock"
local marker = "ck-" .. uuid()
local offset = 300

log("shifting node-3 clock +" .. offset .. "s")
fault.clock(node(3), offset)
s:defer(function()
  log("reverting node-3 clock")
  fault.restore_clock(node(3))
end)
local node3_time = node(3):clock()
log("  node-3 now reports: " .. tostring(node3_time))

log("alice writes on node-1 (normal clock); waiting for quorum fanout to skewed node-3")
node(1):write { agent = "ai:alice", namespace = ns, title = "ck-alice",
                content = "clock-skew-marker=" .. marker, tier = "long" }

local w = eventually(function()
  return (node(3):count(ns, { contains = marker, limit = 20 }) or 0) >= 1
end, { timeout = 30, what = "skewed node-3 sees alice's write" })

local seen_n3 = node(3):count(ns, { contains = marker, limit = 20 }) or 0
log("  node-3 (+300s clock) sees marker: " .. seen_n3 .. " (expected >=1)")
local seen_n1 = node(1):count(ns, { contains = marker, limit = 20 }) or 0
log("  node-1 sees marker: " .. seen_n1 .. " (expected >=1)")

s:check(seen_n3 >= 1, "node-3 (+300s clock) did not converge to alice's write")
s:check(seen_n1 >= 1, "node-1 lost its own write — vector clock regression")
s:check(seen_n3 <= 5, "node-3 saw " .. seen_n3 .. " copies — duplicate replication from clock skew")

s:field("marker", marker)
s:field("clock_offset_seconds", offset)
s:field("target_node", "node-3")
s:field("seen_on", { node_1 = seen_n1, node_3 = seen_n3 })
s:field("amesh_node3_clock", node3_time or json.null)
s:field("amesh_converged", w.ok)
