-- S14: node-3's serve process is frozen while alice and bob keep writing, and W=2 is still
-- met by the other nodes. After node-3 resumes it must list every row written meanwhile.
local s = scenario { id = "14", title = "Partition tolerance" }

local WRITES = 10
local EXPECTED = 2 * WRITES
local ns = "scenario14-partition"
local alice, bob, target = node(1), node(2), node(3)

local function write(writer, title, content)
  local id, res = writer:write { agent = writer.agent_id, namespace = ns, title = title, content = content }
  if not id then
    log(("  !! %s write %s returned HTTP %d %s"):format(writer.name, title, res.status, res.error or ""))
  end
end

local function listed_on_target()
  local rows = target:list(ns, { limit = 200 })
  return rows and #rows or 0
end

log("suspending ai-memory on node-3 (SIGSTOP)")
fault.pause(target)

log(("writing %d memories each from alice + bob during node-3 outage"):format(WRITES))
for i = 1, WRITES do
  parallel(
    function() write(alice, "p-alice-" .. i, ("pa-%d-%s"):format(i, uuid())) end,
    function() write(bob, "p-bob-" .. i, ("pb-%d-%s"):format(i, uuid())) end
  )
end

log("resuming ai-memory on node-3 (SIGCONT)")
fault.resume(target)

-- node-3 catches up at its next catch-up poll at the latest. That poll runs every 30 s, so
-- the bound covers a full interval plus margin.
eventually(function() return listed_on_target() >= EXPECTED end, {
  timeout = 60,
  what = "node-3 sees the 20 rows written during its outage",
})

log("checking node-3 caught up")
local saw = listed_on_target()
log(("  node-3 sees %d memories in %s (expected %d)"):format(saw, ns, EXPECTED))

s:field("partition_target", target.name)
s:field("expected_post_recovery", EXPECTED)
s:field("node3_saw", saw)
s:check(saw >= EXPECTED, ("node-3 only saw %d/%d writes after partition recovery"):format(saw, EXPECTED))
