//! `index.html`: a self-contained page rendered by tera from templates compiled into the
//! binary. Every value a scenario produced reaches the page through tera's HTML autoescaping,
//! and bodies, logs and reports are cut to `BODY_LIMIT` bytes.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, Result};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;

use super::artifacts::{CampaignArtifacts, ReadVerdict, ScenarioArtifact};
use super::format;
use super::timeline::{self, Timeline};
use super::trace::{CampaignTrace, Trace, ms_between, timestamp};

const INDEX_TEMPLATE: &str = include_str!("templates/index.html");
const STYLE_TEMPLATE: &str = include_str!("templates/style.css");

/// Report keys every envelope has; the page lists the remaining keys as the scenario's fields.
const ENVELOPE_KEYS: [&str; 12] = [
    "agent_group",
    "amesh_version",
    "convergence",
    "convergence_max_ms",
    "convergence_ms",
    "duration_ms",
    "pass",
    "reason",
    "reasons",
    "scenario",
    "skipped",
    "tls_mode",
];

/// Reasons in the summary table are cut to this many characters; the scenario section shows
/// them whole.
const TABLE_REASON_CHARS: usize = 200;

/// Maximum history events listed per scenario. The page links `history.jsonl` for the rest.
const MAX_EXCHANGES: usize = 200;

#[derive(Serialize)]
struct Fact {
    label: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Shown {
    text: String,
    note: Option<String>,
}

impl Shown {
    fn of(text: &str) -> Self {
        let capped = format::cap(&format::visible(text));
        Self { text: capped.text, note: capped.note }
    }
}

#[derive(Serialize)]
struct CheckView {
    passed: bool,
    reason: String,
}

#[derive(Serialize)]
struct WaitView {
    what: String,
    duration: String,
    timeout: String,
    met: bool,
}

#[derive(Serialize)]
struct FaultView {
    node: String,
    action: String,
    at: String,
    duration: String,
    ended_by: String,
}

#[derive(Serialize)]
struct ExchangeView {
    at: String,
    kind: String,
    node: String,
    summary: String,
    body: Option<Shown>,
}

#[derive(Serialize)]
struct ScenarioView {
    id: String,
    anchor: String,
    title: String,
    verdict: &'static str,
    class: &'static str,
    reason: String,
    reasons: Vec<String>,
    skip_reason: Option<String>,
    duration: String,
    longest_wait: String,
    longest_wait_what: String,
    checks: Vec<CheckView>,
    checks_passed: usize,
    checks_failed: usize,
    fields: Vec<Entry>,
    waits: Vec<WaitView>,
    faults: Vec<FaultView>,
    exchanges: Vec<ExchangeView>,
    exchanges_omitted: usize,
    exchanges_total: usize,
    json: Shown,
    json_file: String,
    json_href: String,
    log: Option<Shown>,
    log_file: Option<String>,
    log_href: String,
}

/// A named value from a report or artifact.
#[derive(Serialize)]
struct Entry {
    key: String,
    value: Shown,
}

#[derive(Serialize)]
struct Cell {
    text: String,
    class: &'static str,
    title: String,
}

#[derive(Serialize)]
struct BaselineRow {
    key: String,
    cells: Vec<Cell>,
    not_applicable: String,
}

#[derive(Serialize)]
struct BaselineView {
    verdict: &'static str,
    class: &'static str,
    nodes: Vec<String>,
    rows: Vec<BaselineRow>,
    raw: Shown,
}

#[derive(Serialize)]
struct F3View {
    verdict: &'static str,
    class: &'static str,
    facts: Vec<Entry>,
    peers: Vec<Cell>,
    not_applicable: Vec<Entry>,
    raw: Shown,
}

#[derive(Serialize)]
struct NodeView {
    index: String,
    name: String,
    role: String,
    agent_id: String,
    address: String,
}

#[derive(Serialize)]
struct ArtifactView {
    path: String,
    href: String,
    size: String,
}

#[derive(Serialize)]
struct Counts {
    total: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    unknown: usize,
}

#[derive(Serialize)]
struct Page {
    campaign: String,
    verdict: &'static str,
    class: &'static str,
    interrupted: bool,
    has_summary: bool,
    facts: Vec<Fact>,
    counts: Counts,
    campaign_reasons: Vec<String>,
    problems: Vec<String>,
    scenarios: Vec<ScenarioView>,
    timeline: Option<Timeline>,
    baseline: Option<BaselineView>,
    f3: Option<F3View>,
    nodes: Vec<NodeView>,
    artifacts: Vec<ArtifactView>,
    amesh_version: &'static str,
}

/// Characters a relative link must percent-encode inside a path segment.
const SEGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'?').add(b'<').add(b'>').add(b'`').add(b'{').add(b'}');

