//! Artifact types and files: scenario envelopes, logs and the run folder, the HTML page and
//! `junit.xml` built from a finished folder, and terminal output. This part never runs
//! requests.

pub mod artifacts;
pub mod diff;
mod envelope;
pub mod events;
mod format;
mod html;
mod junit;
mod log;
mod run_dir;
pub mod terminal;
mod timeline;
mod trace;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use artifacts::{CampaignArtifacts, ReadVerdict};
pub use envelope::{Convergence, ScenarioResult, Verdict, envelope, scenario_end_fields};
pub use events::EventSink;
pub use log::ScenarioLog;
pub use run_dir::{create_run_dir, write_scenario_files};
pub use terminal::{OutputFormat, Terminal};

/// The files [`write_reports`] wrote.
pub struct Written {
    pub index_html: PathBuf,
    pub junit_xml: PathBuf,
    pub scenarios: usize,
}

/// Reads the campaign or run folder and writes its `junit.xml` and `index.html`.
pub fn write_reports(dir: &Path) -> Result<Written> {
    let mut artifacts = CampaignArtifacts::load(dir)?;

    let junit = junit::render(&artifacts)?;
    let junit_xml = dir.join("junit.xml");
    std::fs::write(&junit_xml, &junit).with_context(|| format!("failed to write {}", junit_xml.display()))?;
    // The page lists junit.xml even when this is its first rendering.
    artifacts.files.retain(|f| f.path != "junit.xml");
    artifacts.files.push(artifacts::ArtifactFile { path: "junit.xml".into(), bytes: junit.len() as u64 });
    artifacts.files.sort_by(|a, b| a.path.cmp(&b.path));

    let html = html::render(&artifacts)?;
    let index_html = dir.join("index.html");
    std::fs::write(&index_html, html).with_context(|| format!("failed to write {}", index_html.display()))?;
    Ok(Written { index_html, junit_xml, scenarios: artifacts.scenarios.len() })
}
