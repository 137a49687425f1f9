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
local resolve, search, must_unwind = ...
local real_open, real_load, traceback = io.open, load, debug.traceback
local real_pcall, real_xpcall, real_resume = pcall, xpcall, coroutine.resume

-- A scenario that ended, ran out of time or was interrupted must unwind to amesh even through
-- the script's own pcall, xpcall or coroutine.resume; otherwise a retry loop could catch the
-- time-limit error forever.
local function unwind_or_return(ok, ...)
  if not ok and must_unwind() then error((...), 0) end
  return ok, ...
end
pcall = function(f, ...) return unwind_or_return(real_pcall(f, ...)) end
xpcall = function(f, handler, ...) return unwind_or_return(real_xpcall(f, handler, ...)) end
coroutine.resume = function(co, ...) return unwind_or_return(real_resume(co, ...)) end

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

/// Resolves a script's file path inside its own files folder of the run folder
/// (`<run>/files/<scenario file>/`), so that a script cannot overwrite amesh's reports, logs or
/// history. Absolute paths and `..` are rejected.
fn resolve_in_run_dir(files_dir: &Path, requested: &str) -> Result<PathBuf, String> {
    let path = Path::new(requested);
    let escapes = path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir));
    if escapes || requested.is_empty() {
        return Err(format!(
            "io.open({requested:?}): scripts may only open files inside {}; use a relative path without '..'",
            files_dir.display()
        ));
    }
    let resolved = files_dir.join(path);
    if let Some(parent) = resolved.parent() {
        std::fs::create_dir_all(parent).map_err(|err| format!("io.open({requested:?}): cannot create {}: {err}", parent.display()))?;
    }
    Ok(resolved)
}

/// Removes the unsafe parts of the loaded libraries and installs the restricted replacements.
pub fn restrict(lua: &Lua, ctx: &Rc<ScriptContext>) -> mlua::Result<()> {
    let files_dir = ctx.run_dir.join("files").join(ctx.log.stem());
    let resolve = lua.create_function(move |_, requested: String| {
        resolve_in_run_dir(&files_dir, &requested)
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

    let unwind_ctx = ctx.clone();
    let must_unwind = lua.create_function(move |_, ()| Ok(unwind_ctx.must_unwind().is_some()))?;

    let restrict: Function = lua.load(RESTRICT).set_name("=amesh-sandbox").into_function()?;
    restrict.call::<()>((resolve, search, must_unwind))?;

    let globals: Table = lua.globals();
    globals.set("collectgarbage", Value::Nil)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dir_paths_stay_inside() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("files/t1");
        assert_eq!(resolve_in_run_dir(&dir, "out/a.txt").unwrap(), dir.join("out/a.txt"));
        assert!(dir.join("out").is_dir(), "the parent folder is created");
        let dir = dir.as_path();
        assert!(resolve_in_run_dir(dir, "/etc/passwd").is_err());
        assert!(resolve_in_run_dir(dir, "../x").is_err());
        assert!(resolve_in_run_dir(dir, "a/../../x").is_err());
    }
}
