//! An MCP stdio session: JSON-RPC 2.0, one message per line, with one `ai-memory mcp` child.

use std::process::Child;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

/// The protocol version ai-memory 0.6.x answers to.
const PROTOCOL_VERSION: &str = "2024-11-05";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A running MCP server and the pipes to talk to it.
pub struct McpSession {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    /// `serverInfo` from the `initialize` answer.
    pub server_info: Value,
}

/// A JSON-RPC error answer.
#[derive(Debug, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Value,
}

impl McpSession {
    /// Takes a child spawned with piped stdin and stdout and runs the MCP handshake.
    pub async fn start(mut child: Child) -> Result<Self> {
        let stdin = child.stdin.take().context("the MCP child has no stdin pipe")?;
        let stdout = child.stdout.take().context("the MCP child has no stdout pipe")?;
        let mut session = Self {
            stdin: ChildStdin::from_std(stdin)?,
            stdout: BufReader::new(ChildStdout::from_std(stdout)?),
            child,
            next_id: 1,
            server_info: Value::Null,
        };

        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": { "name": "amesh", "version": env!("CARGO_PKG_VERSION") },
        });
        let result = session.request("initialize", params).await.context("MCP initialize failed")?;
        session.server_info = result.get("serverInfo").cloned().unwrap_or(Value::Null);
        session.notify("notifications/initialized", json!({})).await?;
        Ok(session)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn write_message(&mut self, message: &Value) -> Result<()> {
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        self.stdin.write_all(&line).await.context("failed to write to the MCP server (did it exit?)")?;
        self.stdin.flush().await?;
        Ok(())
    }

    async fn notify(&mut self, method: &str, params: Value) -> Result<()> {
        self.write_message(&json!({ "jsonrpc": "2.0", "method": method, "params": params })).await
    }

    /// Sends a request and waits for the answer with the same id, skipping notifications.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        self.write_message(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).await?;

        tokio::time::timeout(REQUEST_TIMEOUT, self.read_answer(id))
            .await
            .map_err(|_| anyhow!("MCP {method} timed out after {} s", REQUEST_TIMEOUT.as_secs()))?
    }

    async fn read_answer(&mut self, id: u64) -> Result<Value> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stdout.read_line(&mut line).await? == 0 {
                let status = self.child.try_wait().ok().flatten();
                bail!("the MCP server closed its output (exit status: {status:?})");
            }
            let Ok(message) = serde_json::from_str::<Value>(line.trim()) else {
                tracing::debug!(line = line.trim(), "ignoring a non-JSON line from the MCP server");
                continue;
            };
            if message.get("id").and_then(Value::as_u64) != Some(id) {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(RpcError {
                    code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                    message: error.get("message").and_then(Value::as_str).unwrap_or_default().to_string(),
                    data: error.get("data").cloned().unwrap_or(Value::Null),
                }
                .into());
            }
            return Ok(message.get("result").cloned().unwrap_or(Value::Null));
        }
    }

    /// `tools/list`: the tool descriptions.
    pub async fn tools(&mut self) -> Result<Vec<Value>> {
        let result = self.request("tools/list", json!({})).await?;
        Ok(result.get("tools").and_then(Value::as_array).cloned().unwrap_or_default())
    }

    /// `tools/call`: returns the raw result (`content`, `isError`).
    pub async fn call_tool(&mut self, name: &str, arguments: Value) -> Result<Value> {
        self.request("tools/call", json!({ "name": name, "arguments": arguments })).await
    }

    /// Ends the child: closing stdin lets it exit, SIGKILL makes sure.
    pub async fn close(mut self) {
        let _ = self.stdin.shutdown().await;
        drop(self.stdin);
        for _ in 0..25 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Decodes a tool result's first text content as JSON when it is JSON, else returns the text.
pub fn tool_payload(result: &Value) -> Value {
    let text = result
        .get("content")
        .and_then(Value::as_array)
        .and_then(|items| items.first())
        .and_then(|item| item.get("text"))
        .and_then(Value::as_str);
    match text {
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
        None => Value::Null,
    }
}
