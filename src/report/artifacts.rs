//! Reads a campaign or run folder back: the summary, meta, baseline, F3 canary, every
//! scenario report with its log, and `history.jsonl`. The HTML page, `junit.xml` and
//! `amesh report --diff` are built from this.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::format;

/// A scenario's verdict as read from its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadVerdict {
    Pass,
    Fail,
    Skip,
    /// The report is unreadable or has neither `pass` nor `skipped` set.
    Unknown,
}

impl ReadVerdict {
    /// Derives the verdict: `pass: true` passes, `skipped: true` skips, `pass: false` fails.
    pub fn of(report: &Value) -> Self {
        if report["pass"] == Value::Bool(true) {
            ReadVerdict::Pass
        } else if report["skipped"] == Value::Bool(true) {
            ReadVerdict::Skip
        } else if report["pass"] == Value::Bool(false) {
            ReadVerdict::Fail
        } else {
            ReadVerdict::Unknown
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReadVerdict::Pass => "PASS",
            ReadVerdict::Fail => "FAIL",
            ReadVerdict::Skip => "SKIP",
            ReadVerdict::Unknown => "UNKNOWN",
        }
    }
}

/// One `scenario-<id>.json` and its log.
#[derive(Debug, Clone)]
pub struct ScenarioArtifact {
    /// The scenario id: the report's `scenario` key, else the file name's.
    pub id: String,
    /// `scenario-<id>.json`, relative to the folder.
    pub json_file: String,
    /// `scenario-<id>.log`, when it exists.
    pub log_file: Option<String>,
    /// The parsed report; `Value::Null` when the file is not JSON.
    pub report: Value,
    /// The file text, for display.
    pub json_text: String,
    /// The error that made the report unreadable.
    pub error: Option<String>,
    pub log: Option<String>,
    pub verdict: ReadVerdict,
}

impl ScenarioArtifact {
    /// Returns the failure reasons, the skip reason, or the read error.
    pub fn reasons(&self) -> Vec<String> {
        if let Some(error) = &self.error {
            return vec![error.clone()];
        }
        let listed: Vec<String> = self.report["reasons"]
            .as_array()
            .map(|r| r.iter().map(format::value_text).collect())
            .unwrap_or_default();
        if !listed.is_empty() {
            return listed;
        }
        match self.report["reason"].as_str() {
            Some(reason) if !reason.is_empty() => vec![reason.to_string()],
            _ => Vec::new(),
        }
    }

    pub fn duration_ms(&self) -> u64 {
        self.report["duration_ms"].as_u64().unwrap_or(0)
    }
}

/// A file in the folder, for the artifact list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ArtifactFile {
    /// Path relative to the folder, with `/` separators.
    pub path: String,
    pub bytes: u64,
}

/// Everything a campaign or run folder contains.
#[derive(Debug, Clone)]
pub struct CampaignArtifacts {
    pub dir: PathBuf,
    /// The campaign id from the summary, else the folder name.
    pub name: String,
    pub summary: Option<Value>,
    /// `campaign.meta.json`, else the summary's `meta`.
    pub meta: Option<Value>,
    pub baseline: Option<Value>,
    pub f3: Option<Value>,
    /// Sorted by id, numerically first (see [`format::compare_ids`]).
    pub scenarios: Vec<ScenarioArtifact>,
    /// Every parseable `history.jsonl` line, in file order.
    pub history: Vec<Value>,
    pub files: Vec<ArtifactFile>,
    /// Files that exist but could not be read or parsed.
    pub problems: Vec<String>,
}

impl CampaignArtifacts {
    /// Reads the folder. Fails when it does not exist or contains neither a summary nor a
    /// scenario report.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            bail!("{} is not a folder; pass a campaign folder such as runs/<campaign-id>", dir.display());
        }
        let mut problems = Vec::new();
        let summary = read_json(&dir.join("a2a-summary.json"), &mut problems);
        let meta = read_json(&dir.join("campaign.meta.json"), &mut problems)
            .or_else(|| summary.as_ref().and_then(|s| s.get("meta").cloned()));
        let baseline = read_json(&dir.join("a2a-baseline.json"), &mut problems);
        let f3 = read_json(&dir.join("f3-peer-a2a.json"), &mut problems);
        let scenarios = read_scenarios(dir)?;
        if summary.is_none() && scenarios.is_empty() {
            bail!("{} contains neither a2a-summary.json nor a scenario-<id>.json report; pass a campaign or run folder", dir.display());
        }
        let history = read_history(&dir.join("history.jsonl"), &mut problems);
        let files = list_files(dir)?;
        let name = summary
            .as_ref()
            .and_then(|s| s["campaign_id"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        Ok(Self { dir: dir.to_path_buf(), name, summary, meta, baseline, f3, scenarios, history, files, problems })
    }

    pub fn count(&self, verdict: ReadVerdict) -> usize {
        self.scenarios.iter().filter(|s| s.verdict == verdict).count()
    }

    /// Returns the summary's `overall_pass`, or without a summary whether every report passed
    /// or was skipped.
    pub fn overall_pass(&self) -> bool {
        match &self.summary {
            Some(summary) => summary["overall_pass"] == Value::Bool(true),
            None => !self.scenarios.is_empty() && self.scenarios.iter().all(|s| matches!(s.verdict, ReadVerdict::Pass | ReadVerdict::Skip)),
        }
    }

    pub fn interrupted(&self) -> bool {
        self.summary.as_ref().is_some_and(|s| s["interrupted"] == Value::Bool(true))
    }
}

