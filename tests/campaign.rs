//! `amesh testbook` on real meshes: the campaign files, the rules for broken scenarios, reused
//! ids, stale files, zero reports and interruption.

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Harness, PASSING_SCENARIO, Running, WAITING_SCENARIO, poll_until};
use nix::sys::signal::Signal;
use serde_json::Value;

const CAMPAIGN_LIMIT: Duration = Duration::from_secs(240);

/// `amesh testbook --campaign <id> <args>` with the harness's address, folders and state.
fn testbook_command(harness: &Harness, id: &str, args: &[&str]) -> Command {
    let args: Vec<&str> = ["testbook", "--campaign", id].into_iter().chain(args.iter().copied()).collect();
    harness.command(&args)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not JSON ({err}):\n{text}", path.display()))
}

fn report_of<'a>(summary: &'a Value, id: &str) -> &'a Value {
    summary["scenarios"]
        .as_array()
        .expect("scenarios is a list")
        .iter()
        .find(|r| r["scenario"] == id)
        .unwrap_or_else(|| panic!("no report for scenario {id} in the summary: {summary:#}"))
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn broken_scenarios_fail_and_campaign_goes_on() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 20, 11));
    let crash = harness.write_file("crash.lua", "local s = scenario { id = \"t-crash\" }\nerror(\"boom in the script\")\n");
    let slow = harness.write_file(
        "slow.lua",
        "local s = scenario { id = \"t-slow\", timeout = 2 }\neventually(function() return false end, { timeout = 60 })\n",
    );
    let syntax = harness.write_file("syntax.lua", "local s = scenario { id = \"t-syntax\" }\n\nlocal x = = 1\n");
    let silent = harness.write_file("silent.lua", "local x = 1 + 1\n");
    let pass = harness.write_file("pass.lua", PASSING_SCENARIO);
    let args: Vec<String> = ["--scenarios".to_string()]
        .into_iter()
        .chain([&crash, &slow, &syntax, &silent].iter().map(|p| path_arg(p)))
        .chain(["no-such-scenario".to_string(), path_arg(&pass)])
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let finished = Running::spawn(testbook_command(&harness, "c-rules", &args)).wait(CAMPAIGN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let dir = harness.runs_dir().join("c-rules");
    for name in ["a2a-baseline.json", "f3-peer-a2a.json", "a2a-summary.json", "campaign.meta.json"] {
        read_json(&dir.join(name));
    }
    let history = std::fs::read_to_string(dir.join("history.jsonl")).expect("history.jsonl exists");
    for line in history.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|err| panic!("history line is not JSON ({err}): {line}"));
    }
    let summary = read_json(&dir.join("a2a-summary.json"));
    assert_eq!(summary["overall_pass"], false);
    assert_eq!(summary["scenarios"].as_array().unwrap().len(), 6);

    let reason = |id: &str| report_of(&summary, id)["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason("t-crash").contains("boom in the script"), "{}", reason("t-crash"));
    assert!(reason("t-slow").contains("time limit of 2 s"), "{}", reason("t-slow"));
    assert!(reason("syntax").contains("does not compile"), "{}", reason("syntax"));
    assert!(reason("syntax").contains(":3:"), "{}", reason("syntax"));
    assert!(reason("silent").contains("never called scenario"), "{}", reason("silent"));
    assert!(reason("no-such-scenario").contains("not found"), "{}", reason("no-such-scenario"));
    assert_eq!(report_of(&summary, "t-pass")["pass"], true);
    for id in ["t-crash", "t-slow", "syntax", "silent", "no-such-scenario", "t-pass"] {
        assert!(dir.join(format!("scenario-{id}.json")).is_file(), "scenario-{id}.json is missing");
        assert!(dir.join(format!("scenario-{id}.log")).is_file(), "scenario-{id}.log is missing");
    }
    let listed: Vec<&str> = summary["reasons"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(listed.iter().any(|r| r.starts_with("st-crash: ")), "{listed:?}");
}

#[test]
fn reused_id_refused_and_force_clears() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 21, 11));
    let pass = path_arg(&harness.write_file("pass.lua", PASSING_SCENARIO));
    let dir = harness.runs_dir().join("c-reuse");

    let first = Running::spawn(testbook_command(&harness, "c-reuse", &["--scenarios", &pass])).wait(CAMPAIGN_LIMIT);
    assert_eq!(first.code(), 0, "stderr:\n{}", first.stderr);
    std::fs::write(dir.join("scenario-stale.json"), "{\"scenario\":\"stale\",\"pass\":false}\n").unwrap();

    let again = Running::spawn(testbook_command(&harness, "c-reuse", &["--scenarios", &pass])).wait(CAMPAIGN_LIMIT);
    assert_eq!(again.code(), 2, "stderr:\n{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "stderr:\n{}", again.stderr);
    assert!(again.stderr.contains("--force"), "stderr:\n{}", again.stderr);
    assert!(dir.join("scenario-stale.json").is_file(), "a refused campaign must not touch the folder");

    let forced = Running::spawn(testbook_command(&harness, "c-reuse", &["--scenarios", &pass, "--force"])).wait(CAMPAIGN_LIMIT);
    assert_eq!(forced.code(), 0, "stderr:\n{}", forced.stderr);
    assert!(!dir.join("scenario-stale.json").exists(), "--force must clear stale files");
    let summary = read_json(&dir.join("a2a-summary.json"));
    let ids: Vec<&Value> = summary["scenarios"].as_array().unwrap().iter().map(|r| &r["scenario"]).collect();
    assert_eq!(ids, [&Value::from("t-pass")]);
}

