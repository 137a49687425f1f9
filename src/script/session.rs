//! An interactive Lua session on a running mesh, for the REPL. It builds the runtime scenarios
//! get, with every module, but without a time limit. Each chunk runs on its own and can be
//! cancelled, and globals persist between chunks. A drafted `scenario { ... }` ends with
//! `s:emit()`, `s:fail()` or `s:skip()`, which returns its result, or when the next
//! `scenario { ... }` replaces it.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use mlua::{Function, Lua, Table, Value};

use super::context::{ScenarioState, ScriptContext};
use super::{ScriptEnv, first_line, into_result, lua_error_text, modules, runtime, scenario};
use crate::report::ScenarioResult;

/// Chunk name in error messages, as in `repl:1: unexpected symbol near '='`.
const CHUNK_NAME: &str = "=repl";

/// Scenario id of the session's log lines and history events until a draft declares its own.
const SESSION_ID: &str = "repl";

/// Wraps a compiled chunk so that every value it returns comes back packed in one table.
const PACK: &str = r#"
local pack = table.pack
return function(chunk)
  return function() return pack(chunk()) end
end
"#;

/// A line or lines of input, compiled.
pub enum Compiled {
    Chunk(Function),
    /// The source ends inside a statement, so the REPL reads another line. Lua's message
    /// names what it still expects.
    Incomplete(String),
    /// A syntax error, with Lua's message.
    Invalid(String),
}

/// The result of running one chunk.
pub enum Outcome {
    /// The values the chunk returned; empty for a statement.
    Values(Vec<Value>),
    /// A Lua error: its first meaningful line, and the Lua traceback when there is one.
    Raised { message: String, traceback: Option<String> },
    /// `s:emit()`, `s:fail()`, `s:skip()` or a missing `needs` node ended the drafted scenario.
    ScenarioEnded(ScenarioResult),
    /// The session's cancel signal (Ctrl-C) stopped the chunk.
    Interrupted,
}

pub struct Session {
    lua: Lua,
    runner: Function,
    pack: Function,
    ctx: Rc<ScriptContext>,
    /// `node(1)` as the session started, for completing node fields and methods.
    sample_node: Option<Table>,
    draft_started: Rc<Cell<Instant>>,
}

impl Session {
    /// Builds the Lua state on `env`. `env.cancel` cancels the running chunk; the session
    /// clears it before each chunk.
    pub fn new(env: &ScriptEnv) -> mlua::Result<Self> {
        let ctx = Rc::new(ScriptContext::new(env, std::env::current_dir().ok(), SESSION_ID, false));
        let started = ctx.started;
        let (lua, runner) = runtime::build(ctx.clone())?;
        let pack: Function = lua.load(PACK).set_name("=amesh-repl-pack").call(())?;
        let sample_node = lua.globals().get::<Function>("node")?.call::<Table>(1).ok();
        let draft_started = Rc::new(Cell::new(started));
        allow_redeclaring(&lua, draft_started.clone())?;
        Ok(Self { lua, runner, pack, ctx, sample_node, draft_started })
    }

    pub fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Returns the handle of node 1 as the session started, or `None` for an empty topology.
    pub fn sample_node(&self) -> Option<&Table> {
        self.sample_node.as_ref()
    }

    /// Compiles `source` as an expression whose values are returned (`return <source>`), else
    /// as a statement.
    pub fn compile(&self, source: &str) -> Compiled {
        let expression = self.lua.load(format!("return {source}")).set_name(CHUNK_NAME).into_function();
        if let Ok(function) = expression {
            return Compiled::Chunk(function);
        }
        match self.lua.load(source).set_name(CHUNK_NAME).into_function() {
            Ok(function) => Compiled::Chunk(function),
            Err(mlua::Error::SyntaxError { message, incomplete_input: true }) => Compiled::Incomplete(message),
            Err(mlua::Error::SyntaxError { message, .. }) => Compiled::Invalid(message),
            Err(other) => Compiled::Invalid(other.to_string()),
        }
    }

    /// Runs a compiled chunk until it returns, raises, or the cancel signal arrives.
    pub async fn call(&self, chunk: Function) -> Outcome {
        self.ctx.cancel.reset();
        self.ctx.mesh.history.set_scenario(Some(SESSION_ID));
        let main: Function = match self.pack.call(chunk) {
            Ok(main) => main,
            Err(err) => return Outcome::Raised { message: first_line(&err.to_string()), traceback: None },
        };
        let call = self.runner.call_async::<(bool, Value, Option<String>)>(main);
        let outcome = tokio::select! {
            biased;
            () = self.ctx.cancel.cancelled() => return Outcome::Interrupted,
            outcome = call => outcome,
        };
        match outcome {
            Ok((true, Value::Table(packed), _)) => Outcome::Values(unpack(&packed)),
            Ok((true, _, _)) => Outcome::Values(Vec::new()),
            Ok((false, error, traceback)) => self.failure(error, traceback).await,
            Err(err) => Outcome::Raised { message: first_line(&err.to_string()), traceback: None },
        }
    }

