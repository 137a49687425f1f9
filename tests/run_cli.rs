//! `amesh run` end to end: verdict lines, exit codes and the run folder, against a real mesh
//! of four `ai-memory serve` nodes from the amesh cache.

mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{Harness, MESH_SIZE, PASSING_SCENARIO, SHORT_RUN_LIMIT, amesh_binary};

/// Upper bound for the five core scenarios. It only guards against a hang. Scenario 40's own
/// time limit is 480 s, and a run of all five took about 50 s on a 2-core machine.
const CORE_RUN_LIMIT: Duration = Duration::from_secs(1200);

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("failed to read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not JSON ({err}): {text}", path.display()))
}

#[test]
fn core_scenarios_pass() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 201, 11));
    let ids = ["1b", "4", "14", "15", "40"];

    let finished = harness.run(&ids, CORE_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    let verdicts = finished.verdicts();
    assert_eq!(verdicts.len(), ids.len(), "stdout:\n{}", finished.stdout);
    for (verdict, id) in verdicts.iter().zip(ids) {
        assert_eq!(verdict["scenario"], id, "verdicts are out of order: {verdict}");
        assert_eq!(verdict["pass"], true, "scenario {id} did not pass: {verdict}");
        assert_eq!(verdict["skipped"], false, "scenario {id} was skipped: {verdict}");
    }

    let bulk = finished.verdict("40");
    for peer in ["node_2", "node_3", "node_4"] {
        assert_eq!(bulk["per_peer_count"][peer], 500, "scenario 40 count on {peer}: {bulk}");
    }
    assert_eq!(bulk["bulk_http_code"], "200", "scenario 40: {bulk}");

    let run_folder = harness.run_folder();
    for (verdict, id) in verdicts.iter().zip(ids) {
        let stored = read_json(&run_folder.join(format!("scenario-{id}.json")));
        assert_eq!(&stored, verdict, "scenario-{id}.json differs from the stdout line");
        let log = run_folder.join(format!("scenario-{id}.log"));
        assert!(log.is_file(), "{} is missing", log.display());
    }
    assert!(run_folder.join("history.jsonl").is_file(), "history.jsonl is missing in {}", run_folder.display());
    for index in 1..=MESH_SIZE {
        let node_log = run_folder.join(format!("nodes/node-{index}.log"));
        assert!(node_log.is_file(), "{} is missing", node_log.display());
    }
    assert_eq!(harness.wait_for_nodes_gone(), Vec::<i32>::new(), "nodes outlived amesh");
}

#[test]
fn failing_check_exits_1() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 202, 11));
    let scenario = harness.write_file(
        "fail.lua",
        "local s = scenario{id=\"t-fail\"}\ns:check(false, \"deliberate failure\")\n",
    );

    let finished = harness.run(&[scenario.to_str().unwrap()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["scenario"], "t-fail");
    assert_eq!(verdict["pass"], false);
    assert_eq!(verdict["reason"], "deliberate failure");
    assert_eq!(verdict["reasons"], serde_json::json!(["deliberate failure"]));
}

#[test]
fn syntax_error_starts_no_node() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 203, 11));
    let scenario = harness.write_file(
        "syntax.lua",
        "local s = scenario { id = \"t-syntax\" }\ns:check(true, \"never reported\")\nlocal broken = = 1\n",
    );

    let finished = harness.run(&[scenario.to_str().unwrap()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 2, "stderr:\n{}", finished.stderr);
    assert!(finished.stderr.contains(scenario.to_str().unwrap()), "stderr does not name the file:\n{}", finished.stderr);
    assert!(finished.stderr.contains("syntax.lua:3:"), "stderr does not name line 3:\n{}", finished.stderr);
    assert!(!finished.stderr.contains("node started"), "a node was started:\n{}", finished.stderr);
    assert_eq!(finished.verdicts(), Vec::<Value>::new(), "no scenario may run");
    assert_eq!(harness.run_folders(), Vec::<std::path::PathBuf>::new(), "a run folder was created");
    assert_eq!(harness.node_pids(), Vec::<i32>::new(), "ai-memory processes exist");
}

#[test]
fn runtime_error_logs_traceback() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 204, 11));
    let scenario = harness.write_file("runtime.lua", "local s = scenario { id = \"t-runtime\" }\nerror(\"boom\")\n");

    let finished = harness.run(&[scenario.to_str().unwrap()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["scenario"], "t-runtime");
    assert_eq!(verdict["pass"], false);
    let reason = verdict["reason"].as_str().unwrap_or_else(|| panic!("reason is not a string: {verdict}"));
    assert!(reason.contains("boom"), "reason: {reason}");

    let log_path = harness.run_folder().join("scenario-t-runtime.log");
    let log = std::fs::read_to_string(&log_path).unwrap_or_else(|err| panic!("failed to read {}: {err}", log_path.display()));
    assert!(log.contains("stack traceback"), "scenario log has no traceback:\n{log}");
}

