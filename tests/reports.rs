//! Terminal output on real meshes: the NDJSON event stream of `--output json`, and stderr
//! without control sequences when it is not a terminal.

mod common;

use std::net::Ipv4Addr;

use common::{Harness, Running};
use serde_json::Value;

/// A scenario with a check, a wait and a fault, for the event stream.
const EVENTFUL_SCENARIO: &str = r#"local s = scenario { id = "t-events", title = "Events" }
log("an escape sequence: \27[31mred\27[0m")
fault.pause(node(4))
local w = eventually(function() return node(1):get("/api/v1/health").status == 200 end,
  { timeout = 10, what = "node-1 answers" })
fault.resume(node(4))
s:check(w.ok, "node-1 did not answer")
"#;

#[test]
fn run_output_json_streams_events() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 171, 11));
    let scenario = harness.write_file("events.lua", EVENTFUL_SCENARIO);
    let mut command = harness.run_command(&[&scenario.display().to_string()]);
    command.args(["--output", "json"]);
    let finished = Running::spawn(command).wait(common::SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stderr:\n{}", finished.stderr);
    assert!(!finished.stderr.contains('\x1b'), "stderr is not a terminal but has an escape sequence:\n{}", finished.stderr);
    assert!(!finished.stdout.contains('\x1b'), "stdout has an escape sequence:\n{}", finished.stdout);
    let events: Vec<Value> = finished
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}")))
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap_or_default()).collect();
    assert_eq!(names.first(), Some(&"campaign_start"), "{names:?}");
    assert_eq!(names.last(), Some(&"campaign_end"), "{names:?}");
    for expected in ["scenario_start", "check", "fault", "wait", "scenario_end"] {
        assert!(names.contains(&expected), "no {expected} event: {names:?}");
    }
    let run_id = harness.run_folder().file_name().unwrap().to_string_lossy().into_owned();
    for event in &events {
        for key in ["ts", "campaign", "scenario"] {
            assert!(event.get(key).is_some(), "{key} is missing: {event}");
        }
        assert_eq!(event["campaign"], run_id.as_str(), "{event}");
    }
    let faults: Vec<&Value> = events.iter().filter(|e| e["event"] == "fault").collect();
    assert!(faults.iter().any(|f| f["action"] == "pause" && f["node"] == "node-4"), "{faults:?}");
    let end = events.iter().find(|e| e["event"] == "scenario_end").unwrap();
    assert_eq!(end["scenario"], "t-events");
    assert_eq!(end["report"]["pass"], true);
    assert_eq!(end["verdict"], "pass");
    let campaign_end = events.last().unwrap();
    assert_eq!(campaign_end["outcome"], "passed");
    assert_eq!(campaign_end["passed"], 1);
}