/// Turns a folder-relative path into a relative link.
fn href(path: &str) -> String {
    path.split('/').map(|segment| utf8_percent_encode(segment, SEGMENT).to_string()).collect::<Vec<_>>().join("/")
}

fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

fn class_of(verdict: ReadVerdict) -> &'static str {
    match verdict {
        ReadVerdict::Pass => "pass",
        ReadVerdict::Fail => "fail",
        ReadVerdict::Skip => "skip",
        ReadVerdict::Unknown => "unknown",
    }
}

/// Makes an HTML id from a scenario id: letters, digits, `-` and `_` stay, anything else
/// becomes `_`, and a counter keeps ids unique.
fn anchors(scenarios: &[ScenarioArtifact]) -> Vec<String> {
    let mut used: HashMap<String, usize> = HashMap::new();
    scenarios
        .iter()
        .map(|s| {
            let base: String = s.id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
            let base = format!("s-{base}");
            let seen = used.entry(base.clone()).or_insert(0);
            *seen += 1;
            if *seen == 1 { base } else { format!("{base}-{seen}") }
        })
        .collect()
}

fn str_at<'a>(value: &'a Option<Value>, pointer: &str) -> Option<&'a str> {
    value.as_ref().and_then(|v| v.pointer(pointer)).and_then(Value::as_str)
}

fn header_facts(artifacts: &CampaignArtifacts, trace: &CampaignTrace) -> Vec<Fact> {
    let meta = &artifacts.meta;
    let version = str_at(meta, "/ai_memory_git_ref")
        .or_else(|| str_at(&artifacts.summary, "/ai_memory_git_ref"))
        .map(|r| r.trim_start_matches('v').to_string());
    let report_value = |key: &str| artifacts.scenarios.iter().find_map(|s| s.report[key].as_str().map(str::to_string));
    let started = str_at(meta, "/timing/started_at").map(str::to_string);
    let ended = str_at(meta, "/timing/ended_at").or_else(|| str_at(&artifacts.summary, "/completed_at")).map(str::to_string);
    let duration = trace.duration_ms(meta.as_ref()).map(format::duration);
    let unknown = || "unknown".to_string();
    vec![
        Fact { label: "ai-memory", value: version.unwrap_or_else(unknown) },
        Fact { label: "backend", value: str_at(meta, "/amesh/backend").map(str::to_string).unwrap_or_else(unknown) },
        Fact {
            label: "TLS mode",
            value: str_at(meta, "/amesh/tls_mode").map(str::to_string).or_else(|| report_value("tls_mode")).unwrap_or_else(unknown),
        },
        Fact { label: "host", value: str_at(meta, "/infra/host").map(str::to_string).unwrap_or_else(unknown) },
        Fact { label: "duration", value: duration.unwrap_or_else(unknown) },
        Fact { label: "started", value: started.unwrap_or_else(unknown) },
        Fact { label: "ended", value: ended.unwrap_or_else(unknown) },
        Fact {
            label: "agent group",
            value: str_at(meta, "/agent_group").map(str::to_string).or_else(|| report_value("agent_group")).unwrap_or_else(unknown),
        },
        Fact { label: "operator", value: str_at(meta, "/ci/operator").map(str::to_string).unwrap_or_else(unknown) },
        Fact {
            label: "amesh",
            value: str_at(meta, "/amesh/version").map(str::to_string).or_else(|| report_value("amesh_version")).unwrap_or_else(unknown),
        },
        Fact {
            label: "config SHA-256",
            value: str_at(meta, "/amesh/config_sha256").map(|s| s.chars().take(12).collect()).unwrap_or_else(unknown),
        },
    ]
}

