//! The Docker backend against the real engine: scenarios with every fault, signals and
//! `kill -9`, the sweep, and `amesh mesh up|down|status|logs` with a live mesh.
//!
//! Where no engine is reachable every test prints `SKIPPED` with the reason and passes,
//! unless `AMESH_REQUIRE_DOCKER=1` (set by `.ci/run` when an engine is reachable), which turns the
//! skip into a failure. Each test that ran writes a marker file under
//! `<target>/tmp/docker-tests/`, which `.ci/run` counts.
//!
//! Every test holds the mesh lock and uses its own loopback base (127.0.19x.11) and subnet
//! (10.88.5x.0/24), so it never meets a user's mesh on the defaults.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use amesh::mesh::docker::cleanup::{self, AmeshObject};
use amesh::mesh::docker::labels;
use nix::sys::signal::Signal;
use serde_json::Value;

use common::{Finished, Harness, NODE_WAIT_LIMIT, PASSING_SCENARIO, Running, WAITING_SCENARIO, repo_dir};

/// Upper bound for a Docker run of a few scenarios, image build included.
const DOCKER_RUN_LIMIT: Duration = Duration::from_secs(600);

/// Upper bound for the containers of a mesh to appear.
const CONTAINERS_LIMIT: Duration = Duration::from_secs(300);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("failed to start a tokio runtime")
}

/// Connects to the engine, or returns why not.
fn engine() -> Result<bollard::Docker, String> {
    runtime().block_on(amesh::mesh::docker::connect()).map_err(|err| format!("{err:#}"))
}

fn marker_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docker-tests")
}

/// Returns the engine, or prints why the test is skipped. With `AMESH_REQUIRE_DOCKER=1` a
/// missing engine fails the test instead.
fn docker_or_skip(test: &str) -> Option<bollard::Docker> {
    match engine() {
        Ok(docker) => {
            std::fs::create_dir_all(marker_dir()).expect("failed to create the marker folder");
            std::fs::write(marker_dir().join(format!("{test}.ran")), "").expect("failed to write the marker");
            Some(docker)
        }
        Err(reason) if std::env::var("AMESH_REQUIRE_DOCKER").as_deref() == Ok("1") => {
            panic!("AMESH_REQUIRE_DOCKER=1 but no Docker engine is reachable: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED {test}: no Docker engine is reachable: {reason}");
            None
        }
    }
}

/// Lists every amesh-labelled object on the engine.
fn amesh_objects(docker: &bollard::Docker) -> Vec<AmeshObject> {
    runtime().block_on(cleanup::list_objects(docker)).expect("failed to list amesh objects")
}

/// Lists the amesh objects created by the amesh process `pid`.
fn objects_owned_by(docker: &bollard::Docker, pid: u32) -> Vec<AmeshObject> {
    let prefix = format!("{pid}@");
    amesh_objects(docker).into_iter().filter(|o| o.labels.get(labels::OWNER).is_some_and(|owner| owner.starts_with(&prefix))).collect()
}

/// Lists the amesh objects of mesh `name`.
fn objects_of_mesh(docker: &bollard::Docker, name: &str) -> Vec<AmeshObject> {
    amesh_objects(docker).into_iter().filter(|o| o.labels.get(labels::MESH).map(String::as_str) == Some(name)).collect()
}

fn names(objects: &[AmeshObject]) -> Vec<String> {
    objects.iter().map(|o| format!("{} {}", o.kind, o.name)).collect()
}

/// A harness for the Docker backend: the mesh lock, a loopback base and a subnet.
struct DockerHarness {
    harness: Harness,
    subnet: String,
}

impl DockerHarness {
    fn new(base: Ipv4Addr, subnet: &str) -> Self {
        Self { harness: Harness::new(base), subnet: subnet.to_string() }
    }

    /// `amesh <args> --backend docker --docker-subnet <subnet>` with the harness's folders.
    fn command(&self, args: &[&str]) -> Command {
        self.command_on_subnet(args, &self.subnet)
    }

