---@meta
-- LuaLS type stubs for the amesh scenario API. Point your editor's Lua language server at
-- `lua/types/` (see docs/scenarios.md) to get completion and type checks in scenario files.
-- These stubs describe the API; amesh itself never loads this file.

------------------------------------------------------------------------------------------
-- Scenario object
------------------------------------------------------------------------------------------

---@class ScenarioOptions
---@field id string Scenario id as it appears in reports ("40", "1b").
---@field title? string Human title shown in logs and reports.
---@field needs? string[] Node names the scenario requires; it is skipped when one is missing.
---@field timeout? number Time limit in seconds (default 300); the scenario fails when it passes.

---@class Scenario
---@field id string
local Scenario = {}

--- Records a check. A false `cond` appends `reason` to the report's `reasons` and fails the
--- scenario; the script goes on. Returns `cond` as a boolean.
---@param cond any
---@param reason string
---@return boolean
function Scenario:check(cond, reason) end

--- Sets a report field. With more than two arguments the leading ones are a path of nested
--- object keys: `s:field("per_peer", "node_2", 500)` sets `per_peer.node_2 = 500`.
---@param key string
---@param ... any
function Scenario:field(key, ...) end

--- Fails the scenario with `reason` and ends it now (deferred functions and the heal phase
--- still run).
---@param reason string
function Scenario:fail(reason) end

--- Skips the scenario with `reason` (`pass: null, skipped: true`) and ends it now.
---@param reason string
function Scenario:skip(reason) end

--- Ends the scenario now with the checks recorded so far.
function Scenario:emit() end

--- Registers `fn` to run when the scenario ends, however it ends (last registered runs first).
---@param fn fun()
function Scenario:defer(fn) end

--- Declares the scenario. Call it once, at the top of the file.
---@param opts ScenarioOptions
---@return Scenario
function scenario(opts) end

------------------------------------------------------------------------------------------
-- Nodes and HTTP
------------------------------------------------------------------------------------------

---@class RequestOptions
---@field agent? string Sends `X-Agent-Id: <agent>`.
---@field headers? table<string, string> Extra request headers.
---@field query? table<string, any> Query parameters, percent-encoded and appended to the path.
---@field timeout? number Request timeout in seconds (default 60).
---@field body? any A table is sent as JSON, a string as is.
---@field client_cert? boolean `false` sends no client certificate, as an anonymous client would (default true).

---@class Response
---@field status integer HTTP status, or 0 when no HTTP response arrived.
---@field headers table<string, string> Response headers, names in lower case.
---@field body string The response body as text.
---@field json any The body parsed as JSON, or nil when it is not JSON.
---@field elapsed_ms integer Time from sending the request to the end of the body.
---@field error? string Transport error text when `status` is 0.

---@class WriteSpec
---@field agent string Agent id: sent as `X-Agent-Id` and stamped as `metadata.agent_id`.
---@field namespace string
---@field title string Unique per namespace: rows upsert on (title, namespace).
---@field content string
---@field tier? string "short" | "mid" (default) | "long"
---@field priority? integer Default 5.
---@field meta? table Extra metadata; its keys override the stamped `agent_id` and `scenario`.
---@field timeout? number Request timeout in seconds (default 60).

---@class CountOptions
---@field contains? string Count rows whose content contains this text.
---@field equals? string Count rows whose content equals this text.
---@field agent? string Count rows whose `metadata.agent_id` equals this id.
---@field limit? integer List limit (default 20, the server caps it at 1000).

---@class Node
---@field name string "node-1"
---@field index integer 1-based position in the topology.
---@field role string "agent" or "memory-only".
---@field agent_id? string The node's agent id ("ai:alice"), nil for memory-only nodes.
---@field url string Base URL the harness uses ("http://127.0.1.11:9077").
---@field address string The node's mesh address.
---@field field_name string Report key form of the name ("node_1").
local Node = {}

--- Sends a request. Never raises on HTTP errors or transport failures: they are data.
---@param method string
---@param path string
---@param opts? RequestOptions
---@return Response
function Node:request(method, path, opts) end

---@param path string
---@param opts? RequestOptions
---@return Response
function Node:get(path, opts) end

---@param path string
---@param body any
---@param opts? RequestOptions
---@return Response
function Node:post(path, body, opts) end

---@param path string
---@param body any
---@param opts? RequestOptions
---@return Response
function Node:put(path, body, opts) end

---@param path string
---@param opts? RequestOptions
---@return Response
function Node:delete(path, opts) end

--- Shortcut for `memory.write(node, spec)`.
---@param spec WriteSpec
---@return string|nil id, Response res
function Node:write(spec) end

