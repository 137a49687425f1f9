//! Node handles: `node(i | name | agent_id)`, `nodes()`, `agents()`, the HTTP methods,
//! `node:sql`, and the `mesh` information table.

use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};
use reqwest::Method;
use serde_json::json;

use super::{context, json as lua_json, util};
use crate::client::history::body_summary;
use crate::client::{HttpRequest, HttpResponse, http::DEFAULT_TIMEOUT};
use crate::mesh::{Identity, NodeSpec};

const NODE_METHODS_KEY: &str = "amesh.node_methods";

/// Reads the node index out of a node table passed as `self`.
fn node_spec(lua: &Lua, handle: &Table) -> mlua::Result<NodeSpec> {
    let index: usize = handle
        .get::<Option<usize>>("index")?
        .ok_or_else(|| mlua::Error::runtime("expected a node handle (from node(i)), got a table without an index"))?;
    let ctx = context(lua)?;
    ctx.mesh
        .nodes()
        .get(index.wrapping_sub(1))
        .cloned()
        .ok_or_else(|| mlua::Error::runtime(format!("no node with index {index}")))
}

fn make_handle(lua: &Lua, spec: &NodeSpec, url: String) -> mlua::Result<Table> {
    let handle = lua.create_table()?;
    handle.set("name", spec.name.as_str())?;
    handle.set("index", spec.index)?;
    handle.set("role", spec.role.as_str())?;
    handle.set("agent_id", spec.agent_id.as_deref())?;
    handle.set("url", url)?;
    handle.set("address", spec.address.to_string())?;
    handle.set("field_name", spec.field_name())?;

    let meta = lua.create_table()?;
    meta.set("__index", lua.named_registry_value::<Table>(NODE_METHODS_KEY)?)?;
    let name = spec.name.clone();
    meta.set("__tostring", lua.create_function(move |_, _: Value| Ok(format!("node({name})")))?)?;
    handle.set_metatable(Some(meta))?;
    Ok(handle)
}

/// Request options as scripts pass them.
struct Options {
    agent: Option<String>,
    headers: Vec<(String, String)>,
    query: Option<String>,
    timeout: Duration,
    body: Option<Vec<u8>>,
    /// `false` sends no client certificate (an anonymous client on an mtls mesh).
    client_cert: bool,
}

fn parse_options(lua: &Lua, options: Option<Table>, body: Value) -> mlua::Result<Options> {
    let mut parsed = Options { agent: None, headers: Vec::new(), query: None, timeout: DEFAULT_TIMEOUT, body: None, client_cert: true };
    let mut body = body;
    if let Some(options) = options {
        parsed.agent = options.get("agent")?;
        parsed.client_cert = options.get::<Option<bool>>("client_cert")?.unwrap_or(true);
        if let Some(headers) = options.get::<Option<Table>>("headers")? {
            for pair in headers.pairs::<String, String>() {
                parsed.headers.push(pair?);
            }
        }
        if let Some(query) = options.get::<Option<Table>>("query")? {
            parsed.query = Some(util::build_query(&query)?);
        }
        if let Some(seconds) = options.get::<Option<f64>>("timeout")? {
            parsed.timeout = super::duration_arg(seconds, "request timeout")?;
            if parsed.timeout.is_zero() {
                return Err(mlua::Error::runtime("request timeout must be more than 0 seconds"));
            }
        }
        if matches!(body, Value::Nil) {
            body = options.get("body")?;
        }
    }
    parsed.body = match body {
        Value::Nil => None,
        Value::String(s) => Some(s.as_bytes().to_vec()),
        other => {
            let value = lua_json::from_lua(lua, other).map_err(|err| {
                mlua::Error::runtime(format!("the request body cannot be encoded as JSON: {err} (strings in a JSON body must be valid UTF-8; send raw bytes as a string body instead)"))
            })?;
            Some(serde_json::to_vec(&value).map_err(mlua::Error::external)?)
        }
    };
    Ok(parsed)
}

