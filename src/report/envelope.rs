//! The scenario report: upstream's one-line envelope plus amesh's timing fields.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One `eventually` wait as the report lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Convergence {
    pub what: String,
    pub ms: u64,
    pub timeout_ms: u64,
    pub met: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

/// Everything a scenario run produced, before it becomes JSON.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub id: String,
    pub title: Option<String>,
    pub verdict: Verdict,
    /// Failed checks and errors, in order; empty for a pass.
    pub reasons: Vec<String>,
    /// The reason for a skip.
    pub skip_reason: Option<String>,
    pub fields: Map<String, Value>,
    pub duration_ms: u64,
    pub convergence: Vec<Convergence>,
    pub log: String,
}

/// Builds the report object: the scenario's fields, then the envelope keys, which win over a
/// field of the same name. Keys come out sorted because serde_json's map is ordered.
pub fn envelope(result: &ScenarioResult, agent_group: &str, tls_mode: &str) -> Value {
    let mut object = result.fields.clone();
    let convergence_ms: u64 = result.convergence.iter().map(|c| c.ms).sum();
    let convergence_max_ms = result.convergence.iter().map(|c| c.ms).max().unwrap_or(0);

    object.insert("scenario".into(), json!(result.id));
    object.insert("agent_group".into(), json!(agent_group));
    object.insert("tls_mode".into(), json!(tls_mode));
    object.insert("duration_ms".into(), json!(result.duration_ms));
    object.insert("convergence".into(), json!(result.convergence));
    object.insert("convergence_ms".into(), json!(convergence_ms));
    object.insert("convergence_max_ms".into(), json!(convergence_max_ms));
    object.insert("amesh_version".into(), json!(env!("CARGO_PKG_VERSION")));

    match result.verdict {
        Verdict::Skip => {
            object.insert("pass".into(), Value::Null);
            object.insert("skipped".into(), json!(true));
            object.insert("reason".into(), json!(result.skip_reason.clone().unwrap_or_default()));
            object.remove("reasons");
        }
        Verdict::Pass | Verdict::Fail => {
            object.insert("pass".into(), json!(result.verdict == Verdict::Pass));
            object.insert("skipped".into(), json!(false));
            object.insert("reasons".into(), json!(result.reasons));
            if result.reasons.is_empty() {
                object.remove("reason");
            } else {
                object.insert("reason".into(), json!(result.reasons.join("; ")));
            }
        }
    }
    Value::Object(object)
}

/// Builds the fields of a `scenario_end` history event: the declared title (the envelope has
/// none), the verdict, the duration and the whole report.
pub fn scenario_end_fields(result: &ScenarioResult, report: Value) -> Value {
    json!({
        "title": result.title,
        "verdict": result.verdict,
        "duration_ms": result.duration_ms,
        "report": report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(verdict: Verdict, reasons: &[&str]) -> ScenarioResult {
        ScenarioResult {
            id: "40".into(),
            title: None,
            verdict,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
            skip_reason: (verdict == Verdict::Skip).then(|| "no libfaketime".to_string()),
            fields: Map::new(),
            duration_ms: 12,
            convergence: vec![
                Convergence { what: "a".into(), ms: 30, timeout_ms: 1000, met: true },
                Convergence { what: "b".into(), ms: 50, timeout_ms: 1000, met: true },
            ],
            log: String::new(),
        }
    }

    #[test]
    fn pass_has_no_reason_key() {
        let value = envelope(&result(Verdict::Pass, &[]), "mcp", "off");
        assert_eq!(value["pass"], true);
        assert_eq!(value["skipped"], false);
        assert!(value.get("reason").is_none());
        assert_eq!(value["reasons"], json!([]));
        assert_eq!(value["convergence_ms"], 80);
        assert_eq!(value["convergence_max_ms"], 50);
    }

    #[test]
    fn failure_joins_reasons() {
        let value = envelope(&result(Verdict::Fail, &["x", "y"]), "mcp", "off");
        assert_eq!(value["pass"], false);
        assert_eq!(value["reason"], "x; y");
    }

    #[test]
    fn skip_is_null_pass_without_reasons() {
        let value = envelope(&result(Verdict::Skip, &[]), "mcp", "off");
        assert_eq!(value["pass"], Value::Null);
        assert_eq!(value["skipped"], true);
        assert_eq!(value["reason"], "no libfaketime");
        assert!(value.get("reasons").is_none());
    }
}
