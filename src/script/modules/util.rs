//! `uuid`, `now`, `log` and `url`.

use mlua::{Lua, MultiValue, Table, Value};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::context;

/// Everything but RFC 3986's unreserved characters is encoded, as Python's `quote(s, safe="")`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes one query component.
pub fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// Renders a Lua scalar the way it appears in a query string.
pub fn query_value(value: &Value) -> mlua::Result<String> {
    Ok(match value {
        Value::String(s) => s.to_str()?.to_string(),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => return Err(mlua::Error::runtime(format!("a query value must be a string, number or boolean, got a {}", other.type_name()))),
    })
}

/// Builds `k=v&...` with sorted keys and encoded values.
pub fn build_query(table: &Table) -> mlua::Result<String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in table.pairs::<String, Value>() {
        let (key, value) = pair?;
        pairs.push((key, query_value(&value)?));
    }
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

pub fn url_module(lua: &Lua) -> mlua::Result<Table> {
    let url = lua.create_table()?;
    url.set("encode", lua.create_function(|_, text: String| Ok(encode_component(&text)))?)?;
    url.set("query", lua.create_function(|_, table: Table| build_query(&table))?)?;
    Ok(url)
}

pub fn register(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set("uuid", lua.create_function(|_, ()| Ok(uuid::Uuid::new_v4().simple().to_string()))?)?;
    globals.set(
        "now",
        lua.create_function(|_, ()| Ok(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()))?,
    )?;
    globals.set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            let tostring: mlua::Function = lua.globals().get("tostring")?;
            let parts = args
                .into_iter()
                .map(|v| tostring.call::<String>(v))
                .collect::<mlua::Result<Vec<_>>>()?;
            context(lua)?.log.line(&parts.join(" "));
            Ok(())
        })?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_python_quote() {
        assert_eq!(encode_component("2026-04-24T10:00:00+00:00"), "2026-04-24T10%3A00%3A00%2B00%3A00");
        assert_eq!(encode_component("morning outdoor exercise"), "morning%20outdoor%20exercise");
        assert_eq!(encode_component("scenario1-ai:alice"), "scenario1-ai%3Aalice");
    }
}
