//! The reports people read, on real meshes: `index.html` opened in headless Chromium,
//! `junit.xml` read by an XML parser (after an interrupt too), `amesh report` and `--diff`,
//! the NDJSON event stream of `--output json`, the progress bar on a pseudo-terminal, and
//! stderr without control sequences when it is not a terminal.

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Harness, PASSING_SCENARIO, Running, WAITING_SCENARIO, poll_until, repo_dir};
use nix::sys::signal::Signal;
use scraper::{Html, Selector};
use serde_json::Value;

const CAMPAIGN_LIMIT: Duration = Duration::from_secs(240);

/// Upper bound for one headless Chromium call; it usually takes about two seconds.
const CHROMIUM_LIMIT: Duration = Duration::from_secs(90);

/// A scenario that pauses node-3, waits, and fails two checks whose messages (like its field
/// and log) would run script in the page if they reached it unescaped. It also logs an escape
/// sequence and puts a control character into a reason, which XML 1.0 cannot carry.
const HOSTILE_FAILING_SCENARIO: &str = r#"local s = scenario { id = "t-fail", title = "Failing <b>probe</b>" }
s:field("hostile", '<img src=x onerror="document.body.setAttribute(\'data-xss\',\'field\')">')
log('<script>document.body.setAttribute("data-xss","log")</script>')
log("an escape sequence: \27[31mred\27[0m")
fault.pause(node(3))
eventually(function() return node(1):get("/api/v1/health").status == 200 end,
  { timeout = 10, what = "node-1 answers while node-3 is paused" })
fault.resume(node(3))
s:check(true, "a check that passes")
s:check(false, "first failure <script>document.body.setAttribute('data-xss','reason')</script>")
s:check(false, "second failure with a control character \1 inside")
"#;

const SKIPPING_SCENARIO: &str = r#"local s = scenario { id = "t-skip", title = "Skipped on purpose" }
s:skip("no <reason> & no mesh feature")
"#;

/// The S23 HTML payload as its request body stores it: JSON text, quotes escaped.
const S23_PAYLOAD_TEXT: &str = r#"<script>alert(\"xss-probe\")</script>"#;

fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("failed to read {}: {err}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read_text(path)).unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()))
}

/// Returns the `scenario-<id>.json` reports of a campaign folder, by file name.
fn scenario_reports(dir: &Path) -> Vec<PathBuf> {
    let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("scenario-") && name.ends_with(".json")
        })
        .collect();
    reports.sort();
    reports
}

/// Runs headless Chromium on `page` with a fresh profile and returns its stdout.
fn chromium(page: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().expect("failed to create a Chromium profile folder");
    let mut command = Command::new("chromium");
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()));
    let finished = Running::spawn(command).wait(CHROMIUM_LIMIT);
    assert!(finished.status.success(), "chromium failed ({}); stderr:\n{}", finished.status, finished.stderr);
    finished.stdout
}

fn select<'a>(document: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|err| panic!("bad selector {css}: {err:?}"));
    document.select(&selector).collect()
}

fn text_of(element: &scraper::ElementRef) -> String {
    element.text().collect::<String>()
}