fn scenario_view(scenario: &ScenarioArtifact, anchor: String, trace: Option<&Trace>) -> ScenarioView {
    let report = &scenario.report;
    let reasons: Vec<String> = scenario.reasons().iter().map(|r| format::printable(r)).collect();
    let skip_reason = (scenario.verdict == ReadVerdict::Skip).then(|| reasons.first().cloned()).flatten();
    let first_reason = reasons.first().map(|r| format::shorten(r, TABLE_REASON_CHARS)).unwrap_or_default();

    let waits: Vec<WaitView> = report["convergence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| WaitView {
            what: w["what"].as_str().unwrap_or_default().to_string(),
            duration: format::duration(w["ms"].as_u64().unwrap_or(0)),
            timeout: format::duration(w["timeout_ms"].as_u64().unwrap_or(0)),
            met: w["met"] == Value::Bool(true),
        })
        .collect();
    let longest = report["convergence"].as_array().into_iter().flatten().max_by_key(|w| w["ms"].as_u64().unwrap_or(0));
    let (longest_wait, longest_wait_what) = match longest {
        Some(wait) => (format::duration(wait["ms"].as_u64().unwrap_or(0)), wait["what"].as_str().unwrap_or_default().to_string()),
        None => ("-".to_string(), String::new()),
    };

    let fields = report
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !ENVELOPE_KEYS.contains(&key.as_str()))
        .map(|(key, value)| Entry { key: key.clone(), value: Shown::of(&format::value_pretty(value)) })
        .collect();

    let checks: Vec<CheckView> = trace
        .into_iter()
        .flat_map(|t| t.of_kind("check"))
        .map(|c| CheckView { passed: c["passed"] == Value::Bool(true), reason: format::printable(&format::value_text(&c["reason"])) })
        .collect();
    let (exchanges, exchanges_omitted) = trace.map(exchanges).unwrap_or_default();
    let faults = trace
        .map(|t| {
            t.fault_windows()
                .into_iter()
                .map(|f| FaultView {
                    at: format::duration(ms_between(t.start, f.start)),
                    duration: format::duration(ms_between(f.start, f.end)),
                    ended_by: f.ended_by.unwrap_or_else(|| "end of scenario".into()),
                    node: f.node,
                    action: f.action,
                })
                .collect()
        })
        .unwrap_or_default();
    let json_text = match serde_json::to_string_pretty(report) {
        Ok(pretty) if scenario.error.is_none() => pretty,
        _ => scenario.json_text.clone(),
    };

    ScenarioView {
        id: scenario.id.clone(),
        anchor,
        title: trace.and_then(|t| t.title.as_deref()).map(format::printable).unwrap_or_default(),
        verdict: scenario.verdict.label(),
        class: class_of(scenario.verdict),
        reason: first_reason,
        reasons: if scenario.verdict == ReadVerdict::Skip { Vec::new() } else { reasons },
        skip_reason,
        duration: format::duration(scenario.duration_ms()),
        longest_wait,
        longest_wait_what,
        checks_passed: checks.iter().filter(|c| c.passed).count(),
        checks_failed: checks.iter().filter(|c| !c.passed).count(),
        checks,
        fields,
        waits,
        faults,
        exchanges_total: exchanges.len() + exchanges_omitted,
        exchanges,
        exchanges_omitted,
        json: Shown::of(&json_text),
        json_file: scenario.json_file.clone(),
        json_href: href(&scenario.json_file),
        log: scenario.log.as_deref().map(Shown::of),
        log_file: scenario.log_file.clone(),
        log_href: scenario.log_file.as_deref().map(href).unwrap_or_default(),
    }
}

