//! Finding scenario files and Lua modules: as given, then under the Lua dir, then in the copy
//! of `lua/` built into the binary, so that an installed amesh is self-contained and a
//! checkout's edited scenario needs no rebuild.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use include_dir::{Dir, include_dir};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/lua");

/// Where Lua files are looked up.
#[derive(Debug, Clone, Default)]
pub struct LuaRoots {
    /// `--lua-dir`, `$AMESH_LUA_DIR`, or `./lua` when it exists.
    pub dir: Option<PathBuf>,
}

impl LuaRoots {
    /// Resolves the Lua dir from the flag, the environment, or the working directory.
    pub fn discover(flag: Option<&Path>) -> Result<Self> {
        if let Some(dir) = flag {
            if !dir.is_dir() {
                bail!("Lua dir {} does not exist; fix --lua-dir", dir.display());
            }
            return Ok(Self { dir: Some(dir.to_path_buf()) });
        }
        if let Some(env) = std::env::var_os("AMESH_LUA_DIR").filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(env);
            if !dir.is_dir() {
                bail!("Lua dir {} (from AMESH_LUA_DIR) does not exist", dir.display());
            }
            return Ok(Self { dir: Some(dir) });
        }
        let local = PathBuf::from("lua");
        Ok(Self { dir: local.is_dir().then_some(local) })
    }
}

/// Where a scenario's source came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Embedded(String),
}

/// A scenario's source text and the name errors and tracebacks use for it.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    /// `lua/scenarios/40.lua`, or `<embedded>/scenarios/40.lua`.
    pub display: String,
    pub source: String,
    pub origin: Origin,
    /// The file name without `.lua`, used until the script declares its id.
    pub stem: String,
}

impl ScenarioFile {
    /// The folder of a scenario on disk, searched first by `require`.
    pub fn dir(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(path) => path.parent(),
            Origin::Embedded(_) => None,
        }
    }
}

fn relative_candidates(arg: &str) -> Vec<String> {
    let mut names = vec![arg.to_string()];
    if !arg.ends_with(".lua") {
        names.push(format!("{arg}.lua"));
    }
    if !arg.starts_with("scenarios/") {
        names.push(format!("scenarios/{arg}"));
        if !arg.ends_with(".lua") {
            names.push(format!("scenarios/{arg}.lua"));
        }
    }
    names
}

/// Resolves `amesh run` arguments such as `40`, `scenarios/40.lua` or `/tmp/mine.lua`.
pub fn resolve(arg: &str, roots: &LuaRoots) -> Result<ScenarioFile> {
    let given = Path::new(arg);
    if given.is_file() {
        return read_file(given);
    }

    let mut looked = vec![format!("./{arg}")];
    if let Some(dir) = &roots.dir {
        for name in relative_candidates(arg) {
            let path = dir.join(&name);
            if path.is_file() {
                return read_file(&path);
            }
            looked.push(path.display().to_string());
        }
    }
    for name in relative_candidates(arg) {
        if let Some(file) = EMBEDDED.get_file(&name) {
            let source = file.contents_utf8().unwrap_or_default().to_string();
            return Ok(ScenarioFile {
                display: format!("<embedded>/{name}"),
                source,
                origin: Origin::Embedded(name.clone()),
                stem: stem_of(&name),
            });
        }
    }
    looked.push("the scenarios built into amesh".into());
    bail!(
        "scenario {arg:?} not found; looked in {}. Pass a path to a .lua file or an id such as 40 (see lua/scenarios/)",
        looked.join(", ")
    )
}

fn read_file(path: &Path) -> Result<ScenarioFile> {
    let source = std::fs::read_to_string(path)
        .map_err(|err| anyhow::anyhow!("failed to read scenario {}: {err}", path.display()))?;
    Ok(ScenarioFile {
        display: path.display().to_string(),
        source,
        origin: Origin::File(path.to_path_buf()),
        stem: stem_of(&path.display().to_string()),
    })
}

fn stem_of(name: &str) -> String {
    Path::new(name).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Finds the source of module `name` (`a.b` → `a/b.lua`) for `require`: the scenario's own
/// folder, then `<lua dir>/lib` and `<lua dir>`, then the embedded `lib/`.
pub fn find_module(name: &str, roots: &LuaRoots, scenario_dir: Option<&Path>) -> Option<(String, String)> {
    let relative = format!("{}.lua", name.replace('.', "/"));
    let mut dirs: Vec<PathBuf> = scenario_dir.map(Path::to_path_buf).into_iter().collect();
    if let Some(dir) = &roots.dir {
        dirs.push(dir.join("lib"));
        dirs.push(dir.clone());
    }
    for dir in dirs {
        let path = dir.join(&relative);
        if let Ok(source) = std::fs::read_to_string(&path) {
            return Some((path.display().to_string(), source));
        }
    }
    let embedded = format!("lib/{relative}");
    EMBEDDED
        .get_file(&embedded)
        .and_then(|f| f.contents_utf8())
        .map(|source| (format!("<embedded>/{embedded}"), source.to_string()))
}

/// The campaign lists from `lua/testbook.lua`, read from the Lua dir or the embedded copy.
pub fn testbook_source(roots: &LuaRoots) -> Option<(String, String)> {
    if let Some(dir) = &roots.dir {
        let path = dir.join("testbook.lua");
        if let Ok(source) = std::fs::read_to_string(&path) {
            return Some((path.display().to_string(), source));
        }
    }
    EMBEDDED
        .get_file("testbook.lua")
        .and_then(|f| f.contents_utf8())
        .map(|s| ("<embedded>/testbook.lua".to_string(), s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_resolves_to_embedded_scenario() {
        let file = resolve("40", &LuaRoots::default()).unwrap();
        assert!(file.display.ends_with("scenarios/40.lua"), "{}", file.display);
        assert_eq!(file.stem, "40");
    }

    #[test]
    fn missing_scenario_lists_places() {
        let err = resolve("no-such-scenario", &LuaRoots::default()).unwrap_err().to_string();
        assert!(err.contains("no-such-scenario"), "{err}");
        assert!(err.contains("built into amesh"), "{err}");
    }
}