#[test]
fn zero_reports_fail_campaign() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 22, 11));
    let empty_lua: PathBuf = harness.write_file("testbook-empty", "").parent().unwrap().join("empty-lua");
    std::fs::create_dir_all(&empty_lua).unwrap();
    std::fs::write(empty_lua.join("testbook.lua"), "return { default = {} }\n").unwrap();

    let finished = Running::spawn(testbook_command(&harness, "c-empty", &["--lua-dir", &path_arg(&empty_lua)])).wait(CAMPAIGN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let summary = read_json(&harness.runs_dir().join("c-empty/a2a-summary.json"));
    assert_eq!(summary["overall_pass"], false);
    assert_eq!(summary["scenarios"], Value::Array(Vec::new()));
    let reasons = summary["reasons"].to_string();
    assert!(reasons.contains("no scenario reports"), "{reasons}");
}

#[test]
fn interrupt_writes_partial_summary() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 23, 11));
    let pass = path_arg(&harness.write_file("pass.lua", PASSING_SCENARIO));
    let wait = path_arg(&harness.write_file("wait.lua", WAITING_SCENARIO));
    let never = path_arg(&harness.write_file("never.lua", "local s = scenario { id = \"t-never\" }\n"));
    let dir = harness.runs_dir().join("c-stop");

    let running = Running::spawn(testbook_command(&harness, "c-stop", &["--scenarios", &pass, &wait, &never]));
    let started = poll_until(CAMPAIGN_LIMIT, || dir.join("scenario-t-pass.json").is_file());
    assert!(started, "the first scenario never finished; stderr:\n{}", running.stderr());
    running.wait_for_stderr("waiting until amesh is stopped", Duration::from_secs(60));
    running.signal(Signal::SIGINT);
    let finished = running.wait(Duration::from_secs(60));

    assert_eq!(finished.code(), 130, "stderr:\n{}", finished.stderr);
    let summary = read_json(&dir.join("a2a-summary.json"));
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["overall_pass"], false);
    assert_eq!(report_of(&summary, "t-pass")["pass"], true);
    assert_eq!(report_of(&summary, "t-wait")["reason"], "interrupted");
    assert!(!dir.join("scenario-t-never.json").exists(), "a scenario after the interrupt must not run");
    let remaining = harness.wait_for_nodes_gone();
    assert!(remaining.is_empty(), "ai-memory processes {remaining:?} survived the interrupt");
}
