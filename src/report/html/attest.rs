//! The baseline attestation matrix, the F3 canary and the node roster.

use serde::Serialize;
use serde_json::Value;

use super::{Entry, Shown};
use crate::report::format;

#[derive(Serialize)]
pub(super) struct Cell {
    text: String,
    class: &'static str,
    title: String,
}

#[derive(Serialize)]
pub(super) struct BaselineRow {
    key: String,
    cells: Vec<Cell>,
    not_applicable: String,
}

#[derive(Serialize)]
pub(super) struct BaselineView {
    verdict: &'static str,
    class: &'static str,
    nodes: Vec<String>,
    rows: Vec<BaselineRow>,
    raw: Shown,
}

#[derive(Serialize)]
pub(super) struct F3View {
    verdict: &'static str,
    class: &'static str,
    facts: Vec<Entry>,
    peers: Vec<Cell>,
    not_applicable: Vec<Entry>,
    raw: Shown,
}

#[derive(Serialize)]
pub(super) struct NodeView {
    index: String,
    name: String,
    role: String,
    agent_id: String,
    address: String,
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

pub(super) fn baseline_view(baseline: &Value) -> BaselineView {
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

pub(super) fn f3_view(f3: &Value) -> F3View {
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

pub(super) fn nodes(meta: &Option<Value>) -> Vec<NodeView> {
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
