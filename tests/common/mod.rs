//! Helpers shared by the integration tests: the mesh lock, the amesh binary as a
//! subprocess, node processes found through `/proc`, and the run folder.
//!
//! Every test that may start a mesh builds a [`Harness`]. It takes an exclusive `flock` on
//! [`LOCK_PATH`] for the whole test, so test binaries that run in parallel never start two
//! meshes at once, and it gives the test its own base address, runs folder and state folder.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use tempfile::TempDir;

/// Lock file that serializes every mesh started by these tests, across test binaries.
pub const LOCK_PATH: &str = "/tmp/amesh-integration-tests.lock";

/// Port every node listens on (amesh's default).
pub const NODE_PORT: u16 = 9077;

/// Nodes in amesh's built-in topology.
pub const MESH_SIZE: u8 = 4;

/// Upper bound for a run of one short scenario, start-up and teardown included. It only
/// guards against a hang, because such a run usually ends within a second.
pub const SHORT_RUN_LIMIT: Duration = Duration::from_secs(180);

/// Upper bound for the four nodes to appear after amesh starts.
pub const NODE_WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Upper bound for the nodes to disappear after amesh has exited.
pub const NODES_GONE_LIMIT: Duration = Duration::from_secs(10);

/// A scenario that runs until amesh is stopped. It polls a condition that is never met for
/// 120 s and then fails, so a run that ends by itself is visible in the report.
pub const WAITING_SCENARIO: &str = r#"local s = scenario { id = "t-wait" }
log("waiting until amesh is stopped")
eventually(function() return false end, { timeout = 120 })
s:check(false, "the wait ended before amesh was stopped")
"#;

/// A scenario that passes at once without a request.
pub const PASSING_SCENARIO: &str = r#"local s = scenario { id = "t-pass" }
s:check(true, "never reported")
"#;

/// Returns the repository root.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the repository's Lua folder, passed as `--lua-dir`.
pub fn lua_dir() -> PathBuf {
    repo_dir().join("lua")
}

/// Returns the amesh binary Cargo built for these tests.
pub fn amesh_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_amesh"))
}

/// Returns the four node addresses of a mesh whose first node listens on `base`.
pub fn mesh_addresses(base: Ipv4Addr) -> Vec<Ipv4Addr> {
    let [a, b, c, d] = base.octets();
    (0..MESH_SIZE).map(|offset| Ipv4Addr::new(a, b, c, d + offset)).collect()
}

/// Calls `condition` every 50 ms until it returns true or `limit` passes, and returns its
/// last result.
pub fn poll_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Takes the exclusive lock on [`LOCK_PATH`], waiting while another test holds it.
pub fn lock_mesh() -> Flock<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_PATH)
        .unwrap_or_else(|err| panic!("failed to open {LOCK_PATH}: {err}"));
    Flock::lock(file, FlockArg::LockExclusive)
        .unwrap_or_else(|(_, errno)| panic!("failed to lock {LOCK_PATH}: {errno}"))
}

/// Reads the argument vector of a process, or `None` when it is gone, unreadable or a zombie.
fn process_arguments(pid: i32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if bytes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    Some(text.trim_end_matches('\0').split('\0').map(str::to_string).collect())
}

/// Finds the `ai-memory serve` nodes whose `--host` is one of the mesh's addresses and
/// returns their process ids.
pub fn node_pids(base: Ipv4Addr) -> Vec<i32> {
    let hosts: Vec<String> = mesh_addresses(base).iter().map(Ipv4Addr::to_string).collect();
    let mut pids = Vec::new();
    let entries = std::fs::read_dir("/proc").expect("failed to list /proc");
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<i32>().ok()) else {
            continue;
        };
        let Some(arguments) = process_arguments(pid) else { continue };
        let program = Path::new(&arguments[0]).file_name().and_then(|name| name.to_str());
        if program != Some("ai-memory") {
            continue;
        }
        let listens_on_mesh = arguments.windows(2).any(|pair| pair[0] == "--host" && hosts.contains(&pair[1]));
        if listens_on_mesh {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    pids
}

