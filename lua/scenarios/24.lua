-- S24: Byzantine peer. node-2 pushes a forged /sync/push to node-3 claiming to be ai:alice.
-- node-3 must reject it or keep metadata.agent_id as declared, never re-attribute it to the
-- transport identity. The forged body is upstream's, byte for byte in meaning: it lacks the
-- Memory fields 0.6.2 requires, so the server answers 422 before the handler runs.
local s = scenario { id = "24", title = "Byzantine peer / tampered sync_push" }

local ns = "scenario24-byzantine"
local marker = "bz-" .. uuid()

local forged = {
  sender_agent_id = "ai:alice",
  sender_clock = { entries = { ["ai:alice"] = 1 } },
  memories = json.array {
    {
      tier = "long", namespace = ns, title = "bz-injected",
      content = "byzantine-marker=" .. marker,
      priority = 5, confidence = 1.0, source = "api",
      metadata = { agent_id = "ai:alice", scenario = "24" },
    },
  },
  dry_run = false,
}

log("node-2 sends sync_push to node-3 claiming sender_agent_id=ai:alice")
local res = node(2):call_peer(node(3), "POST", "/api/v1/sync/push", { body = forged, timeout = 30 })
local push_code = tostring(res.status)
log("  sync_push returned HTTP " .. push_code)

-- sync_push applies before it answers, so the read-back needs no wait.
local rows = node(3):list(ns, { limit = 20 }) or {}
local stored = "ABSENT"
for _, row in ipairs(rows) do
  if type(row.content) == "string" and row.content:find(marker, 1, true) then
    stored = (type(row.metadata) == "table" and row.metadata.agent_id) or "ABSENT"
    break
  end
end
log("  node-3 stored metadata.agent_id=" .. tostring(stored) .. " (declared: ai:alice)")

local accepted = { ["200"] = true, ["201"] = true, ["202"] = true }
local stricter = { ["400"] = true, ["401"] = true, ["403"] = true, ["422"] = true }
if stricter[push_code] then
  log("  sync_push rejected HTTP " .. push_code .. " — stricter-than-spec, acceptable")
  stored = "REJECTED_BY_SERVER"
end
s:check(accepted[push_code] or stricter[push_code], "sync_push returned unexpected HTTP " .. push_code)

local allowed = { ["ai:alice"] = true, ABSENT = true, REJECTED_BY_SERVER = true }
s:check(allowed[stored],
  "Task 1.2 violated: stored agent_id=" .. tostring(stored) .. " (expected ai:alice, ABSENT, or REJECTED)")

s:field("byzantine_marker", marker)
s:field("sync_push_http_code", push_code)
s:field("stored_metadata_agent_id", stored)
s:field("amesh_sync_push_body", res.body:sub(1, 300))
