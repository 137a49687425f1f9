//! Artifact types and files: scenario envelopes, logs and the run folder, and terminal output.
//! This part never runs requests.

mod envelope;
pub mod events;
mod format;
mod log;
mod run_dir;
pub mod terminal;

pub use envelope::{Convergence, ScenarioResult, Verdict, envelope, scenario_end_fields};
pub use events::EventSink;
pub use log::ScenarioLog;
pub use run_dir::{create_run_dir, write_scenario_files};
pub use terminal::{OutputFormat, Terminal};
