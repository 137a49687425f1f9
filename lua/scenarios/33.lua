-- S33: bob subscribes to a fresh namespace on node-2 and must find it in his subscription
-- list, alice writes M1 there on node-1 and node-2 must list it, and after bob unsubscribes
-- the namespace must be gone from his list. alice then writes M2, which upstream never
-- checks: federation replicates it whether or not bob is subscribed.
local s = scenario { id = "33", title = "Subscribe / unsubscribe" }

local ns = "scenario33-pubsub-" .. uuid():sub(1, 6)
local m1 = "sub-pre-" .. uuid()
local m2 = "sub-post-" .. uuid()

-- Returns bob's subscribed namespaces on node-2, one string per entry ("" for an entry
-- without a namespace).
local function subscriptions()
  local body = node(2):get("/api/v1/subscriptions?agent_id=ai:bob", { agent = "ai:bob" }).json
  local pool = require("testbook").list_in(body, "subscriptions", "namespaces")
  local names = {}
  for _, entry in ipairs(pool) do
    local name = entry
    if type(entry) == "table" then name = entry.namespace end
    names[#names + 1] = type(name) == "string" and name or ""
  end
  return names
end

local function includes(list, value)
  for _, v in ipairs(list) do
    if v == value then return true end
  end
  return false
end

-- Subscribing and unsubscribing change only node-2's own table, so each read follows its
-- write without a wait.
log(("bob subscribes to namespace %s on node-2"):format(ns))
local sub_res = node(2):post("/api/v1/subscriptions", { agent_id = "ai:bob", namespace = ns }, { agent = "ai:bob" })
local sub_code = sub_res.status
log(("  subscribe returned HTTP %d"):format(sub_code))

local subs_before = subscriptions()
local ns_in_before = includes(subs_before, ns)
log(("  bob subscriptions: %d entries; contains ns: %s"):format(#subs_before, tostring(ns_in_before)))

log("alice writes M1 into the subscribed namespace")
local _, m1_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m1-pre", content = m1 }
log(("  write returned HTTP %d"):format(m1_res.status))

local function m1_count()
  return node(2):count(ns, { equals = m1, limit = 20 }) or 0
end
eventually(function() return m1_count() >= 1 end, { timeout = 20, what = "node-2 lists M1" })
local m1_visible = m1_count()
log(("  bob sees M1 in subscribed namespace: %d"):format(m1_visible))

log("bob unsubscribes from " .. ns)
local unsub_res = node(2):delete("/api/v1/subscriptions?agent_id=ai:bob&namespace=" .. ns, { agent = "ai:bob" })
local unsub_code = unsub_res.status
log(("  unsubscribe returned HTTP %d"):format(unsub_code))

local subs_after = subscriptions()
local ns_in_after = includes(subs_after, ns)
log(("  bob subscriptions after unsubscribe: ns still present = %s"):format(tostring(ns_in_after)))

-- Upstream waits 5 s after this write and then checks nothing, so there is no wait here.
log("alice writes M2 post-unsubscribe (may still replicate via federation but subscription list excludes ns)")
local _, m2_res = node(1):write { agent = "ai:alice", namespace = ns, title = "m2-post", content = m2 }
log(("  write returned HTTP %d"):format(m2_res.status))

s:field("namespace", ns)
s:field("subscribe_http_code", sub_code)
s:field("unsubscribe_http_code", unsub_code)
s:field("m1_delivered", m1_visible)
s:field("subscriptions_before_count", #subs_before)
s:field("subscriptions_after_count", #subs_after)
s:field("ns_in_subs_before", ns_in_before)
s:field("ns_in_subs_after", ns_in_after)
s:check(sub_code == 200 or sub_code == 201 or sub_code == 204, ("subscribe returned HTTP %d"):format(sub_code))
s:check(ns_in_before, "bob's subscription list did not include the subscribed namespace")
s:check(m1_visible >= 1, "bob did not receive M1 after subscribing")
s:check(unsub_code == 200 or unsub_code == 204, ("unsubscribe returned HTTP %d"):format(unsub_code))
s:check(not ns_in_after, "namespace still listed in subscriptions after unsubscribe")
