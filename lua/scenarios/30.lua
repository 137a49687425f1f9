-- S30: every node must respond to a capabilities probe, and all responses must report the
-- same version, so that agents on different nodes see the same API.
local s = scenario { id = "30", title = "Capabilities handshake equivalence", needs = { "node-4" } }

-- The capabilities route has moved between ai-memory versions. The first path that returns
-- 200 with a JSON object is the node's view.
local PROBE_PATHS = { "/api/v1/capabilities", "/api/v1/capability", "/api/v1/version" }

local is_object = json.is_object

-- Returns the first value that Python would treat as true: not nil, null, false, "" or 0.
local function first_truthy(...)
  for i = 1, select("#", ...) do
    local value = select(i, ...)
    if value ~= nil and value ~= json.null and value ~= false and value ~= "" and value ~= 0 then
      return value
    end
  end
  return nil
end

local function capabilities(n)
  for _, path in ipairs(PROBE_PATHS) do
    local res = n:get(path)
    if res.status == 200 and is_object(res.json) then
      local view = res.json
      view._path = path
      return view
    end
  end
  return nil
end

-- Renders a Python dict repr of node name -> version, as upstream's reason shows it.
local function versions_repr(names, versions)
  local parts = {}
  for _, name in ipairs(names) do
    local version = versions[name]
    local rendered = type(version) == "string" and ("'" .. version .. "'") or tostring(version)
    parts[#parts + 1] = ("'%s': %s"):format(name, rendered)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local views = {}
local available_names = {}
local missing_names = {}
for _, n in ipairs(nodes()) do
  local view = capabilities(n)
  views[n.name] = view
  local keys = {}
  for key in pairs(view or {}) do keys[#keys + 1] = key end
  table.sort(keys)
  log(("  %s capabilities: %s"):format(n.name, json.encode(json.array(keys))))
  s:field("peer_views", n.field_name, view or json.null)
  if view then
    available_names[#available_names + 1] = n.name
  else
    missing_names[#missing_names + 1] = n.name
  end
end

if #available_names == 0 then
  s:check(false, "no peer returned a capabilities response — endpoint may not be exposed")
else
  -- Every node that responds must report the same version.
  local versions = {}
  local distinct = {}
  local distinct_count = 0
  for _, name in ipairs(available_names) do
    local view = views[name]
    local version = first_truthy(view.protocol_version, view.version, view.api_version) or ""
    versions[name] = version
    if version ~= "" and not distinct[version] then
      distinct[version] = true
      distinct_count = distinct_count + 1
    end
  end
  s:check(distinct_count <= 1,
    "capabilities version drift across peers: " .. versions_repr(available_names, versions))
  for _, name in ipairs(missing_names) do
    s:check(false, name .. " did not respond to capabilities probe")
  end
end
