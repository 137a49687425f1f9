//! Splits `history.jsonl` into one slice per scenario, between its `scenario_start` and
//! `scenario_end` lines, and reads the checks, waits and fault windows of each slice.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// Parses an event's `ts`.
pub fn timestamp(event: &Value) -> Option<DateTime<Utc>> {
    event["ts"].as_str().and_then(|ts| DateTime::parse_from_rfc3339(ts).ok()).map(|ts| ts.with_timezone(&Utc))
}

/// Milliseconds from `from` to `to`, zero when `to` is earlier.
pub fn ms_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    (to - from).num_milliseconds().max(0) as u64
}

/// The history of one scenario run.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The report id from `scenario_end`, else the `scenario` of `scenario_start`.
    pub id: String,
    pub title: Option<String>,
    /// `pass`, `fail` or `skip` from `scenario_end`; `None` when the run never ended.
    pub verdict: Option<String>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// The lines between start and end.
    pub events: Vec<Value>,
}

/// One `eventually` wait or fixed `settle` window.
#[derive(Debug, Clone)]
pub struct Wait {
    pub what: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub met: bool,
    /// A fixed window (`settle`) rather than a poll.
    pub settle: bool,
}

/// The time a fault was in effect on a node: from the applying event (pause, kill, clock
/// offset, isolate) to the event that undid it, or the end of the scenario.
#[derive(Debug, Clone)]
pub struct FaultWindow {
    pub node: String,
    pub action: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The undoing action (`resume`, `healed`, ...); `None` when the scenario ended first.
    pub ended_by: Option<String>,
}

impl Trace {
    /// Events of the given kind, in order.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["kind"] == kind)
    }

    /// Returns the end of the run, or the time of its last event when it never ended.
    pub fn last_instant(&self) -> DateTime<Utc> {
        self.end.or_else(|| self.events.iter().rev().find_map(timestamp)).unwrap_or(self.start)
    }

    pub fn waits(&self) -> Vec<Wait> {
        self.of_kind("wait")
            .filter_map(|event| {
                let end = timestamp(event)?;
                let ms = event["ms"].as_u64().unwrap_or(0);
                Some(Wait {
                    what: event["what"].as_str().unwrap_or("wait").to_string(),
                    start: end - Duration::milliseconds(ms as i64),
                    end,
                    met: event["met"].as_bool().unwrap_or(true),
                    settle: event["settle"] == Value::Bool(true),
                })
            })
            .collect()
    }

    pub fn fault_windows(&self) -> Vec<FaultWindow> {
        let mut open: Vec<FaultWindow> = Vec::new();
        let mut closed = Vec::new();
        for event in self.events.iter().filter(|e| e["kind"] == "fault" || e["kind"] == "heal") {
            let (Some(at), Some(node), Some(action)) = (timestamp(event), event["node"].as_str(), event["action"].as_str()) else {
                continue;
            };
            let applied_at = at - Duration::milliseconds(event["ms"].as_u64().unwrap_or(0) as i64);
            let undoes: Option<&str> = match action {
                "resume" => Some("pause"),
                "restart" => Some("kill"),
                "restore clock" => Some("clock"),
                "reconnect" => Some("isolate"),
                "healed" => None,
                _ => {
                    open.push(FaultWindow { node: node.to_string(), action: action.to_string(), start: applied_at, end: at, ended_by: None });
                    continue;
                }
            };
            let mut index = 0;
            while index < open.len() {
                let window = &open[index];
                let matches = window.node == node && undoes.is_none_or(|kind| window.action.starts_with(kind));
                if matches {
                    let mut window = open.remove(index);
                    window.end = at;
                    window.ended_by = Some(action.to_string());
                    closed.push(window);
                } else {
                    index += 1;
                }
            }
        }
        let end = self.last_instant();
        closed.extend(open.into_iter().map(|mut w| {
            w.end = end.max(w.end);
            w
        }));
        closed.sort_by_key(|w| w.start);
        closed
    }
}

/// The whole history, split by scenario.
#[derive(Debug, Clone, Default)]
pub struct CampaignTrace {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub scenarios: Vec<Trace>,
}

