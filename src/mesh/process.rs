//! The embedded backend: every node is a child process on its own loopback address.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use super::backend::{Backend, FaultUnavailable, ProcessState, StartOptions, delete_database_files};
use super::config::{BackendKind, Config, NodeSpec};
use super::serve::{ServeSpec, ServeTls, serve_args};
use super::tls::TlsMaterial;
use crate::client::McpTransport;
use crate::sut::{self, Binary, ModelStatus};

/// Time a node gets to exit after SIGTERM before SIGKILL; serve would otherwise drain
/// in-flight requests for up to 30 s.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Variables kept from the caller's environment; everything else is cleared so that
/// `AI_MEMORY_*`, `HF_HOME` or API keys never reach a node.
const ENV_ALLOWLIST: [&str; 3] = ["PATH", "LANG", "TZ"];

struct NodeProcess {
    child: Child,
    pid: Pid,
}

pub struct ProcessBackend {
    config: Arc<Config>,
    binary: Binary,
    model: ModelStatus,
    mesh_dir: PathBuf,
    log_dir: PathBuf,
    libfaketime: Option<PathBuf>,
    tls: Option<Arc<TlsMaterial>>,
    processes: Mutex<HashMap<usize, NodeProcess>>,
}

impl ProcessBackend {
    /// Creates the backend; node data goes under `mesh_dir`, node logs under `log_dir`.
    pub fn new(
        config: Arc<Config>,
        binary: Binary,
        model: ModelStatus,
        mesh_dir: PathBuf,
        log_dir: PathBuf,
        tls: Option<Arc<TlsMaterial>>,
    ) -> Self {
        Self {
            config,
            binary,
            model,
            mesh_dir,
            log_dir,
            libfaketime: sut::find_libfaketime(),
            tls,
            processes: Mutex::new(HashMap::new()),
        }
    }

    fn serve_tls(&self, node: &NodeSpec) -> Option<ServeTls> {
        let material = self.tls.as_ref()?;
        let files = material.node(node);
        let path = |p: &std::path::Path| p.display().to_string();
        Some(ServeTls {
            cert: path(&files.server.cert),
            key: path(&files.server.key),
            ca: path(&material.ca_path),
            client_cert: path(&files.client.cert),
            client_key: path(&files.client.key),
            allowlist: material.allowlist.as_deref().map(path),
        })
    }

    fn node_dir(&self, node: &NodeSpec) -> PathBuf {
        self.mesh_dir.join(&node.name)
    }

    fn home_dir(&self, node: &NodeSpec) -> PathBuf {
        self.node_dir(node).join("home")
    }

    fn log_path(&self, node: &NodeSpec) -> PathBuf {
        self.log_dir.join(format!("{}.log", node.name))
    }

    /// Creates the node's folders and its HOME, linking the staged model or selecting the
    /// keyword tier when no model is staged.
    fn prepare(&self, node: &NodeSpec) -> Result<()> {
        let home = self.home_dir(node);
        std::fs::create_dir_all(home.join(".cache"))
            .with_context(|| format!("failed to create {}", home.display()))?;
        std::fs::create_dir_all(&self.log_dir)?;

        match &self.model {
            ModelStatus::Staged(root) => {
                let link = home.join(".cache/huggingface");
                if std::fs::symlink_metadata(&link).is_err() {
                    std::os::unix::fs::symlink(root, &link)
                        .with_context(|| format!("failed to link {} to {}", link.display(), root.display()))?;
                }
            }
            ModelStatus::Unavailable(_) => {
                let config_dir = home.join(".config/ai-memory");
                std::fs::create_dir_all(&config_dir)?;
                std::fs::write(config_dir.join("config.toml"), "tier = \"keyword\"\n")?;
            }
        }
        Ok(())
    }

    fn base_command(&self, node: &NodeSpec) -> Command {
        let mut command = Command::new(&self.binary.path);
        command.env_clear();
        for name in ENV_ALLOWLIST {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.env("HOME", self.home_dir(node));
        command.current_dir(self.node_dir(node));
        command
    }

    fn serve_command(&self, node: &NodeSpec, options: StartOptions) -> Result<Command> {
        let peers: Vec<String> = self
            .config
            .nodes
            .iter()
            .filter(|peer| peer.index != node.index)
            .map(|peer| format!("{}://{}", self.config.scheme(), peer.socket_addr()))
            .collect();
        let database = self.database_path(node).display().to_string();
        let address = node.address.to_string();
        let spec = ServeSpec { database: &database, listen_host: &address, peer_urls: &peers, tls: self.serve_tls(node) };

        let mut command = self.base_command(node);
        command.args(serve_args(&self.config, node, &spec));

        if let Some(offset) = options.clock_offset_secs {
            let library = self.libfaketime.as_ref().ok_or_else(|| {
                FaultUnavailable("libfaketime is not installed (apt-get install libfaketime)".into())
            })?;
            command.env("LD_PRELOAD", library).env("FAKETIME", format!("{offset:+}s"));
        }
        Ok(command)
    }

    fn open_log(&self, node: &NodeSpec, banner: &str) -> Result<std::fs::File> {
        let path = self.log_path(node);
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("failed to open node log {}", path.display()))?;
        writeln!(file, "==== amesh: {banner} at {} ====", chrono::Utc::now().to_rfc3339())?;
        Ok(file)
    }

