//! The modules scripts see, one file each. [`register_all`] installs them as globals and as
//! `require`-able names (`require "amesh.json"`) through `package.preload`.

mod fault;
mod json;
mod mcp;
mod node;
mod time;
mod util;

use std::rc::Rc;

use mlua::{Lua, Table};

use super::context::ScriptContext;

pub use mcp::close_all as close_mcp_sessions;
pub use node::extend_methods as extend_node_methods;

/// The longest duration a script may ask for: a week, far beyond any scenario, small enough
/// that adding it to the current instant cannot overflow.
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// Converts script seconds into a duration, rejecting negative, NaN, infinite and oversized
/// values with a message that names `what`.
pub(crate) fn duration_arg(value: f64, what: &str) -> mlua::Result<std::time::Duration> {
    if (0.0..=MAX_SECONDS).contains(&value) {
        Ok(std::time::Duration::from_secs_f64(value))
    } else {
        Err(mlua::Error::runtime(format!("{what} must be between 0 and {MAX_SECONDS} seconds (a week), got {value}")))
    }
}

pub(crate) fn context(lua: &Lua) -> mlua::Result<Rc<ScriptContext>> {
    lua.app_data_ref::<Rc<ScriptContext>>()
        .map(|c| c.clone())
        .ok_or_else(|| mlua::Error::runtime("amesh context is missing"))
}

/// Installs every module.
pub fn register_all(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let modules: [(&str, Table); 5] = [
        ("json", json::module(lua)?),
        ("url", util::url_module(lua)?),
        ("fault", fault::module(lua)?),
        ("mcp", mcp::module(lua)?),
        ("mesh", node::mesh_info(lua)?),
    ];
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    for (name, table) in modules {
        globals.set(name, table.clone())?;
        let loader = lua.create_function(move |_, ()| Ok(table.clone()))?;
        preload.set(format!("amesh.{name}"), loader)?;
    }

    node::register(lua)?;
    time::register(lua)?;
    util::register(lua)?;
    Ok(())
}
