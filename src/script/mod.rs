//! The Lua runtime: every module scripts see, the scenario object and its checks, and the run
//! of one scenario from compile to heal. It never provisions nodes itself.

pub mod context;
pub mod loader;
mod modules;
mod runtime;
mod sandbox;
mod scenario;
pub mod session;

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlua::{Lua, Value};

use crate::cancel::Cancel;
use crate::client::History;
use crate::mesh::{Config, Mesh};
use crate::report::{self, ScenarioResult, Verdict};

use context::{EarlyEnd, ScriptContext};
pub use loader::{LuaRoots, ScenarioFile};

/// Time deferred functions get after the script ends, whatever the time limit.
const DEFER_TIME: Duration = Duration::from_secs(60);

/// What every scenario run needs.
pub struct ScriptEnv {
    pub mesh: Arc<Mesh>,
    pub run_dir: PathBuf,
    pub roots: LuaRoots,
    pub cancel: Cancel,
}

/// The outcome of one scenario, plus what the caller must act on.
pub struct ScenarioRun {
    pub result: ScenarioResult,
    /// Ctrl-C or SIGTERM arrived while it ran.
    pub interrupted: bool,
    /// The mesh could not be healed or recovered; no further scenario may run.
    pub fatal: Option<String>,
}

/// Compiles a scenario without running it; the error names the file and line.
pub fn compile_check(file: &ScenarioFile) -> Result<(), String> {
    let lua = Lua::new();
    lua.load(&file.source)
        .set_name(format!("@{}", file.display))
        .into_function()
        .map(|_| ())
        .map_err(|err| match err {
            mlua::Error::SyntaxError { message, .. } => message,
            other => other.to_string(),
        })
}

enum Ending {
    Finished { ok: bool, message: Option<String>, trace: Option<String> },
    /// The time limit that was exceeded.
    TimedOut(Duration),
    Interrupted,
}

/// Runs one scenario on the mesh: script, deferred functions, MCP clean-up and the heal phase.
pub async fn run_scenario(env: &ScriptEnv, file: &ScenarioFile) -> ScenarioRun {
    let ctx = Rc::new(ScriptContext::new(env, file.dir().map(|d| d.to_path_buf()), &file.stem, true));
    let started = ctx.started;
    env.mesh.history.set_scenario(Some(&file.stem));
    env.mesh.history.record("scenario_start", None, serde_json::json!({ "file": file.display }));
    tracing::info!(scenario = %file.display, "scenario started");

    let ending = match runtime::build(ctx.clone()) {
        Ok((lua, runner)) => {
            let ending = execute(&lua, runner, file, &ctx, &env.cancel).await;
            finish_script(&lua, &ctx).await;
            ending
        }
        Err(err) => Ending::Finished { ok: false, message: Some(format!("failed to build the Lua runtime: {err}")), trace: None },
    };

    let interrupted = matches!(ending, Ending::Interrupted);
    classify(&ctx, ending);
    let fatal = heal(&ctx).await;

    let result = into_result(&ctx, started);
    record_end(&env.mesh.history, &env.mesh.config, &result);
    env.mesh.history.set_scenario(None);
    tracing::info!(scenario = %result.id, verdict = ?result.verdict, duration_ms = result.duration_ms, "scenario ended");
    ScenarioRun { result, interrupted, fatal }
}

/// Records the start and end of a scenario that never ran (not found, does not compile, or
/// not run after a fatal error), so that the history and the terminal list it too.
pub fn record_not_run(history: &History, config: &Config, result: &ScenarioResult) {
    history.set_scenario(Some(&result.id));
    history.record("scenario_start", None, serde_json::json!({ "file": null }));
    record_end(history, config, result);
    history.set_scenario(None);
}

fn record_end(history: &History, config: &Config, result: &ScenarioResult) {
    let envelope = report::envelope(result, &config.agent_group, &config.tls.to_string());
    history.record("scenario_end", None, report::scenario_end_fields(result, envelope));
}

async fn execute(lua: &Lua, runner: mlua::Function, file: &ScenarioFile, ctx: &Rc<ScriptContext>, cancel: &Cancel) -> Ending {
    let main = match lua.load(&file.source).set_name(format!("@{}", file.display)).into_function() {
        Ok(main) => main,
        Err(err) => return Ending::Finished { ok: false, message: Some(err.to_string()), trace: None },
    };
    let call = runner.call_async::<(bool, Value, Option<String>)>(main);
    let ending = tokio::select! {
        biased;
        () = cancel.cancelled() => Ending::Interrupted,
        () = deadline_passed(ctx) => Ending::TimedOut(ctx.time_limit.get()),
        outcome = call => match outcome {
            Ok((ok, error, trace)) => Ending::Finished {
                ok,
                message: (!ok).then(|| lua_error_text(lua, error)),
                trace,
            },
            Err(err) => Ending::Finished { ok: false, message: Some(err.to_string()), trace: None },
        },
    };

    // The instruction hook raises inside Lua when Ctrl-C arrives or the time limit passes,
    // so a script can fail for either reason before this task sees the other branch.
    match ending {
        Ending::Finished { ok: false, .. } if cancel.is_cancelled() => Ending::Interrupted,
        Ending::Finished { ok: false, .. } if Instant::now() >= ctx.deadline.get() => Ending::TimedOut(ctx.time_limit.get()),
        other => other,
    }
}