/// Reads the environment of a process as `(name, value)` pairs.
pub fn process_environment(pid: i32) -> Vec<(String, String)> {
    let bytes = std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_else(|err| panic!("failed to read /proc/{pid}/environ: {err}"));
    String::from_utf8_lossy(&bytes)
        .split('\0')
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => (entry.to_string(), String::new()),
        })
        .collect()
}

/// Lists every regular file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).unwrap_or_else(|err| panic!("failed to list {}: {err}", current.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            let file_type = entry.file_type().expect("failed to read a file type");
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// One test's mesh: the lock, its base address and a temporary folder that contains the runs
/// folder, the state folder (`XDG_STATE_HOME`) and scenario files.
pub struct Harness {
    pub base: Ipv4Addr,
    temp: TempDir,
    // Fields drop in declaration order, so the lock is released last: after `drop` has
    // killed leftover nodes and the temporary folder is removed.
    _lock: Flock<File>,
}

impl Harness {
    /// Waits for the mesh lock and prepares a temporary folder for a mesh at `base`.
    pub fn new(base: Ipv4Addr) -> Self {
        let lock = lock_mesh();
        let temp = tempfile::Builder::new().prefix("amesh-test-").tempdir().expect("failed to create a temporary folder");
        std::fs::create_dir(temp.path().join("state")).expect("failed to create the state folder");
        let leftovers = node_pids(base);
        assert!(
            leftovers.is_empty(),
            "ai-memory processes {leftovers:?} already listen on the addresses from {base}; stop them or give the test another base address"
        );
        Self { base, temp, _lock: lock }
    }

    /// Returns the folder given as `--runs-dir`, which amesh creates.
    pub fn runs_dir(&self) -> PathBuf {
        self.temp.path().join("runs")
    }

    /// Returns the folder given as `XDG_STATE_HOME`.
    pub fn state_dir(&self) -> PathBuf {
        self.temp.path().join("state")
    }

    /// Returns the `address:port` of node `index` (1-based), as amesh prints it.
    pub fn node_address(&self, index: u8) -> String {
        format!("{}:{NODE_PORT}", mesh_addresses(self.base)[usize::from(index - 1)])
    }

    /// Writes a scenario or config file into the temporary folder and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.temp.path().join(name);
        std::fs::write(&path, text).unwrap_or_else(|err| panic!("failed to write {}: {err}", path.display()));
        path
    }

    /// Builds `amesh <args>` with this test's base address, runs folder and state folder, and
    /// `--lua-dir <repo>/lua` unless `args` names another. The working folder is the temporary
    /// folder, so no `./amesh.toml` is read.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(amesh_binary());
        command
            .args(args)
            .arg("--base-address")
            .arg(self.base.to_string())
            .arg("--runs-dir")
            .arg(self.runs_dir())
            .current_dir(self.temp.path())
            .env("XDG_STATE_HOME", self.state_dir())
            .env_remove("AMESH_CONFIG")
            .env_remove("AMESH_LUA_DIR")
            .env_remove("AMESH_LOG");
        if !args.contains(&"--lua-dir") {
            command.arg("--lua-dir").arg(lua_dir());
        }
        command
    }

    /// Builds `amesh run <scenarios>` (see [`Harness::command`]).
    pub fn run_command(&self, scenarios: &[&str]) -> Command {
        let args: Vec<&str> = std::iter::once("run").chain(scenarios.iter().copied()).collect();
        self.command(&args)
    }

    /// Runs `amesh run <scenarios>` to the end, failing the test after `limit`.
    pub fn run(&self, scenarios: &[&str], limit: Duration) -> Finished {
        Running::spawn(self.run_command(scenarios)).wait(limit)
    }

    /// Lists the run folders amesh created under the runs folder.
    pub fn run_folders(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.runs_dir()) else { return Vec::new() };
        let mut folders: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
        folders.sort();
        folders
    }

    /// Returns the one run folder of this test and fails the test when there are more or none.
    pub fn run_folder(&self) -> PathBuf {
        let folders = self.run_folders();
        assert_eq!(folders.len(), 1, "expected one run folder under {}, found {folders:?}", self.runs_dir().display());
        folders.into_iter().next().unwrap()
    }

    /// Returns the process ids of this mesh's nodes.
    pub fn node_pids(&self) -> Vec<i32> {
        node_pids(self.base)
    }

    /// Waits until all four nodes run and returns their process ids.
    pub fn wait_for_nodes(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        let complete = poll_until(NODE_WAIT_LIMIT, || {
            pids = self.node_pids();
            pids.len() == usize::from(MESH_SIZE)
        });
        assert!(complete, "expected {MESH_SIZE} ai-memory processes on {}, found {pids:?}", self.base);
        pids
    }

    /// Waits up to [`NODES_GONE_LIMIT`] for every node of this mesh to exit and returns the
    /// process ids that remain.
    pub fn wait_for_nodes_gone(&self) -> Vec<i32> {
        let mut remaining = Vec::new();
        poll_until(NODES_GONE_LIMIT, || {
            remaining = self.node_pids();
            remaining.is_empty()
        });
        remaining
    }
}

