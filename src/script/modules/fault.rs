//! `fault`: mesh faults for scripts. Each call returns once the fault is verified; the heal
//! phase undoes whatever the script leaves applied.

use mlua::{Lua, Table};

use super::context;
use crate::mesh::{FaultUnavailable, NodeSpec};

fn spec_of(lua: &Lua, handle: &Table) -> mlua::Result<NodeSpec> {
    let index: usize = handle
        .get::<Option<usize>>("index")?
        .ok_or_else(|| mlua::Error::runtime("fault functions take a node handle, e.g. fault.pause(node(3))"))?;
    context(lua)?
        .mesh
        .nodes()
        .get(index.wrapping_sub(1))
        .cloned()
        .ok_or_else(|| mlua::Error::runtime(format!("no node with index {index}")))
}

/// Turns a mesh error into a Lua error; an unavailable fault also marks the scenario for a skip.
fn to_lua_error(lua: &Lua, err: anyhow::Error) -> mlua::Error {
    if let Some(unavailable) = err.downcast_ref::<FaultUnavailable>() {
        if let Ok(ctx) = context(lua) {
            ctx.state.borrow_mut().fault_unavailable = Some(unavailable.0.clone());
        }
    }
    mlua::Error::runtime(format!("{err:#}"))
}

macro_rules! fault_fn {
    ($lua:expr, $table:expr, $name:literal, |$mesh:ident, $node:ident| $call:expr) => {
        $table.set(
            $name,
            $lua.create_async_function(|lua, handle: Table| async move {
                let $node = spec_of(&lua, &handle)?;
                let ctx = context(&lua)?;
                ctx.log.line(&format!("fault: {} {}", $name, $node.name));
                let $mesh = ctx.mesh.clone();
                $call.await.map_err(|err| to_lua_error(&lua, err))
            })?,
        )?;
    };
}

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let fault = lua.create_table()?;
    fault_fn!(lua, fault, "pause", |mesh, node| mesh.pause(&node));
    fault_fn!(lua, fault, "resume", |mesh, node| mesh.resume(&node));
    fault_fn!(lua, fault, "kill", |mesh, node| mesh.kill(&node));
    fault_fn!(lua, fault, "restart", |mesh, node| mesh.restart(&node));
    fault_fn!(lua, fault, "restore_clock", |mesh, node| mesh.restore_clock(&node));
    fault_fn!(lua, fault, "isolate", |mesh, node| mesh.isolate(&node));
    fault_fn!(lua, fault, "heal", |mesh, node| mesh.reconnect(&node));

    fault.set(
        "clock",
        lua.create_async_function(|lua, (handle, seconds): (Table, i64)| async move {
            // libfaketime takes any offset, but serve fails on dates its HTTP date formatter
            // cannot print, so offsets stay within ten years.
            const MAX_OFFSET: i64 = 10 * 365 * 24 * 3600;
            if seconds.abs() > MAX_OFFSET {
                return Err(mlua::Error::runtime(format!("fault.clock offset must be within ±{MAX_OFFSET} seconds (ten years), got {seconds}")));
            }
            let node = spec_of(&lua, &handle)?;
            let ctx = context(&lua)?;
            ctx.log.line(&format!("fault: clock {seconds:+}s on {}", node.name));
            let mesh = ctx.mesh.clone();
            mesh.set_clock_offset(&node, seconds).await.map_err(|err| to_lua_error(&lua, err))
        })?,
    )?;
    Ok(fault)
}