/// Lists the requests, responses, faults and waits of a scenario, at most [`MAX_EXCHANGES`],
/// and returns how many were left out.
fn exchanges(trace: &Trace) -> (Vec<ExchangeView>, usize) {
    let listed: Vec<&Value> = trace.events.iter().filter(|e| e["kind"] != "check").collect();
    let views = listed
        .iter()
        .take(MAX_EXCHANGES)
        .map(|event| {
            let at = timestamp(event).map(|ts| format!("+{}", format::duration(ms_between(trace.start, ts)))).unwrap_or_default();
            let kind = event["kind"].as_str().unwrap_or_default().to_string();
            let summary = match kind.as_str() {
                "request" => match event["mcp"].as_str() {
                    Some(tool) => format!("MCP {tool} as {}", event["agent"].as_str().unwrap_or("?")),
                    None => format!("{} {}", event["method"].as_str().unwrap_or("?"), event["url"].as_str().unwrap_or("?")),
                },
                "response" => match (&event["mcp"], &event["error"]) {
                    (Value::String(tool), Value::Null) => format!("MCP {tool}: {}", if event["is_error"] == true { "tool error" } else { "ok" }),
                    (_, Value::String(error)) => format!("error: {error}"),
                    _ => format!("HTTP {} in {}", event["status"], format::duration(event["elapsed_ms"].as_u64().unwrap_or(0))),
                },
                "wait" => format!("waited {} for {}", format::duration(event["ms"].as_u64().unwrap_or(0)), event["what"].as_str().unwrap_or("?")),
                _ => format!("{} ({})", event["action"].as_str().unwrap_or(&kind), format::duration(event["ms"].as_u64().unwrap_or(0))),
            };
            let body = event["body"].as_str().map(|text| {
                let mut shown = Shown::of(text);
                if event["body_truncated"] == true {
                    shown.note = Some(format!(
                        "first {} of {} bytes recorded, SHA-256 {}",
                        text.len(),
                        event["body_len"],
                        event["body_sha256"].as_str().unwrap_or("?")
                    ));
                }
                shown
            });
            ExchangeView { at, kind, node: event["node"].as_str().unwrap_or_default().to_string(), summary, body }
        })
        .collect();
    (views, listed.len().saturating_sub(MAX_EXCHANGES))
}

/// Formats a baseline value as a table cell: a tick, a cross, `n/a` with the reason, or the
/// value itself.
fn baseline_cell(value: Option<&Value>, reason: Option<&str>) -> Cell {
    match value {
        Some(Value::Bool(true)) => Cell { text: "✓".into(), class: "ok", title: "true".into() },
        Some(Value::Bool(false)) => Cell { text: "✗".into(), class: "bad", title: "false".into() },
        Some(Value::Null) => Cell { text: "n/a".into(), class: "na", title: reason.unwrap_or("null").to_string() },
        Some(other) => Cell { text: format::shorten(&format::value_text(other), 60), class: "", title: format::value_text(other) },
        None => Cell { text: "—".into(), class: "na", title: "absent".into() },
    }
}

/// Flattens a baseline node into `section.key` entries, in the order first seen.
fn baseline_keys(node: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    for (key, value) in node.as_object().into_iter().flatten() {
        match value {
            Value::Object(inner) if key != "not_applicable" => {
                keys.extend(inner.keys().filter(|k| !k.starts_with('_')).map(|k| format!("{key}.{k}")));
            }
            Value::Object(_) => {}
            _ => keys.push(key.clone()),
        }
    }
    keys
}

fn baseline_view(baseline: &Value) -> BaselineView {
    let nodes: Vec<&Value> = baseline["per_node"].as_array().map(|n| n.iter().collect()).unwrap_or_default();
    let mut keys: Vec<String> = Vec::new();
    for node in &nodes {
        for key in baseline_keys(node) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    let rows = keys
        .iter()
        .map(|key| {
            let pointer = format!("/{}", key.replace('.', "/"));
            let mut reasons: Vec<String> = Vec::new();
            let cells = nodes
                .iter()
                .map(|node| {
                    let reason = node["not_applicable"][key.as_str()].as_str();
                    if let Some(reason) = reason
                        && !reasons.iter().any(|r| r == reason)
                    {
                        reasons.push(reason.to_string());
                    }
                    baseline_cell(node.pointer(&pointer), reason)
                })
                .collect();
            BaselineRow { key: key.clone(), cells, not_applicable: reasons.join(" / ") }
        })
        .collect();
    let (verdict, class) = match baseline["baseline_pass"].as_bool() {
        Some(true) => ("BASELINE OK", "pass"),
        Some(false) => ("BASELINE VIOLATION", "fail"),
        None => ("BASELINE UNKNOWN", "unknown"),
    };
    BaselineView {
        verdict,
        class,
        nodes: nodes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let index = n["node_index"].as_str().map(str::to_string).unwrap_or_else(|| (i + 1).to_string());
                match n["agent_id"].as_str() {
                    Some(agent) => format!("node-{index} ({agent})"),
                    None => format!("node-{index}"),
                }
            })
            .collect(),
        rows,
        raw: Shown::of(&serde_json::to_string_pretty(baseline).unwrap_or_default()),
    }
}