fn response_table(lua: &Lua, response: &HttpResponse) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    table.set("status", response.status)?;
    let headers = lua.create_table()?;
    for (name, value) in &response.headers {
        headers.set(name.as_str(), value.as_str())?;
    }
    table.set("headers", headers)?;
    table.set("body", response.body.as_str())?;
    table.set(
        "json",
        match &response.json {
            Some(value) => lua_json::to_lua(lua, value)?,
            None => Value::Nil,
        },
    )?;
    table.set("elapsed_ms", response.elapsed_ms)?;
    table.set("error", response.error.as_deref())?;
    Ok(table)
}

/// Sends one request for a script to the node `handle` and records it in the history.
async fn request(lua: Lua, handle: Table, method: String, path: String, body: Value, options: Option<Table>) -> mlua::Result<Table> {
    send(lua, None, handle, method, path, body, options).await
}

/// Sends a request as node `sender` to node `target`'s mesh address (peer-to-peer calls).
/// On plain HTTP the sender adds no credentials; the history records who called whom.
async fn send(lua: Lua, sender: Option<NodeSpec>, handle: Table, method: String, path: String, body: Value, options: Option<Table>) -> mlua::Result<Table> {
    let spec = node_spec(&lua, &handle)?;
    let ctx = context(&lua)?;
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| mlua::Error::runtime(format!("invalid HTTP method {method:?}")))?;
    let options = parse_options(&lua, options, body)?;

    let mut url = format!("{}{}", ctx.mesh.url(&spec), path);
    if let Some(query) = options.query.filter(|q| !q.is_empty()) {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    let mut headers = options.headers;
    if let Some(agent) = &options.agent {
        headers.push(("X-Agent-Id".into(), agent.clone()));
    }

    let mut event = json!({
        "method": method.as_str(),
        "url": url,
        "agent": options.agent,
        "from": sender.as_ref().map(|s| s.name.clone()),
        "client_cert": options.client_cert,
    });
    if let Some(body) = &options.body {
        event.as_object_mut().expect("object").extend(body_summary(body).as_object().cloned().unwrap_or_default());
    }
    ctx.mesh.history.record("request", Some(&spec.name), event);

    let identity = match (&sender, options.client_cert) {
        (_, false) => Identity::Anonymous,
        (Some(sender), true) => Identity::Node(sender.index),
        (None, true) => Identity::Harness,
    };
    let request = HttpRequest { method, url, headers, body: options.body, timeout: options.timeout };
    let response = ctx.mesh.client(identity).send(request).await;

    let mut event = json!({ "status": response.status, "elapsed_ms": response.elapsed_ms, "error": response.error });
    event.as_object_mut().expect("object").extend(body_summary(response.body.as_bytes()).as_object().cloned().unwrap_or_default());
    ctx.mesh.history.record("response", Some(&spec.name), event);
    response_table(&lua, &response)
}

/// Runs a read-only query on the node's database, with a 5 s busy timeout as upstream's probe.
fn sql(lua: &Lua, handle: Table, query: String) -> mlua::Result<MultiValue> {
    let spec = node_spec(lua, &handle)?;
    let path = context(lua)?.mesh.database_path(&spec);
    let run = || -> rusqlite::Result<Vec<Vec<serde_json::Value>>> {
        let connection = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::from_secs(5))?;
        let mut statement = connection.prepare(&query)?;
        let columns = statement.column_count();
        let rows = statement.query_map([], |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Null => serde_json::Value::Null,
                        rusqlite::types::ValueRef::Integer(v) => json!(v),
                        rusqlite::types::ValueRef::Real(v) => json!(v),
                        rusqlite::types::ValueRef::Text(t) => json!(String::from_utf8_lossy(t)),
                        rusqlite::types::ValueRef::Blob(b) => json!(hex::encode(b)),
                    })
                })
                .collect()
        })?;
        rows.collect()
    };
    match run() {
        Ok(rows) => Ok(MultiValue::from_vec(vec![lua_json::to_lua(lua, &json!(rows))?])),
        Err(err) => Ok(MultiValue::from_vec(vec![Value::Nil, Value::String(lua.create_string(format!("{}: {err}", spec.name))?)])),
    }
}

