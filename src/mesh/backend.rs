//! The interface every backend implements. Node addressing and fault primitives stay behind
//! it so that the rest of amesh never depends on which backend runs the nodes.

use std::path::{Path, PathBuf};

use anyhow::Result;
use async_trait::async_trait;

use super::config::{BackendKind, NodeSpec};
use crate::client::McpTransport;

/// How to start a node.
#[derive(Debug, Clone, Copy, Default)]
pub struct StartOptions {
    /// Clock offset in seconds applied to the node's serve process (libfaketime).
    pub clock_offset_secs: Option<i64>,
}

/// State of a node's serve process as the operating system reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessState {
    Running,
    /// Stopped by SIGSTOP or frozen by `docker pause`.
    Paused,
    /// Not running; the text describes how it ended.
    Exited(String),
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;

    /// Prepares the node's data and home folders and starts its serve process.
    async fn start(&self, node: &NodeSpec, options: StartOptions) -> Result<()>;

    /// Stops the node gracefully, then forcibly; a no-op when it is not running.
    async fn stop(&self, node: &NodeSpec) -> Result<()>;

    /// Kills the node at once (SIGKILL) and waits until it is gone.
    async fn kill(&self, node: &NodeSpec) -> Result<()>;

    async fn pause(&self, node: &NodeSpec) -> Result<()>;

    async fn resume(&self, node: &NodeSpec) -> Result<()>;

    async fn state(&self, node: &NodeSpec) -> ProcessState;

    /// Whether the node's own process holds the listening socket on its address, so that a
    /// health answer from another process on that address is not taken for the node's; `None`
    /// when the backend cannot tell.
    async fn owns_address(&self, _node: &NodeSpec) -> Option<bool> {
        None
    }

    /// Deletes the node's database files; the node must be stopped.
    async fn wipe_data(&self, node: &NodeSpec) -> Result<()>;

    /// Returns the path of the node's SQLite database on the host.
    fn database_path(&self, node: &NodeSpec) -> PathBuf;

    /// Returns the last lines of the node's log, for error messages.
    fn log_tail(&self, node: &NodeSpec, lines: usize) -> String;

    /// Starts `ai-memory mcp` on the node's database as `agent`, with its stderr appended to
    /// `stderr_log`, and returns its standard streams.
    async fn open_mcp(&self, node: &NodeSpec, agent: &str, stderr_log: &Path) -> Result<McpTransport>;

    /// Checks whether a clock offset can be applied and returns the reason when it cannot.
    fn clock_offset_support(&self) -> Result<(), String>;

    /// Cuts the node off the mesh network while the harness keeps its control path.
    async fn isolate(&self, node: &NodeSpec) -> Result<()>;

    async fn reconnect(&self, node: &NodeSpec) -> Result<()>;

    /// Stops every node and removes what the backend created for this mesh. A mesh that
    /// outlives the command (`amesh mesh up`) is left running.
    async fn teardown(&self) -> Result<()>;

    /// Returns whether the nodes already ran before this command (a live Docker mesh it
    /// attached to), so that the mesh resets them instead of starting them.
    fn attached(&self) -> bool {
        false
    }
}

/// Deletes a SQLite database and its `-wal` and `-shm` files; files already gone are fine.
pub fn delete_database_files(database: &std::path::Path) -> Result<()> {
    use anyhow::Context;
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", database.display()));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("failed to delete {}", path.display())),
        }
    }
    Ok(())
}

/// The error a fault raises when this backend cannot apply it; scenarios that need the fault
/// are skipped with this text as the reason.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FaultUnavailable(pub String);
