//! `amesh repl`: start a mesh, run the interactive prompt on it (`crate::repl`), heal and tear
//! the mesh down.

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Args;

use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::cancel::Cancel;
use crate::client::History;
use crate::mesh::{Mesh, MeshSetup};
use crate::repl::{Interrupts, ReplOptions};
use crate::report;
use crate::script::LuaRoots;

/// File under the state folder that keeps the REPL's line history.
const HISTORY_FILE: &str = "repl-history";

#[derive(Args)]
pub struct ReplArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Runs the REPL and returns its exit code:
/// - 0 when the session ended normally and, on piped input, every statement and command
///   succeeded;
/// - 1 when a piped statement raised or did not compile, or a piped command or scenario failed;
/// - 2 when the mesh did not start, or could not be healed or torn down;
/// - 130 after SIGTERM, or after SIGINT on piped input.
pub async fn repl(args: ReplArgs, cancel: Cancel) -> Exit {
    let interrupts = Interrupts::install(cancel);
    let roots = match LuaRoots::discover(args.common.lua_dir.as_deref()) {
        Ok(roots) => roots,
        Err(err) => {
            tracing::error!("{err:#}");
            return Exit::Error;
        }
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
    let (binary, model) = match prepare_sut(&config, false).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    if interrupts.session.is_cancelled() {
        return Exit::Interrupted;
    }
    let history = match History::open(&run_dir.join("history.jsonl")) {
        Ok(history) => Arc::new(history),
        Err(err) => {
            tracing::error!("failed to create {}: {err}", run_dir.join("history.jsonl").display());
            return Exit::Error;
        }
    };

    // TODO: `--backend docker --mesh NAME` attaches to a mesh that `amesh mesh up` started,
    // but `Mesh::start` resets it first. Exploring the live mesh's data as it is needs an
    // attach without that reset, plugged in here.
    tracing::info!(binary = %binary.path.display(), version = %binary.version, nodes = config.nodes.len(), "starting the mesh");
    let setup = MeshSetup { config, binary, model, run_dir: run_dir.clone(), history };
    let mesh = match Mesh::start(setup).await {
        Ok(mesh) => Arc::new(mesh),
        Err(err) => {
            tracing::error!("the mesh did not come up: {err:#}");
            return if interrupts.session.is_cancelled() { Exit::Interrupted } else { Exit::Error };
        }
    };

    let end = if interrupts.session.is_cancelled() {
        None
    } else {
        let options = ReplOptions { run_dir: run_dir.clone(), roots, history_path: history_path() };
        Some(crate::repl::run(mesh.clone(), options, &interrupts).await)
    };

    let torn_down = mesh.teardown().await;
    if let Err(err) = &torn_down {
        tracing::error!("teardown failed: {err:#}");
    }
    let Some(end) = end else { return Exit::Interrupted };
    if let Some(fatal) = &end.fatal {
        tracing::error!("{fatal}");
    }
    tracing::info!(run_dir = %run_dir.display(), "done");

    if end.interrupted {
        Exit::Interrupted
    } else if end.fatal.is_some() || torn_down.is_err() {
        Exit::Error
    } else if !end.interactive && end.errors > 0 {
        Exit::Failed
    } else {
        Exit::Success
    }
}

/// Returns the history file and creates its folder. Returns `None`, so that no history is
/// kept, on piped input or when the folder cannot be created.
fn history_path() -> Option<std::path::PathBuf> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let dir = crate::sut::state_dir();
    match std::fs::create_dir_all(&dir) {
        Ok(()) => Some(dir.join(HISTORY_FILE)),
        Err(err) => {
            tracing::warn!("failed to create {}: {err}; the REPL keeps no history", dir.display());
            None
        }
    }
}
