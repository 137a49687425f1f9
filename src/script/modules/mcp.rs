//! `mcp.session(node, agent)`: an agent's MCP stdio tool path on a node.

use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use serde_json::json;

use super::{context, json as lua_json};
use crate::client::McpSession;
use crate::client::mcp::tool_payload;
use crate::script::context::SharedSession;

struct SessionHandle {
    session: SharedSession,
    node: String,
    agent: String,
}

fn closed_error(node: &str, agent: &str) -> mlua::Error {
    mlua::Error::runtime(format!("the MCP session of {agent} on {node} is closed"))
}

impl UserData for SessionHandle {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_async_method("tools", |lua, this, ()| async move {
            let mut guard = this.session.lock().await;
            let session = guard.as_mut().ok_or_else(|| closed_error(&this.node, &this.agent))?;
            let tools = session.tools().await.map_err(|e| mlua::Error::runtime(format!("{e:#}")))?;
            lua_json::to_lua(&lua, &serde_json::Value::Array(tools))
        });

        methods.add_async_method("call", |lua, this, (tool, arguments): (String, Value)| async move {
            let arguments = lua_json::from_lua(&lua, arguments)?;
            let ctx = context(&lua)?;
            ctx.mesh.history.record("request", Some(&this.node), json!({ "mcp": tool, "agent": this.agent }));

            let mut guard = this.session.lock().await;
            let session = guard.as_mut().ok_or_else(|| closed_error(&this.node, &this.agent))?;
            let outcome = session.call_tool(&tool, arguments).await;
            drop(guard);

            match outcome {
                Ok(raw) => {
                    let is_error = raw.get("isError").and_then(serde_json::Value::as_bool).unwrap_or(false);
                    ctx.mesh.history.record("response", Some(&this.node), json!({ "mcp": tool, "is_error": is_error }));
                    let payload = if is_error { Value::Nil } else { lua_json::to_lua(&lua, &tool_payload(&raw))? };
                    Ok(MultiValue::from_vec(vec![payload, lua_json::to_lua(&lua, &raw)?]))
                }
                Err(err) => {
                    let text = format!("{err:#}");
                    ctx.mesh.history.record("response", Some(&this.node), json!({ "mcp": tool, "error": text }));
                    Ok(MultiValue::from_vec(vec![Value::Nil, lua_json::to_lua(&lua, &json!({ "error": text }))?]))
                }
            }
        });

        methods.add_async_method("close", |_, this, ()| async move {
            if let Some(session) = this.session.lock().await.take() {
                session.close().await;
            }
            Ok(())
        });
    }
}

async fn open(lua: Lua, handle: Table, agent: String) -> mlua::Result<SessionHandle> {
    let index: usize = handle
        .get::<Option<usize>>("index")?
        .ok_or_else(|| mlua::Error::runtime("mcp.session takes a node handle and an agent id"))?;
    let ctx = context(&lua)?;
    let node = ctx.mesh.nodes().get(index.wrapping_sub(1)).cloned()
        .ok_or_else(|| mlua::Error::runtime(format!("no node with index {index}")))?;

    let log = ctx.run_dir.join("nodes").join(format!("{}-mcp.log", node.name));
    let transport = ctx.mesh.open_mcp(&node, &agent, log).await.map_err(|e| mlua::Error::runtime(format!("{e:#}")))?;
    let session = McpSession::start(transport)
        .await
        .map_err(|e| mlua::Error::runtime(format!("MCP session for {agent} on {}: {e:#}", node.name)))?;
    ctx.log.line(&format!("mcp session opened for {agent} on {}", node.name));

    let shared: SharedSession = Rc::new(tokio::sync::Mutex::new(Some(session)));
    ctx.mcp_sessions.borrow_mut().push(shared.clone());
    Ok(SessionHandle { session: shared, node: node.name, agent })
}

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let mcp = lua.create_table()?;
    mcp.set("session", lua.create_async_function(|lua, (handle, agent): (Table, String)| open(lua, handle, agent))?)?;
    Ok(mcp)
}

/// Closes every session the script left open.
pub async fn close_all(sessions: Vec<SharedSession>) {
    for shared in sessions {
        if let Some(session) = shared.lock().await.take() {
            session.close().await;
        }
    }
}