    async fn failure(&self, error: Value, traceback: Option<String>) -> Outcome {
        // The instruction hook raises "interrupted" inside Lua when the cancel signal arrives
        // during a loop that never awaits.
        if self.ctx.cancel.is_cancelled() {
            return Outcome::Interrupted;
        }
        if self.ctx.state.borrow().ended.is_some() {
            return Outcome::ScenarioEnded(self.finish_draft().await);
        }
        let message = lua_error_text(&self.lua, error);
        Outcome::Raised { message: first_line(&message), traceback: traceback.and_then(|t| lua_frames(&t)) }
    }

    /// Runs the draft's deferred functions and returns its result; the next
    /// `scenario { ... }` starts a new draft.
    async fn finish_draft(&self) -> ScenarioResult {
        for error in scenario::run_defers(&self.lua).await {
            self.ctx.log.line(&format!("deferred function failed: {error}"));
            let mut state = self.ctx.state.borrow_mut();
            state.failed = true;
            state.reasons.push(format!("deferred function failed: {}", first_line(&error)));
        }
        let result = into_result(&self.ctx, self.draft_started.get());
        reset_draft(&self.lua, &self.ctx);
        result
    }

    /// Closes the MCP sessions scripts opened; `:reset` calls it before the data is wiped.
    pub async fn close_mcp_sessions(&self) {
        let sessions: Vec<_> = self.ctx.mcp_sessions.borrow_mut().drain(..).collect();
        modules::close_mcp_sessions(sessions).await;
    }

    /// Ends the session: runs the deferred functions of an unfinished draft and closes MCP
    /// sessions. Returns the errors of deferred functions.
    pub async fn close(&self) -> Vec<String> {
        let errors = scenario::run_defers(&self.lua).await;
        reset_draft(&self.lua, &self.ctx);
        self.close_mcp_sessions().await;
        self.ctx.mesh.history.set_scenario(None);
        errors
    }
}

fn unpack(packed: &Table) -> Vec<Value> {
    let count: usize = packed.raw_get("n").unwrap_or(0);
    (1..=count).map(|i| packed.raw_get(i).unwrap_or(Value::Nil)).collect()
}

/// Keeps the frames of a Lua traceback that belong to the user's code. Returns `None` when
/// the error was raised in the statement itself, where the message already names the line.
fn lua_frames(traceback: &str) -> Option<String> {
    let (_, frames) = traceback.rsplit_once("stack traceback:")?;
    let internal = ["amesh-runner", "amesh-repl-pack", "[C]: in ?", "in function 'xpcall'", "(...tail calls...)"];
    let user_frames: Vec<String> = frames
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !internal.iter().any(|marker| line.contains(marker)))
        // The statement runs as the upvalue `chunk` of the wrapper that packs its values.
        .map(|line| line.replace("in upvalue 'chunk'", "in main chunk"))
        .collect();
    let informative = user_frames.iter().any(|line| !line.ends_with("in main chunk") && line != "[C]: in function 'error'");
    informative.then(|| format!("stack traceback:\n  {}", user_frames.join("\n  ")))
}

/// Forgets the current draft: its checks, fields, waits and deferred functions.
fn reset_draft(lua: &Lua, ctx: &ScriptContext) {
    *ctx.state.borrow_mut() = ScenarioState::default();
    if let Err(err) = scenario::clear_defers(lua) {
        tracing::warn!("failed to clear the deferred functions of the draft scenario: {err}");
    }
}

/// Replaces `scenario` so that a second declaration starts a new draft; a scenario run
/// rejects it.
fn allow_redeclaring(lua: &Lua, draft_started: Rc<Cell<Instant>>) -> mlua::Result<()> {
    let declare: Function = lua.globals().get("scenario")?;
    let redeclare = lua.create_async_function(move |lua, options: Value| {
        let declare = declare.clone();
        let draft_started = draft_started.clone();
        async move {
            let ctx = modules::context(&lua)?;
            if ctx.state.borrow().declared {
                ctx.log.line(&format!("a new scenario {{ ... }} replaces the draft {}", ctx.scenario_id()));
                for error in scenario::run_defers(&lua).await {
                    ctx.log.line(&format!("deferred function failed: {error}"));
                }
            }
            // Waits recorded before the declaration belong to no draft.
            reset_draft(&lua, &ctx);
            draft_started.set(Instant::now());
            declare.call::<Value>(options)
        }
    })?;
    lua.globals().set("scenario", redeclare)
}

#[cfg(test)]
mod tests {
    use super::lua_frames;

    #[test]
    fn traceback_keeps_user_frames() {
        let traceback = "repl:2: boom\nstack traceback:\n\t[C]: in function 'error'\n\trepl:2: in function 'f'\n\trepl:1: in upvalue 'chunk'\n\t[C]: in function 'xpcall'\n\tamesh-runner:5: in function <amesh-runner:3>";
        let frames = lua_frames(traceback).expect("user frames");
        assert!(frames.contains("repl:2: in function 'f'"), "{frames}");
        assert!(frames.contains("repl:1: in main chunk"), "{frames}");
        assert!(!frames.contains("amesh-runner"), "{frames}");
        assert!(!frames.contains("xpcall"), "{frames}");
    }

    #[test]
    fn traceback_of_the_statement_itself_is_dropped() {
        let traceback = "repl:1: boom\nstack traceback:\n\t[C]: in function 'error'\n\trepl:1: in upvalue 'chunk'\n\t[C]: in function 'xpcall'";
        assert_eq!(lua_frames(traceback), None);
    }
}
