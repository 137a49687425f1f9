//! The human log of one scenario: kept for `scenario-<id>.log` and echoed to stderr.

use std::cell::RefCell;

pub struct ScenarioLog {
    stem: String,
    id: RefCell<Option<String>>,
    lines: RefCell<Vec<String>>,
}

impl ScenarioLog {
    /// A log for the scenario file `stem` until the script declares its id.
    pub fn new(stem: &str) -> Self {
        Self { stem: stem.to_string(), id: RefCell::new(None), lines: RefCell::new(Vec::new()) }
    }

    pub fn stem(&self) -> &str {
        &self.stem
    }

    pub fn set_id(&self, id: &str) {
        *self.id.borrow_mut() = Some(id.to_string());
    }

    /// Appends a line (several when `text` has newlines) and shows it on stderr.
    pub fn line(&self, text: &str) {
        let id = self.id.borrow().clone().unwrap_or_else(|| self.stem.clone());
        for line in text.lines() {
            tracing::info!(target: "amesh::scenario", "[{id}] {line}");
            self.lines.borrow_mut().push(line.to_string());
        }
    }

    /// The whole log as file text.
    pub fn text(&self) -> String {
        let lines = self.lines.borrow();
        let mut text = lines.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }
}
