-- S15: alice writes on node-1 and reads it back from the same node at once. No wait: the
-- write commits locally before the response, so the row must already be listed.
local s = scenario { id = "15", title = "Read-your-writes" }

local ns = "scenario15-ryw"
local marker = "ryw-" .. uuid()
local alice = node(1)

log(("alice writes + immediately reads M1 on node-1 (uuid=%s)"):format(marker))
alice:write { agent = alice.agent_id, namespace = ns, title = "ryw", content = marker }
local hit = alice:count(ns, { equals = marker, limit = 20 }) or 0
log(("  alice sees %d (expected 1) immediately after write"):format(hit))

s:field("uuid", marker)
s:field("writer_sees_own_write", hit)
s:check(hit >= 1, "writer did not see own write immediately on same node")
