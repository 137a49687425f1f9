//! `cargo install` of a pinned ai-memory into the cache, atomically and with visible progress.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::lock::CacheLock;

/// The binary path for `version` inside the cache.
pub fn cached_binary(cache: &Path, version: &str) -> PathBuf {
    cache.join(format!("ai-memory-{version}")).join("bin/ai-memory")
}

/// Installs `version` into `<cache>/ai-memory-<version>` and returns the binary path.
///
/// The build goes to a temporary root that is renamed into place only after success, under a
/// lock, so an interrupted or concurrent install never leaves a half-built cache.
pub fn install(cache: &Path, version: &str) -> Result<PathBuf> {
    let _lock = CacheLock::acquire(&cache.join("install.lock"))?;
    let target = cached_binary(cache, version);
    if target.is_file() {
        return Ok(target);
    }
    remove_stale_temporaries(cache);

    let cargo = super::find_on_path("cargo").context(
        "ai-memory is not installed and `cargo` is not on PATH; install Rust (rustup) or pass --ai-memory PATH with a prebuilt binary",
    )?;
    let temp_root = cache.join(format!(".install-{version}-{}", std::process::id()));
    let final_root = cache.join(format!("ai-memory-{version}"));

    tracing::info!(version, root = %final_root.display(), "installing ai-memory with cargo install (about six minutes on two cores)");
    let result = run_cargo_install(&cargo, version, &temp_root);
    if let Err(err) = result {
        let _ = std::fs::remove_dir_all(&temp_root);
        return Err(err);
    }

    if final_root.exists() {
        std::fs::remove_dir_all(&final_root)
            .with_context(|| format!("failed to replace {}", final_root.display()))?;
    }
    std::fs::rename(&temp_root, &final_root)
        .with_context(|| format!("failed to move the install into {}", final_root.display()))?;
    tracing::info!(path = %target.display(), "ai-memory {version} installed");
    Ok(target)
}

fn remove_stale_temporaries(cache: &Path) {
    let Ok(entries) = std::fs::read_dir(cache) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".install-") {
            tracing::debug!(path = %entry.path().display(), "removing an interrupted install");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn run_cargo_install(cargo: &Path, version: &str, root: &Path) -> Result<()> {
    let mut child = Command::new(cargo)
        .args(["install", "ai-memory", "--version", version, "--locked", "--root"])
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to start {}", cargo.display()))?;

    let progress = ProgressBar::new_spinner();
    progress.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] ai-memory {prefix}: {msg}")
            .expect("progress template is valid"),
    );
    progress.set_prefix(version.to_string());
    progress.enable_steady_tick(Duration::from_millis(200));
    let show_lines = !progress.is_hidden();

    let stderr = child.stderr.take().expect("stderr is piped");
    let mut tail: Vec<String> = Vec::new();
    let mut compiled = 0usize;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let trimmed = line.trim().to_string();
        if trimmed.starts_with("Compiling") {
            compiled += 1;
            progress.set_message(format!("{compiled} crates compiled, now {}", &trimmed["Compiling ".len()..]));
        } else if !trimmed.is_empty() {
            progress.set_message(trimmed.clone());
        }
        if !show_lines && (compiled % 50 == 1 || !trimmed.starts_with("Compiling")) {
            tracing::info!(target: "amesh::install", "{trimmed}");
        }
        tail.push(trimmed);
        if tail.len() > 40 {
            tail.remove(0);
        }
    }

    let status = child.wait().context("failed to wait for cargo install")?;
    progress.finish_and_clear();
    if status.success() {
        return Ok(());
    }

    let output = tail.join("\n");
    if output.contains("rustc") && (output.contains("requires") || output.contains("rust-version")) {
        bail!(
            "cargo install of ai-memory {version} failed because it needs a newer rustc than this machine has \
             (ai-memory 0.7 and later need rustc 1.96); pass --ai-memory PATH with a prebuilt binary or pick 0.6.1 to 0.6.4.\n{output}"
        );
    }
    bail!("cargo install of ai-memory {version} failed ({status}); last output:\n{output}")
}
