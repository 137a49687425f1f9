//! `amesh testbook`: the full campaign with upstream-compatible artifacts.

use std::sync::Arc;

use clap::Args;
use serde_json::json;

use super::run::{OutputArgs, record_end};
use super::{CommonArgs, Exit, load_config, prepare_sut};
use crate::campaign::{self, Campaign, Outcome};
use crate::cancel::Cancel;
use crate::client::History;
use crate::report;
use crate::script::LuaRoots;

#[derive(Args)]
pub struct TestbookArgs {
    /// Campaign id and folder name under the runs dir (default <yyyymmddThhmmss>-<backend>-<tls>).
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,

    /// Scenario ids or files to run instead of lua/testbook.lua's list.
    #[arg(long, num_args = 1.., value_name = "ID")]
    pub scenarios: Option<Vec<String>>,

    /// Clear an existing campaign folder with the same id instead of refusing.
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

fn fail<E: std::fmt::Display>(err: E) -> Exit {
    tracing::error!("{err:#}");
    Exit::Error
}

pub async fn testbook(args: TestbookArgs, cancel: Cancel) -> Exit {
    let config = match load_config(&args.common) {
        Ok(config) => Arc::new(config),
        Err(exit) => return exit,
    };
    let roots = match LuaRoots::discover(args.common.lua_dir.as_deref()) {
        Ok(roots) => roots,
        Err(err) => return fail(err),
    };
    let requested = match &args.scenarios {
        Some(ids) => campaign::dedupe(ids.clone()),
        None => match campaign::testbook_ids(&roots, config.tls) {
            Ok(ids) => ids,
            Err(err) => return fail(err),
        },
    };
    let id = args.campaign.clone().unwrap_or_else(|| campaign::default_id(&config));
    let dir = match campaign::prepare_dir(&args.common.runs_dir, &id, args.force) {
        Ok(dir) => dir,
        Err(err) => return fail(err),
    };
    tracing::info!(campaign = %id, dir = %dir.display(), scenarios = requested.len(), "campaign folder");

    let (binary, model) = match prepare_sut(&config, false).await {
        Ok(prepared) => prepared,
        Err(exit) => return exit,
    };
    if cancel.is_cancelled() {
        return Exit::Interrupted;
    }

    let terminal = args.output.terminal(&id, args.common.quiet);
    let history = match History::open(&dir.join("history.jsonl")) {
        Ok(history) => Arc::new(history.with_sink(terminal.clone())),
        Err(err) => return fail(format!("failed to create {}: {err}", dir.join("history.jsonl").display())),
    };
    history.record(
        "campaign_start",
        None,
        json!({ "command": "testbook", "scenarios": requested, "dir": dir.display().to_string() }),
    );

    let campaign = Campaign { id, dir: dir.clone(), config, binary, model, roots, requested, cancel, history: history.clone() };
    let exit = match campaign.run().await {
        Outcome::Passed => Exit::Success,
        Outcome::Failed => Exit::Failed,
        Outcome::Interrupted => Exit::Interrupted,
        Outcome::InfrastructureError => Exit::Error,
    };
    // campaign_end comes first so that the page shows the campaign's whole duration and a
    // later `amesh report` renders the same page. The reports are rendered however the
    // campaign ended, an interrupted one included.
    record_end(&history, &terminal, exit);
    match report::write_reports(&dir) {
        Ok(written) => tracing::info!("wrote {} and {}", written.index_html.display(), written.junit_xml.display()),
        Err(err) => tracing::error!("failed to write index.html and junit.xml: {err:#}"),
    }
    exit
}