impl Drop for Harness {
    /// Kills nodes of this mesh that a failed test left behind, so the next test starts clean.
    /// Only processes whose `--host` is one of this test's addresses are touched.
    fn drop(&mut self) {
        for pid in self.node_pids() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// An amesh process whose stdout and stderr are collected by reader threads, so a full pipe
/// never blocks it.
pub struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn collect_output(mut source: impl Read + Send + 'static, sink: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        loop {
            match source.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(read) => sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..read])),
            }
        }
    })
}

impl Running {
    /// Starts `command` with piped stdout and stderr and a null stdin.
    pub fn spawn(command: Command) -> Self {
        Self::spawn_with_stdin(command, Stdio::null())
    }

    /// Starts `command` with piped stdout and stderr and `stdin` as its standard input.
    pub fn spawn_with_stdin(mut command: Command, stdin: Stdio) -> Self {
        command.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|err| panic!("failed to start {command:?}: {err}"));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect_output(child.stdout.take().unwrap(), stdout.clone()),
            collect_output(child.stderr.take().unwrap(), stderr.clone()),
        ];
        Self { child, stdout, stderr, readers }
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Returns the stderr collected so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `text`, failing the test after `limit`.
    pub fn wait_for_stderr(&self, text: &str, limit: Duration) {
        let found = poll_until(limit, || self.stderr.lock().unwrap().contains(text));
        assert!(found, "amesh did not log {text:?} within {} s; stderr:\n{}", limit.as_secs(), self.stderr());
    }

    /// Sends `signal` to amesh.
    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).unwrap_or_else(|err| panic!("failed to send {signal} to amesh: {err}"));
    }

    /// Waits for amesh to exit. After `limit` it kills amesh and fails the test.
    pub fn wait(mut self, limit: Duration) -> Finished {
        let mut status = None;
        poll_until(limit, || {
            status = self.child.try_wait().expect("failed to wait for amesh");
            status.is_some()
        });
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!("amesh did not exit within {} s; stderr:\n{}", limit.as_secs(), self.stderr());
        };
        for reader in self.readers.drain(..) {
            reader.join().expect("an output reader thread panicked");
        }
        Finished {
            status,
            stdout: self.stdout.lock().unwrap().clone(),
            stderr: self.stderr.lock().unwrap().clone(),
        }
    }
}

impl Drop for Running {
    /// Kills amesh when a test fails while it runs; its nodes follow through their parent
    /// death signal.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A finished amesh process.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Returns the exit code and fails the test when amesh died from a signal.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| panic!("amesh ended without an exit code ({}); stderr:\n{}", self.status, self.stderr))
    }

    /// Parses every non-empty stdout line as JSON.
    pub fn verdicts(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}")))
            .collect()
    }

    /// Returns the one verdict on stdout and fails the test when there are more or none.
    pub fn single_verdict(&self) -> Value {
        let mut verdicts = self.verdicts();
        assert_eq!(verdicts.len(), 1, "expected one verdict line; stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        verdicts.remove(0)
    }

    /// Returns the verdict of scenario `id`.
    pub fn verdict(&self, id: &str) -> Value {
        self.verdicts()
            .into_iter()
            .find(|verdict| verdict["scenario"] == id)
            .unwrap_or_else(|| panic!("no verdict for scenario {id}; stdout:\n{}", self.stdout))
    }
}
