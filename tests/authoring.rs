//! Writing scenarios without rebuilding amesh: files in any folder, modules beside them, ids
//! under a Lua dir, and the shipped examples.

mod common;

use std::net::Ipv4Addr;

use common::{Harness, Running, SHORT_RUN_LIMIT, repo_dir};

#[test]
fn temp_folder_scenario_requires_sibling() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 219, 11));
    harness.write_file("greeting.lua", "return { text = function(who) return \"hello \" .. who end }\n");
    let scenario = harness.write_file(
        "fresh.lua",
        r#"local s = scenario { id = "t-fresh" }
local greeting = require("greeting")
local ns = "fresh-" .. uuid():sub(1, 6)
local id = node(1):write { agent = "ai:alice", namespace = ns, title = "t", content = greeting.text("mesh") }
local w = eventually(function() return node(2):count(ns, { equals = "hello mesh", limit = 5 }) end,
                     { equals = 1, timeout = 20, what = "node-2 sees the row" })
s:check(id ~= nil and w.ok, "the row did not reach node-2")
s:field("greeting", greeting.text("mesh"))
"#,
    );

    let finished = harness.run(&[&scenario.display().to_string()], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["pass"], true, "{verdict}");
    assert_eq!(verdict["greeting"], "hello mesh");
}

#[test]
fn lua_dir_scenario_runs_by_id() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 220, 11));
    let lua_dir = harness.write_file("marker", "").with_file_name("my-lua");
    std::fs::create_dir_all(lua_dir.join("scenarios")).unwrap();
    std::fs::write(lua_dir.join("scenarios/mine.lua"), "local s = scenario { id = \"mine\" }\ns:field(\"nodes\", #nodes())\n").unwrap();

    let command = harness.command(&["run", "mine", "--lua-dir", &lua_dir.display().to_string()]);
    let finished = Running::spawn(command).wait(SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["scenario"], "mine");
    assert_eq!(verdict["nodes"], 4);
}

#[test]
fn tour_example_passes_on_five_nodes() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 221, 11));
    let tour = repo_dir().join("examples/tour.lua").display().to_string();
    let config = repo_dir().join("examples/five-nodes.toml").display().to_string();

    let finished = harness.run(&[&tour, "--config", &config], SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "stderr:\n{}", finished.stderr);
    let verdict = finished.single_verdict();
    assert_eq!(verdict["pass"], true, "{verdict}");
    assert_eq!(verdict["convergence"].as_array().map(Vec::len), Some(6), "one wait per node plus the catch-up: {verdict}");
}
