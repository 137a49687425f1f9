-- S13: alice on node-1 and bob on node-2 update M1 at the same time. Whichever value
-- wins, all four nodes must converge on it (no split-brain), and it must not be M1's
-- original content.
local s = scenario { id = "13", title = "Concurrent write contention", needs = { "node-4" } }

local ns = "scenario13-contention"
local v0 = "v0-" .. uuid()
local va = "va-" .. uuid()
local vb = "vb-" .. uuid()
local all_nodes = nodes()

log(("alice writes M1 content=%s on node-1"):format(v0))
local m1_id, write_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m1", content = v0 }
log("  M1 id=" .. tostring(m1_id))
s:field("m1_id", m1_id or "")
s:field("submitted", { v0 = v0, vA_alice = va, vB_bob = vb })
if not m1_id then
  s:fail(("alice's write of M1 on node-1 returned HTTP %d"):format(write_res.status))
end

-- Returns each node's content of M1, keyed by node name, with "(none)" where it is missing.
local function peer_view()
  local view = {}
  for _, n in ipairs(all_nodes) do
    local mem = n:get_memory(m1_id)
    local content = type(mem) == "table" and mem.content or nil
    view[n.name] = (type(content) == "string" and content ~= "") and content or "(none)"
  end
  return view
end

local function converged(view)
  local first = view[all_nodes[1].name]
  for _, n in ipairs(all_nodes) do
    if view[n.name] ~= first then return false end
  end
  return first ~= v0 and first ~= "(none)"
end

-- bob's PUT returns 404 until M1 has replicated to node-2.
eventually(function() return node(2):get_memory(m1_id) ~= nil end, {
  timeout = 15, what = "node-2 sees M1",
})

log(("alice + bob issue concurrent PUTs (vA=%s from alice, vB=%s from bob)"):format(va, vb))
local results = parallel(
  function()
    local _, res = node(1):update(m1_id, "ai:alice", { content = va })
    return res.status
  end,
  function()
    local _, res = node(2):update(m1_id, "ai:bob", { content = vb })
    return res.status
  end
)
log(("  concurrent PUT results: alice HTTP %s, bob HTTP %s"):format(
  tostring(results[1].value or results[1].error), tostring(results[2].value or results[2].error)))

eventually(function() return converged(peer_view()) end, {
  timeout = 30, what = "all four nodes hold the same updated content",
})

local view = peer_view()
for _, n in ipairs(all_nodes) do
  s:field("peer_view", n.field_name, view[n.name])
  log(("  %s sees content=%s"):format(n.name, view[n.name]))
end

local distinct = {}
local distinct_count = 0
for _, content in pairs(view) do
  if not distinct[content] then
    distinct[content] = true
    distinct_count = distinct_count + 1
  end
end
local winning = view[all_nodes[1].name]
s:check(distinct_count == 1, "split-brain: peers disagree — " .. json.encode(view))
s:check(winning ~= v0 and winning ~= "" and winning ~= "(none)",
  ("winning content is not one of the submitted PUT values: got \"%s\""):format(winning))
