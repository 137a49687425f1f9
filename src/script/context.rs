//! The state one scenario run shares between its Lua modules.

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::cancel::Cancel;
use crate::client::McpSession;
use crate::mesh::Mesh;
use crate::report::{Convergence, ScenarioLog};

use super::loader::LuaRoots;

/// Default per-scenario time limit; a scenario may set its own with `scenario { timeout = N }`.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(300);

/// Reason a scenario ended before the end of its script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyEnd {
    Emit,
    Fail,
    Skip(String),
}

/// Checks, fields and waits the scenario has recorded so far.
#[derive(Debug, Default)]
pub struct ScenarioState {
    pub declared: bool,
    pub id: Option<String>,
    pub title: Option<String>,
    pub reasons: Vec<String>,
    pub failed: bool,
    pub fields: Map<String, Value>,
    pub ended: Option<EarlyEnd>,
    pub convergence: Vec<Convergence>,
    /// Set when a fault could not be applied; the scenario is then skipped with this reason.
    pub fault_unavailable: Option<String>,
}

/// An open MCP session; the heal phase closes whatever the script left open.
pub type SharedSession = Rc<tokio::sync::Mutex<Option<McpSession>>>;

pub struct ScriptContext {
    pub mesh: Arc<Mesh>,
    pub run_dir: PathBuf,
    pub roots: LuaRoots,
    pub scenario_dir: Option<PathBuf>,
    pub log: ScenarioLog,
    pub state: RefCell<ScenarioState>,
    pub started: Instant,
    pub deadline: Cell<Instant>,
    pub time_limit: Cell<Duration>,
    pub cancel: Cancel,
    pub mcp_sessions: RefCell<Vec<SharedSession>>,
    /// False in the REPL: `scenario { timeout = N }` is still accepted, but no statement ends
    /// at a time limit.
    pub enforce_time_limit: bool,
}

impl ScriptContext {
    /// Creates the context of one scenario run, or of a REPL session when `enforce_time_limit`
    /// is false. `stem` names the log until the script declares an id.
    pub fn new(env: &super::ScriptEnv, scenario_dir: Option<PathBuf>, stem: &str, enforce_time_limit: bool) -> Self {
        let started = Instant::now();
        Self {
            mesh: env.mesh.clone(),
            run_dir: env.run_dir.clone(),
            roots: env.roots.clone(),
            scenario_dir,
            log: ScenarioLog::new(stem),
            state: RefCell::new(ScenarioState::default()),
            started,
            deadline: Cell::new(started + DEFAULT_TIME_LIMIT),
            time_limit: Cell::new(DEFAULT_TIME_LIMIT),
            cancel: env.cancel.clone(),
            mcp_sessions: RefCell::new(Vec::new()),
            enforce_time_limit,
        }
    }

    /// Returns the id reports use: the declared one, else the file name.
    pub fn scenario_id(&self) -> String {
        self.state.borrow().id.clone().unwrap_or_else(|| self.log.stem().to_string())
    }

    /// Sets a new time limit counted from the scenario's start.
    pub fn set_time_limit(&self, limit: Duration) {
        self.time_limit.set(limit);
        self.deadline.set(self.started + limit);
    }

    /// Why the script must stop now, if it must: it ended (`emit`, `fail`, `skip`), ran out of
    /// time, or was interrupted. The sandbox's `pcall` re-raises errors while this is set.
    pub fn must_unwind(&self) -> Option<String> {
        if self.state.borrow().ended.is_some() {
            return Some("scenario ended".into());
        }
        self.interruption()
    }

    /// The error a runaway or interrupted script gets from the instruction hook, if any.
    pub fn interruption(&self) -> Option<String> {
        if self.cancel.is_cancelled() {
            return Some("interrupted".into());
        }
        if !self.enforce_time_limit {
            return None;
        }
        (Instant::now() >= self.deadline.get())
            .then(|| format!("scenario exceeded its time limit of {} s", self.time_limit.get().as_secs()))
    }
}