/// Checks the page as Chromium built it: rows, verdicts, reasons, escaping and the timeline.
fn check_rendered_page(dom: &str, dir: &Path) {
    let document = Html::parse_document(dom);

    let rows = select(&document, "tr.scenario-row");
    let ids: Vec<String> = rows.iter().map(|r| r.value().attr("data-scenario").unwrap_or_default().to_string()).collect();
    assert_eq!(ids, ["15", "23", "t-fail", "t-skip"], "summary rows are not in numeric order");
    for (row, id) in rows.iter().zip(&ids) {
        let report = read_json(&dir.join(format!("scenario-{id}.json")));
        let expected = match (&report["pass"], &report["skipped"]) {
            (Value::Bool(true), _) => "PASS",
            (_, Value::Bool(true)) => "SKIP",
            _ => "FAIL",
        };
        let verdict = select(&document, &format!("tr[data-scenario=\"{id}\"] td.verdict"));
        assert_eq!(text_of(&verdict[0]).trim(), expected, "row {id}: {}", row.html());
    }
    let reason = select(&document, "tr[data-scenario=\"t-fail\"] td.reason");
    assert_eq!(
        text_of(&reason[0]).trim(),
        "first failure <script>document.body.setAttribute('data-xss','reason')</script>",
        "the failing reason is not shown as text"
    );
    let skip_reason = select(&document, "tr[data-scenario=\"t-skip\"] td.reason");
    assert_eq!(text_of(&skip_reason[0]).trim(), "no <reason> & no mesh feature");

    assert!(select(&document, "script").is_empty(), "a <script> element reached the page");
    assert!(select(&document, "img").is_empty(), "an <img> element reached the page");
    assert!(select(&document, "b").iter().all(|b| text_of(b) != "probe"), "the title's <b> became an element");
    assert!(select(&document, "[data-xss]").is_empty(), "injected script ran and marked the page");
    assert!(select(&document, "[onerror]").is_empty(), "an onerror attribute reached the page");
    let page_text = text_of(&document.root_element());
    assert!(page_text.contains(S23_PAYLOAD_TEXT), "the S23 payload is not shown as text");
    assert!(page_text.contains("<script>document.body.setAttribute(\"data-xss\",\"log\")</script>"), "the log is not shown");
    assert!(page_text.contains(r#"<img src=x onerror="document.body.setAttribute('data-xss','field')">"#), "the field is not shown");

    let timeline_rows = select(&document, "svg.timeline g.row");
    assert_eq!(timeline_rows.len(), 5, "expected a setup row and one row per scenario");
    assert_eq!(select(&document, "svg.timeline g.row.fail rect.fault").len(), 1, "the pause of node-3 is not marked");
    assert_eq!(select(&document, "svg.timeline g.row.fail rect.wait").len(), 1, "the wait is not marked");
    assert_eq!(select(&document, "svg.timeline g.row.fail line.check-failed").len(), 2, "the failed checks are not marked");

    let detail = select(&document, "article#s-t-fail")[0];
    let detail_text = text_of(&detail);
    assert!(
        detail_text.contains("second failure with a control character \\x01 inside"),
        "the second reason is missing or shows its control character raw"
    );
    assert_eq!(select(&document, "article#s-t-fail ul.checks li.ok").len(), 1);
    assert_eq!(select(&document, "article#s-t-fail ul.checks li.bad").len(), 2);

    let baseline = select(&document, "section#baseline")[0];
    assert!(text_of(&baseline).contains("tls_mode is off"), "the baseline's not_applicable reasons are missing");
    let links: Vec<String> = select(&document, "section#artifacts a").iter().map(|a| a.value().attr("href").unwrap().to_string()).collect();
    for expected in ["a2a-summary.json", "junit.xml", "history.jsonl", "scenario-t-fail.log", "nodes/node-1.log"] {
        assert!(links.iter().any(|l| l == expected), "no link to {expected}: {links:?}");
    }
}

/// Checks `junit.xml` with a standard XML parser.
fn check_junit(dir: &Path) {
    let xml = read_text(&dir.join("junit.xml"));
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("junit.xml does not parse: {err}\n{xml}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.has_tag_name("testsuite")).collect();
    assert_eq!(suites.len(), 1);
    let cases: Vec<_> = suites[0].children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), scenario_reports(dir).len(), "one testcase per scenario report");
    assert_eq!(suites[0].attribute("tests"), Some("4"));
    assert_eq!(suites[0].attribute("failures"), Some("1"));
    assert_eq!(suites[0].attribute("skipped"), Some("1"));

    let case = |prefix: &str| *cases.iter().find(|c| c.attribute("name").unwrap_or_default().starts_with(prefix)).unwrap();
    let failing = case("t-fail");
    assert_eq!(failing.attribute("name"), Some("t-fail Failing <b>probe</b>"));
    let failures: Vec<_> = failing.children().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].attribute("message"), Some("first failure <script>document.body.setAttribute('data-xss','reason')</script>"));
    let listed = failures[0].text().unwrap_or_default();
    assert!(listed.contains("first failure <script>"), "{listed}");
    assert!(listed.contains("second failure with a control character \u{fffd} inside"), "{listed}");
    let log = failing.children().find(|n| n.has_tag_name("system-err")).expect("the log is in system-err");
    assert!(log.text().unwrap_or_default().contains("fault: pause node-3"));

    let skipped = case("t-skip").children().find(|n| n.has_tag_name("skipped")).expect("a skipped element");
    assert_eq!(skipped.attribute("message"), Some("no <reason> & no mesh feature"));
    for id in ["15", "23"] {
        assert!(case(id).children().all(|n| !n.has_tag_name("failure") && !n.has_tag_name("skipped")), "{id} passed");
    }
}

