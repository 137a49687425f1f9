//! The system under test: locating or installing the pinned `ai-memory` binary and staging
//! the embedder model it loads. This part never talks to a running node.

mod install;
mod lock;
mod model;
mod paths;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub use model::{ModelStatus, stage_model, staged_model};
pub use paths::{cache_dir, state_dir};

/// The default ai-memory version, the one upstream certified.
pub const DEFAULT_VERSION: &str = "0.6.2";

/// Where a binary came from, for `amesh doctor` and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Explicit,
    Cache,
    Path,
    Installed,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Explicit => "explicit path",
            Origin::Cache => "amesh cache",
            Origin::Path => "PATH",
            Origin::Installed => "installed now",
        })
    }
}

/// A usable ai-memory binary and its probed version.
#[derive(Debug, Clone)]
pub struct Binary {
    pub path: PathBuf,
    pub version: String,
    pub origin: Origin,
}

impl Binary {
    /// Whether `mcp` needs `--profile full` to expose every tool (0.6.4 and later).
    pub fn mcp_needs_full_profile(&self) -> bool {
        version_at_least(&self.version, (0, 6, 4))
    }
}

/// What the caller asks for: an explicit binary (any version), or a version to find or install.
#[derive(Debug, Clone)]
pub struct Request {
    pub explicit: Option<PathBuf>,
    pub version: String,
}

/// Runs `<binary> --version` and returns the version token (`ai-memory 0.6.2` → `0.6.2`).
pub fn probe_version(binary: &Path) -> Result<String> {
    let output = Command::new(binary)
        .arg("--version")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .with_context(|| format!("failed to run `{} --version`", binary.display()))?;
    if !output.status.success() {
        bail!(
            "`{} --version` exited with {}: {}",
            binary.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }

    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|l| l.starts_with("ai-memory")).unwrap_or_default();
    match line.split_whitespace().last() {
        Some(version) if line.split_whitespace().count() >= 2 => Ok(version.to_string()),
        _ => bail!(
            "`{} --version` printed {:?}, expected `ai-memory <version>`; is this an ai-memory binary?",
            binary.display(),
            stdout.trim()
        ),
    }
}

/// Finds a binary without installing: the explicit path, then the cache, then `PATH`. A cached
/// or `PATH` binary counts only when its version matches the request.
pub fn locate(request: &Request) -> Result<Option<Binary>> {
    if let Some(path) = &request.explicit {
        if !path.is_file() {
            bail!(
                "ai-memory binary {} does not exist; fix --ai-memory, AMESH_AI_MEMORY or [sut] binary",
                path.display()
            );
        }
        let version = probe_version(path)?;
        return Ok(Some(Binary { path: path.clone(), version, origin: Origin::Explicit }));
    }

    let cached = install::cached_binary(&cache_dir(), &request.version);
    if cached.is_file() {
        match probe_version(&cached) {
            Ok(version) if version == request.version => {
                return Ok(Some(Binary { path: cached, version, origin: Origin::Cache }));
            }
            Ok(version) => tracing::warn!(path = %cached.display(), %version, "cached binary has the wrong version; ignoring it"),
            Err(err) => tracing::warn!(path = %cached.display(), "cached binary is unusable: {err:#}"),
        }
    }

    if let Some(on_path) = find_on_path("ai-memory") {
        if let Ok(version) = probe_version(&on_path) {
            if version == request.version {
                return Ok(Some(Binary { path: on_path, version, origin: Origin::Path }));
            }
            tracing::debug!(path = %on_path.display(), %version, wanted = %request.version, "ai-memory on PATH has another version");
        }
    }
    Ok(None)
}

/// Finds the binary, installing the requested version into the cache when it is missing.
pub fn ensure(request: &Request) -> Result<Binary> {
    if let Some(binary) = locate(request)? {
        tracing::debug!(path = %binary.path.display(), version = %binary.version, origin = %binary.origin, "using ai-memory");
        return Ok(binary);
    }
    check_supported(&request.version)?;

    let path = install::install(&cache_dir(), &request.version)?;
    let version = probe_version(&path)?;
    Ok(Binary { path, version, origin: Origin::Installed })
}

/// Rejects versions the testbook cannot run on before spending minutes on an install.
fn check_supported(version: &str) -> Result<()> {
    let Some(parsed) = parse_version(version) else {
        bail!("invalid ai-memory version {version:?}; expected the form 0.6.2");
    };
    if parsed < (0, 6, 1) {
        bail!(
            "ai-memory {version} is not supported: versions before 0.6.1 lack the catch-up loop the testbook relies on; use 0.6.1 to 0.6.4"
        );
    }
    Ok(())
}

fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// Whether `version` is at least `min`; unparsable versions count as older.
pub fn version_at_least(version: &str, min: (u64, u64, u64)) -> bool {
    parse_version(version).is_some_and(|v| v >= min)
}

/// Looks `name` up in `PATH` like a shell would.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Locates libfaketime's multi-threaded preload library through the Debian package, then in
/// the usual multiarch folders.
pub fn find_libfaketime() -> Option<PathBuf> {
    if let Ok(output) = Command::new("dpkg").args(["-L", "libfaketime"]).output() {
        let listing = String::from_utf8_lossy(&output.stdout);
        if let Some(line) = listing.lines().find(|l| l.ends_with("/libfaketimeMT.so.1")) {
            let path = PathBuf::from(line);
            if path.is_file() {
                return Some(path);
            }
        }
    }
    ["x86_64-linux-gnu", "aarch64-linux-gnu"]
        .iter()
        .map(|arch| PathBuf::from(format!("/usr/lib/{arch}/faketime/libfaketimeMT.so.1")))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing() {
        assert_eq!(parse_version("0.6.2"), Some((0, 6, 2)));
        assert_eq!(parse_version("0.7.0-rc1"), Some((0, 7, 0)));
        assert_eq!(parse_version("0.6"), None);
        assert!(version_at_least("0.6.4", (0, 6, 4)));
        assert!(!version_at_least("0.6.2", (0, 6, 4)));
    }

    #[test]
    fn old_versions_rejected() {
        let err = check_supported("0.6.0").unwrap_err().to_string();
        assert!(err.contains("0.6.0"), "{err}");
        assert!(check_supported("0.6.2").is_ok());
        assert!(check_supported("latest").is_err());
    }
}