/// Parses Prometheus text line by line: one sample per line, keyed `name{labels}` as written,
/// with the value parsed as a float (exponent notation, `+Inf` and `NaN` included) and the
/// type from the metric's `# TYPE` line.
pub fn parse_metrics(text: &str) -> Vec<serde_json::Value> {
    use prometheus_parse::{LineInfo, SampleType};
    let mut types: std::collections::HashMap<String, &'static str> = std::collections::HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Type { metric_name, metric_alias, sample_type } => {
                let kind = match sample_type {
                    SampleType::Counter => "counter",
                    SampleType::Gauge => "gauge",
                    SampleType::Histogram => "histogram",
                    SampleType::Summary => "summary",
                    SampleType::Untyped => "untyped",
                };
                let base = metric_alias.unwrap_or(metric_name);
                for suffix in ["", "_bucket", "_sum", "_count"] {
                    types.insert(format!("{base}{suffix}"), kind);
                }
            }
            LineInfo::Sample { metric_name, labels, value, .. } => {
                let Ok(value) = value.parse::<f64>() else { continue };
                let labels = labels.unwrap_or_default();
                let key = if labels.is_empty() { metric_name.to_string() } else { format!("{metric_name}{{{labels}}}") };
                samples.push(json!({
                    "name": metric_name,
                    "labels": labels,
                    "key": key,
                    "value": value,
                    "type": types.get(metric_name).copied().unwrap_or("untyped"),
                }));
            }
            _ => {}
        }
    }
    samples
}

async fn metrics(lua: Lua, handle: Table, options: Option<Table>) -> mlua::Result<MultiValue> {
    let response = request(lua.clone(), handle, "GET".into(), "/api/v1/metrics".into(), Value::Nil, options).await?;
    let text: String = response.get("body")?;
    let samples = lua_json::to_lua(&lua, &serde_json::Value::Array(parse_metrics(&text)))?;
    Ok(MultiValue::from_vec(vec![Value::String(lua.create_string(&text)?), samples, Value::Table(response)]))
}

/// The node's current time, from the `Date` header of its health answer, as RFC 3339 with
/// `+00:00` and whole seconds.
async fn clock(lua: Lua, handle: Table) -> mlua::Result<MultiValue> {
    let response = request(lua.clone(), handle, "GET".into(), "/api/v1/health".into(), Value::Nil, None).await?;
    let headers: Table = response.get("headers")?;
    let parsed = headers
        .get::<Option<String>>("date")?
        .and_then(|date| chrono::DateTime::parse_from_rfc2822(&date).ok())
        .map(|time| time.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, false));
    Ok(match parsed {
        Some(time) => MultiValue::from_vec(vec![Value::String(lua.create_string(&time)?), Value::Table(response)]),
        None => MultiValue::from_vec(vec![Value::Nil, Value::Table(response)]),
    })
}

fn methods(lua: &Lua) -> mlua::Result<Table> {
    let methods = lua.create_table()?;
    methods.set(
        "request",
        lua.create_async_function(|lua, (handle, method, path, options): (Table, String, String, Option<Table>)| {
            request(lua, handle, method, path, Value::Nil, options)
        })?,
    )?;
    for verb in ["get", "delete"] {
        methods.set(
            verb,
            lua.create_async_function(move |lua, (handle, path, options): (Table, String, Option<Table>)| {
                request(lua, handle, verb.to_string(), path, Value::Nil, options)
            })?,
        )?;
    }
    for verb in ["post", "put", "patch"] {
        methods.set(
            verb,
            lua.create_async_function(move |lua, (handle, path, body, options): (Table, String, Value, Option<Table>)| {
                request(lua, handle, verb.to_string(), path, body, options)
            })?,
        )?;
    }
    methods.set("sql", lua.create_function(|lua, (handle, query): (Table, String)| sql(lua, handle, query))?)?;
    methods.set("clock", lua.create_async_function(|lua, handle: Table| clock(lua, handle))?)?;
    methods.set("metrics", lua.create_async_function(|lua, (handle, options): (Table, Option<Table>)| metrics(lua, handle, options))?)?;
    methods.set(
        "call_peer",
        lua.create_async_function(|lua, (handle, peer, method, path, options): (Table, Table, String, String, Option<Table>)| async move {
            let sender = node_spec(&lua, &handle)?;
            send(lua, Some(sender), peer, method, path, Value::Nil, options).await
        })?,
    )?;
    Ok(methods)
}

