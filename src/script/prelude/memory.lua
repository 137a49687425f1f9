-- memory: the standard request helpers of the testbook (upstream's STD-WRITE, LIST, COUNT,
-- COUNT_WRONG, GET, PUT, DELETE). Each returns `value, response`; the value is nil when the
-- request failed. Node handles expose the same functions as methods.
local scenario_id = ...

local memory = {}

local function is_present(v)
  return v ~= nil and v ~= json.null and v ~= ""
end

local function first_present(t, ...)
  if type(t) ~= "table" then return nil end
  for _, key in ipairs { ... } do
    if is_present(t[key]) then return t[key] end
  end
  return nil
end

local function ok_status(res)
  return res.status >= 200 and res.status < 300
end

local function need(spec, key, fn)
  if spec[key] == nil then
    error(("%s: %s is required"):format(fn, key), 3)
  end
end

function memory.row(spec)
  need(spec, "namespace", "memory.row")
  need(spec, "title", "memory.row")
  need(spec, "content", "memory.row")
  local meta = { agent_id = spec.agent, scenario = scenario_id() }
  for k, v in pairs(spec.meta or {}) do meta[k] = v end
  return {
    tier = spec.tier or "mid",
    namespace = spec.namespace,
    title = spec.title,
    content = spec.content,
    priority = spec.priority or 5,
    confidence = 1.0,
    source = "api",
    metadata = meta,
  }
end

function memory.write(n, spec)
  need(spec, "agent", "memory.write")
  local res = n:post("/api/v1/memories", memory.row(spec), { agent = spec.agent, timeout = spec.timeout })
  if not ok_status(res) then return nil, res end
  return first_present(res.json, "id", "memory_id", "pending_id"), res
end

function memory.list(n, namespace, opts)
  opts = opts or {}
  local res = n:get("/api/v1/memories", { query = { namespace = namespace, limit = opts.limit or 20 } })
  if res.status ~= 200 or type(res.json) ~= "table" then return nil, res end
  local rows = res.json.memories
  if rows == nil and json.is_array(res.json) then rows = res.json end
  if type(rows) ~= "table" then return nil, res end
  return rows, res
end

local function row_agent(row)
  return type(row.metadata) == "table" and row.metadata.agent_id or nil
end

function memory.count(n, namespace, opts)
  opts = opts or {}
  local rows, res = memory.list(n, namespace, { limit = opts.limit })
  if rows == nil then return nil, res end
  local count = 0
  for _, row in ipairs(rows) do
    local content = type(row.content) == "string" and row.content or ""
    local matches = (opts.contains == nil or content:find(opts.contains, 1, true) ~= nil)
      and (opts.equals == nil or content == opts.equals)
      and (opts.agent == nil or row_agent(row) == opts.agent)
    if matches then count = count + 1 end
  end
  return count, res
end

function memory.count_wrong(n, namespace, agent, opts)
  local rows, res = memory.list(n, namespace, opts)
  if rows == nil then return nil, nil, res end
  local wrong = 0
  for _, row in ipairs(rows) do
    if row_agent(row) ~= agent then wrong = wrong + 1 end
  end
  return #rows, wrong, res
end

function memory.get(n, id)
  local res = n:get("/api/v1/memories/" .. url.encode(id))
  if res.status ~= 200 or type(res.json) ~= "table" then return nil, res end
  return res.json.memory or res.json, res
end

function memory.put(n, id, agent, updates)
  local res = n:put("/api/v1/memories/" .. url.encode(id), updates, { agent = agent })
  if not ok_status(res) then return nil, res end
  return res.json or {}, res
end

function memory.delete(n, id, agent)
  local res = n:delete("/api/v1/memories/" .. url.encode(id), { agent = agent })
  if not ok_status(res) then return nil, res end
  return true, res
end

-- Method names on node handles; `get`, `put` and `delete` are taken by the HTTP verbs.
memory.node_methods = {
  write = memory.write,
  list = memory.list,
  count = memory.count,
  count_wrong = memory.count_wrong,
  get_memory = memory.get,
  update = memory.put,
  delete_memory = memory.delete,
}

return memory
