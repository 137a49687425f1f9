-- S23: alice writes four hostile payloads on node-1 (SQL-like text, HTML with script,
-- 1 MiB of "A", and Unicode with control and zero-width characters) and reads each back.
-- The SQL, HTML and Unicode payloads must be stored and returned unchanged. The 1 MiB
-- payload may be rejected with a clean 4xx, or stored and returned unchanged.
local s = scenario { id = "23", title = "Malicious content fuzz" }

local ns = "scenario23-fuzz"

-- U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE, U+00A0 NO-BREAK SPACE and
-- U+1F600 GRINNING FACE among ASCII and Latin-1 letters: 19 code points, 29 UTF-8 bytes.
local UNICODE_PAYLOAD = utf8.char(0x202E) .. "voila" .. utf8.char(0x200B)
  .. " k" .. utf8.char(0xF6) .. "-" .. utf8.char(0xE9) .. "-"
  .. utf8.char(0xA0) .. utf8.char(0x1F600) .. " end"

local PAYLOADS = {
  { key = "sql", title = "fuzz-sql", expect = "faithful",
    content = "Robert'); DROP TABLE memories; -- <-- literal, do not execute" },
  { key = "html", title = "fuzz-html", expect = "faithful",
    content = '<script>alert("xss-probe")</script><img src=x onerror="alert(1)"/>' },
  { key = "oversize", title = "fuzz-oversize", expect = "reject_or_faithful",
    content = string.rep("A", 1048576) },
  { key = "unicode", title = "fuzz-unicode", expect = "faithful",
    content = UNICODE_PAYLOAD },
}

local REJECT_CODES = { [400] = true, [413] = true, [422] = true, [431] = true }

-- Returns the length in code points, as upstream's Python `len` counts, or the byte length
-- when `text` is not valid UTF-8.
local function code_points(text)
  return utf8.len(text) or #text
end

local function accepted(code)
  return code == 200 or code == 201
end

-- Returns the content of the first row on node-1 titled `title`, or "" when there is none.
local function read_back(title)
  for _, row in ipairs(node(1):list(ns, { limit = 20 }) or {}) do
    if row.title == title then
      return type(row.content) == "string" and row.content or ""
    end
  end
  return ""
end

for _, payload in ipairs(PAYLOADS) do
  local key, content = payload.key, payload.content
  log(("payload %s: %d bytes"):format(key, code_points(content)))
  -- The runtime streams the body, so the 1 MiB payload needs no special handling.
  local _, res = node(1):write {
    agent = "ai:alice", namespace = ns, title = payload.title, content = content, tier = "long",
    meta = { fuzz = key },
  }
  local code = res.status
  local round_content = read_back(payload.title)

  s:field("payloads", key, {
    write_http = code,
    input_bytes = code_points(content),
    roundtrip_bytes = code_points(round_content),
  })

  if payload.expect == "faithful" then
    if not accepted(code) then
      s:check(false, ("%s: write returned HTTP %d"):format(key, code))
    else
      s:check(round_content == content, ("%s: round-trip content corrupted (in=%dB out=%dB)"):format(
        key, code_points(content), code_points(round_content)))
    end
  elseif REJECT_CODES[code] then
    log(("  %s: server rejected oversize with HTTP %d (acceptable)"):format(key, code))
  elseif accepted(code) then
    if s:check(round_content == content,
        ("%s: accepted but round-trip corrupted (silent truncation/re-encoding)"):format(key)) then
      log(("  %s: accepted AND round-tripped faithfully"):format(key))
    end
  else
    s:check(false, ("%s: unexpected HTTP %d"):format(key, code))
  end
end

s:field("payloads_note", "accept+faithful OR 4xx reject both acceptable for oversize")
-- Upstream's Python encoder sends non-ASCII as \u escapes, but this runtime sends raw UTF-8.
s:field("amesh_json_encoding", "utf-8")