--- Shortcut for `memory.list(node, namespace, opts)`.
---@param namespace string
---@param opts? {limit?: integer}
---@return table[]|nil rows, Response res
function Node:list(namespace, opts) end

--- Shortcut for `memory.count(node, namespace, opts)`.
---@param namespace string
---@param opts? CountOptions
---@return integer|nil count, Response res
function Node:count(namespace, opts) end

--- Shortcut for `memory.count_wrong(node, namespace, agent, opts)`.
---@param namespace string
---@param agent string
---@param opts? {limit?: integer}
---@return integer|nil total, integer|nil wrong, Response res
function Node:count_wrong(namespace, agent, opts) end

--- Shortcut for `memory.get(node, id)`.
---@param id string
---@return table|nil memory, Response res
function Node:get_memory(id) end

--- Shortcut for `memory.put(node, id, agent, updates)`.
---@return table|nil body, Response res
function Node:update(id, agent, updates) end

--- Shortcut for `memory.delete(node, id, agent)`.
---@return boolean|nil deleted, Response res
function Node:delete_memory(id, agent) end

--- Runs a read-only SQL query on the node's database and returns the rows as arrays of
--- column values (text, numbers or `json.null`).
---@param query string
---@return any[][]|nil rows, string|nil err
function Node:sql(query) end

--- Scrapes `/api/v1/metrics` and parses the Prometheus text, one sample per line:
--- `{name, labels, key = name .. "{" .. labels .. "}", value, type}` (value nil for NaN).
---@param opts? RequestOptions
---@return string text, {name: string, labels: string, key: string, value: number, type: string}[] samples, Response res
function Node:metrics(opts) end

--- Sends a request as this node to `peer`'s mesh address: a peer-to-peer call carrying this
--- node's identity (its client certificate under TLS) rather than the harness's.
---@param peer Node
---@param method string
---@param path string
---@param opts? RequestOptions
---@return Response
function Node:call_peer(peer, method, path, opts) end

--- Returns the node's current time read from its `Date` header, as RFC 3339 with `+00:00`
--- and whole seconds, so that checkpoints use the clock the node stamps rows with.
---@return string|nil time, Response res
function Node:clock() end

--- Returns a node by 1-based index, name ("node-3") or agent id ("ai:charlie"). Raises when
--- no node matches.
---@param which integer|string
---@return Node
function node(which) end

--- Returns every node in topology order.
---@return Node[]
function nodes() end

--- Returns the agent nodes (role "agent") in topology order.
---@return Node[]
function agents() end

---@class MeshInfo
---@field backend string "process" or "docker"
---@field tls_mode string "off", "tls" or "mtls"
---@field agent_group string Agent group reported in every envelope (default "mcp").
---@field ai_memory_version string Version of the ai-memory binary under test.
---@field size integer Number of nodes.
mesh = {}

------------------------------------------------------------------------------------------
-- memory: the standard request helpers
------------------------------------------------------------------------------------------

memory = {}

--- Builds the standard write body: `{tier, namespace, title, content, priority,
--- confidence = 1.0, source = "api", metadata = {agent_id, scenario, ...meta}}`.
---@param spec WriteSpec
---@return table
function memory.row(spec) end

--- `POST /api/v1/memories` with the standard body. Returns the new id (`id`, else
--- `memory_id`, else `pending_id`) on a 2xx answer, nil otherwise.
---@param n Node
---@param spec WriteSpec
---@return string|nil id, Response res
function memory.write(n, spec) end

--- `GET /api/v1/memories?namespace=&limit=`; returns the `memories` array.
---@param n Node
---@param namespace string
---@param opts? {limit?: integer}
---@return table[]|nil rows, Response res
function memory.list(n, namespace, opts) end

--- Lists the namespace and counts rows matching every given filter.
---@param n Node
---@param namespace string
---@param opts? CountOptions
---@return integer|nil count, Response res
function memory.count(n, namespace, opts) end

--- Lists the namespace; returns the row count and how many rows carry another
--- `metadata.agent_id` than `agent`.
---@return integer|nil total, integer|nil wrong, Response res
function memory.count_wrong(n, namespace, agent, opts) end

--- `GET /api/v1/memories/{id}`; returns the `memory` object.
---@return table|nil memory, Response res
function memory.get(n, id) end

--- `PUT /api/v1/memories/{id}` as `agent` with `updates`; returns the body on 2xx.
---@return table|nil body, Response res
function memory.put(n, id, agent, updates) end

--- `DELETE /api/v1/memories/{id}` as `agent`; returns true on 2xx.
---@return boolean|nil deleted, Response res
function memory.delete(n, id, agent) end

------------------------------------------------------------------------------------------
-- mcp: an agent's stdio tool path
------------------------------------------------------------------------------------------

---@class McpSession
local McpSession = {}

