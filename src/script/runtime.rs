//! The one place that builds a scenario's Lua state: libraries, sandbox, modules, the
//! `memory` prelude and the instruction hook that enforces time limits.

use std::rc::Rc;

use mlua::{Function, HookTriggers, Lua, LuaOptions, Table, VmState};

use super::context::ScriptContext;
use super::{modules, sandbox, scenario};

/// How often (in VM instructions) the hook checks the time limit and Ctrl-C, so that a
/// runaway loop ends its scenario and not the campaign.
const HOOK_INSTRUCTIONS: u32 = 10_000;
/// Memory a scenario's Lua state may allocate.
const MEMORY_LIMIT: usize = 1 << 30;

const MEMORY_PRELUDE: &str = include_str!("prelude/memory.lua");

/// Runs a chunk under `xpcall` so a failure keeps the Lua traceback of where it happened.
const RUNNER: &str = r#"
-- Captured before the sandbox wraps xpcall, so the runner always sees the error.
local traceback, xpcall = debug.traceback, xpcall
return function(main)
  local trace
  local ok, err = xpcall(main, function(e)
    trace = traceback(tostring(e), 2)
    return e
  end)
  return ok, err, trace
end
"#;

/// Builds a Lua state bound to `ctx`.
pub fn build(ctx: Rc<ScriptContext>) -> mlua::Result<(Lua, Function)> {
    // SAFETY: the debug library is loaded only to take `debug.traceback`; the sandbox
    // removes the rest before any script runs.
    let lua = unsafe { Lua::unsafe_new_with(sandbox::libraries(), LuaOptions::default()) };
    lua.set_memory_limit(MEMORY_LIMIT)?;
    lua.set_app_data(ctx.clone());

    let runner: Function = lua.load(RUNNER).set_name("=amesh-runner").call(())?;
    sandbox::restrict(&lua, &ctx)?;
    modules::register_all(&lua)?;
    scenario::register(&lua)?;
    install_memory(&lua)?;
    install_hook(&lua, ctx)?;
    Ok((lua, runner))
}

fn install_memory(lua: &Lua) -> mlua::Result<()> {
    let scenario_id = lua.create_function(|lua, ()| Ok(modules::context(lua)?.scenario_id()))?;
    let memory: Table = lua.load(MEMORY_PRELUDE).set_name("@<amesh>/memory.lua").call(scenario_id)?;
    let node_methods: Table = memory.get("node_methods")?;
    for pair in node_methods.pairs::<String, Function>() {
        let (name, function) = pair?;
        modules::extend_node_methods(lua, &name, function)?;
    }
    memory.set("node_methods", mlua::Value::Nil)?;
    lua.globals().set("memory", memory.clone())?;
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    preload.set("amesh.memory", lua.create_function(move |_, ()| Ok(memory.clone()))?)?;
    Ok(())
}

fn install_hook(lua: &Lua, ctx: Rc<ScriptContext>) -> mlua::Result<()> {
    let triggers = HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS);
    let check = move |_: &Lua, _: &mlua::debug::Debug| match ctx.interruption() {
        Some(reason) => Err(mlua::Error::runtime(reason)),
        None => Ok(VmState::Continue),
    };
    lua.set_global_hook(triggers, check.clone())?;
    lua.set_hook(triggers, check)
}
