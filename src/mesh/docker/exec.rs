//! `ai-memory mcp` inside a node container through `docker exec`, as an MCP transport.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::client::{McpServer, McpTransport};

/// An exec instance; Docker has no call to end one, so `kill` signals its host pid.
struct ExecServer {
    docker: Docker,
    exec_id: String,
    container: String,
    pump: tokio::task::JoinHandle<()>,
}

#[async_trait]
impl McpServer for ExecServer {
    fn describe(&self) -> String {
        format!("exec {} in {}", &self.exec_id[..self.exec_id.len().min(12)], self.container)
    }

    async fn exit_status(&mut self) -> Option<String> {
        match self.docker.inspect_exec(&self.exec_id).await {
            Ok(inspect) if inspect.running == Some(true) => None,
            Ok(inspect) => Some(format!("exit code {}", inspect.exit_code.map_or("unknown".to_string(), |c| c.to_string()))),
            Err(err) => Some(format!("gone ({err})")),
        }
    }

    async fn kill(&mut self) {
        if let Ok(inspect) = self.docker.inspect_exec(&self.exec_id).await {
            if let (Some(true), Some(pid)) = (inspect.running, inspect.pid.filter(|p| *p > 0)) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
            }
        }
        self.pump.abort();
    }
}

impl Drop for ExecServer {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// Starts `command` in `container` with attached standard streams; stdout becomes the
/// transport's output and stderr is appended to `stderr_log`.
pub async fn open(
    docker: &Docker,
    container: &str,
    command: Vec<String>,
    environment: Vec<String>,
    user: &str,
    stderr_log: &Path,
) -> Result<McpTransport> {
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(stderr_log)
        .with_context(|| format!("failed to open {}", stderr_log.display()))?;
    let config = ExecConfig {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        cmd: Some(command),
        env: Some(environment),
        user: Some(user.to_string()),
        working_dir: Some(super::image::DATA.to_string()),
        ..Default::default()
    };
    let created = docker
        .create_exec(container, config)
        .await
        .with_context(|| format!("failed to create an exec in {container} (is the node running and not paused?)"))?;
    let options = StartExecOptions { detach: false, tty: false, output_capacity: Some(64 * 1024) };
    let StartExecResults::Attached { mut output, input } = docker
        .start_exec(&created.id, Some(options))
        .await
        .with_context(|| format!("failed to start the exec in {container}"))?
    else {
        bail!("the engine started the exec in {container} detached");
    };

    let (mut writer, reader) = tokio::io::duplex(256 * 1024);
    let pump = tokio::spawn(async move {
        while let Some(item) = output.next().await {
            match item {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    if writer.write_all(&message).await.is_err() {
                        return;
                    }
                }
                Ok(LogOutput::StdErr { message }) => {
                    let _ = log.write_all(&message);
                }
                Ok(LogOutput::StdIn { .. }) => {}
                Err(err) => {
                    tracing::debug!("MCP exec output ended: {err}");
                    return;
                }
            }
        }
    });

    Ok(McpTransport {
        stdin: input,
        stdout: Box::pin(reader),
        server: Box::new(ExecServer { docker: docker.clone(), exec_id: created.id, container: container.to_string(), pump }),
    })
}
