-- S32: alice notifies ai:bob on node-1, bob's inbox on node-2 must hold the message, and
-- charlie's inbox on node-3 must not.
local s = scenario { id = "32", title = "Inbox + notify" }

local marker = "inb-" .. uuid()

-- Returns the inbox of `agent` on `n` as a list, accepting the shapes that ai-memory
-- versions have used.
local function inbox(n, agent)
  local body = n:get("/api/v1/inbox?agent_id=" .. agent .. "&limit=50", { agent = agent }).json
  return require("testbook").list_in(body, "messages", "notifications", "inbox")
end

-- The notify `content` comes back as the message's `payload`.
local function sees_marker(messages)
  for _, message in ipairs(messages) do
    if type(message) == "table" then
      local text = message.payload
      if type(text) ~= "string" or text == "" then text = message.content end
      if type(text) == "string" and text:find(marker, 1, true) then return true end
    end
  end
  return false
end

log("alice calls /api/v1/notify → target=ai:bob")
local notify_res = node(1):post("/api/v1/notify", {
  target_agent_id = "ai:bob",
  title = "scenario-32 ping",
  content = "hello bob, token=" .. marker,
}, { agent = "ai:alice" })
local notify_code = notify_res.status
log(("  notify returned HTTP %d"):format(notify_code))

eventually(function() return sees_marker(inbox(node(2), "ai:bob")) end, {
  timeout = 20, what = "bob's inbox on node-2 contains the notification",
})

log("bob queries his inbox on node-2")
local bob_inbox = inbox(node(2), "ai:bob")
local bob_sees = sees_marker(bob_inbox)
log(("  bob inbox has %d messages; sees marker: %s"):format(#bob_inbox, tostring(bob_sees)))

-- Checked once, after the notification has reached bob.
log("charlie queries his inbox on node-3 (must NOT see it)")
local charlie_inbox = inbox(node(3), "ai:charlie")
local charlie_sees = sees_marker(charlie_inbox)
log(("  charlie inbox has %d messages; sees marker: %s"):format(#charlie_inbox, tostring(charlie_sees)))

s:field("marker", marker)
s:field("notify_http_code", notify_code)
s:field("bob_inbox_count", #bob_inbox)
s:field("charlie_inbox_count", #charlie_inbox)
s:field("bob_sees_marker", bob_sees)
s:field("charlie_sees_marker", charlie_sees)
s:check(notify_code == 200 or notify_code == 201 or notify_code == 202,
  ("notify returned HTTP %d"):format(notify_code))
s:check(bob_sees, "bob's inbox did not deliver alice's notify")
s:check(not charlie_sees, "charlie's inbox received a notification intended for bob — scope breach")
