//! The scenario object: `scenario { ... }` and its checks, fields and early endings.

use std::rc::Rc;

use mlua::{Function, Lua, LuaSerdeExt, MultiValue, Table, UserData, UserDataMethods, Value};

use super::context::{EarlyEnd, ScriptContext};

/// Marker error that unwinds the script after `emit`, `fail` or `skip`.
#[derive(Debug, thiserror::Error)]
#[error("scenario ended")]
pub struct ScenarioEnded;

const DEFERS_KEY: &str = "amesh.defers";

fn context(lua: &Lua) -> mlua::Result<Rc<ScriptContext>> {
    lua.app_data_ref::<Rc<ScriptContext>>()
        .map(|c| c.clone())
        .ok_or_else(|| mlua::Error::runtime("amesh context is missing"))
}

/// The handle scripts hold; all its state lives in the [`ScriptContext`].
pub struct ScenarioHandle;

impl UserData for ScenarioHandle {
    fn add_fields<F: mlua::UserDataFields<Self>>(fields: &mut F) {
        fields.add_field_function_get("id", |lua, _| Ok(context(lua)?.scenario_id()));
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("check", |lua, _, (cond, reason): (Value, Option<String>)| {
            let passed = !matches!(cond, Value::Nil | Value::Boolean(false));
            let ctx = context(lua)?;
            let reason = reason.unwrap_or_else(|| "check failed".to_string());
            ctx.mesh.history.record("check", None, serde_json::json!({ "passed": passed, "reason": reason }));
            if !passed {
                ctx.log.line(&format!("check failed: {reason}"));
                let mut state = ctx.state.borrow_mut();
                state.failed = true;
                state.reasons.push(reason);
            }
            Ok(passed)
        });

        methods.add_method("field", |lua, _, args: MultiValue| set_field(lua, args));

        methods.add_method("fail", |lua, _, reason: String| -> mlua::Result<()> {
            let ctx = context(lua)?;
            ctx.log.line(&format!("fail: {reason}"));
            let mut state = ctx.state.borrow_mut();
            state.failed = true;
            state.reasons.push(reason);
            state.ended = Some(EarlyEnd::Fail);
            Err(mlua::Error::external(ScenarioEnded))
        });

        methods.add_method("skip", |lua, _, reason: String| -> mlua::Result<()> {
            let ctx = context(lua)?;
            ctx.log.line(&format!("skip: {reason}"));
            ctx.state.borrow_mut().ended = Some(EarlyEnd::Skip(reason));
            Err(mlua::Error::external(ScenarioEnded))
        });

        methods.add_method("emit", |lua, _, ()| -> mlua::Result<()> {
            context(lua)?.state.borrow_mut().ended = Some(EarlyEnd::Emit);
            Err(mlua::Error::external(ScenarioEnded))
        });

        methods.add_method("defer", |lua, _, function: Function| {
            let defers: Table = lua.named_registry_value(DEFERS_KEY)?;
            defers.push(function)
        });
    }
}

/// `s:field(k, v)` or `s:field(k1, k2, ..., v)` for nested objects.
fn set_field(lua: &Lua, args: MultiValue) -> mlua::Result<()> {
    let mut args: Vec<Value> = args.into_iter().collect();
    if args.len() < 2 {
        return Err(mlua::Error::runtime("s:field needs a key and a value: s:field(\"name\", value)"));
    }
    let value: serde_json::Value = lua.from_value(args.pop().expect("checked length"))?;
    let keys = args
        .into_iter()
        .map(|k| match k {
            Value::String(s) => Ok(s.to_str()?.to_string()),
            Value::Integer(i) => Ok(i.to_string()),
            other => Err(mlua::Error::runtime(format!("s:field keys must be strings, got a {}", other.type_name()))),
        })
        .collect::<mlua::Result<Vec<String>>>()?;

    let ctx = context(lua)?;
    let mut state = ctx.state.borrow_mut();
    let (last, path) = keys.split_last().expect("at least one key");
    let mut object = &mut state.fields;
    for key in path {
        let entry = object.entry(key.clone()).or_insert_with(|| serde_json::Value::Object(Default::default()));
        if !entry.is_object() {
            *entry = serde_json::Value::Object(Default::default());
        }
        object = entry.as_object_mut().expect("just made an object");
    }
    object.insert(last.clone(), value);
    Ok(())
}

/// Scenario ids name report files (`scenario-<id>.json`), so they are short file-name-safe words.
fn validate_id(id: &str) -> mlua::Result<()> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(mlua::Error::runtime(format!(
            "invalid scenario id {id:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
        )))
    }
}

/// Registers `scenario { ... }`.
pub fn register(lua: &Lua) -> mlua::Result<()> {
    lua.set_named_registry_value(DEFERS_KEY, lua.create_table()?)?;
    let declare = lua.create_function(|lua, options: Table| {
        let ctx = context(lua)?;
        let mut state = ctx.state.borrow_mut();
        if state.declared {
            return Err(mlua::Error::runtime("scenario { ... } is called twice; declare the scenario once"));
        }
        state.declared = true;

        let id: Option<String> = options.get("id")?;
        let id = id.ok_or_else(|| mlua::Error::runtime("scenario { ... } needs an id, e.g. scenario { id = \"40\" }"))?;
        validate_id(&id)?;
        ctx.log.set_id(&id);
        ctx.mesh.history.set_scenario(Some(&id));
        state.id = Some(id);
        state.title = options.get("title")?;
        drop(state);

        if let Some(seconds) = options.get::<Option<f64>>("timeout")? {
            let limit = super::modules::duration_arg(seconds, "scenario timeout")?;
            if limit.is_zero() {
                return Err(mlua::Error::runtime("scenario timeout must be more than 0 seconds"));
            }
            ctx.set_time_limit(limit);
        }

        let needs: Option<Vec<String>> = options.get("needs").map_err(|_| {
            mlua::Error::runtime("scenario { needs = ... } takes a list of node names, e.g. needs = { \"node-4\" }")
        })?;
        let missing: Vec<String> = needs
            .unwrap_or_default()
            .into_iter()
            .filter(|name| !ctx.mesh.nodes().iter().any(|n| &n.name == name))
            .collect();
        if !missing.is_empty() {
            let reason = format!("needs {}, which this topology does not have", missing.join(", "));
            ctx.state.borrow_mut().ended = Some(EarlyEnd::Skip(reason));
            return Err(mlua::Error::external(ScenarioEnded));
        }
        Ok(ScenarioHandle)
    })?;
    lua.globals().set("scenario", declare)
}

/// Runs the deferred functions, last registered first; errors are logged and returned.
pub async fn run_defers(lua: &Lua) -> Vec<String> {
    let mut errors = Vec::new();
    let Ok(defers) = lua.named_registry_value::<Table>(DEFERS_KEY) else { return errors };
    let functions: Vec<Function> = defers.sequence_values::<Function>().filter_map(Result::ok).collect();
    for function in functions.into_iter().rev() {
        if let Err(err) = function.call_async::<()>(()).await {
            errors.push(err.to_string());
        }
    }
    errors
}

/// Forgets the deferred functions, so that the REPL can start a new draft scenario after one
/// has ended.
pub fn clear_defers(lua: &Lua) -> mlua::Result<()> {
    lua.set_named_registry_value(DEFERS_KEY, lua.create_table()?)
}