fn f3_view(f3: &Value) -> F3View {
    let (verdict, class) = match f3["pass"].as_bool() {
        Some(true) => ("F3 OK", "pass"),
        Some(false) => ("F3 FAILED", "fail"),
        None => ("F3 UNKNOWN", "unknown"),
    };
    let listed = ["canary_uuid", "canary_namespace", "writer_agent", "amesh_write_http_code", "amesh_convergence_ms", "topology", "description"];
    let facts = listed
        .iter()
        .filter_map(|key| f3.get(*key).map(|v| Entry { key: key.to_string(), value: Shown::of(&format::value_text(v)) }))
        .collect();
    let peers = f3["peers_seen"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(node, seen)| {
            let mut cell = baseline_cell(Some(seen), f3["not_applicable"][node].as_str());
            cell.title = node.clone();
            cell
        })
        .collect();
    let not_applicable = f3["not_applicable"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, reason)| Entry { key: key.clone(), value: Shown::of(&format::value_text(reason)) })
        .collect();
    F3View { verdict, class, facts, peers, not_applicable, raw: Shown::of(&serde_json::to_string_pretty(f3).unwrap_or_default()) }
}

fn nodes(meta: &Option<Value>) -> Vec<NodeView> {
    let Some(nodes) = meta.as_ref().and_then(|m| m.pointer("/infra/nodes")).and_then(Value::as_array) else { return Vec::new() };
    nodes
        .iter()
        .map(|n| NodeView {
            index: format::value_text(&n["index"]),
            name: n["name"].as_str().unwrap_or_default().to_string(),
            role: n["role"].as_str().unwrap_or_default().to_string(),
            agent_id: n["agent_id"].as_str().unwrap_or("—").to_string(),
            address: n["private_ip"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

fn page(artifacts: &CampaignArtifacts) -> Page {
    let trace = CampaignTrace::read(&artifacts.history);
    let anchors = anchors(&artifacts.scenarios);
    let anchor_of: BTreeMap<&str, &str> = artifacts.scenarios.iter().zip(&anchors).map(|(s, a)| (s.id.as_str(), a.as_str())).collect();
    let scenarios: Vec<ScenarioView> = artifacts
        .scenarios
        .iter()
        .zip(anchors.iter())
        .map(|(s, anchor)| scenario_view(s, anchor.clone(), trace.scenario(&s.id)))
        .collect();
    let verdict_of = |id: &str| artifacts.scenarios.iter().find(|s| s.id == id).map(|s| class_of(s.verdict).to_string());
    let mut timeline = timeline::build(&trace, verdict_of);
    if let Some(timeline) = timeline.as_mut() {
        for row in &mut timeline.rows {
            row.scenario = row.scenario.as_deref().and_then(|id| anchor_of.get(id)).map(|a| a.to_string());
        }
    }

    let (verdict, class) = match (&artifacts.summary, artifacts.interrupted(), artifacts.overall_pass()) {
        (_, true, _) => ("INTERRUPTED", "fail"),
        (_, false, true) => ("PASS", "pass"),
        (Some(_), false, false) => ("FAIL", "fail"),
        (None, false, false) => ("FAIL (NO SUMMARY)", "fail"),
    };
    let campaign_reasons = artifacts
        .summary
        .as_ref()
        .and_then(|s| s["reasons"].as_array())
        .map(|r| r.iter().map(|reason| format::printable(&format::value_text(reason))).collect())
        .unwrap_or_default();
    Page {
        campaign: artifacts.name.clone(),
        verdict,
        class,
        interrupted: artifacts.interrupted(),
        has_summary: artifacts.summary.is_some(),
        facts: header_facts(artifacts, &trace),
        counts: Counts {
            total: artifacts.scenarios.len(),
            passed: artifacts.count(ReadVerdict::Pass),
            failed: artifacts.count(ReadVerdict::Fail),
            skipped: artifacts.count(ReadVerdict::Skip),
            unknown: artifacts.count(ReadVerdict::Unknown),
        },
        campaign_reasons,
        problems: artifacts.problems.clone(),
        scenarios,
        timeline,
        baseline: artifacts.baseline.as_ref().map(baseline_view),
        f3: artifacts.f3.as_ref().map(f3_view),
        nodes: nodes(&artifacts.meta),
        artifacts: artifacts
            .files
            .iter()
            .filter(|f| f.path != "index.html")
            .map(|f| ArtifactView { path: f.path.clone(), href: href(&f.path), size: size_text(f.bytes) })
            .collect(),
        amesh_version: env!("CARGO_PKG_VERSION"),
    }
}

/// Renders `index.html` for the folder.
pub fn render(artifacts: &CampaignArtifacts) -> Result<String> {
    let mut tera = tera::Tera::new();
    tera.add_raw_templates([("style.css", STYLE_TEMPLATE), ("index.html", INDEX_TEMPLATE)])
        .context("the built-in report templates do not compile")?;
    let context = tera::Context::from_serialize(&page(artifacts)).context("failed to prepare the report data")?;
    tera.render("index.html", &context).context("failed to render index.html")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn artifacts_with(reports: &[Value]) -> CampaignArtifacts {
        let dir = tempfile::tempdir().unwrap();
        for report in reports {
            let id = report["scenario"].as_str().unwrap();
            std::fs::write(dir.path().join(format!("scenario-{id}.json")), report.to_string()).unwrap();
            std::fs::write(dir.path().join(format!("scenario-{id}.log")), format!("log of {id} <b>bold</b>\n")).unwrap();
        }
        CampaignArtifacts::load(dir.path()).unwrap()
    }

    #[test]
    fn hostile_text_is_escaped() {
        let artifacts = artifacts_with(&[json!({
            "scenario": "t-x", "pass": false, "skipped": false,
            "reasons": ["<script>alert(1)</script>"], "payload": "<img src=x onerror=alert(2)>",
        })]);
        let html = render(&artifacts).unwrap();
        assert!(!html.contains("<script>alert(1)"), "reason is not escaped");
        assert!(!html.contains("<img src=x"), "field is not escaped");
        assert!(!html.contains("<b>bold</b>"), "log is not escaped");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;") || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    }

    #[test]
    fn failing_row_shows_fail() {
        let artifacts = artifacts_with(&[
            json!({ "scenario": "2", "pass": false, "skipped": false, "reasons": ["broke"] }),
            json!({ "scenario": "1", "pass": true, "skipped": false, "reasons": [] }),
        ]);
        let html = render(&artifacts).unwrap();
        let row_of = |id: &str| {
            let start = html.find(&format!("<tr class=\"scenario-row\" data-scenario=\"{id}\"")).expect("row exists");
            html[start..start + html[start..].find("</tr>").unwrap()].to_string()
        };
        assert!(row_of("2").contains(">FAIL<"), "{}", row_of("2"));
        assert!(row_of("2").contains("broke"));
        assert!(row_of("1").contains(">PASS<"));
        assert!(html.find("data-scenario=\"1\"").unwrap() < html.find("data-scenario=\"2\"").unwrap());
    }

    #[test]
    fn long_log_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("scenario-1.json"), r#"{"scenario":"1","pass":true,"skipped":false}"#).unwrap();
        std::fs::write(dir.path().join("scenario-1.log"), "x".repeat(10_000)).unwrap();
        let html = render(&CampaignArtifacts::load(dir.path()).unwrap()).unwrap();
        assert!(!html.contains(&"x".repeat(crate::client::history::BODY_LIMIT + 1)));
        assert!(html.contains("first 4096 of 10000 bytes shown"));
    }

    #[test]
    fn links_encode_unsafe_characters() {
        assert_eq!(href("nodes/node-1.log"), "nodes/node-1.log");
        assert_eq!(href("scenario-a #1?.json"), "scenario-a%20%231%3F.json");
    }

    #[test]
    fn anchors_are_unique_and_safe() {
        let artifacts = artifacts_with(&[
            json!({ "scenario": "a b", "pass": true, "skipped": false }),
            json!({ "scenario": "a_b", "pass": true, "skipped": false }),
        ]);
        assert_eq!(anchors(&artifacts.scenarios), ["s-a_b", "s-a_b-2"]);
    }
}
