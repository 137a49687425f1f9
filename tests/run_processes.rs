//! `amesh run` and the node processes: signals, a busy node address and the environment the
//! nodes receive. Nodes are found through `/proc` by their `--host` address.

mod common;

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use nix::sys::signal::Signal;

use common::{
    Finished, Harness, NODE_PORT, NODE_WAIT_LIMIT, PASSING_SCENARIO, Running, SHORT_RUN_LIMIT, WAITING_SCENARIO,
    files_under, mesh_addresses, process_environment,
};

/// Variables set in amesh's environment that must not reach a node.
const SECRET_VALUE: &str = "sk-test-secret";
const CALLER_ENVIRONMENT: [(&str, &str); 4] = [
    ("AI_MEMORY_AGENT_ID", "ai:mallory"),
    ("AI_MEMORY_DB", "/tmp/bad.db"),
    ("HF_HOME", "/tmp/nowhere"),
    ("OPENAI_API_KEY", SECRET_VALUE),
];

/// The only variables a node may have, from `ENV_ALLOWLIST` in `src/mesh/process.rs` plus
/// the node's own `HOME`.
const NODE_ENVIRONMENT: [&str; 4] = ["PATH", "LANG", "TZ", "HOME"];

/// Starts the waiting scenario and returns once all four nodes run and the scenario started.
fn start_waiting_run(harness: &Harness, mut command: std::process::Command) -> (Running, Vec<i32>) {
    let scenario = harness.write_file("wait.lua", WAITING_SCENARIO);
    command.arg(&scenario);
    let running = Running::spawn(command);
    let pids = harness.wait_for_nodes();
    running.wait_for_stderr("scenario started", NODE_WAIT_LIMIT);
    (running, pids)
}

/// Sends `signal` to amesh while the waiting scenario runs and returns how amesh ended.
fn stop_waiting_run(harness: &Harness, signal: Signal) -> Finished {
    let (running, _) = start_waiting_run(harness, harness.run_command(&[]));
    running.signal(signal);
    running.wait(SHORT_RUN_LIMIT)
}

/// Mesh state folders left under the test's `XDG_STATE_HOME`.
fn mesh_state_folders(harness: &Harness) -> Vec<std::path::PathBuf> {
    let meshes = harness.state_dir().join("amesh/meshes");
    let Ok(entries) = std::fs::read_dir(&meshes) else { return Vec::new() };
    entries.flatten().map(|entry| entry.path()).collect()
}

fn assert_interrupted_cleanly(harness: &Harness, finished: &Finished) {
    assert_eq!(finished.code(), 130, "stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["scenario"], "t-wait");
    assert_eq!(verdict["pass"], false, "{verdict}");
    assert_eq!(verdict["reasons"], serde_json::json!(["interrupted"]), "{verdict}");
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived amesh");
    assert_eq!(mesh_state_folders(harness), Vec::<std::path::PathBuf>::new(), "teardown left mesh state behind");
}

#[test]
fn sigint_tears_mesh_down() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 211, 11));

    let finished = stop_waiting_run(&harness, Signal::SIGINT);

    assert_interrupted_cleanly(&harness, &finished);
}

#[test]
fn sigterm_tears_mesh_down() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 212, 11));

    let finished = stop_waiting_run(&harness, Signal::SIGTERM);

    assert_interrupted_cleanly(&harness, &finished);
}

#[test]
fn sigkill_leaves_no_nodes() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 213, 11));

    let finished = stop_waiting_run(&harness, Signal::SIGKILL);

    assert_eq!(finished.status.signal(), Some(Signal::SIGKILL as i32), "amesh ended with {}", finished.status);
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived amesh");
}

#[test]
fn busy_address_exits_2() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 214, 11));
    let second = mesh_addresses(harness.base)[1];
    let listener = TcpListener::bind((second, NODE_PORT)).unwrap_or_else(|err| panic!("failed to listen on {second}:{NODE_PORT}: {err}"));
    let scenario = harness.write_file("pass.lua", PASSING_SCENARIO);

    let finished = harness.run(&[scenario.to_str().unwrap()], SHORT_RUN_LIMIT);
    drop(listener);

    assert_eq!(finished.code(), 2, "stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert!(finished.stderr.contains("node-2"), "stderr does not name node-2:\n{}", finished.stderr);
    let address = harness.node_address(2);
    assert!(finished.stderr.contains(&address), "stderr does not name {address}:\n{}", finished.stderr);
    assert_eq!(finished.verdicts(), Vec::<serde_json::Value>::new(), "no scenario may run");
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived amesh");
}

#[test]
fn node_environment_is_cleared() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 215, 11));
    let mut command = harness.run_command(&[]);
    for (name, value) in CALLER_ENVIRONMENT {
        command.env(name, value);
    }

    let (running, pids) = start_waiting_run(&harness, command);

    for pid in pids {
        let environment = process_environment(pid);
        let names: Vec<&str> = environment.iter().map(|(name, _)| name.as_str()).collect();
        for (name, _) in CALLER_ENVIRONMENT {
            assert!(!names.contains(&name), "node pid {pid} has {name}: {names:?}");
        }
        for name in &names {
            assert!(NODE_ENVIRONMENT.contains(name), "node pid {pid} has {name}, which is not in the allowlist");
        }
        let home = environment
            .iter()
            .find(|(name, _)| name == "HOME")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| panic!("node pid {pid} has no HOME: {names:?}"));
        assert!(
            Path::new(&home).starts_with(harness.state_dir()),
            "node pid {pid} has HOME={home}, outside {}",
            harness.state_dir().display()
        );
    }

    running.signal(Signal::SIGTERM);
    let finished = running.wait(SHORT_RUN_LIMIT);
    assert_eq!(finished.code(), 130, "stderr:\n{}", finished.stderr);
    assert!(!finished.stderr.contains(SECRET_VALUE), "amesh logged the secret");

    let run_folder = harness.run_folder();
    let files = files_under(&run_folder);
    assert!(!files.is_empty(), "the run folder {} is empty", run_folder.display());
    for file in files {
        let bytes = std::fs::read(&file).unwrap_or_else(|err| panic!("failed to read {}: {err}", file.display()));
        let leaked = bytes.windows(SECRET_VALUE.len()).any(|window| window == SECRET_VALUE.as_bytes());
        assert!(!leaked, "{} contains the secret", file.display());
    }
}