/// Installs `node`, `nodes` and `agents`.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.set_named_registry_value(NODE_METHODS_KEY, methods(lua)?)?;
    let ctx = context(lua)?;
    let handles = lua.create_table()?;
    for spec in ctx.mesh.nodes() {
        handles.push(make_handle(lua, spec, ctx.mesh.url(spec))?)?;
    }
    lua.set_named_registry_value("amesh.nodes", handles.clone())?;

    let all = handles.clone();
    let lookup = lua.create_function(move |_, which: Value| {
        for handle in all.sequence_values::<Table>() {
            let handle = handle?;
            let matches = match &which {
                Value::Integer(i) => handle.get::<i64>("index")? == *i,
                Value::Number(n) => handle.get::<i64>("index")? as f64 == *n,
                Value::String(s) => {
                    let s = s.to_str()?;
                    handle.get::<String>("name")? == *s || handle.get::<Option<String>>("agent_id")?.as_deref() == Some(&*s)
                }
                _ => return Err(mlua::Error::runtime("node() takes an index, a node name or an agent id")),
            };
            if matches {
                return Ok(handle);
            }
        }
        let shown = match &which {
            Value::String(s) => format!("{:?}", s.to_string_lossy()),
            Value::Integer(i) => i.to_string(),
            Value::Number(n) => n.to_string(),
            other => format!("a {}", other.type_name()),
        };
        Err(mlua::Error::runtime(format!("no node matches {shown}; nodes are node(1) to node({})", all.raw_len())))
    })?;
    lua.globals().set("node", lookup)?;

    let all = handles.clone();
    lua.globals().set("nodes", lua.create_function(move |lua, ()| {
        let list = lua.create_table()?;
        for handle in all.sequence_values::<Table>() {
            list.push(handle?)?;
        }
        Ok(list)
    })?)?;

    let all = handles;
    lua.globals().set("agents", lua.create_function(move |lua, ()| {
        let list = lua.create_table()?;
        for handle in all.sequence_values::<Table>() {
            let handle = handle?;
            if handle.get::<String>("role")? == "agent" {
                list.push(handle)?;
            }
        }
        Ok(list)
    })?)?;
    Ok(())
}

/// Adds Lua-written methods (the `memory` helpers) to every node handle.
pub fn extend_methods(lua: &Lua, name: &str, function: Function) -> mlua::Result<()> {
    lua.named_registry_value::<Table>(NODE_METHODS_KEY)?.set(name, function)
}

/// The `mesh` table: backend, TLS mode, agent group, SUT version, size.
pub fn mesh_info(lua: &Lua) -> mlua::Result<Table> {
    let ctx = context(lua)?;
    let info = lua.create_table()?;
    info.set("backend", ctx.mesh.backend_kind().to_string())?;
    info.set("tls_mode", ctx.mesh.config.tls.to_string())?;
    info.set("agent_group", ctx.mesh.config.agent_group.as_str())?;
    info.set("ai_memory_version", ctx.mesh.binary.version.as_str())?;
    info.set("size", ctx.mesh.nodes().len())?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::parse_metrics;

    #[test]
    fn metrics_keep_labels_and_exponents() {
        let text = "# HELP a_total doc\n# TYPE a_total counter\na_total{kind=\"x\"} 1e+06\nb_gauge 2.5\n\nc NaN\n";
        let samples = parse_metrics(text);
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0]["key"], "a_total{kind=\"x\"}");
        assert_eq!(samples[0]["value"], 1_000_000.0);
        assert_eq!(samples[0]["type"], "counter");
        assert_eq!(samples[1]["type"], "untyped");
        assert!(samples[2]["value"].is_null(), "NaN has no JSON form");
    }
}