/// Runs `amesh report <args>`, which needs no mesh.
fn run_report(args: &[&str]) -> common::Finished {
    let mut command = Command::new(common::amesh_binary());
    command.arg("report").args(args);
    Running::spawn(command).wait(Duration::from_secs(60))
}

#[test]
fn campaign_reports_render_in_chromium() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 170, 11));
    let failing = harness.write_file("fail.lua", HOSTILE_FAILING_SCENARIO);
    let skipping = harness.write_file("skip.lua", SKIPPING_SCENARIO);
    let (failing, skipping) = (failing.display().to_string(), skipping.display().to_string());
    let finished = Running::spawn(harness.command(&["testbook", "--campaign", "c-html", "--scenarios", "23", &failing, "15", &skipping]))
        .wait(CAMPAIGN_LIMIT);
    assert_eq!(finished.code(), 1, "the failing scenario fails the campaign; stderr:\n{}", finished.stderr);
    assert!(!finished.stderr.contains('\x1b'), "stderr is not a terminal but has an escape sequence:\n{}", finished.stderr);
    assert!(finished.stderr.contains("t-fail    FAIL"), "no closing summary table:\n{}", finished.stderr);

    let dir = harness.runs_dir().join("c-html");
    let index = dir.join("index.html");
    check_junit(&dir);

    let dom = chromium(&index, &["--dump-dom".to_string()]);
    check_rendered_page(&dom, &dir);

    let artifacts = repo_dir().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for (name, extra) in [("index.png", None), ("index-dark.png", Some("--force-dark-mode"))] {
        let shot = artifacts.join(name);
        let _ = std::fs::remove_file(&shot);
        let mut args = vec![format!("--screenshot={}", shot.display()), "--window-size=1280,2000".to_string()];
        args.extend(extra.map(str::to_string));
        chromium(&index, &args);
        assert!(std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false), "no screenshot at {}", shot.display());
    }

    // `amesh report` renders the same files again from the folder alone.
    let first_html = read_text(&index);
    let first_junit = read_text(&dir.join("junit.xml"));
    std::fs::remove_file(&index).unwrap();
    std::fs::remove_file(dir.join("junit.xml")).unwrap();
    let rerender = run_report(&[&dir.display().to_string()]);
    assert_eq!(rerender.code(), 0, "stderr:\n{}", rerender.stderr);
    assert_eq!(read_text(&index), first_html, "amesh report rendered a different index.html");
    assert_eq!(read_text(&dir.join("junit.xml")), first_junit, "amesh report rendered a different junit.xml");

    // `--diff` lists a changed verdict and the scenarios only one side has.
    let other = harness.runs_dir().join("c-html-changed");
    std::fs::create_dir_all(&other).unwrap();
    for report in scenario_reports(&dir) {
        std::fs::copy(&report, other.join(report.file_name().unwrap())).unwrap();
    }
    let mut changed = read_json(&other.join("scenario-15.json"));
    changed["pass"] = Value::Bool(false);
    changed["reasons"] = serde_json::json!(["made to fail by the test"]);
    std::fs::write(other.join("scenario-15.json"), changed.to_string()).unwrap();
    std::fs::remove_file(other.join("scenario-t-skip.json")).unwrap();
    std::fs::write(other.join("scenario-99.json"), r#"{"scenario":"99","pass":true,"skipped":false}"#).unwrap();

    let diff = run_report(&["--diff", &dir.display().to_string(), &other.display().to_string()]);
    assert_eq!(diff.code(), 0, "stderr:\n{}", diff.stderr);
    let lines: Vec<&str> = diff.stdout.lines().collect();
    let line_of = |id: &str| lines.iter().find(|l| l.split_whitespace().next() == Some(id)).map(|l| l.to_string());
    let fifteen = line_of("15").unwrap_or_else(|| panic!("15 is not listed:\n{}", diff.stdout));
    assert!(fifteen.contains("PASS"), "{fifteen}");
    assert!(fifteen.contains("FAIL"), "{fifteen}");
    assert!(fifteen.contains("made to fail"), "{fifteen}");
    assert!(fifteen.find("PASS") < fifteen.find("FAIL"), "15 went from PASS to FAIL: {fifteen}");
    assert!(line_of("t-skip").is_some_and(|l| l.contains("(absent)")), "{}", diff.stdout);
    assert!(line_of("99").is_some_and(|l| l.contains("(absent)")), "{}", diff.stdout);
    assert!(line_of("23").is_none(), "an unchanged scenario is listed:\n{}", diff.stdout);
    assert!(diff.stdout.contains("1 changed verdicts, 1 only in"), "{}", diff.stdout);
}

