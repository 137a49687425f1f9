//! `history.jsonl`: one line per request, response, fault, heal, wait and check, plus the
//! start and end of the campaign and of each scenario, in the run folder.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::report::EventSink;

/// Bodies longer than this are cut in the history, logs and HTML; their full length and
/// SHA-256 are recorded beside them.
pub const BODY_LIMIT: usize = 4096;

/// An append-only event log shared by every part that acts on the mesh.
pub struct History {
    writer: Mutex<Option<BufWriter<File>>>,
    scenario: Mutex<Option<String>>,
    /// Terminal output that receives every event after it is written.
    sink: Option<Arc<dyn EventSink>>,
}

impl History {
    /// Opens (creating or appending) the history file.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self { writer: Mutex::new(Some(BufWriter::new(file))), scenario: Mutex::new(None), sink: None })
    }

    /// Hands every event recorded from now on to `sink` as well.
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// A history that records nothing (unit tests, the REPL without a run folder).
    pub fn disabled() -> Self {
        Self { writer: Mutex::new(None), scenario: Mutex::new(None), sink: None }
    }

    /// Sets the scenario that later events belong to.
    pub fn set_scenario(&self, scenario: Option<&str>) {
        *self.scenario.lock().expect("history lock") = scenario.map(str::to_string);
    }

    /// Appends one event and hands it to the sink. `fields` must be a JSON object; `ts`,
    /// `scenario`, `node` and `kind` are added in front of it.
    pub fn record(&self, kind: &str, node: Option<&str>, fields: Value) {
        let mut guard = self.writer.lock().expect("history lock");
        let Some(writer) = guard.as_mut() else { return };

        let mut event = Map::new();
        event.insert("ts".into(), json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        event.insert("scenario".into(), json!(*self.scenario.lock().expect("history lock")));
        event.insert("node".into(), json!(node));
        event.insert("kind".into(), json!(kind));
        if let Value::Object(extra) = fields {
            event.extend(extra);
        }
        let event = Value::Object(event);
        if let Err(err) = writeln!(writer, "{event}").and_then(|()| writer.flush()) {
            tracing::warn!("failed to write history.jsonl: {err}");
        }
        // The sink runs under the lock so that it receives events in file order.
        if let Some(sink) = &self.sink {
            sink.event(&event);
        }
    }
}

/// Describes a body for the history: at most [`BODY_LIMIT`] bytes of text, its full length in
/// bytes and its SHA-256.
pub fn body_summary(body: &[u8]) -> Value {
    let cut = truncate_utf8(body, BODY_LIMIT);
    json!({
        "body": String::from_utf8_lossy(cut),
        "body_len": body.len(),
        "body_sha256": hex::encode(Sha256::digest(body)),
        "body_truncated": cut.len() < body.len(),
    })
}

/// Cuts `bytes` to at most `limit` bytes without splitting a UTF-8 character.
pub fn truncate_utf8(bytes: &[u8], limit: usize) -> &[u8] {
    if bytes.len() <= limit {
        return bytes;
    }
    let mut end = limit;
    while end > 0 && (bytes[end] & 0b1100_0000) == 0b1000_0000 {
        end -= 1;
    }
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_characters_whole() {
        let text = "é".repeat(3000);
        let cut = truncate_utf8(text.as_bytes(), BODY_LIMIT);
        assert!(cut.len() <= BODY_LIMIT);
        assert!(std::str::from_utf8(cut).is_ok());
    }

    #[test]
    fn summary_records_length_and_hash() {
        let body = vec![b'A'; 10_000];
        let summary = body_summary(&body);
        assert_eq!(summary["body_len"], 10_000);
        assert_eq!(summary["body"].as_str().unwrap().len(), BODY_LIMIT);
        assert_eq!(summary["body_truncated"], true);
        assert_eq!(summary["body_sha256"].as_str().unwrap().len(), 64);
    }
}