impl CampaignTrace {
    /// Splits `history` at its `scenario_start` and `scenario_end` lines; lines outside a
    /// scenario (the mesh start, the baseline) belong to none.
    pub fn read(history: &[Value]) -> Self {
        let mut trace = CampaignTrace::default();
        let mut current: Option<Trace> = None;
        for event in history {
            let kind = event["kind"].as_str().unwrap_or_default();
            match kind {
                "campaign_start" => trace.start = timestamp(event),
                "campaign_end" => trace.end = timestamp(event),
                "scenario_start" => {
                    trace.scenarios.extend(current.take());
                    let Some(start) = timestamp(event) else { continue };
                    current = Some(Trace {
                        id: event["scenario"].as_str().unwrap_or("?").to_string(),
                        title: None,
                        verdict: None,
                        start,
                        end: None,
                        events: Vec::new(),
                    });
                }
                "scenario_end" => {
                    if let Some(mut scenario) = current.take() {
                        if let Some(id) = event["report"]["scenario"].as_str() {
                            scenario.id = id.to_string();
                        }
                        scenario.title = event["title"].as_str().map(str::to_string);
                        scenario.verdict = event["verdict"].as_str().map(str::to_string);
                        scenario.end = timestamp(event);
                        trace.scenarios.push(scenario);
                    }
                }
                _ => {
                    if let Some(scenario) = current.as_mut() {
                        scenario.events.push(event.clone());
                    }
                }
            }
        }
        trace.scenarios.extend(current);
        trace
    }

    /// Returns the campaign's duration from `campaign_start` to `campaign_end`, else between
    /// the meta file's `timing` stamps (whole seconds).
    pub fn duration_ms(&self, meta: Option<&Value>) -> Option<u64> {
        if let (Some(start), Some(end)) = (self.start, self.end) {
            return Some(ms_between(start, end));
        }
        let stamp = |key: &str| meta.and_then(|m| m["timing"][key].as_str()).and_then(|ts| timestamp(&serde_json::json!({ "ts": ts })));
        Some(ms_between(stamp("started_at")?, stamp("ended_at")?))
    }

    /// Returns the last run of scenario `id`.
    pub fn scenario(&self, id: &str) -> Option<&Trace> {
        self.scenarios.iter().rev().find(|t| t.id == id)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn line(ts: &str, kind: &str, extra: Value) -> Value {
        let mut event = json!({ "ts": format!("2026-01-01T00:00:{ts}Z"), "kind": kind, "scenario": "14", "node": null });
        event.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event
    }

    fn sample() -> Vec<Value> {
        vec![
            line("00.000", "campaign_start", json!({})),
            line("01.000", "scenario_start", json!({ "scenario": "stem" })),
            line("02.000", "fault", json!({ "node": "node-3", "action": "pause", "ms": 100 })),
            line("05.000", "wait", json!({ "what": "node-3 sees it", "ms": 2000, "met": true })),
            line("06.000", "fault", json!({ "node": "node-3", "action": "resume", "ms": 5 })),
            line("06.500", "fault", json!({ "node": "node-2", "action": "kill", "ms": 5 })),
            line("07.000", "check", json!({ "passed": false, "reason": "r" })),
            line("08.000", "heal", json!({ "node": "node-2", "action": "healed", "ms": 300 })),
            line("09.000", "scenario_end", json!({ "title": "Partition", "verdict": "fail", "report": { "scenario": "14" } })),
            line("10.000", "campaign_end", json!({})),
        ]
    }

    #[test]
    fn read_splits_scenarios_and_takes_report_id() {
        let trace = CampaignTrace::read(&sample());
        assert_eq!(trace.scenarios.len(), 1);
        let scenario = trace.scenario("14").expect("found by report id");
        assert_eq!(scenario.title.as_deref(), Some("Partition"));
        assert_eq!(scenario.events.len(), 6);
        assert_eq!(ms_between(trace.start.unwrap(), trace.end.unwrap()), 10_000);
    }

    #[test]
    fn fault_windows_pair_apply_and_undo() {
        let trace = CampaignTrace::read(&sample());
        let windows = trace.scenarios[0].fault_windows();
        assert_eq!(windows.len(), 2, "{windows:?}");
        assert_eq!(windows[0].action, "pause");
        assert_eq!(windows[0].ended_by.as_deref(), Some("resume"));
        assert_eq!(ms_between(windows[0].start, windows[0].end), 4_100);
        assert_eq!(windows[1].action, "kill");
        assert_eq!(windows[1].ended_by.as_deref(), Some("healed"));
    }

    #[test]
    fn waits_end_at_their_timestamp() {
        let trace = CampaignTrace::read(&sample());
        let waits = trace.scenarios[0].waits();
        assert_eq!(waits.len(), 1);
        assert_eq!(ms_between(waits[0].start, waits[0].end), 2_000);
    }

    #[test]
    fn unfinished_fault_closes_at_scenario_end() {
        let mut history = sample();
        history.remove(4);
        let windows = CampaignTrace::read(&history).scenarios[0].fault_windows();
        let pause = windows.iter().find(|w| w.action == "pause").unwrap();
        assert_eq!(pause.ended_by, None);
        assert_eq!(pause.end, timestamp(&history[7]).unwrap());
    }
}