#[test]
fn nil_index_fails_scenario() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 205, 11));
    let scenario = harness.write_file(
        "nil-index.lua",
        "local s = scenario { id = \"t-nil-index\" }\nlocal missing = nil\nlocal value = missing.field\n",
    );

    let finished = harness.run(&[scenario.to_str().unwrap()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["pass"], false);
    let reason = verdict["reason"].as_str().unwrap_or_else(|| panic!("reason is not a string: {verdict}"));
    assert!(reason.contains("nil-index.lua:3:"), "reason does not name the line: {reason}");
    assert!(reason.contains("attempt to index"), "reason: {reason}");
}

#[test]
fn pause_then_error_heals_node() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 206, 11));
    let pausing = harness.write_file(
        "pause-error.lua",
        r#"local s = scenario { id = "t-pause-error" }
fault.pause(node(3))
error("after pause")
"#,
    );
    let probing = harness.write_file(
        "after-pause.lua",
        r#"local s = scenario { id = "t-after-pause" }
local target = node(3)

local health = target:get("/api/v1/health", { timeout = 3 })
s:field("health_status", health.status)
s:check(health.status == 200, ("node-3 health returned HTTP %d %s"):format(health.status, health.error or ""))

local ns = "t-after-pause"
local title = "after-pause-" .. uuid()
local id, res = target:write { agent = target.agent_id, namespace = ns, title = title, content = "written after the heal" }
s:check(id ~= nil, ("write on node-3 returned HTTP %d %s"):format(res.status, res.error or ""))

local rows = target:list(ns) or {}
local found = 0
for _, row in ipairs(rows) do
  if row.title == title then found = found + 1 end
end
s:field("rows_found", found)
s:check(found == 1, ("node-3 lists %d rows titled %s"):format(found, title))
"#,
    );

    let finished = harness.run(&[pausing.to_str().unwrap(), probing.to_str().unwrap()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 1, "stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    assert_eq!(finished.verdicts().len(), 2, "stdout:\n{}", finished.stdout);
    let paused = finished.verdict("t-pause-error");
    assert_eq!(paused["pass"], false, "{paused}");
    let reason = paused["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("after pause"), "reason: {reason}");
    let probed = finished.verdict("t-after-pause");
    assert_eq!(probed["pass"], true, "{probed}");
    assert_eq!(probed["health_status"], 200, "{probed}");
    assert_eq!(probed["rows_found"], 1, "{probed}");

    let log_path = harness.run_folder().join("scenario-t-pause-error.log");
    let log = std::fs::read_to_string(&log_path).unwrap_or_else(|err| panic!("failed to read {}: {err}", log_path.display()));
    assert!(log.contains("heal: resume node-3"), "the log does not mention the heal:\n{log}");
}

#[test]
fn unknown_scenario_exits_2() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 207, 11));
    let id = "t-no-such-scenario";

    let finished = harness.run(&[id], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 2, "stderr:\n{}", finished.stderr);
    assert!(finished.stderr.contains(id), "stderr does not name {id}:\n{}", finished.stderr);
    assert_eq!(finished.verdicts(), Vec::<Value>::new());
    assert_eq!(harness.run_folders(), Vec::<std::path::PathBuf>::new(), "a run folder was created");
}

#[test]
fn invalid_config_exits_2() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 208, 11));
    let config = harness.write_file("amesh-invalid.toml", "[mesh]\nquorum = 3\n");
    let scenario = harness.write_file("pass.lua", PASSING_SCENARIO);

    let mut command = harness.run_command(&[scenario.to_str().unwrap()]);
    command.arg("--config").arg(&config);
    let finished = common::Running::spawn(command).wait(SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 2, "stderr:\n{}", finished.stderr);
    assert!(finished.stderr.contains("quorum"), "stderr does not name the key:\n{}", finished.stderr);
    assert!(!finished.stderr.contains("node started"), "a node was started:\n{}", finished.stderr);
    assert_eq!(finished.verdicts(), Vec::<Value>::new());
}

#[test]
fn help_exits_0() {
    let output = Command::new(amesh_binary()).arg("--help").output().expect("failed to run amesh --help");

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("run"), "help does not list the run command:\n{text}");
}

#[test]
fn run_help_exits_0() {
    let output = Command::new(amesh_binary()).args(["run", "--help"]).output().expect("failed to run amesh run --help");

    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("--base-address"), "run help does not list --base-address:\n{text}");
}