    fn command_on_subnet(&self, args: &[&str], subnet: &str) -> Command {
        let mut command = self.harness.command(args);
        command.args(["--backend", "docker", "--docker-subnet", subnet]);
        command
    }

    /// `amesh mesh <args>` with the harness's folders and subnet, without `--backend`.
    fn mesh_command(&self, args: &[&str]) -> Command {
        let mut all = vec!["mesh"];
        all.extend_from_slice(args);
        let mut command = self.harness.command(&all);
        command.args(["--docker-subnet", &self.subnet]);
        command
    }

    fn run(&self, command: Command, limit: Duration) -> Finished {
        Running::spawn(command).wait(limit)
    }
}

fn assert_exit(finished: &Finished, expected: i32) {
    assert_eq!(finished.code(), expected, "stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
}

fn assert_passed(finished: &Finished, ids: &[&str]) {
    for id in ids {
        let verdict = finished.verdict(id);
        assert_eq!(verdict["pass"], Value::Bool(true), "scenario {id} did not pass: {verdict}\nstderr:\n{}", finished.stderr);
    }
}

/// Waits until the amesh process `pid` owns `count` containers.
fn wait_for_containers(docker: &bollard::Docker, pid: u32, count: usize) {
    let mut found = Vec::new();
    let complete = common::poll_until(CONTAINERS_LIMIT, || {
        found = objects_owned_by(docker, pid).into_iter().filter(|o| o.kind == "container").collect();
        found.len() == count
    });
    assert!(complete, "expected {count} containers owned by amesh pid {pid}, found {:?}", names(&found));
}

#[test]
fn docker_scenarios_with_faults_pass() {
    let Some(docker) = docker_or_skip("docker_scenarios_with_faults_pass") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 191, 11), "10.88.51.0/24");
    let tour = repo_dir().join("examples/tour.lua");
    let isolation = repo_dir().join("examples/isolation.lua");
    let command = harness.command(&["run", "1b", "14", "25", tour.to_str().unwrap(), isolation.to_str().unwrap()]);

    let running = Running::spawn(command);
    let pid = running.pid().as_raw() as u32;
    let finished = running.wait(DOCKER_RUN_LIMIT);

    assert_exit(&finished, 0);
    assert_passed(&finished, &["1b", "14", "25", "tour", "isolation"]);
    let isolation_report = finished.verdict("isolation");
    assert_eq!(isolation_report["node3_saw_while_isolated"], 0, "{isolation_report}");
    assert_eq!(isolation_report["isolated_health_status"], 200, "{isolation_report}");
    let run_folder = harness.harness.run_folder();
    for node in ["node-1", "node-2", "node-3", "node-4"] {
        let log = std::fs::read_to_string(run_folder.join("nodes").join(format!("{node}.log"))).unwrap_or_default();
        assert!(log.contains("ai-memory listening on"), "{node}.log lacks serve's start-up line:\n{log}");
    }
    let node3_log = std::fs::read_to_string(run_folder.join("nodes/node-3.log")).unwrap();
    assert!(node3_log.contains("with clock +300s"), "node-3.log does not show the libfaketime restart");
    assert_eq!(names(&objects_owned_by(&docker, pid)), Vec::<String>::new(), "objects outlived amesh");
}

/// Starts the waiting scenario on Docker and returns once its containers run and it started.
fn start_waiting(harness: &DockerHarness, docker: &bollard::Docker) -> Running {
    start_waiting_with(harness, docker, &["run"])
}

/// Like [`start_waiting`], with the scenario file appended to `args` (`run`, or `testbook
/// --scenarios`).
fn start_waiting_with(harness: &DockerHarness, docker: &bollard::Docker, args: &[&str]) -> Running {
    let scenario = harness.harness.write_file("wait.lua", WAITING_SCENARIO);
    let mut all: Vec<&str> = args.to_vec();
    all.push(scenario.to_str().unwrap());
    let running = Running::spawn(harness.command(&all));
    wait_for_containers(docker, running.pid().as_raw() as u32, 4);
    running.wait_for_stderr("scenario started", NODE_WAIT_LIMIT);
    running
}

