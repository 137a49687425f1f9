//! The run folder every invocation writes into.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

/// Creates `<runs>/run-<utc>-<4 hex>/` for `amesh run`.
pub fn create_run_dir(runs: &Path) -> Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..4];
    let dir = runs.join(format!("run-{stamp}-{suffix}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create run folder {}", dir.display()))?;
    Ok(dir)
}

/// Writes `scenario-<id>.json` (one line, keys sorted) and `scenario-<id>.log`.
pub fn write_scenario_files(dir: &Path, id: &str, report: &Value, log: &str) -> Result<()> {
    let json_path = dir.join(format!("scenario-{id}.json"));
    std::fs::write(&json_path, format!("{report}\n"))
        .with_context(|| format!("failed to write {}", json_path.display()))?;
    let log_path = dir.join(format!("scenario-{id}.log"));
    std::fs::write(&log_path, log).with_context(|| format!("failed to write {}", log_path.display()))?;
    Ok(())
}
