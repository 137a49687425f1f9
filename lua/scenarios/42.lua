-- S42: alice writes 2 rows into each of 3 fresh namespaces on node-1, and every node's
-- /namespaces list must include all three. The row counts are reported but not compared.
local s = scenario { id = "42", title = "Namespace enumeration", needs = { "node-4" } }

local suffix = uuid():sub(1, 6)
local ns_list = {}
for i = 0, 2 do ns_list[#ns_list + 1] = ("scenario42-%s-%d"):format(suffix, i) end
local targets = {}
for _, ns in ipairs(ns_list) do targets[ns] = true end

-- Renders a list of strings as Python's repr does, as upstream's reason shows it.
local function python_list(items)
  local quoted = {}
  for _, item in ipairs(items) do quoted[#quoted + 1] = "'" .. item .. "'" end
  return "[" .. table.concat(quoted, ", ") .. "]"
end

local function is_null(value)
  return value == nil or value == json.null
end

-- Returns the target namespaces that `n` lists, mapped to their row count (-1 when the
-- server lists bare names without counts).
local function listed_targets(n)
  local body = n:get("/api/v1/namespaces?limit=200").json
  local pool = require("testbook").list_in(body, "namespaces", "items")
  local found = json.object()
  for _, entry in ipairs(pool) do
    if type(entry) == "table" then
      local name = entry.namespace
      if is_null(name) or name == "" then name = entry.name end
      if type(name) == "string" and targets[name] then
        -- As upstream: a missing count falls back to total, and a null count reads as 0.
        local count = entry.count
        if count == nil then count = entry.total end
        if is_null(count) or count == false or count == "" then count = 0 end
        found[name] = count
      end
    elseif type(entry) == "string" and targets[entry] then
      found[entry] = -1
    end
  end
  return found
end

local function missing_from(found)
  local missing = {}
  for _, ns in ipairs(ns_list) do
    if found[ns] == nil then missing[#missing + 1] = ns end
  end
  return missing
end

log("alice writes into 3 distinct namespaces: " .. python_list(ns_list))
for _, ns in ipairs(ns_list) do
  for j = 0, 1 do
    local _, res = node(1):write { agent = "ai:alice", namespace = ns, title = "ns-probe-" .. j, content = "n-" .. uuid() }
    log(("  %s ns-probe-%d write returned HTTP %d"):format(ns, j, res.status))
  end
end

eventually(function()
  for _, n in ipairs(nodes()) do
    if #missing_from(listed_targets(n)) > 0 then return false end
  end
  return true
end, { timeout = 20, what = "node-1 to node-4 list all 3 namespaces" })

s:field("namespaces", json.array(ns_list))
for _, n in ipairs(nodes()) do
  local found = listed_targets(n)
  local seen = #ns_list - #missing_from(found)
  log(("  %s sees %d/3 target namespaces, counts: %s"):format(n.name, seen, json.encode(found)))
  s:field("per_peer", n.field_name, found)
  local missing = missing_from(found)
  s:check(#missing == 0, ("%s missing namespaces: %s"):format(n.name, python_list(missing)))
end
