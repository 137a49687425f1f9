//! The testbook campaign: a pristine mesh, the baseline and F3 canary, every scenario in
//! order, and the campaign files (`a2a-summary.json`, `campaign.meta.json`, one `.json` and
//! `.log` per scenario, `history.jsonl`). It aggregates verdicts; it renders nothing.

mod baseline;
mod canary;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cancel::Cancel;
use crate::client::History;
use crate::mesh::{Config, Mesh, MeshSetup, TlsMode};
use crate::report::{self, ScenarioResult, Verdict};
use crate::script::{self, LuaRoots, ScenarioFile, ScriptEnv};
use crate::sut::{Binary, ModelStatus};

/// Outcome of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Interrupted,
    /// The mesh did not come up or could not be recovered.
    InfrastructureError,
}

/// The scenario ids of `lua/testbook.lua`: `default`, plus `mtls_extra` under mTLS; duplicates
/// are dropped, keeping the first.
pub fn testbook_ids(roots: &LuaRoots, tls: TlsMode) -> Result<Vec<String>> {
    let (name, source) = script::loader::testbook_source(roots).context("lua/testbook.lua not found")?;
    let lua = mlua::Lua::new();
    let lists: mlua::Table = lua
        .load(&source)
        .set_name(format!("@{name}"))
        .eval()
        .map_err(|err| anyhow::anyhow!("{name}: {err}"))?;
    let mut ids: Vec<String> = lists.get::<Vec<String>>("default").map_err(|err| anyhow::anyhow!("{name}: `default` must be a list of ids: {err}"))?;
    if tls == TlsMode::Mtls {
        ids.extend(lists.get::<Option<Vec<String>>>("mtls_extra").map_err(|err| anyhow::anyhow!("{name}: {err}"))?.unwrap_or_default());
    }
    Ok(dedupe(ids))
}

pub fn dedupe(ids: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(id.clone())).collect()
}