#[test]
fn interrupted_campaign_still_renders() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 172, 11));
    let pass = harness.write_file("pass.lua", PASSING_SCENARIO).display().to_string();
    let wait = harness.write_file("wait.lua", WAITING_SCENARIO).display().to_string();
    let dir = harness.runs_dir().join("c-stop");

    let running = Running::spawn(harness.command(&["testbook", "--campaign", "c-stop", "--scenarios", &pass, &wait]));
    let started = poll_until(CAMPAIGN_LIMIT, || dir.join("scenario-t-pass.json").is_file());
    assert!(started, "the first scenario never finished; stderr:\n{}", running.stderr());
    running.wait_for_stderr("waiting until amesh is stopped", Duration::from_secs(60));
    running.signal(Signal::SIGINT);
    let finished = running.wait(Duration::from_secs(60));

    assert_eq!(finished.code(), 130, "stderr:\n{}", finished.stderr);
    let dom = chromium(&dir.join("index.html"), &["--dump-dom".to_string()]);
    let document = Html::parse_document(&dom);
    let verdict = select(&document, "#campaign-verdict");
    assert_eq!(text_of(&verdict[0]).trim(), "INTERRUPTED");
    let rows: Vec<String> = select(&document, "tr.scenario-row")
        .iter()
        .map(|r| format!("{}={}", r.value().attr("data-scenario").unwrap_or_default(), r.value().attr("data-verdict").unwrap_or_default()))
        .collect();
    assert_eq!(rows, ["t-pass=pass", "t-wait=fail"]);

    let xml = read_text(&dir.join("junit.xml"));
    let junit = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("junit.xml does not parse: {err}\n{xml}"));
    let failures: Vec<_> = junit.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].attribute("message"), Some("interrupted"));
    let interrupted = junit.descendants().find(|n| n.attribute("name") == Some("interrupted")).expect("an interrupted property");
    assert_eq!(interrupted.attribute("value"), Some("true"));
}

/// Quotes `text` for `sh`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn terminal_shows_progress_bar() {
    let harness = Harness::new(Ipv4Addr::new(127, 0, 173, 11));
    let scenario = harness.write_file(
        "slow.lua",
        "local s = scenario { id = \"t-slow\", title = \"Slow\" }\neventually(function() return false end, { timeout = 3, what = \"never\" })\n",
    );
    let amesh = harness.run_command(&[&scenario.display().to_string()]);
    let mut words = Vec::new();
    if let Some(dir) = amesh.get_current_dir() {
        words.push(format!("cd {} &&", shell_quote(&dir.display().to_string())));
    }
    words.push("env".to_string());
    for (name, value) in amesh.get_envs() {
        let name = name.to_string_lossy();
        match value {
            Some(value) => words.push(shell_quote(&format!("{name}={}", value.to_string_lossy()))),
            None => words.push(format!("-u {name}")),
        }
    }
    words.push(shell_quote(&amesh.get_program().to_string_lossy()));
    words.extend(amesh.get_args().map(|arg| shell_quote(&arg.to_string_lossy())));
    // `script` runs amesh on a pseudo-terminal and copies everything it writes to stdout.
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &words.join(" "), "/dev/null"]);
    let finished = Running::spawn(command).wait(common::SHORT_RUN_LIMIT);

    assert_eq!(finished.code(), 0, "output:\n{}", finished.stdout);
    let screen = &finished.stdout;
    assert!(screen.contains("] 0/1 slow · 0 passed, 0 failed, 0 skipped"), "no progress bar naming the scenario:\n{screen}");
    assert!(screen.contains("] 1/1 1 passed, 0 failed, 0 skipped"), "the bar did not advance:\n{screen}");
    assert!(screen.contains("\x1b[32m\x1b[1mPASS"), "the verdict is not coloured on a terminal:\n{screen}");
    assert!(screen.contains("amesh: 1 of 1 scenarios ran"), "no closing summary:\n{screen}");
}

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
