-- S21: anonymous client rejected (tls_mode mtls only). A POST to node-1 without a client
-- certificate must fail in the TLS handshake, so no HTTP status comes back and nothing lands.
-- amesh records the HTTP status (0 when none) and the transport error separately; upstream's
-- `http_code` keeps curl's three-digit form ("000" when no response arrived).
local s = scenario { id = "21", title = "Anonymous client rejected" }
if mesh.tls_mode ~= "mtls" then
  s:skip("scenario 21 only runs under tls_mode=mtls (actual: " .. mesh.tls_mode .. ")")
end

local body = {
  tier = "mid", namespace = "scenario21", title = "anon", content = "should never land",
  priority = 5, confidence = 1.0, source = "api",
}
log("attempting anonymous HTTPS POST to node-1 (must be rejected)")
local res = node(1):post("/api/v1/memories", body, { client_cert = false, timeout = 5 })
local code = ("%03d"):format(res.status)
local message = res.error or ""
log("  anonymous probe result: code=" .. code .. " msg=" .. message:sub(1, 200))

-- A local write commits before its response, so a leak would be visible at once. The short
-- window only mirrors upstream's wait before the count.
settle(3, "let any leak land before checking namespace")
local hit = node(1):count("scenario21", { limit = 10 }) or 0
log("  post-probe count for namespace=scenario21: " .. hit .. " (must be 0)")

local first = code:sub(1, 1)
s:check(not (first == "2" or first == "3" or first == "4"),
  "server accepted anonymous request — returned HTTP " .. code .. " — mTLS enforcement bypassed")
s:check(hit == 0, "anonymous write landed (" .. hit .. " rows in scenario21 namespace) — allowlist not enforcing")

s:field("anonymous_probe", {
  http_code = code,
  curl_message = message:sub(1, 500),
  amesh_http_status = res.status,
  amesh_transport_error = res.error or json.null,
})
s:field("namespace_count_after_attempt", hit)
