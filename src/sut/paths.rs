//! Fixed locations: the tool cache and the mesh state folder.

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn non_empty_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The tool cache: `$AMESH_CACHE`, else `$XDG_CACHE_HOME/amesh`, else `~/.cache/amesh`.
pub fn cache_dir() -> PathBuf {
    non_empty_env("AMESH_CACHE")
        .or_else(|| non_empty_env("XDG_CACHE_HOME").map(|d| d.join("amesh")))
        .unwrap_or_else(|| home().join(".cache/amesh"))
}

/// Mesh state (node data, TLS material, descriptors): `$XDG_STATE_HOME/amesh`, else
/// `~/.local/state/amesh`.
pub fn state_dir() -> PathBuf {
    non_empty_env("XDG_STATE_HOME")
        .map(|d| d.join("amesh"))
        .unwrap_or_else(|| home().join(".local/state/amesh"))
}
