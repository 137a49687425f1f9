//! `sleep`, `settle`, `eventually` and `parallel`.

use std::time::{Duration, Instant};

use mlua::{Function, Lua, Table, Value, Variadic};
use serde_json::json;

use super::context;
use crate::report::Convergence;

const DEFAULT_EVENTUALLY_TIMEOUT: f64 = 30.0;
const DEFAULT_EVENTUALLY_INTERVAL: f64 = 0.2;

use super::duration_arg as seconds;

fn is_truthy(value: &Value) -> bool {
    !matches!(value, Value::Nil | Value::Boolean(false))
}

/// Polls `check` until it is met or the timeout passes; records the wait as convergence.
async fn eventually(lua: Lua, check: Function, options: Option<Table>) -> mlua::Result<Table> {
    let ctx = context(&lua)?;
    let (mut timeout, mut interval, mut expected, mut what) =
        (DEFAULT_EVENTUALLY_TIMEOUT, DEFAULT_EVENTUALLY_INTERVAL, None, None);
    if let Some(options) = &options {
        timeout = options.get::<Option<f64>>("timeout")?.unwrap_or(timeout);
        interval = options.get::<Option<f64>>("interval")?.unwrap_or(interval);
        expected = options.get::<Option<Value>>("equals")?;
        what = options.get::<Option<String>>("what")?;
    }
    let timeout = seconds(timeout, "eventually timeout")?;
    let interval = seconds(interval, "eventually interval")?.max(Duration::from_millis(10));
    let what = what.unwrap_or_else(|| "condition".to_string());

    let started = Instant::now();
    let mut attempts = 0u64;
    let mut value = Value::Nil;
    let mut last_error: Option<String> = None;
    let met = loop {
        attempts += 1;
        match check.call_async::<Value>(()).await {
            Ok(v) => {
                value = v;
                let met = match &expected {
                    Some(expected) => value.equals(expected)?,
                    None => is_truthy(&value),
                };
                if met {
                    break true;
                }
            }
            Err(err) if ctx.must_unwind().is_some() => return Err(err),
            Err(err) => last_error = Some(err.to_string()),
        }
        if started.elapsed() + interval > timeout {
            break false;
        }
        tokio::time::sleep(interval).await;
    };

    let elapsed_ms = started.elapsed().as_millis() as u64;
    let timeout_ms = timeout.as_millis() as u64;
    if met {
        ctx.log.line(&format!("waited {} for {what}", human_ms(elapsed_ms)));
    } else {
        let cause = last_error.map(|e| format!(" (last error: {})", e.lines().next().unwrap_or_default())).unwrap_or_default();
        ctx.log.line(&format!("gave up on {what} after {}{cause}", human_ms(elapsed_ms)));
    }
    ctx.mesh.history.record("wait", None, json!({ "what": what, "ms": elapsed_ms, "timeout_ms": timeout_ms, "met": met, "attempts": attempts }));
    ctx.state.borrow_mut().convergence.push(Convergence { what, ms: elapsed_ms, timeout_ms, met });

    let result = lua.create_table()?;
    result.set("ok", met)?;
    result.set("value", value)?;
    result.set("elapsed_ms", elapsed_ms)?;
    result.set("attempts", attempts)?;
    Ok(result)
}

/// Runs every function as its own coroutine so that their requests overlap.
async fn parallel(lua: Lua, functions: Variadic<Value>) -> mlua::Result<Table> {
    let mut list: Vec<Function> = Vec::new();
    for (i, value) in functions.into_iter().enumerate() {
        match value {
            Value::Function(f) => list.push(f),
            Value::Table(t) if i == 0 => list.extend(t.sequence_values::<Function>().collect::<mlua::Result<Vec<_>>>()?),
            other => return Err(mlua::Error::runtime(format!("parallel takes functions, got a {}", other.type_name()))),
        }
    }

    let futures = list.iter().map(|f| f.call_async::<Value>(()));
    let outcomes = futures_util::future::join_all(futures).await;
    if context(&lua)?.must_unwind().is_some() {
        if let Some(Err(err)) = outcomes.iter().find(|o| o.is_err()) {
            return Err(err.clone());
        }
    }

    let results = lua.create_table()?;
    for outcome in outcomes {
        let entry = lua.create_table()?;
        match outcome {
            Ok(value) => {
                entry.set("ok", true)?;
                entry.set("value", value)?;
            }
            Err(err) => {
                let text = err.to_string();
                context(&lua)?.log.line(&format!("parallel task failed: {}", text.lines().next().unwrap_or_default()));
                entry.set("ok", false)?;
                entry.set("error", text)?;
            }
        }
        results.push(entry)?;
    }
    Ok(results)
}

pub fn register(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.set(
        "sleep",
        lua.create_async_function(|_, secs: f64| async move {
            tokio::time::sleep(seconds(secs, "sleep")?).await;
            Ok(())
        })?,
    )?;
    globals.set(
        "settle",
        lua.create_async_function(|lua, (secs, reason): (f64, String)| async move {
            let duration = seconds(secs, "settle")?;
            let ctx = context(&lua)?;
            ctx.log.line(&format!("settle {secs}s for {reason}"));
            ctx.mesh.history.record("wait", None, json!({ "what": reason, "ms": duration.as_millis() as u64, "settle": true }));
            tokio::time::sleep(duration).await;
            Ok(())
        })?,
    )?;
    globals.set(
        "eventually",
        lua.create_async_function(|lua, (check, options): (Function, Option<Table>)| eventually(lua, check, options))?,
    )?;
    globals.set("parallel", lua.create_async_function(parallel)?)?;
    Ok(())
}

/// `850 ms` below a second, `10.5 s` above.
fn human_ms(ms: u64) -> String {
    if ms < 1000 { format!("{ms} ms") } else { format!("{:.1} s", ms as f64 / 1000.0) }
}
