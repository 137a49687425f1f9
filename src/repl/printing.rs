//! Value display for the REPL: scalars as Lua's `tostring` writes them, strings as they are,
//! HTTP responses as a status line and a pretty body, other tables as pretty JSON. Text longer
//! than [`DISPLAY_LIMIT`] is cut with a note.

use std::collections::HashSet;
use std::io::Write;

use mlua::{Lua, LuaSerdeExt, MultiValue, Table, Value};
use serde_json::{Map, Value as Json};

use crate::client::history::{BODY_LIMIT, truncate_utf8};

/// Maximum text shown for one value, in bytes: the limit the history uses for bodies.
pub const DISPLAY_LIMIT: usize = BODY_LIMIT;

/// Tables nested deeper than this are shown as `"<…>"`.
const MAX_DEPTH: usize = 32;

/// Renders the values a chunk returned, one per line.
pub fn render_values(lua: &Lua, values: &[Value]) -> String {
    values.iter().map(|value| render(lua, value)).collect::<Vec<_>>().join("\n")
}

/// Renders one value.
pub fn render(lua: &Lua, value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.to_string_lossy(),
        Value::Table(table) if is_response(table) => render_response(lua, table),
        Value::Table(table) if has_tostring(table) => tostring(value),
        Value::Table(_) => pretty_json(&to_display_json(lua, value, &mut HashSet::new(), 0)),
        other => tostring(other),
    };
    truncate_for_display(&text)
}

/// Cuts `text` at [`DISPLAY_LIMIT`] bytes and notes how much was left out.
pub fn truncate_for_display(text: &str) -> String {
    let cut = truncate_utf8(text.as_bytes(), DISPLAY_LIMIT);
    if cut.len() == text.len() {
        return text.to_string();
    }
    format!(
        "{}\n… {} more bytes not shown ({} bytes in all)",
        String::from_utf8_lossy(cut),
        text.len() - cut.len(),
        text.len()
    )
}

fn tostring(value: &Value) -> String {
    if value.is_null() {
        return "json.null".to_string();
    }
    value.to_string().unwrap_or_else(|err| format!("<{}: {err}>", value.type_name()))
}

fn has_tostring(table: &Table) -> bool {
    table.metatable().is_some_and(|meta| meta.raw_get::<Value>("__tostring").is_ok_and(|v| !v.is_nil()))
}

/// Returns whether `table` has the shape of a response from `node(i):get(...)` and its kin.
fn is_response(table: &Table) -> bool {
    let field = |name: &str| table.raw_get::<Value>(name).unwrap_or(Value::Nil);
    field("status").is_integer() && field("headers").is_table() && field("body").is_string() && field("elapsed_ms").is_integer()
}

fn render_response(lua: &Lua, table: &Table) -> String {
    let status: u16 = table.raw_get("status").unwrap_or(0);
    let elapsed_ms: i64 = table.raw_get("elapsed_ms").unwrap_or(0);
    if status == 0 {
        let error: Option<String> = table.raw_get("error").unwrap_or(None);
        return format!("no HTTP response after {elapsed_ms} ms: {}", error.unwrap_or_else(|| "unknown error".into()));
    }
    let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|code| code.canonical_reason()).unwrap_or("");
    let mut text = format!("HTTP {status} {reason} ({elapsed_ms} ms)");
    let json: Value = table.raw_get("json").unwrap_or(Value::Nil);
    let body: String = table.raw_get("body").unwrap_or_default();
    text.push('\n');
    if !json.is_nil() {
        text.push_str(&pretty_json(&to_display_json(lua, &json, &mut HashSet::new(), 0)));
    } else if body.is_empty() {
        text.push_str("(empty body)");
    } else {
        text.push_str(&body);
    }
    text
}

fn pretty_json(value: &Json) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|err| format!("<unprintable: {err}>"))
}

/// Converts a Lua value into JSON for display. Unlike `json.encode` it never fails: functions
/// and userdata become their `tostring` text, a table that contains itself becomes
/// `"<cycle>"`, and keys that are not strings are written as text.
fn to_display_json(lua: &Lua, value: &Value, seen: &mut HashSet<usize>, depth: usize) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Number(n) => serde_json::Number::from_f64(*n).map(Json::Number).unwrap_or_else(|| Json::String(n.to_string())),
        Value::String(s) => Json::String(s.to_string_lossy()),
        Value::LightUserData(_) if value.is_null() => Json::Null,
        Value::Table(table) if has_tostring(table) => Json::String(tostring(value)),
        Value::Table(table) => table_to_json(lua, table, seen, depth),
        Value::Function(_) => Json::String("<function>".into()),
        other => Json::String(format!("<{}>", tostring(other))),
    }
}

