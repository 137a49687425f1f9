-- S2: alice leaves a handoff for bob on node-1, bob reads it on node-2 and writes an
-- acknowledgement, and alice reads the acknowledgement back on node-1.
local s = scenario { id = "2", title = "Shared-context handoff" }

local WAIT_SECONDS = 20
local ns = "scenario2-handoff"
local handoff_uuid = "h-" .. uuid()
local ack_uuid = "a-" .. uuid()
local alice, bob = node(1), node(2)

local function bob_sees_handoff()
  return bob:count(ns, { equals = handoff_uuid, agent = alice.agent_id, limit = 20 }) or 0
end

local function alice_sees_ack()
  return alice:count(ns, { equals = ack_uuid, agent = bob.agent_id, limit = 20 }) or 0
end

log(("phase A: ai:alice writes handoff to ai:bob (uuid=%s)"):format(handoff_uuid))
alice:write {
  agent = alice.agent_id, namespace = ns, title = "handoff-to-bob", content = handoff_uuid,
  priority = 7, meta = { role = "handoff", target = bob.agent_id },
}
eventually(function() return bob_sees_handoff() >= 1 end, {
  timeout = WAIT_SECONDS, what = "node-2 sees alice's handoff",
})

log("phase B: ai:bob reads handoff on node-2")
local bob_sees = bob_sees_handoff()
log(("  ai:bob sees %d handoff memories from ai:alice"):format(bob_sees))

log(("phase C: ai:bob writes acknowledgement (uuid=%s)"):format(ack_uuid))
bob:write {
  agent = bob.agent_id, namespace = ns, title = "ack-from-bob", content = ack_uuid,
  priority = 7, meta = { role = "ack", target = alice.agent_id },
}
eventually(function() return alice_sees_ack() >= 1 end, {
  timeout = WAIT_SECONDS, what = "node-1 sees bob's ack",
})

log("phase D: ai:alice reads ack on node-1")
local alice_sees = alice_sees_ack()
log(("  ai:alice sees %d ack memories from ai:bob"):format(alice_sees))

s:field("path", "serve-http")
s:field("per_agent", "ai:bob", "sees_handoff", bob_sees)
s:field("per_agent", "ai:alice", "sees_ack", alice_sees)
s:field("handoff_uuid", handoff_uuid)
s:field("ack_uuid", ack_uuid)
s:check(bob_sees >= 1, ("ai:bob did not see handoff from ai:alice within %ds"):format(WAIT_SECONDS))
s:check(alice_sees >= 1, ("ai:alice did not see ack from ai:bob within %ds"):format(WAIT_SECONDS))
