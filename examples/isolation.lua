-- Network isolation: node-3 is cut off the mesh network while alice (node-1) and bob (node-2)
-- keep writing. W=2 is still met by node-1, node-2 and node-4, node-3 misses every write, and
-- after the network is healed node-3's catch-up loop pulls them all. Docker backend only: on
-- the process backend `fault.isolate` is unavailable and the scenario is skipped.
--
--   amesh run examples/isolation.lua --backend docker
local s = scenario { id = "isolation", title = "Network isolation and heal", timeout = 240 }

local WRITES = 10
local EXPECTED = 2 * WRITES
local ns = "isolation-" .. uuid():sub(1, 8)
local alice, bob, target = node(1), node(2), node(3)

local function listed_on(n)
  local rows = n:list(ns, { limit = 200 })
  return rows and #rows or 0
end

log("cutting node-3 off the mesh network")
fault.isolate(target)

-- The harness reaches node-3 over the control path while peers cannot.
local health = target:get("/api/v1/health", { timeout = 5 })
s:field("isolated_health_status", health.status)
s:check(health.status == 200, "isolated node-3 did not answer its health check over the published port (HTTP "
  .. health.status .. " " .. tostring(health.error) .. ")")

log(("writing %d memories each from alice and bob while node-3 is isolated"):format(WRITES))
local failed_writes = 0
for i = 1, WRITES do
  local results = parallel(
    function() return alice:write { agent = alice.agent_id, namespace = ns, title = "iso-alice-" .. i, content = "ia-" .. i .. "-" .. uuid() } end,
    function() return bob:write { agent = bob.agent_id, namespace = ns, title = "iso-bob-" .. i, content = "ib-" .. i .. "-" .. uuid() } end
  )
  for _, r in ipairs(results) do
    if not (r.ok and r.value) then failed_writes = failed_writes + 1 end
  end
end
s:field("failed_writes", failed_writes)
s:check(failed_writes == 0, failed_writes .. " writes failed although W=2 was reachable without node-3")

local peers_seen = eventually(function() return listed_on(node(4)) end,
  { equals = EXPECTED, timeout = 30, what = "node-4 sees every write made during the isolation" })
s:check(peers_seen.ok, "node-4 saw " .. tostring(peers_seen.value) .. "/" .. EXPECTED .. " rows")

settle(3, "no row reaches isolated node-3")
local during = listed_on(target)
s:field("node3_saw_while_isolated", during)
s:check(during == 0, "isolated node-3 listed " .. during .. " rows; the isolation leaked")

log("reconnecting node-3")
fault.heal(target)

-- node-3 catches up at its next catch-up poll at the latest (every 30 s by default).
local healed = eventually(function() return listed_on(target) end,
  { equals = EXPECTED, timeout = 90, what = "node-3 sees every write after the heal" })
s:field("node3_saw_after_heal", healed.value)
s:field("expected", EXPECTED)
s:check(healed.ok, "node-3 saw " .. tostring(healed.value) .. "/" .. EXPECTED .. " rows after the heal")
