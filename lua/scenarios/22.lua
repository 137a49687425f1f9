-- S22: two writes on node-1 test which identity the server stores in metadata.agent_id.
-- Test 1 sends X-Agent-Id ai:alice, and the stored id must be ai:alice. Test 2 sends
-- X-Agent-Id ai:attacker with metadata.agent_id ai:body-wins, and the stored id must be one
-- of those two, never a third value.
-- The standard write stamps metadata.agent_id with the header's agent, so test 1 is not a
-- header-only write. The requests stay as upstream sends them.
local s = scenario { id = "22", title = "Identity spoofing resistance" }

local ns = "scenario22-spoof"
local uuid_hdr = "h-" .. uuid()
local uuid_body = "b-" .. uuid()
local ACCEPTABLE = { "ai:body-wins", "ai:attacker" }

-- Returns metadata.agent_id of the first row on node-1 whose content contains `marker`, or
-- "" when no row matches. The write is local to node-1 and committed before it returns,
-- so one read is enough.
local function stored_agent_id(marker)
  for _, row in ipairs(node(1):list(ns, { limit = 20 }) or {}) do
    local content = type(row.content) == "string" and row.content or ""
    if content:find(marker, 1, true) then
      local metadata = type(row.metadata) == "table" and row.metadata or {}
      local agent = metadata.agent_id
      return type(agent) == "string" and agent or ""
    end
  end
  return ""
end

log("test 1: header-only X-Agent-Id=ai:alice")
local _, hdr_res = node(1):write {
  agent = "ai:alice", namespace = ns, title = "t1-header", content = "marker=" .. uuid_hdr, tier = "long",
}
log(("  write returned HTTP %d"):format(hdr_res.status))
local stored_hdr = stored_agent_id(uuid_hdr)
log(("  stored metadata.agent_id for header-only write: %s (expected ai:alice)"):format(stored_hdr))

log("test 2: body.metadata.agent_id=ai:body-wins vs X-Agent-Id=ai:attacker")
local _, body_res = node(1):write {
  agent = "ai:attacker", namespace = ns, title = "t2-conflict", content = "marker=" .. uuid_body, tier = "long",
  meta = { agent_id = "ai:body-wins" },
}
log(("  write returned HTTP %d"):format(body_res.status))
local stored_body = stored_agent_id(uuid_body)
log("  stored metadata.agent_id for body+header conflict: " .. stored_body)

s:field("tests", "header_only", { stored_agent_id = stored_hdr, expected = "ai:alice" })
s:field("tests", "body_vs_header_conflict", {
  stored_agent_id = stored_body,
  acceptable = json.array(ACCEPTABLE),
})

s:check(stored_hdr == "ai:alice",
  ("test 1: header-only write stored agent_id=%s (expected ai:alice)"):format(stored_hdr))
-- Either declared identity may win. Any other stored value is a silent swap.
s:check(stored_body == ACCEPTABLE[1] or stored_body == ACCEPTABLE[2],
  ("test 2: conflicting write stored unexpected agent_id=%s"):format(stored_body))
