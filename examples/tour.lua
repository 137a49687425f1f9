-- A tour of the scenario API: every module once, in the order a real scenario would use them.
-- It runs on any topology with at least three agents, e.g. the default mesh or
-- examples/five-nodes.toml.
local s = scenario { id = "tour", title = "every module once", timeout = 120 }

-- mesh: what the scenario runs on.
log(("backend=%s tls=%s nodes=%d ai-memory %s"):format(mesh.backend, mesh.tls_mode, mesh.size, mesh.ai_memory_version))
local writers = agents()
if #writers < 3 then
  s:skip("the tour needs three agent nodes, this topology has " .. #writers)
end
local alice, bob, charlie = writers[1], writers[2], writers[3]
local ns = "tour-" .. uuid():sub(1, 8)

-- memory: the standard write, then a poll on every other node.
local id, res = alice:write { agent = alice.agent_id, namespace = ns, title = "hello", content = "hello from " .. alice.agent_id }
s:check(id ~= nil, "alice's write returned HTTP " .. res.status)
for _, n in ipairs(nodes()) do
  local w = eventually(function() return n:count(ns, { contains = "hello from", limit = 20 }) end,
                       { equals = 1, timeout = 20, what = n.name .. " sees alice's row" })
  s:check(w.ok, n.name .. " saw " .. tostring(w.value) .. " rows, expected 1")
end

-- parallel: bob and charlie write at the same time; results come back in order.
local results = parallel(
  function() return bob:write { agent = bob.agent_id, namespace = ns, title = "b", content = "from bob" } end,
  function() return charlie:write { agent = charlie.agent_id, namespace = ns, title = "c", content = "from charlie" } end
)
for i, r in ipairs(results) do
  s:check(r.ok and r.value ~= nil, "parallel write " .. i .. " failed: " .. tostring(r.error))
end

-- fault: freeze charlie's node, write through the quorum, resume, wait for catch-up.
fault.pause(charlie)
local during = alice:write { agent = alice.agent_id, namespace = ns, title = "during", content = "written while paused" }
s:check(during ~= nil, "the quorum write failed while " .. charlie.name .. " was paused")
fault.resume(charlie)
local caught_up = eventually(function()
  return charlie:count(ns, { equals = "written while paused", limit = 20 })
end, { equals = 1, timeout = 60, what = charlie.name .. " catches up after the pause" })
s:check(caught_up.ok, charlie.name .. " did not catch up after the pause")

-- mcp: the same namespace through an agent's MCP tool path.
local session = mcp.session(bob, bob.agent_id)
s:defer(function() session:close() end)
local stored = session:call("memory_store", { title = "via-mcp", content = "stored over MCP", namespace = ns })
s:check(type(stored) == "table" and stored.id ~= nil, "memory_store over MCP returned no id")
s:field("mcp_tools", #session:tools())

-- Raw HTTP, url and json: a search with an encoded query; errors are data, never raised.
local search = charlie:get("/api/v1/search", { query = { q = "hello", namespace = ns, limit = 5 } })
s:field("search_status", search.status)
local missing = alice:get("/api/v1/memories/" .. url.encode("no such id"))
s:check(missing.status == 404, "a missing id answered HTTP " .. missing.status)
s:field("roundtrip", json.decode(json.encode { n = 5, list = json.array {}, empty = json.object {} }))

-- settle: a negative check keeps a fixed window; sleep waits without logging.
settle(1, "no stray row appears in an unrelated namespace")
s:check((alice:count(ns .. "-other", { limit = 5 }) or 0) == 0, "a row appeared in an unused namespace")
sleep(0.1)

s:field("namespace", ns)
s:field("finished_at", now())
