-- S20: mTLS happy path (tls_mode mtls only). alice writes over HTTPS with the harness client
-- certificate. node-2 and node-3 must then list the row, which reaches them through the
-- nodes' own quorum client certificates.
local s = scenario { id = "20", title = "mTLS happy path" }
if mesh.tls_mode ~= "mtls" then
  s:skip("scenario 20 only runs under tls_mode=mtls (actual: " .. mesh.tls_mode .. ")")
end

local ns = "scenario20-mtls"
local marker = "mtls-" .. uuid()
local content = "scenario20 mTLS happy-path marker=" .. marker

log("alice writes HTTPS + client cert on node-1")
local _, res = node(1):write { agent = "ai:alice", namespace = ns, title = "mtls-alice-" .. marker,
                               content = content, tier = "long" }
log("  write returned HTTP " .. res.status)

local peers = { node(2), node(3) }
eventually(function()
  for _, n in ipairs(peers) do
    if (n:count(ns, { contains = marker, limit = 20 }) or 0) < 1 then return false end
  end
  return true
end, { timeout = 30, what = "node-2 and node-3 see the mTLS write" })

s:check(res.status == 200 or res.status == 201, "write returned HTTP " .. res.status .. " (expected 200/201)")
for _, n in ipairs(peers) do
  local seen = n:count(ns, { contains = marker, limit = 20 }) or 0
  log("  " .. n.name .. " sees marker: " .. seen)
  s:field("peers_see", n.field_name, seen)
  s:check(seen >= 1, n.name .. " did not see the mTLS write after settle")
end
s:field("marker", marker)
s:field("write_http_code", res.status)