fn table_to_json(lua: &Lua, table: &Table, seen: &mut HashSet<usize>, depth: usize) -> Json {
    let address = table.to_pointer() as usize;
    if depth >= MAX_DEPTH {
        return Json::String("<…>".into());
    }
    if !seen.insert(address) {
        return Json::String("<cycle>".into());
    }
    let pairs: Vec<(Value, Value)> = table.pairs::<Value, Value>().filter_map(Result::ok).collect();
    let length = table.raw_len();
    let marked_array = table.metatable().is_some_and(|meta| meta == lua.array_metatable());
    let is_sequence = length > 0 && pairs.len() == length;

    let json = if marked_array || is_sequence {
        let items = (1..=length).map(|i| table.raw_get::<Value>(i).unwrap_or(Value::Nil));
        Json::Array(items.map(|item| to_display_json(lua, &item, seen, depth + 1)).collect())
    } else {
        let mut entries: Vec<(String, Json)> = pairs
            .iter()
            .map(|(key, item)| (key_text(key), to_display_json(lua, item, seen, depth + 1)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Json::Object(entries.into_iter().collect::<Map<String, Json>>())
    };
    seen.remove(&address);
    json
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.to_string_lossy(),
        other => tostring(other),
    }
}

/// Replaces `print` so that it writes through amesh's stdout: Lua's own `print` writes through
/// the C library's buffer, whose lines would appear out of order with the REPL's output.
pub fn install_print(lua: &Lua) -> mlua::Result<()> {
    let print = lua.create_function(|_, args: MultiValue| {
        let line = args.iter().map(tostring).collect::<Vec<_>>().join("\t");
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").and_then(|()| stdout.flush()).map_err(mlua::Error::external)
    })?;
    lua.globals().set("print", print)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(lua: &Lua, source: &str) -> Value {
        lua.load(source).eval().expect("test chunk runs")
    }

    #[test]
    fn tables_print_as_sorted_pretty_json() {
        let lua = Lua::new();
        let text = render(&lua, &eval(&lua, "return { b = 1, a = { 1, 2, 'x' }, c = true }"));
        assert_eq!(text, "{\n  \"a\": [\n    1,\n    2,\n    \"x\"\n  ],\n  \"b\": 1,\n  \"c\": true\n}");
    }

    #[test]
    fn functions_and_cycles_never_fail() {
        let lua = Lua::new();
        let text = render(&lua, &eval(&lua, "local t = { f = print }; t.self = t; return t"));
        assert!(text.contains("\"f\": \"<function>\""), "{text}");
        assert!(text.contains("\"self\": \"<cycle>\""), "{text}");
    }

    #[test]
    fn scalars_print_as_lua_writes_them() {
        let lua = Lua::new();
        assert_eq!(render(&lua, &eval(&lua, "return 1.5")), "1.5");
        assert_eq!(render(&lua, &eval(&lua, "return 42")), "42");
        assert_eq!(render(&lua, &Value::Nil), "nil");
        assert_eq!(render(&lua, &eval(&lua, "return 'plain text'")), "plain text");
    }

    #[test]
    fn responses_show_status_and_json_body() {
        let lua = Lua::new();
        let response = eval(&lua, r#"return { status = 201, headers = {}, body = '{"id":"x"}', json = { id = "x" }, elapsed_ms = 12 }"#);
        assert_eq!(render(&lua, &response), "HTTP 201 Created (12 ms)\n{\n  \"id\": \"x\"\n}");
        let refused = eval(&lua, "return { status = 0, headers = {}, body = '', elapsed_ms = 3, error = 'connection refused' }");
        assert_eq!(render(&lua, &refused), "no HTTP response after 3 ms: connection refused");
    }

    #[test]
    fn long_text_is_cut_with_a_note() {
        let lua = Lua::new();
        let text = render(&lua, &eval(&lua, "return string.rep('é', 5000)"));
        assert!(text.ends_with("… 5904 more bytes not shown (10000 bytes in all)"), "{}", &text[text.len() - 80..]);
        assert!(text.len() < DISPLAY_LIMIT + 100);
    }
}