    fn pid(&self, node: &NodeSpec) -> Option<Pid> {
        self.processes.lock().expect("process table lock").get(&node.index).map(|p| p.pid)
    }

    /// Waits up to `limit` for the node's process to exit; returns whether it did.
    async fn wait_exit(&self, node: &NodeSpec, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            {
                let mut table = self.processes.lock().expect("process table lock");
                match table.get_mut(&node.index) {
                    None => return true,
                    Some(process) => {
                        if let Ok(Some(status)) = process.child.try_wait() {
                            tracing::debug!(node = %node.name, %status, "node process exited");
                            table.remove(&node.index);
                            return true;
                        }
                    }
                }
            }
            if start.elapsed() >= limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Fails when something already listens on the node's address, naming both.
fn check_address_free(node: &NodeSpec) -> Result<()> {
    match std::net::TcpListener::bind(node.socket_addr()) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => bail!(
            "{} cannot listen on {}: the address is already in use. Stop the process that listens there \
             (`ss -ltnp 'sport = :{}'` shows it) or move the mesh with --base-address or [mesh] base_address",
            node.name,
            node.socket_addr(),
            node.port
        ),
        Err(err) => bail!(
            "{} cannot listen on {}: {err}. Use a loopback address (127.x.y.z) that this machine routes",
            node.name,
            node.socket_addr()
        ),
    }
}

/// Reads the one-letter state from `/proc/<pid>/stat` (`T` = stopped, `Z` = zombie).
fn proc_state_letter(pid: Pid) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    after_name.trim_start().chars().next()
}