#[test]
fn docker_signals_remove_every_object() {
    let Some(docker) = docker_or_skip("docker_signals_remove_every_object") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 192, 11), "10.88.52.0/24");

    let cases: [(Signal, &[&str]); 2] = [
        (Signal::SIGINT, &["run"]),
        (Signal::SIGTERM, &["testbook", "--campaign", "signal-test", "--scenarios"]),
    ];
    for (signal, args) in cases {
        let running = start_waiting_with(&harness, &docker, args);
        let pid = running.pid().as_raw() as u32;
        let owned = objects_owned_by(&docker, pid);
        assert_eq!(owned.iter().filter(|o| o.kind == "network").count(), 2, "{:?}", names(&owned));

        running.signal(signal);
        let finished = running.wait(DOCKER_RUN_LIMIT);

        assert_exit(&finished, 130);
        assert_eq!(names(&objects_owned_by(&docker, pid)), Vec::<String>::new(), "objects outlived amesh after {signal}");
        let meshes = harness.harness.state_dir().join("amesh/meshes");
        let left: Vec<_> = std::fs::read_dir(&meshes).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        assert_eq!(left, Vec::<PathBuf>::new(), "mesh state outlived amesh after {signal}");
    }
}

#[test]
fn docker_kill9_leftovers_swept() {
    let Some(docker) = docker_or_skip("docker_kill9_leftovers_swept") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 193, 11), "10.88.53.0/24");

    // A leaked volume of a dead owner, as an older amesh might have left.
    let leaked_volume = format!("amesh-test-leak-{}", std::process::id());
    let volume_labels = HashMap::from([
        (labels::MESH.to_string(), "leak-test".to_string()),
        (labels::OWNER.to_string(), "1@boot-id-of-another-boot".to_string()),
        (labels::LIFETIME.to_string(), labels::LIFETIME_COMMAND.to_string()),
    ]);
    let request = bollard::models::VolumeCreateRequest { name: Some(leaked_volume.clone()), labels: Some(volume_labels), ..Default::default() };
    runtime().block_on(docker.create_volume(request)).expect("failed to create the leaked volume");

    let running = start_waiting(&harness, &docker);
    let pid = running.pid().as_raw() as u32;
    running.signal(Signal::SIGKILL);
    let _ = running.wait(DOCKER_RUN_LIMIT);
    let leaked = objects_owned_by(&docker, pid);
    assert_eq!(leaked.len(), 6, "kill -9 should leave 4 containers and 2 networks, found {:?}", names(&leaked));

    // The next start sweeps what the dead process left, before it provisions its own mesh.
    let scenario = harness.harness.write_file("pass.lua", PASSING_SCENARIO);
    let finished = harness.run(harness.command(&["run", scenario.to_str().unwrap()]), DOCKER_RUN_LIMIT);

    assert_exit(&finished, 0);
    assert_eq!(names(&objects_owned_by(&docker, pid)), Vec::<String>::new(), "the next start did not sweep the leftovers");
    let volume_left = amesh_objects(&docker).iter().any(|o| o.kind == "volume" && o.name == leaked_volume);
    assert!(!volume_left, "the sweep left the volume {leaked_volume} of a dead owner");
}

#[test]
fn mesh_down_all_removes_leftovers() {
    let Some(docker) = docker_or_skip("mesh_down_all_removes_leftovers") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 194, 11), "10.88.54.0/24");

    let running = start_waiting(&harness, &docker);
    let pid = running.pid().as_raw() as u32;
    running.signal(Signal::SIGKILL);
    let _ = running.wait(DOCKER_RUN_LIMIT);
    assert_eq!(objects_owned_by(&docker, pid).len(), 6, "kill -9 should leave 4 containers and 2 networks");

    let finished = harness.run(harness.mesh_command(&["down", "--all"]), DOCKER_RUN_LIMIT);

    assert_exit(&finished, 0);
    assert_eq!(names(&amesh_objects(&docker)), Vec::<String>::new(), "mesh down --all left amesh objects");
}

