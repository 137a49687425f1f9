//! Scripts that try to escape the rules: catching the time limit or an early end with pcall,
//! absurd durations, a caught fault that cannot be applied, bad ids, and files that would
//! overwrite amesh's own.

mod common;

use std::net::Ipv4Addr;

use common::{Harness, SHORT_RUN_LIMIT};
use serde_json::Value;

const SCENARIOS: [(&str, &str); 7] = [
    ("loop.lua", "local s = scenario { id = \"t-loop\", timeout = 2 }\nwhile true do pcall(function() while true do end end) end\n"),
    (
        "caught-skip.lua",
        "local s = scenario { id = \"t-caught-skip\" }\npcall(function() s:skip(\"caught skip\") end)\ns:check(false, \"should not reach\")\n",
    ),
    (
        "fail-in-wait.lua",
        "local s = scenario { id = \"t-fail-in-wait\" }\neventually(function() s:fail(\"stop now\") end, { timeout = 30 })\ns:check(false, \"should not reach\")\n",
    ),
    (
        "big-sleep.lua",
        "local s = scenario { id = \"t-big-sleep\" }\nlocal ok, err = pcall(sleep, 1e300)\ns:field(\"error\", tostring(err))\ns:check(not ok, \"sleep accepted 1e300 seconds\")\n",
    ),
    ("caught-isolate.lua", "local s = scenario { id = \"t-caught-isolate\" }\npcall(fault.isolate, node(2))\n"),
    ("bad-id.lua", "local s = scenario { id = \"../escape\" }\n"),
    (
        "files.lua",
        "local s = scenario { id = \"t-files\" }\nlocal f = assert(io.open(\"history.jsonl\", \"w\"))\nf:write(\"mine\")\nf:close()\n",
    ),
];

#[test]
fn escape_attempts_end_cleanly() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 222, 11));
    let paths: Vec<String> = SCENARIOS.iter().map(|(name, text)| harness.write_file(name, text).display().to_string()).collect();
    let args: Vec<&str> = paths.iter().map(String::as_str).collect();

    let finished = harness.run(&args, SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 1, "stderr:\n{}", finished.stderr);
    let reason = |id: &str| finished.verdict(id)["reason"].as_str().unwrap_or_default().to_string();
    assert!(reason("t-loop").contains("time limit of 2 s"), "{}", reason("t-loop"));

    let skipped = finished.verdict("t-caught-skip");
    assert_eq!(skipped["skipped"], true, "{skipped}");
    assert_eq!(skipped["reason"], "caught skip");

    let failed = finished.verdict("t-fail-in-wait");
    assert_eq!(failed["reasons"], serde_json::json!(["stop now"]), "{failed}");

    let big = finished.verdict("t-big-sleep");
    assert_eq!(big["pass"], true, "{big}");
    assert!(big["error"].as_str().unwrap_or_default().contains("between 0 and"), "{big}");

    let isolate = finished.verdict("t-caught-isolate");
    assert_eq!(isolate["skipped"], true, "{isolate}");
    assert!(isolate["reason"].as_str().unwrap_or_default().contains("not supported on the process backend"), "{isolate}");

    assert!(reason("bad-id").contains("invalid scenario id"), "{}", reason("bad-id"));

    let run = harness.run_folder();
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    assert!(history.lines().count() > 1, "the script overwrote history.jsonl:\n{history}");
    for line in history.lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|err| panic!("history line is not JSON ({err}): {line}"));
    }
    let written = std::fs::read_to_string(run.join("files/files/history.jsonl")).unwrap();
    assert_eq!(written, "mine");
}
