//! `json`: encode and decode with explicit null, array and object markers.

use mlua::{Lua, LuaSerdeExt, Table, Value};

/// Options for turning JSON into Lua: arrays keep a marker so that they encode as arrays
/// again, and null becomes `json.null`.
pub fn to_lua_options() -> mlua::serde::SerializeOptions {
    mlua::serde::SerializeOptions::new().set_array_metatable(true).serialize_none_to_null(true).serialize_unit_to_null(true)
}

/// Converts decoded JSON into a Lua value.
pub fn to_lua(lua: &Lua, value: &serde_json::Value) -> mlua::Result<Value> {
    lua.to_value_with(value, to_lua_options())
}

/// Converts a Lua value into JSON; an empty plain table becomes an object.
pub fn from_lua(lua: &Lua, value: Value) -> mlua::Result<serde_json::Value> {
    lua.from_value(value)
}

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let json = lua.create_table()?;
    json.set("null", lua.null())?;

    json.set(
        "encode",
        lua.create_function(|lua, value: Value| {
            let value = from_lua(lua, value)?;
            serde_json::to_string(&value).map_err(mlua::Error::external)
        })?,
    )?;

    json.set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let value: serde_json::Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|err| mlua::Error::runtime(format!("json.decode: invalid JSON: {err}")))?;
            to_lua(lua, &value)
        })?,
    )?;

    json.set(
        "is_array",
        lua.create_function(|lua, value: Value| Ok(matches!(&value, Value::Table(t) if t.metatable() == Some(lua.array_metatable()))))?,
    )?;
    json.set(
        "is_object",
        lua.create_function(|lua, value: Value| Ok(matches!(&value, Value::Table(t) if t.metatable() != Some(lua.array_metatable()))))?,
    )?;

    json.set(
        "array",
        lua.create_function(|lua, table: Option<Table>| {
            let table = match table {
                Some(t) => t,
                None => lua.create_table()?,
            };
            table.set_metatable(Some(lua.array_metatable()))?;
            Ok(table)
        })?,
    )?;

    json.set(
        "object",
        lua.create_function(|lua, table: Option<Table>| {
            let table = match table {
                Some(t) => t,
                None => lua.create_table()?,
            };
            table.set_metatable(None)?;
            Ok(table)
        })?,
    )?;
    Ok(json)
}
