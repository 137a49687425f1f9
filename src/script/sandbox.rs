//! The sandbox: which standard libraries scripts get and what is taken out of them.
//!
//! Scripts get `table`, `string`, `math`, `utf8`, `coroutine`, a reduced `os` (time, clock,
//! date, difftime), `io.open` limited to the run folder, text-only `load`, `require` over the
//! Lua roots, and `debug.traceback`. Nothing can run programs, load native code, read the
//! environment or touch files outside the run folder.

use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use mlua::{Function, Lua, StdLib, Table, Value};

use super::context::ScriptContext;
use super::loader;

/// The standard libraries scripts start with, before [`restrict`] trims them.
pub fn libraries() -> StdLib {
    StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE | StdLib::OS | StdLib::IO | StdLib::PACKAGE | StdLib::DEBUG
}

const RESTRICT: &str = r#"
local resolve, search = ...
local real_open, real_load, traceback = io.open, load, debug.traceback

for _, name in ipairs { "execute", "exit", "remove", "rename", "tmpname", "getenv", "setlocale" } do
  os[name] = nil
end

io = {
  open = function(path, mode)
    return real_open(resolve(path), mode)
  end,
}

load = function(chunk, name, mode, env)
  if mode ~= nil and mode ~= "t" then
    error("load: only text chunks are allowed (mode \"t\")", 2)
  end
  return real_load(chunk, name, "t", env)
end
loadfile, dofile = nil, nil
string.dump = nil
debug = { traceback = traceback }

package.loadlib = nil
package.cpath = ""
package.path = ""
package.searchers = {
  package.searchers[1],
  function(name)
    local source, where = search(name)
    if source == nil then
      return "\n\tno file for module '" .. name .. "' in the scenario folder, the Lua dir or amesh's built-in lib/"
    end
    local chunk, err = real_load(source, "@" .. where, "t")
    if chunk == nil then error(err, 0) end
    return chunk, where
  end,
}
"#;

/// Resolves a script's file path inside the run folder; absolute paths and `..` are rejected.
fn resolve_in_run_dir(run_dir: &Path, requested: &str) -> Result<PathBuf, String> {
    let path = Path::new(requested);
    let escapes = path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir));
    if escapes || requested.is_empty() {
        return Err(format!(
            "io.open({requested:?}): scripts may only open files inside the run folder; use a relative path without '..'"
        ));
    }
    Ok(run_dir.join(path))
}

/// Removes the unsafe parts of the loaded libraries and installs the restricted replacements.
pub fn restrict(lua: &Lua, ctx: &Rc<ScriptContext>) -> mlua::Result<()> {
    let run_dir = ctx.run_dir.clone();
    let resolve = lua.create_function(move |_, requested: String| {
        resolve_in_run_dir(&run_dir, &requested)
            .map(|p| p.display().to_string())
            .map_err(mlua::Error::runtime)
    })?;

    let roots = ctx.roots.clone();
    let scenario_dir = ctx.scenario_dir.clone();
    let search = lua.create_function(move |lua, name: String| {
        Ok(match loader::find_module(&name, &roots, scenario_dir.as_deref()) {
            Some((where_, source)) => (Value::String(lua.create_string(source)?), Value::String(lua.create_string(where_)?)),
            None => (Value::Nil, Value::Nil),
        })
    })?;

    let restrict: Function = lua.load(RESTRICT).set_name("=amesh-sandbox").into_function()?;
    restrict.call::<()>((resolve, search))?;

    let globals: Table = lua.globals();
    globals.set("collectgarbage", Value::Nil)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_paths_stay_inside() {
        let dir = Path::new("/runs/r1");
        assert_eq!(resolve_in_run_dir(dir, "out/a.txt").unwrap(), Path::new("/runs/r1/out/a.txt"));
        assert!(resolve_in_run_dir(dir, "/etc/passwd").is_err());
        assert!(resolve_in_run_dir(dir, "../x").is_err());
        assert!(resolve_in_run_dir(dir, "a/../../x").is_err());
    }
}
