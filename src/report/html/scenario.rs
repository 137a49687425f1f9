//! The summary row and the section of one scenario: checks, fields, waits, faults, log, report
//! and history events.

use serde::Serialize;
use serde_json::Value;

use super::{Entry, Shown, class_of, href};
use crate::report::artifacts::{ReadVerdict, ScenarioArtifact};
use crate::report::format;
use crate::report::trace::{Trace, ms_between, timestamp};

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
pub(super) struct CheckView {
    passed: bool,
    reason: String,
}

#[derive(Serialize)]
pub(super) struct WaitView {
    what: String,
    duration: String,
    timeout: String,
    met: bool,
}

#[derive(Serialize)]
pub(super) struct FaultView {
    node: String,
    action: String,
    at: String,
    duration: String,
    ended_by: String,
}

#[derive(Serialize)]
pub(super) struct ExchangeView {
    at: String,
    kind: String,
    node: String,
    summary: String,
    body: Option<Shown>,
}

#[derive(Serialize)]
pub(super) struct ScenarioView {
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

pub(super) fn scenario_view(scenario: &ScenarioArtifact, anchor: String, trace: Option<&Trace>) -> ScenarioView {
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
