//! The event stream of a run: every `history.jsonl` line is also handed to an [`EventSink`],
//! which turns the campaign, scenario, check, fault and wait lines into terminal output.

use serde_json::{Map, Value, json};

/// Receives every history event right after it is written to `history.jsonl`, in file order.
///
/// `History::record` calls it while it holds the history lock, so an implementation must be
/// quick and must never record history itself.
pub trait EventSink: Send + Sync {
    fn event(&self, event: &Value);
}

/// History kinds that the NDJSON stream (`--output json`) publishes. Requests and responses
/// stay in `history.jsonl` only.
pub const STREAM_EVENTS: [&str; 7] = ["campaign_start", "scenario_start", "check", "fault", "wait", "scenario_end", "campaign_end"];

/// Converts a history line into a stream event: `kind` becomes `event`, `campaign` is added,
/// and a `heal` line becomes a `fault` event whose `phase` is `heal`. Returns `None` for kinds
/// the stream does not publish (requests and responses).
pub fn stream_event(campaign: &str, line: &Value) -> Option<Value> {
    let Value::Object(fields) = line else { return None };
    let kind = fields.get("kind").and_then(Value::as_str)?;
    let (event, phase) = match kind {
        "heal" => ("fault", Some("heal")),
        "fault" => ("fault", Some("apply")),
        other if STREAM_EVENTS.contains(&other) => (other, None),
        _ => return None,
    };

    let mut out = Map::new();
    out.insert("event".into(), json!(event));
    out.insert("ts".into(), fields.get("ts").cloned().unwrap_or(Value::Null));
    out.insert("campaign".into(), json!(campaign));
    out.insert("scenario".into(), fields.get("scenario").cloned().unwrap_or(Value::Null));
    if let Some(phase) = phase {
        out.insert("phase".into(), json!(phase));
    }
    for (key, value) in fields {
        if !matches!(key.as_str(), "kind" | "ts" | "scenario") {
            out.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_event_renames_kind_and_adds_campaign() {
        let line = json!({ "ts": "t", "scenario": "15", "node": null, "kind": "check", "passed": false, "reason": "r" });
        let event = stream_event("c1", &line).expect("a check is published");
        assert_eq!(event["event"], "check");
        assert_eq!(event["campaign"], "c1");
        assert_eq!(event["scenario"], "15");
        assert_eq!(event["passed"], false);
        assert!(event.get("kind").is_none());
    }

    #[test]
    fn heal_becomes_fault_with_phase() {
        let line = json!({ "ts": "t", "scenario": "14", "node": "node-3", "kind": "heal", "action": "healed" });
        let event = stream_event("c1", &line).expect("a heal is published");
        assert_eq!(event["event"], "fault");
        assert_eq!(event["phase"], "heal");
        assert_eq!(event["node"], "node-3");
    }

    #[test]
    fn requests_are_not_published() {
        let line = json!({ "ts": "t", "scenario": "15", "node": "node-1", "kind": "request" });
        assert!(stream_event("c1", &line).is_none());
    }
}