/// Returns the default campaign id: `<yyyymmddThhmmss>-<backend>-<tls>`.
pub fn default_id(config: &Config) -> String {
    format!("{}-{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), config.backend, config.tls)
}

/// Creates the campaign folder. A folder that exists with files in it is refused unless
/// `force`, which clears it first, so stale reports never mix into a new summary.
pub fn prepare_dir(runs: &Path, id: &str, force: bool) -> Result<PathBuf> {
    if id.is_empty() || id.contains('/') || id.starts_with('.') {
        bail!("invalid campaign id {id:?}: use letters, digits, '-', '_' and '.', not starting with '.'");
    }
    let dir = runs.join(id);
    let has_files = std::fs::read_dir(&dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if has_files {
        if !force {
            bail!(
                "campaign folder {} already exists; choose another --campaign id or pass --force to clear it",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir).with_context(|| format!("failed to clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    Ok(dir)
}

/// A scenario to run, or the reason it cannot (not found, does not compile).
pub enum Planned {
    Ready(ScenarioFile),
    Broken { id: String, reason: String },
}

/// Resolves and compiles every id; broken ones become failures and the campaign goes on.
pub fn plan(ids: &[String], roots: &LuaRoots) -> Vec<Planned> {
    ids.iter()
        .map(|id| match script::loader::resolve(id, roots) {
            Ok(file) => match script::compile_check(&file) {
                Ok(()) => Planned::Ready(file),
                Err(message) => Planned::Broken { id: file.stem.clone(), reason: format!("does not compile: {message}") },
            },
            Err(err) => Planned::Broken { id: id.clone(), reason: format!("{err:#}") },
        })
        .collect()
}

fn failure(id: &str, reason: String) -> ScenarioResult {
    ScenarioResult {
        id: id.to_string(),
        title: None,
        verdict: Verdict::Fail,
        reasons: vec![reason.clone()],
        skip_reason: None,
        fields: Default::default(),
        duration_ms: 0,
        convergence: Vec::new(),
        log: format!("{reason}\n"),
    }
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("failed to write {}", path.display()))
}

/// Everything a campaign needs.
pub struct Campaign {
    pub id: String,
    pub dir: PathBuf,
    pub config: Arc<Config>,
    pub binary: Binary,
    pub model: ModelStatus,
    pub roots: LuaRoots,
    pub requested: Vec<String>,
    pub cancel: Cancel,
    /// `history.jsonl` of the campaign folder, with the terminal output attached.
    pub history: Arc<History>,
}

impl Campaign {
    /// Runs the campaign and writes its files; the summary is written however it ends.
    pub async fn run(self) -> Outcome {
        let started_at = now();
        let planned = plan(&self.requested, &self.roots);

        let setup = MeshSetup {
            config: self.config.clone(),
            binary: self.binary.clone(),
            model: self.model.clone(),
            run_dir: self.dir.clone(),
            history: self.history.clone(),
        };
        let mesh = match Mesh::start(setup).await {
            Ok(mesh) => Arc::new(mesh),
            Err(err) => {
                tracing::error!("the mesh did not come up: {err:#}");
                self.finish(&started_at, &[], self.cancel.is_cancelled(), None);
                return if self.cancel.is_cancelled() { Outcome::Interrupted } else { Outcome::InfrastructureError };
            }
        };

        let (reports, outcome) = self.run_on(&mesh, planned).await;
        if let Err(err) = mesh.teardown().await {
            tracing::error!("teardown failed: {err:#}");
        }
        let fingerprints = mesh.tls.as_ref().map(|t| t.fingerprints());
        let passed = self.finish(&started_at, &reports, outcome == Outcome::Interrupted, fingerprints);
        match outcome {
            Outcome::Passed if !passed => Outcome::Failed,
            other => other,
        }
    }

    async fn run_on(&self, mesh: &Arc<Mesh>, planned: Vec<Planned>) -> (Vec<(String, Value)>, Outcome) {
        let baseline = baseline::measure(mesh, &self.dir).await;
        if baseline["baseline_pass"] != json!(true) {
            tracing::error!("BASELINE VIOLATION: see a2a-baseline.json (the campaign goes on)");
        }
        log_write(write_json(&self.dir.join("a2a-baseline.json"), &baseline));
        let f3 = canary::run(mesh).await;
        if f3["pass"] != json!(true) {
            tracing::error!("F3 CANARY FAILED: see f3-peer-a2a.json (the campaign goes on)");
        }
        log_write(write_json(&self.dir.join("f3-peer-a2a.json"), &f3));

        let env = ScriptEnv { mesh: mesh.clone(), run_dir: self.dir.clone(), roots: self.roots.clone(), cancel: self.cancel.clone() };
        let mut reports = Vec::new();
        let mut fatal: Option<String> = None;
        let total = planned.len();
        for (position, item) in planned.into_iter().enumerate() {
            if self.cancel.is_cancelled() {
                return (reports, Outcome::Interrupted);
            }
            let result = match (&fatal, item) {
                (Some(reason), Planned::Ready(file)) => self.not_run(failure(&file.stem, format!("not run: {reason}"))),
                (Some(reason), Planned::Broken { id, .. }) => self.not_run(failure(&id, format!("not run: {reason}"))),
                (None, Planned::Broken { id, reason }) => {
                    tracing::error!(scenario = %id, "{reason}");
                    self.not_run(failure(&id, reason))
                }
                (None, Planned::Ready(file)) => {
                    tracing::info!("scenario {}/{total}: {}", position + 1, file.display);
                    let run = script::run_scenario(&env, &file).await;
                    if let Some(reason) = run.fatal {
                        tracing::error!("{reason}; the remaining scenarios are not run");
                        fatal = Some(reason);
                    }
                    if run.interrupted {
                        reports.push(self.record(&run.result));
                        return (reports, Outcome::Interrupted);
                    }
                    run.result
                }
            };
            reports.push(self.record(&result));
        }
        (reports, if fatal.is_some() { Outcome::InfrastructureError } else { Outcome::Passed })
    }

    /// Records the start and end of a scenario that never ran, as a run records its own.
    fn not_run(&self, result: ScenarioResult) -> ScenarioResult {
        script::record_not_run(&self.history, &self.config, &result);
        result
    }

    /// Writes a scenario's files and returns the report. The terminal prints its JSON line
    /// from the `scenario_end` history event.
    fn record(&self, result: &ScenarioResult) -> (String, Value) {
        let report = report::envelope(result, &self.config.agent_group, &self.config.tls.to_string());
        log_write(report::write_scenario_files(&self.dir, &result.id, &report, &result.log));
        (format!("scenario-{}.json", result.id), report)
    }

    /// Writes the summary and meta; returns `overall_pass`.
    fn finish(&self, started_at: &str, reports: &[(String, Value)], interrupted: bool, tls_fingerprints: Option<Value>) -> bool {
        let ended_at = now();
        let facts = summary::CampaignFacts {
            campaign_id: &self.id,
            config: &self.config,
            ai_memory_version: &self.binary.version,
            requested: &self.requested,
            started_at,
            ended_at: &ended_at,
            interrupted,
            tls_fingerprints,
        };
        let summary = summary::summary(&facts, reports);
        log_write(write_json(&self.dir.join("a2a-summary.json"), &summary));
        log_write(write_json(&self.dir.join("campaign.meta.json"), &summary["meta"]));

        let passed = reports.iter().filter(|(_, r)| r["pass"] == json!(true)).count();
        let skipped = reports.iter().filter(|(_, r)| r["skipped"] == json!(true)).count();
        let failed = reports.len() - passed - skipped;
        tracing::info!(
            campaign = %self.id,
            overall_pass = summary["overall_pass"].as_bool().unwrap_or(false),
            "{passed} passed, {failed} failed, {skipped} skipped; files in {}",
            self.dir.display()
        );
        for reason in summary["reasons"].as_array().into_iter().flatten() {
            tracing::warn!("{}", reason.as_str().unwrap_or_default());
        }
        summary["overall_pass"] == json!(true)
    }
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn log_write(result: Result<()>) {
    if let Err(err) = result {
        tracing::error!("{err:#}");
    }
}