/// The default topology with node-3 run by another agent.
const DAVE_TOPOLOGY: &str = r#"[[node]]
name = "node-1"
agent_id = "ai:alice"

[[node]]
name = "node-2"
agent_id = "ai:bob"

[[node]]
name = "node-3"
agent_id = "ai:dave"

[[node]]
name = "node-4"
role = "memory-only"
"#;

/// Removes a `mesh up` mesh when a test ends, passed or failed.
struct LiveMesh<'a> {
    harness: &'a DockerHarness,
    name: &'a str,
}

impl Drop for LiveMesh<'_> {
    fn drop(&mut self) {
        let _ = self.harness.mesh_command(&["down", "--name", self.name]).output();
    }
}

#[test]
fn mesh_up_outlives_commands() {
    let Some(docker) = docker_or_skip("mesh_up_outlives_commands") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 195, 11), "10.88.55.0/24");
    let name = "amesh-test-live";
    let _live = LiveMesh { harness: &harness, name };

    let up = harness.run(harness.mesh_command(&["up", "--name", name]), DOCKER_RUN_LIMIT);
    assert_exit(&up, 0);
    let objects = objects_of_mesh(&docker, name);
    assert_eq!(objects.iter().filter(|o| o.kind == "container").count(), 4, "{:?}", names(&objects));
    for object in &objects {
        assert_eq!(object.labels.get(labels::LIFETIME).map(String::as_str), Some(labels::LIFETIME_KEPT), "{} {}", object.kind, object.name);
        assert!(object.labels.contains_key(labels::CREATED), "{} {} has no creation time", object.kind, object.name);
    }
    let descriptor = harness.harness.state_dir().join(format!("amesh/meshes/{name}/mesh.json"));
    assert!(descriptor.is_file(), "no descriptor at {}", descriptor.display());

    // The owner (mesh up) has exited, yet the next command's sweep keeps the mesh.
    let scenario = harness.harness.write_file("pass.lua", PASSING_SCENARIO);
    let attached = harness.run(harness.command(&["run", "1b", scenario.to_str().unwrap(), "--mesh", name]), DOCKER_RUN_LIMIT);
    assert_exit(&attached, 0);
    assert_passed(&attached, &["1b", "t-pass"]);
    assert_eq!(objects_of_mesh(&docker, name).len(), objects.len(), "running on the live mesh changed its objects");

    let tls = harness.run(harness.command(&["run", scenario.to_str().unwrap(), "--mesh", name, "--tls", "tls"]), DOCKER_RUN_LIMIT);
    assert_exit(&tls, 2);
    assert!(tls.stderr.contains("tls mode off"), "the error does not name the live mode:\n{}", tls.stderr);
    assert!(tls.stderr.contains("tls mode tls"), "the error does not name the requested mode:\n{}", tls.stderr);

    let config = harness.harness.write_file("dave.toml", DAVE_TOPOLOGY);
    let other = harness.command(&["run", scenario.to_str().unwrap(), "--mesh", name, "--config", config.to_str().unwrap()]);
    let topology = harness.run(other, DOCKER_RUN_LIMIT);
    assert_exit(&topology, 2);
    assert!(topology.stderr.contains("ai:charlie"), "the error does not name the live topology:\n{}", topology.stderr);
    assert!(topology.stderr.contains("ai:dave"), "the error does not name the requested topology:\n{}", topology.stderr);

    let status = harness.run(harness.mesh_command(&["status", "--json", "--name", name]), DOCKER_RUN_LIMIT);
    assert_exit(&status, 0);
    let parsed: Value = serde_json::from_str(&status.stdout).expect("mesh status --json printed invalid JSON");
    let nodes = parsed["meshes"][0]["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len(), 4, "{parsed}");
    for node in &nodes {
        assert_eq!(node["health"], "ok", "{node}");
    }

    let logs = harness.run(harness.mesh_command(&["logs", "--name", name, "node-2", "--tail", "50"]), DOCKER_RUN_LIMIT);
    assert_exit(&logs, 0);
    assert!(logs.stdout.contains("ai-memory"), "mesh logs printed no serve output:\n{}", logs.stdout);

    let down = harness.run(harness.mesh_command(&["down", "--name", name]), DOCKER_RUN_LIMIT);
    assert_exit(&down, 0);
    assert_eq!(names(&objects_of_mesh(&docker, name)), Vec::<String>::new(), "mesh down left objects");
    assert!(!descriptor.exists(), "mesh down left the descriptor");
}

