-- S28: alice writes a row with a unique token on node-1, and a keyword search for that
-- token on node-2 and on node-3 must each return the row.
local s = scenario { id = "28", title = "Keyword search across peers" }

local ns = "scenario28-search"
-- Alphanumeric only: the FTS5 tokenizer splits on "-" and ai-memory 0.6.2 strips "-" from
-- search queries, so a hyphenated token never matches.
local token = "kwsearch" .. uuid():sub(1, 10)
local peers = { node(2), node(3) }

-- Returns the first argument that is a non-empty table, else an empty table, as Python's
-- `a or b or []` picks a list.
local first_list = require("testbook").first_list

-- Returns how many /search results on `n` contain the token.
local function search_hits(n)
  local body = n:get("/api/v1/search", { query = { q = token, namespace = ns, limit = 20 } }).json
  if type(body) ~= "table" then return 0 end
  local hits = 0
  for _, row in ipairs(first_list(body.memories, body.results)) do
    if type(row) == "table" and type(row.content) == "string" and row.content:find(token, 1, true) then
      hits = hits + 1
    end
  end
  return hits
end

log("alice writes a row containing unique token=" .. token)
local _, write_res = node(1):write {
  agent = "ai:alice", namespace = ns, title = "keyword-needle",
  content = ("The operational needle we search for is %s embedded in prose."):format(token),
}
log(("  write returned HTTP %d"):format(write_res.status))

eventually(function()
  for _, n in ipairs(peers) do
    if search_hits(n) < 1 then return false end
  end
  return true
end, { timeout = 20, what = "/search on node-2 and node-3 finds the token" })

log("bob + charlie call /api/v1/search with the exact token")
s:field("token", token)
for _, n in ipairs(peers) do
  local hits = search_hits(n)
  log(("  %s keyword search returned %d hits"):format(n.name, hits))
  s:field("peer_hits", n.field_name, hits)
  s:check(hits >= 1, n.name .. " did not find the unique token via /search")
end
