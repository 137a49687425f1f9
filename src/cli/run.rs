//! `amesh run`: compile every scenario, start one mesh, run the scenarios in order, print one
//! JSON verdict per line (or the event stream), tear the mesh down.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::cancel::Cancel;
use crate::client::History;
use crate::mesh::{Mesh, MeshSetup};
use crate::report::{self, OutputFormat, Terminal, Verdict};
use crate::script::{self, LuaRoots, ScenarioFile, ScriptEnv};

#[derive(Args)]
pub struct RunArgs {
    /// Scenario files or ids (`40` means scenarios/40.lua), run in the order given.
    #[arg(required = true, value_name = "FILE_OR_ID")]
    pub scenarios: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The stdout format of `run` and `testbook`.
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// stdout format. `verdicts` prints one JSON report line per scenario, and `json` prints one
    /// JSON event per line (campaign_start, scenario_start, check, fault, wait, scenario_end
    /// with the report, campaign_end).
    #[arg(long = "output", value_enum, value_name = "FORMAT", default_value_t = OutputChoice::Verdicts)]
    pub output: OutputChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputChoice {
    Verdicts,
    Json,
}

impl OutputArgs {
    /// Creates the terminal output for run or campaign `id`, with progress on stderr unless
    /// `quiet`.
    pub fn terminal(&self, id: &str, quiet: bool) -> Arc<Terminal> {
        let format = match self.output {
            OutputChoice::Verdicts => OutputFormat::Human,
            OutputChoice::Json => OutputFormat::Json,
        };
        Arc::new(Terminal::new(id, format, quiet))
    }
}

/// Records `campaign_end` with the outcome behind `exit` and the tally of the terminal.
pub(crate) fn record_end(history: &History, terminal: &Terminal, exit: Exit) {
    let outcome = match exit {
        Exit::Success => "passed",
        Exit::Failed => "failed",
        Exit::Interrupted => "interrupted",
        Exit::Error => "error",
    };
    let (passed, failed, skipped) = terminal.tally();
    history.record(
        "campaign_end",
        None,
        json!({ "outcome": outcome, "exit_code": exit as i32, "passed": passed, "failed": failed, "skipped": skipped }),
    );
}

/// Resolves and compiles every scenario before anything is provisioned.
fn load_scenarios(args: &RunArgs) -> Result<(LuaRoots, Vec<ScenarioFile>), Exit> {
    let roots = LuaRoots::discover(args.common.lua_dir.as_deref()).map_err(|err| {
        tracing::error!("{err:#}");
        Exit::Error
    })?;
    let mut files = Vec::new();
    let mut failed = false;
    for arg in &args.scenarios {
        match script::loader::resolve(arg, &roots) {
            Ok(file) => {
                if let Err(message) = script::compile_check(&file) {
                    tracing::error!("{} does not compile: {message}", file.display);
                    failed = true;
                }
                files.push(file);
            }
            Err(err) => {
                tracing::error!("{err:#}");
                failed = true;
            }
        }
    }
    if failed { Err(Exit::Error) } else { Ok((roots, files)) }
}

pub async fn run(args: RunArgs, cancel: Cancel) -> Exit {
    let (roots, files) = match load_scenarios(&args) {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let config = match load_config(&args.common) {
        Ok(config) => Arc::new(config),
        Err(exit) => return exit,
    };
    let run_dir = match report::create_run_dir(&args.common.runs_dir) {
        Ok(dir) => dir,
        Err(err) => {
            tracing::error!("{err:#}");
            return Exit::Error;
        }
    };
    tracing::info!(run_dir = %run_dir.display(), "run folder");

    let (binary, model) = match prepare_sut(&config, false).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    if cancel.is_cancelled() {
        return Exit::Interrupted;
    }
    let run_id = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let terminal = args.output.terminal(&run_id, args.common.quiet);
    let history = match History::open(&run_dir.join("history.jsonl")) {
        Ok(history) => Arc::new(history.with_sink(terminal.clone())),
        Err(err) => {
            tracing::error!("failed to create {}: {err}", run_dir.join("history.jsonl").display());
            return Exit::Error;
        }
    };

    let stems: Vec<&str> = files.iter().map(|f| f.stem.as_str()).collect();
    history.record("campaign_start", None, json!({ "command": "run", "scenarios": stems, "dir": run_dir.display().to_string() }));
    let exit = async {
        tracing::info!(binary = %binary.path.display(), version = %binary.version, nodes = config.nodes.len(), "starting the mesh");
        let setup = MeshSetup { config: config.clone(), binary, model, run_dir: run_dir.clone(), history: history.clone() };
        let mesh = match Mesh::start(setup).await {
            Ok(mesh) => Arc::new(mesh),
            Err(err) => {
                tracing::error!("the mesh did not come up: {err:#}");
                return if cancel.is_cancelled() { Exit::Interrupted } else { Exit::Error };
            }
        };

        let env = ScriptEnv { mesh: mesh.clone(), run_dir: run_dir.clone(), roots, cancel: cancel.clone() };
        let exit = run_all(&env, &files, &config).await;

        if let Err(err) = mesh.teardown().await {
            tracing::error!("teardown failed: {err:#}");
            return Exit::Error;
        }
        tracing::info!(run_dir = %run_dir.display(), "done");
        exit
    }
    .await;
    record_end(&history, &terminal, exit);
    exit
}

async fn run_all(env: &ScriptEnv, files: &[ScenarioFile], config: &crate::mesh::Config) -> Exit {
    let mut exit = Exit::Success;
    for file in files {
        if env.cancel.is_cancelled() {
            return Exit::Interrupted;
        }
        let run = script::run_scenario(env, file).await;
        let report = report::envelope(&run.result, &config.agent_group, &config.tls.to_string());
        if let Err(err) = report::write_scenario_files(&env.run_dir, &run.result.id, &report, &run.result.log) {
            tracing::error!("{err:#}");
        }

        if run.result.verdict == Verdict::Fail {
            exit = Exit::Failed;
        }
        if run.interrupted {
            return Exit::Interrupted;
        }
        if let Some(fatal) = run.fatal {
            tracing::error!("{fatal}; the remaining scenarios are not run");
            return Exit::Error;
        }
    }
    exit
}