/// Isolates node-3 and waits until amesh is stopped.
const ISOLATING_SCENARIO: &str = r#"local s = scenario { id = "t-isolate-wait" }
fault.isolate(node(3))
log("node-3 isolated; waiting until amesh is stopped")
eventually(function() return false end, { timeout = 120 })
s:check(false, "the wait ended before amesh was stopped")
"#;

#[test]
fn live_mesh_reset_undoes_dead_faults() {
    let Some(docker) = docker_or_skip("live_mesh_reset_undoes_dead_faults") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 196, 11), "10.88.56.0/24");
    let name = "amesh-test-reset";
    let _live = LiveMesh { harness: &harness, name };
    let up = harness.run(harness.mesh_command(&["up", "--name", name]), DOCKER_RUN_LIMIT);
    assert_exit(&up, 0);

    // A command that dies by kill -9 cannot heal: node-3 stays cut off the mesh network.
    let isolating = harness.harness.write_file("isolate.lua", ISOLATING_SCENARIO);
    let running = Running::spawn(harness.command(&["run", isolating.to_str().unwrap(), "--mesh", name]));
    running.wait_for_stderr("node-3 isolated", NODE_WAIT_LIMIT);
    running.signal(Signal::SIGKILL);
    let _ = running.wait(DOCKER_RUN_LIMIT);
    assert_eq!(objects_of_mesh(&docker, name).iter().filter(|o| o.kind == "container").count(), 4, "the live mesh lost containers");

    let finished = harness.run(harness.command(&["run", "1b", "--mesh", name]), DOCKER_RUN_LIMIT);

    assert_exit(&finished, 0);
    assert_passed(&finished, &["1b"]);
}

#[test]
fn overlapping_subnet_exits_2() {
    let Some(docker) = docker_or_skip("overlapping_subnet_exits_2") else { return };
    let harness = DockerHarness::new(Ipv4Addr::new(127, 0, 197, 11), "10.88.57.0/24");
    let name = "amesh-test-overlap";
    let _live = LiveMesh { harness: &harness, name };
    let up = harness.run(harness.mesh_command(&["up", "--name", name]), DOCKER_RUN_LIMIT);
    assert_exit(&up, 0);

    let scenario = harness.harness.write_file("pass.lua", PASSING_SCENARIO);
    let overlapping = harness.command_on_subnet(&["run", scenario.to_str().unwrap()], "10.88.57.128/25");
    let finished = harness.run(overlapping, DOCKER_RUN_LIMIT);
    let down = harness.run(harness.mesh_command(&["down", "--name", name]), DOCKER_RUN_LIMIT);

    assert_exit(&finished, 2);
    assert!(finished.stderr.contains("--docker-subnet"), "the error does not name the flag:\n{}", finished.stderr);
    assert!(finished.stderr.contains("10.88.57.128/25"), "the error does not name the subnet:\n{}", finished.stderr);
    assert_exit(&down, 0);
    assert_eq!(names(&objects_of_mesh(&docker, name)), Vec::<String>::new());
}
