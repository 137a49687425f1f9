//! Artifact types and files: scenario envelopes, logs and the run folder. Rendering (HTML,
//! JUnit) also lives here; this part never runs requests.

mod envelope;
mod log;
mod run_dir;

pub use envelope::{Convergence, ScenarioResult, Verdict, envelope};
pub use log::ScenarioLog;
pub use run_dir::{create_run_dir, write_scenario_files};
