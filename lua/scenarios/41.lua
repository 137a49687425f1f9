-- S41: Prometheus metrics shape and monotonicity on node-1..3. Upstream's criteria: each
-- node exposes at least one memory-related sample at T0, and no sample present in both
-- scrapes goes down (gauges included, as upstream). amesh parses the text with a real
-- Prometheus parser, so exponent notation reads correctly; the samples typed `counter` are
-- checked separately into amesh_ fields.
local s = scenario { id = "41", title = "Prometheus metrics shape + monotonicity" }

local hints = { "memory_", "ai_memory_", "mcp_memory_" }
local peers = { node(1), node(2), node(3) }

local function scrape(n, label)
  local _, samples, res = n:metrics({ timeout = 30 })
  if res.status ~= 200 then
    log(("  %s %s scrape HTTP %d"):format(n.name, label, res.status))
  end
  local values, counters = {}, {}
  for _, sample in ipairs(samples) do
    local relevant = false
    for _, hint in ipairs(hints) do
      if sample.name:find(hint, 1, true) then relevant = true end
    end
    if relevant and type(sample.value) == "number" then
      values[sample.key] = sample.value
      if sample.type == "counter" then counters[sample.key] = sample.value end
    end
  end
  return values, counters
end

local function count_keys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

log("scrape T0")
local t0, c0 = {}, {}
for _, n in ipairs(peers) do
  t0[n.name], c0[n.name] = scrape(n, "T0")
  log(("  %s T0 parsed %d memory counters"):format(n.name, count_keys(t0[n.name])))
end

-- Right after S40's 500-row bulk the nodes are still embedding and a write takes seconds,
-- so the wait for the peers allows 30 s.
local ns = "scenario41-activity-" .. uuid():sub(1, 6)
for i = 0, 4 do
  node(1):write { agent = "ai:alice", namespace = ns, title = "m-" .. i, content = "k-" .. uuid() }
end
eventually(function()
  return (node(2):count(ns, { limit = 20 }) or 0) == 5 and (node(3):count(ns, { limit = 20 }) or 0) == 5
end, { timeout = 30, what = "node-2 and node-3 applied alice's 5 writes" })

log("scrape T1")
local t1, c1 = {}, {}
for _, n in ipairs(peers) do
  t1[n.name], c1[n.name] = scrape(n, "T1")
  log(("  %s T1 parsed %d memory counters"):format(n.name, count_keys(t1[n.name])))
end

local function regressions(before, after)
  local keys = {}
  for key, value in pairs(before) do
    if after[key] ~= nil and after[key] < value then keys[#keys + 1] = key end
  end
  table.sort(keys)
  return keys
end

for _, n in ipairs(peers) do
  local name = n.name
  local regressed = regressions(t0[name], t1[name])
  local counters_regressed = regressions(c0[name], c1[name])
  s:field("per_peer", n.field_name, {
    counters_t0 = count_keys(t0[name]),
    counters_t1 = count_keys(t1[name]),
    regressed_keys = #regressed,
  })
  s:field("amesh_per_peer", n.field_name, {
    typed_counters_t0 = count_keys(c0[name]),
    typed_counter_regressions = json.array(counters_regressed),
    regressed = json.array(regressed),
  })
  s:check(count_keys(t0[name]) > 0, name .. ": no memory-related counters visible at T0")
  s:check(#regressed == 0, ("%s: %d counter(s) decreased between T0 and T1"):format(name, #regressed))
end
s:field("activity_namespace", ns)