fn read_json(path: &Path, problems: &mut Vec<String>) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(err) => {
            problems.push(format!("{} is not valid JSON: {err}", file_name(path)));
            None
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn read_scenarios(dir: &Path) -> Result<Vec<ScenarioArtifact>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("failed to list {}", dir.display()))?;
    let mut scenarios = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_prefix("scenario-").and_then(|n| n.strip_suffix(".json")) else { continue };
        let json_text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let (report, error) = match serde_json::from_str::<Value>(&json_text) {
            Ok(report) if report.is_object() => (report, None),
            Ok(_) => (Value::Null, Some(format!("{name} is not a JSON object"))),
            Err(err) => (Value::Null, Some(format!("{name} is not valid JSON: {err}"))),
        };
        let log_name = format!("scenario-{stem}.log");
        let log = std::fs::read(dir.join(&log_name)).ok().map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        let verdict = if error.is_some() { ReadVerdict::Unknown } else { ReadVerdict::of(&report) };
        scenarios.push(ScenarioArtifact {
            id: report["scenario"].as_str().unwrap_or(stem).to_string(),
            json_file: name.clone(),
            log_file: log.is_some().then_some(log_name),
            report,
            json_text,
            error,
            log,
            verdict,
        });
    }
    scenarios.sort_by(|a, b| format::compare_ids(&a.id, &b.id).then_with(|| a.json_file.cmp(&b.json_file)));
    Ok(scenarios)
}

fn read_history(path: &Path, problems: &mut Vec<String>) -> Vec<Value> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut events = Vec::new();
    let mut unparsed = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str(line) {
            Ok(event) => events.push(event),
            Err(_) => unparsed += 1,
        }
    }
    if unparsed > 0 {
        problems.push(format!("history.jsonl has {unparsed} lines that are not JSON"));
    }
    events
}

fn list_files(dir: &Path) -> Result<Vec<ArtifactFile>> {
    let mut files = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let current = dir.join(&relative);
        let entries = std::fs::read_dir(&current).with_context(|| format!("failed to list {}", current.display()))?;
        for entry in entries.flatten() {
            let path = relative.join(entry.file_name());
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
                let path = path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                files.push(ArtifactFile { path, bytes });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn verdict_reads_pass_fail_skip_unknown() {
        assert_eq!(ReadVerdict::of(&json!({ "pass": true, "skipped": false })), ReadVerdict::Pass);
        assert_eq!(ReadVerdict::of(&json!({ "pass": false, "skipped": false })), ReadVerdict::Fail);
        assert_eq!(ReadVerdict::of(&json!({ "pass": null, "skipped": true })), ReadVerdict::Skip);
        assert_eq!(ReadVerdict::of(&json!({ "scenario": "1" })), ReadVerdict::Unknown);
    }

    #[test]
    fn load_sorts_and_flags_broken_reports() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("scenario-10.json"), r#"{"scenario":"10","pass":true,"skipped":false}"#).unwrap();
        std::fs::write(dir.path().join("scenario-1b.json"), r#"{"scenario":"1b","pass":false,"skipped":false,"reasons":["x"]}"#).unwrap();
        std::fs::write(dir.path().join("scenario-1b.log"), "line\n").unwrap();
        std::fs::write(dir.path().join("scenario-bad.json"), "{ not json").unwrap();

        let loaded = CampaignArtifacts::load(dir.path()).unwrap();

        let ids: Vec<&str> = loaded.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["1b", "10", "bad"]);
        assert_eq!(loaded.scenarios[0].reasons(), ["x"]);
        assert_eq!(loaded.scenarios[0].log.as_deref(), Some("line\n"));
        assert_eq!(loaded.scenarios[2].verdict, ReadVerdict::Unknown);
        assert!(!loaded.overall_pass());
        assert_eq!(loaded.files.len(), 4);
    }

    #[test]
    fn load_rejects_folder_without_reports() {
        let dir = tempfile::tempdir().unwrap();
        let err = CampaignArtifacts::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("neither"), "{err}");
    }
}
