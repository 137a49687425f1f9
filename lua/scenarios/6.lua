-- S6: alice and bob write conflicting claims on the same topic from different nodes.
-- charlie's contradictions query on node-3 must return both and a `contradicts` relation.
local s = scenario { id = "6", title = "Contradiction detection" }

local ns = "scenario6-contradiction"
local topic = "sky-color-" .. uuid():sub(1, 8)
local alice, bob = node(1), node(2)

local function array(value)
  return type(value) == "table" and value or {}
end

log(("alice writes claim: \"%s is blue\" on node-1"):format(topic))
local alice_id = alice:write {
  agent = alice.agent_id, namespace = ns, title = topic .. "-alice", content = topic .. " is blue",
  meta = { topic = topic },
}
log(("bob writes contradicting claim: \"%s is red\" on node-2"):format(topic))
local bob_id = bob:write {
  agent = bob.agent_id, namespace = ns, title = topic .. "-bob", content = topic .. " is red",
  meta = { topic = topic },
}
log(("  alice.id=%s bob.id=%s"):format(tostring(alice_id), tostring(bob_id)))

-- Returns the HTTP status, whether both claim ids are listed and whether a relation
-- containing "contradict" is present.
local function detect()
  local res = node(3):get("/api/v1/contradictions", { query = { topic = topic, namespace = ns } })
  local body = res.json
  if res.status ~= 200 or type(body) ~= "table" then return res.status, false, false end

  local seen = {}
  for _, key in ipairs { "memories", "contradictions" } do
    for _, m in ipairs(array(body[key])) do
      local id = type(m) == "table" and (m.id or m.memory_id) or nil
      if id then seen[id] = true end
    end
  end
  local sees_both = (alice_id and bob_id and seen[alice_id] and seen[bob_id]) == true

  local sees_link = false
  for _, key in ipairs { "links", "relations" } do
    for _, link in ipairs(array(body[key])) do
      local relation = type(link) == "table" and (link.relation or link.type) or nil
      if type(relation) == "string" and relation:lower():find("contradict", 1, true) then
        sees_link = true
      end
    end
  end
  return res.status, sees_both, sees_link
end

eventually(function()
  local code, sees_both = detect()
  return code == 200 and sees_both
end, { timeout = 20, what = "node-3 contradictions query returns both claims" })

log("charlie queries /api/v1/contradictions on node-3")
local code, sees_both, sees_link = detect()
log(("  HTTP %d"):format(code))
log(("  sees both memories: %s; sees contradicts link: %s"):format(tostring(sees_both), tostring(sees_link)))

s:field("topic", topic)
s:field("alice_id", alice_id or "")
s:field("bob_id", bob_id or "")
s:field("detect_http_code", code)
s:field("charlie_sees_both_memories", sees_both)
s:field("charlie_sees_contradicts_link", sees_link)
s:check(code == 200, ("detect_contradiction endpoint returned HTTP %d"):format(code))
s:check(sees_both, "response did not include both memories")
s:check(sees_link, "response did not include a contradicts relation")