--- Returns the server's tool list (`tools/list`).
---@return table[]
function McpSession:tools() end

--- Calls a tool. Returns the tool result (the JSON in `content[1].text` decoded when it is
--- JSON, else the text) and the raw JSON-RPC result; on a JSON-RPC error, nil and the error.
---@param tool string
---@param args table
---@return any result, table raw
function McpSession:call(tool, args) end

--- Ends the session's child process. The heal phase closes sessions left open.
function McpSession:close() end

mcp = {}

--- Starts `ai-memory mcp` on the node's database with `AI_MEMORY_AGENT_ID = agent` and runs
--- the MCP handshake.
---@param n Node
---@param agent string
---@return McpSession
function mcp.session(n, agent) end

------------------------------------------------------------------------------------------
-- fault: real faults, verified when applied and undone by the heal phase
------------------------------------------------------------------------------------------

fault = {}

--- Freezes the node's serve process (SIGSTOP, or `docker pause`) and verifies it.
---@param n Node
function fault.pause(n) end

--- Resumes a paused node and verifies it runs again.
---@param n Node
function fault.resume(n) end

--- Kills the node's serve process (SIGKILL) and verifies it is gone.
---@param n Node
function fault.kill(n) end

--- Restarts a killed or running node on the same data and waits for health.
---@param n Node
function fault.restart(n) end

--- Restarts the node with its clock offset by `seconds` and verifies the offset from the
--- node's own `Date` header. A fault that cannot be applied skips the scenario with the reason.
---@param n Node
---@param seconds integer
function fault.clock(n, seconds) end

--- Restarts the node with the real clock.
---@param n Node
function fault.restore_clock(n) end

--- Cuts the node off the mesh network (Docker backend only).
---@param n Node
function fault.isolate(n) end

--- Reconnects an isolated node.
---@param n Node
function fault.heal(n) end

------------------------------------------------------------------------------------------
-- Time, concurrency and utilities
------------------------------------------------------------------------------------------

---@class EventuallyOptions
---@field timeout? number Seconds to keep polling (default 30).
---@field interval? number Seconds between attempts (default 0.2).
---@field equals? any Met when the value equals this; otherwise met when it is truthy.
---@field what? string Description recorded in the report's `convergence` list.

---@class EventuallyResult
---@field ok boolean Whether the condition was met before the timeout.
---@field value any The last value `fn` returned.
---@field elapsed_ms integer
---@field attempts integer

--- Polls `fn` until it returns a truthy value (or one equal to `opts.equals`) or the timeout
--- passes. Never raises on timeout; an error inside `fn` counts as "not yet".
---@param fn fun(): any
---@param opts? EventuallyOptions
---@return EventuallyResult
function eventually(fn, opts) end

--- Waits a fixed window, logged as `settle Ns for <reason>`. Use it only for negative checks
--- ("nothing arrives within N s"); poll with `eventually` for everything else.
---@param seconds number
---@param reason string
function settle(seconds, reason) end

--- Sleeps without logging.
---@param seconds number
function sleep(seconds) end

---@class ParallelResult
---@field ok boolean
---@field value any First value the function returned.
---@field error? string Error message when it raised.

--- Runs the functions concurrently (their requests overlap) and returns one result per
--- function, in input order. One function raising does not cancel the others.
---@param ... fun(): any
---@return ParallelResult[]
function parallel(...) end

--- Returns 32 lowercase hex characters (a random UUID v4 without dashes).
---@return string
function uuid() end

--- Returns the current UTC time in RFC 3339 form, whole seconds ("2026-04-24T10:00:00Z").
---@return string
function now() end

--- Writes a line to the scenario log (and stderr). Arguments are joined with spaces.
---@param ... any
function log(...) end

url = {}

--- Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
---@param s string
---@return string
function url.encode(s) end

--- Builds `k=v&k2=v2` from a table, keys sorted, values percent-encoded.
---@param params table<string, any>
---@return string
function url.query(params) end

json = {}

--- JSON null, distinct from nil so that it can sit in tables.
json.null = nil

--- Encodes a value; integers stay integers and an empty plain table is an object.
---@param value any
---@return string
function json.encode(value) end

--- Decodes text; arrays come back marked so that they encode as arrays again.
---@param text string
---@return any
function json.decode(text) end

--- Returns whether `value` is a table marked as a JSON array (decoded arrays are).
---@param value any
---@return boolean
function json.is_array(value) end

--- Returns whether `value` is a table that encodes as a JSON object.
---@param value any
---@return boolean
function json.is_object(value) end

--- Marks a table as a JSON array (an empty one encodes as `[]`).
---@param t? table
---@return table
function json.array(t) end

--- Marks a table as a JSON object (an empty one encodes as `{}`).
---@param t? table
---@return table
function json.object(t) end