#[async_trait]
impl Backend for ProcessBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }

    async fn start(&self, node: &NodeSpec, options: StartOptions) -> Result<()> {
        if self.pid(node).is_some() {
            bail!("{} is already running", node.name);
        }
        self.prepare(node)?;
        check_address_free(node)?;

        let mut command = self.serve_command(node, options)?;
        let log = self.open_log(node, &format!("starting serve on {}", node.socket_addr()))?;
        command.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);

        let child = super::spawner::spawn(command)
            .with_context(|| format!("failed to start {} ({})", node.name, self.binary.path.display()))?;
        let pid = Pid::from_raw(child.id() as i32);
        tracing::info!(node = %node.name, pid = pid.as_raw(), address = %node.socket_addr(), "node started");
        self.processes.lock().expect("process table lock").insert(node.index, NodeProcess { child, pid });
        Ok(())
    }

    async fn stop(&self, node: &NodeSpec) -> Result<()> {
        let Some(pid) = self.pid(node) else { return Ok(()) };
        let _ = kill(pid, Signal::SIGCONT);
        let _ = kill(pid, Signal::SIGTERM);
        if self.wait_exit(node, STOP_GRACE).await {
            tracing::debug!(node = %node.name, "node stopped");
            return Ok(());
        }
        tracing::warn!(node = %node.name, pid = pid.as_raw(), "node ignored SIGTERM for 3 s; sending SIGKILL");
        self.kill(node).await
    }

    async fn kill(&self, node: &NodeSpec) -> Result<()> {
        let Some(pid) = self.pid(node) else { return Ok(()) };
        let _ = killpg(pid, Signal::SIGKILL);
        let _ = kill(pid, Signal::SIGKILL);
        if !self.wait_exit(node, Duration::from_secs(10)).await {
            bail!("{} (pid {pid}) did not exit after SIGKILL", node.name);
        }
        Ok(())
    }

    async fn pause(&self, node: &NodeSpec) -> Result<()> {
        let pid = self.pid(node).with_context(|| format!("{} is not running", node.name))?;
        kill(pid, Signal::SIGSTOP).with_context(|| format!("failed to send SIGSTOP to {} (pid {pid})", node.name))
    }

    async fn resume(&self, node: &NodeSpec) -> Result<()> {
        let pid = self.pid(node).with_context(|| format!("{} is not running", node.name))?;
        kill(pid, Signal::SIGCONT).with_context(|| format!("failed to send SIGCONT to {} (pid {pid})", node.name))
    }

    async fn state(&self, node: &NodeSpec) -> ProcessState {
        let mut table = self.processes.lock().expect("process table lock");
        let Some(process) = table.get_mut(&node.index) else {
            return ProcessState::Exited("not running".into());
        };
        if let Ok(Some(status)) = process.child.try_wait() {
            let pid = process.pid;
            table.remove(&node.index);
            return ProcessState::Exited(format!("pid {pid} exited with {status}"));
        }
        match proc_state_letter(process.pid) {
            Some('T') | Some('t') => ProcessState::Paused,
            Some('Z') | Some('X') | None => ProcessState::Exited("process is gone".into()),
            Some(_) => ProcessState::Running,
        }
    }

    async fn owns_address(&self, node: &NodeSpec) -> Option<bool> {
        let pid = self.pid(node)?;
        Some(holds_listener(pid, node.socket_addr()))
    }

    async fn wipe_data(&self, node: &NodeSpec) -> Result<()> {
        delete_database_files(&self.database_path(node))
    }

    fn database_path(&self, node: &NodeSpec) -> PathBuf {
        self.node_dir(node).join("a2a.db")
    }

    fn log_tail(&self, node: &NodeSpec, lines: usize) -> String {
        tail_lines(&self.log_path(node), lines)
    }

    async fn open_mcp(&self, node: &NodeSpec, agent: &str, stderr_log: &Path) -> Result<McpTransport> {
        self.prepare(node)?;
        let mut command = self.base_command(node);
        command.arg("--db").arg(self.database_path(node)).arg("mcp");
        if self.binary.mcp_needs_full_profile() {
            command.args(["--profile", "full"]);
        }
        command.env("AI_MEMORY_AGENT_ID", agent);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(stderr_log)
            .with_context(|| format!("failed to open {}", stderr_log.display()))?;
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(log);
        let child = super::spawner::spawn(command)
            .with_context(|| format!("failed to start `ai-memory mcp` for {agent} on {}", node.name))?;
        McpTransport::from_child(child)
    }

    fn clock_offset_support(&self) -> Result<(), String> {
        match &self.libfaketime {
            Some(_) => Ok(()),
            None => Err("libfaketime is not installed (apt-get install libfaketime)".into()),
        }
    }

    async fn isolate(&self, node: &NodeSpec) -> Result<()> {
        Err(FaultUnavailable(format!(
            "isolating {} is not supported on the process backend; use --backend docker",
            node.name
        ))
        .into())
    }

    async fn reconnect(&self, node: &NodeSpec) -> Result<()> {
        self.isolate(node).await
    }

    async fn teardown(&self) -> Result<()> {
        let nodes = self.config.nodes.clone();
        let stops = nodes.iter().map(|node| self.stop(node));
        let mut first_error = None;
        for result in futures_util::future::join_all(stops).await {
            if let Err(err) = result {
                tracing::error!("teardown: {err:#}");
                first_error.get_or_insert(err);
            }
        }
        if let Err(err) = std::fs::remove_dir_all(&self.mesh_dir) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.mesh_dir.display(), "failed to remove mesh state: {err}");
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Whether process `pid` has an open socket that listens on `address` (IPv4), read from
/// `/proc/net/tcp` and the process's file descriptors.
fn holds_listener(pid: Pid, address: std::net::SocketAddr) -> bool {
    let std::net::SocketAddr::V4(v4) = address else { return false };
    let octets = v4.ip().octets();
    // The kernel prints the address as the in-memory __be32 read as a host integer.
    let local = format!("{:02X}{:02X}{:02X}{:02X}:{:04X}", octets[3], octets[2], octets[1], octets[0], v4.port());
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else { return false };
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // Columns: sl, local_address, rem_address, st (0A = LISTEN), ..., inode at 9.
            (fields.len() > 9 && fields[1] == local && fields[3] == "0A").then(|| fields[9].to_string())
        })
        .collect();
    if inodes.is_empty() {
        return false;
    }
    let Ok(descriptors) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    descriptors.flatten().any(|fd| {
        std::fs::read_link(fd.path())
            .map(|target| inodes.iter().any(|inode| target.to_string_lossy() == format!("socket:[{inode}]")))
            .unwrap_or(false)
    })
}

/// Returns the last `lines` lines of a text file, or a note when it cannot be read.
pub fn tail_lines(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

/// Removes state folders of process meshes whose amesh process is gone (after `kill -9`).
pub fn sweep_stale_meshes(meshes_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(meshes_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix("proc-").and_then(|p| p.split('-').next()).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            tracing::debug!(dir = %entry.path().display(), "removing the state of a dead process mesh");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_ownership_read_from_proc() {
        let listener = std::net::TcpListener::bind("127.0.77.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let me = Pid::from_raw(std::process::id() as i32);

        assert!(holds_listener(me, address), "this process listens on {address}");
        drop(listener);
        assert!(!holds_listener(me, address), "the listener on {address} is closed");
    }
}
