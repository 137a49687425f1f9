//! An MCP stdio session: JSON-RPC 2.0, one message per line, with one `ai-memory mcp` server
//! reached through its standard streams (a local child or a `docker exec`).

use std::pin::Pin;
use std::process::Child;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

/// The protocol version ai-memory 0.6.x answers to.
const PROTOCOL_VERSION: &str = "2024-11-05";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The running server behind an MCP transport: a local child process or a process that a
/// backend started elsewhere (e.g. `docker exec`).
#[async_trait]
pub trait McpServer: Send {
    /// Names the server in messages, e.g. `pid 4242`.
    fn describe(&self) -> String;

    /// Returns how the server ended, or `None` while it runs.
    async fn exit_status(&mut self) -> Option<String>;

    /// Ends the server at once.
    async fn kill(&mut self);
}

/// The standard streams of an MCP server and the handle that ends it.
pub struct McpTransport {
    pub stdin: Pin<Box<dyn AsyncWrite + Send>>,
    pub stdout: Pin<Box<dyn AsyncRead + Send>>,
    pub server: Box<dyn McpServer>,
}

/// A local `ai-memory mcp` child process.
struct ChildServer(Child);

#[async_trait]
impl McpServer for ChildServer {
    fn describe(&self) -> String {
        format!("pid {}", self.0.id())
    }

    async fn exit_status(&mut self) -> Option<String> {
        self.0.try_wait().ok().flatten().map(|status| status.to_string())
    }

    async fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl McpTransport {
    /// Wraps a child spawned with piped stdin and stdout.
    pub fn from_child(mut child: Child) -> Result<Self> {
        let stdin = child.stdin.take().context("the MCP child has no stdin pipe")?;
        let stdout = child.stdout.take().context("the MCP child has no stdout pipe")?;
        Ok(Self {
            stdin: Box::pin(ChildStdin::from_std(stdin)?),
            stdout: Box::pin(ChildStdout::from_std(stdout)?),
            server: Box::new(ChildServer(child)),
        })
    }
}

/// A running MCP server and the streams to talk to it.
pub struct McpSession {
    server: Box<dyn McpServer>,
    stdin: Pin<Box<dyn AsyncWrite + Send>>,
    stdout: BufReader<Pin<Box<dyn AsyncRead + Send>>>,
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
    /// Runs the MCP handshake over `transport`.
    pub async fn start(transport: McpTransport) -> Result<Self> {
        let mut session = Self {
            stdin: transport.stdin,
            stdout: BufReader::new(transport.stdout),
            server: transport.server,
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

    /// Names the server process, e.g. `pid 4242`.
    pub fn server_description(&self) -> String {
        self.server.describe()
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
                let status = self.server.exit_status().await;
                bail!("the MCP server ({}) closed its output (exit status: {status:?})", self.server.describe());
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

    /// Ends the server: closing stdin lets it exit, a kill after 500 ms makes sure.
    pub async fn close(mut self) {
        let _ = self.stdin.shutdown().await;
        drop(self.stdin);
        for _ in 0..25 {
            if self.server.exit_status().await.is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.server.kill().await;
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
