-- Helpers shared by the testbook scenarios for the response shapes upstream's harness
-- accepted: `require "testbook"`.
local M = {}

--- Returns the first argument that is a non-empty table, else an empty table: upstream's
--- Python `a or b or []`, where an empty list falls through too.
function M.first_list(...)
  for i = 1, select("#", ...) do
    local value = select(i, ...)
    if type(value) == "table" and next(value) ~= nil then return value end
  end
  return {}
end

--- Returns `body` when it is a JSON array, else the first non-empty list under one of `keys`
--- (upstream's `body if isinstance(body, list) else body.get(k1) or body.get(k2) or []`).
function M.list_in(body, ...)
  if type(body) ~= "table" then return {} end
  if json.is_array(body) then return body end
  local count = select("#", ...)
  local lists = {}
  for i = 1, count do
    lists[i] = body[select(i, ...)]
  end
  return M.first_list(table.unpack(lists, 1, count))
end

return M