async fn deadline_passed(ctx: &ScriptContext) {
    loop {
        let now = Instant::now();
        let deadline = ctx.deadline.get();
        if now >= deadline {
            return;
        }
        tokio::time::sleep((deadline - now).min(Duration::from_millis(200))).await;
    }
}

fn lua_error_text(lua: &Lua, error: Value) -> String {
    match lua.globals().get::<mlua::Function>("tostring").and_then(|f| f.call::<String>(error)) {
        Ok(text) => text,
        Err(err) => format!("(unprintable error: {err})"),
    }
}

/// Runs deferred functions and closes MCP sessions, with a fresh time budget.
async fn finish_script(lua: &Lua, ctx: &Rc<ScriptContext>) {
    ctx.deadline.set(Instant::now() + DEFER_TIME);
    ctx.time_limit.set(DEFER_TIME);
    for error in scenario::run_defers(lua).await {
        ctx.log.line(&format!("deferred function failed: {error}"));
        let mut state = ctx.state.borrow_mut();
        state.failed = true;
        state.reasons.push(format!("deferred function failed: {}", first_line(&error)));
    }
    let sessions: Vec<_> = ctx.mcp_sessions.borrow_mut().drain(..).collect();
    modules::close_mcp_sessions(sessions).await;
}

/// The line that best names a Lua error: mlua wraps callback errors in a "callback error"
/// header and a Rust traceback, so the cause line is preferred.
fn first_line(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let cause = lines.iter().find_map(|l| l.strip_prefix("caused by: "));
    let line = cause.or_else(|| lines.iter().copied().find(|l| *l != "callback error" && !l.starts_with("stack traceback")));
    line.map(|l| l.trim_start_matches("runtime error: ").to_string()).unwrap_or_else(|| text.trim().to_string())
}

fn classify(ctx: &ScriptContext, ending: Ending) {
    let mut state = ctx.state.borrow_mut();
    match ending {
        Ending::Finished { ok: true, .. } if !state.declared => {
            state.failed = true;
            state.reasons.push("the script never called scenario { ... }, so it reported nothing".into());
        }
        Ending::Finished { ok: true, .. } => {
            // The script caught the error of a fault this backend cannot apply and went on, so
            // the fault never happened: a pass would claim what was not tested.
            if let (None, Some(reason)) = (&state.ended, state.fault_unavailable.clone()) {
                state.ended = Some(EarlyEnd::Skip(reason));
            }
        }
        Ending::Finished { ok: false, message, trace } => {
            if state.ended.is_some() {
                return;
            }
            if let Some(reason) = state.fault_unavailable.clone() {
                state.ended = Some(EarlyEnd::Skip(reason));
                return;
            }
            let message = message.unwrap_or_else(|| "unknown error".into());
            drop(state);
            ctx.log.line("runtime error:");
            ctx.log.line(trace.as_deref().unwrap_or(&message));
            let mut state = ctx.state.borrow_mut();
            state.failed = true;
            state.reasons.push(format!("runtime error: {}", first_line(&message)));
        }
        Ending::TimedOut(limit) => {
            let reason = format!("scenario exceeded its time limit of {} s", limit.as_secs());
            drop(state);
            ctx.log.line(&reason);
            let mut state = ctx.state.borrow_mut();
            state.failed = true;
            state.reasons.push(reason);
        }
        Ending::Interrupted => {
            drop(state);
            ctx.log.line("interrupted");
            let mut state = ctx.state.borrow_mut();
            state.failed = true;
            state.reasons.push("interrupted".into());
        }
    }
}

/// The heal phase. Returns the fatal error when the mesh could not be brought back.
async fn heal(ctx: &ScriptContext) -> Option<String> {
    match ctx.mesh.heal().await {
        Ok(actions) => {
            for action in actions {
                ctx.log.line(&format!("heal: {} {}", action.action, action.node));
            }
            None
        }
        Err(err) => {
            let reason = format!("heal failed: {err:#}");
            ctx.log.line(&reason);
            {
                let mut state = ctx.state.borrow_mut();
                state.failed = true;
                state.reasons.push(first_line(&reason));
            }
            match ctx.mesh.recover().await {
                Ok(()) => None,
                Err(err) => Some(format!("the mesh could not be recovered after {reason}: {err:#}")),
            }
        }
    }
}

fn into_result(ctx: &ScriptContext, started: Instant) -> ScenarioResult {
    let state = ctx.state.borrow();
    let (verdict, skip_reason) = match &state.ended {
        Some(EarlyEnd::Skip(reason)) if !state.failed => (Verdict::Skip, Some(reason.clone())),
        _ if state.failed => (Verdict::Fail, None),
        _ => (Verdict::Pass, None),
    };
    ScenarioResult {
        id: ctx.scenario_id(),
        title: state.title.clone(),
        verdict,
        reasons: state.reasons.clone(),
        skip_reason,
        fields: state.fields.clone(),
        duration_ms: started.elapsed().as_millis() as u64,
        convergence: state.convergence.clone(),
        log: ctx.log.text(),
    }
}
