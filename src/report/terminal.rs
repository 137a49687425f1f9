//! Terminal output while scenarios run: the verdict line per scenario (or the NDJSON event
//! stream) on stdout, live progress on stderr, and a closing summary table.
//!
//! Progress is an indicatif bar when stderr is a terminal and plain lines without any control
//! sequence otherwise. Log lines from `tracing` go through [`stderr_writer`], which hides the
//! bar while a line is written so the two never mix.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use console::Style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use super::events::{EventSink, stream_event};
use super::format;

/// The format of stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON verdict line per scenario.
    Human,
    /// One JSON event per line: campaign, scenario, check, fault and wait events.
    Json,
}

/// The bar that [`stderr_writer`] hides while it writes, if one is shown.
static ACTIVE_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A writer for `tracing` that writes to stderr around the progress bar.
pub struct StderrWriter;

/// Returns the writer for `tracing_subscriber::fmt().with_writer(...)`.
pub fn stderr_writer() -> StderrWriter {
    StderrWriter
}

impl Write for StderrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = ACTIVE_BAR.lock().ok().and_then(|guard| guard.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// One row of the closing summary table.
struct Row {
    id: String,
    verdict: String,
    duration_ms: u64,
    wait_max_ms: u64,
    reason: String,
}

#[derive(Default)]
struct Progress {
    started: Option<Instant>,
    total: usize,
    position: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    rows: Vec<Row>,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn tally(&self) -> String {
        format!("{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped)
    }

    fn elapsed(&self) -> Duration {
        self.started.map(|s| s.elapsed()).unwrap_or_default()
    }
}

/// The terminal side of a run; attach it to the history with `History::with_sink`.
pub struct Terminal {
    campaign: String,
    format: OutputFormat,
    /// Only warnings and errors on stderr: no progress and no summary table.
    quiet: bool,
    /// stderr is a terminal: show a bar and use colour.
    tty: bool,
    progress: Mutex<Progress>,
    /// Unit tests collect stdout lines here instead of printing them.
    captured_stdout: Option<Mutex<Vec<String>>>,
}

impl Terminal {
    /// Output for the run or campaign `campaign`; progress goes to a bar when stderr is a
    /// terminal.
    pub fn new(campaign: &str, format: OutputFormat, quiet: bool) -> Self {
        Self::with_tty(campaign, format, quiet, std::io::stderr().is_terminal())
    }

    fn with_tty(campaign: &str, format: OutputFormat, quiet: bool, tty: bool) -> Self {
        Self {
            campaign: campaign.to_string(),
            format,
            quiet,
            tty,
            progress: Mutex::new(Progress::default()),
            captured_stdout: None,
        }
    }

    /// Scenarios passed, failed and skipped so far.
    pub fn tally(&self) -> (usize, usize, usize) {
        let progress = self.progress.lock().expect("terminal lock");
        (progress.passed, progress.failed, progress.skipped)
    }

    fn style(&self, verdict: &str) -> Style {
        let style = Style::new().force_styling(true);
        match verdict {
            _ if !self.tty => Style::new().force_styling(false),
            "PASS" => style.green().bold(),
            "FAIL" => style.red().bold(),
            _ => style.yellow().bold(),
        }
    }

    fn write_stdout(&self, progress: &Progress, line: &str) {
        if let Some(captured) = &self.captured_stdout {
            captured.lock().expect("capture lock").push(line.to_string());
            return;
        }
        let write = || {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        };
        match &progress.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    fn campaign_start(&self, progress: &mut Progress, event: &Value) {
        progress.started = Some(Instant::now());
        progress.total = event["scenarios"].as_array().map(Vec::len).unwrap_or(0);
        if !self.tty || self.quiet {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(progress.total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner:.cyan} {elapsed_precise} [{bar:24.cyan/blue}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message("starting the mesh");
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut active) = ACTIVE_BAR.lock() {
            *active = Some(bar.clone());
        }
        progress.bar = Some(bar);
    }

    fn scenario_start(&self, progress: &mut Progress, event: &Value) {
        progress.position += 1;
        let scenario = format::printable(event["scenario"].as_str().unwrap_or("?"));
        if let Some(bar) = &progress.bar {
            bar.set_message(format!("{scenario} · {}", progress.tally()));
        }
    }

    fn scenario_end(&self, progress: &mut Progress, event: &Value) {
        let report = &event["report"];
        let verdict = match event["verdict"].as_str() {
            Some("pass") => "PASS",
            Some("fail") => "FAIL",
            _ => "SKIP",
        };
        match verdict {
            "PASS" => progress.passed += 1,
            "FAIL" => progress.failed += 1,
            _ => progress.skipped += 1,
        }
        let id = format::printable(report["scenario"].as_str().unwrap_or("?"));
        let reason = report["reasons"]
            .as_array()
            .and_then(|r| r.first())
            .or_else(|| report.get("reason"))
            .and_then(Value::as_str)
            .map(format::printable)
            .unwrap_or_default();
        let duration_ms = event["duration_ms"].as_u64().unwrap_or(0);
        progress.rows.push(Row {
            id: id.clone(),
            verdict: verdict.to_string(),
            duration_ms,
            wait_max_ms: report["convergence_max_ms"].as_u64().unwrap_or(0),
            reason,
        });

        if self.format == OutputFormat::Human {
            self.write_stdout(progress, &report.to_string());
        }
        if self.quiet {
            return;
        }
        let title = event["title"].as_str().map(|t| format!(" {}", format::printable(t))).unwrap_or_default();
        let line = format!(
            "[{}/{}] {} {id}{title} in {}; {}, {} elapsed",
            progress.position,
            progress.total,
            self.style(verdict).apply_to(verdict),
            format::duration(duration_ms),
            progress.tally(),
            format::duration(progress.elapsed().as_millis() as u64),
        );
        match &progress.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
                bar.set_message(progress.tally());
            }
            None => eprintln!("{line}"),
        }
    }

    fn campaign_end(&self, progress: &mut Progress) {
        if let Some(bar) = progress.bar.take() {
            bar.finish_and_clear();
            if let Ok(mut active) = ACTIVE_BAR.lock() {
                *active = None;
            }
        }
        if !self.quiet {
            eprint!("{}", self.summary_table(progress));
        }
    }

    /// Formats the closing table: one row per scenario, then the totals.
    fn summary_table(&self, progress: &Progress) -> String {
        const REASON_CHARS: usize = 70;
        let id_width = progress.rows.iter().map(|r| r.id.chars().count()).chain([8]).max().unwrap_or(8);
        let mut table = format!("{:<id_width$}  {:<7}  {:>9}  {:>9}  reason\n", "scenario", "verdict", "duration", "max wait");
        for row in &progress.rows {
            let wait = if row.wait_max_ms == 0 { "-".to_string() } else { format::duration(row.wait_max_ms) };
            // Pad before styling: escape sequences would count as width.
            let verdict = format!("{:<7}", row.verdict);
            table.push_str(&format!(
                "{:<id_width$}  {}  {:>9}  {:>9}  {}\n",
                row.id,
                self.style(&row.verdict).apply_to(verdict),
                format::duration(row.duration_ms),
                wait,
                format::shorten(&row.reason, REASON_CHARS),
            ));
        }
        table.push_str(&format!(
            "amesh: {} of {} scenarios ran in {} ({}); campaign {}\n",
            progress.rows.len(),
            progress.total.max(progress.rows.len()),
            format::duration(progress.elapsed().as_millis() as u64),
            progress.tally(),
            self.campaign,
        ));
        table
    }
}

impl EventSink for Terminal {
    fn event(&self, event: &Value) {
        let mut progress = self.progress.lock().expect("terminal lock");
        if self.format == OutputFormat::Json
            && let Some(line) = stream_event(&self.campaign, event)
        {
            self.write_stdout(&progress, &line.to_string());
        }
        match event["kind"].as_str() {
            Some("campaign_start") => self.campaign_start(&mut progress, event),
            Some("scenario_start") => self.scenario_start(&mut progress, event),
            Some("scenario_end") => self.scenario_end(&mut progress, event),
            Some("campaign_end") => self.campaign_end(&mut progress),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn end_event(id: &str, verdict: &str, reasons: &[&str]) -> Value {
        json!({
            "kind": "scenario_end",
            "scenario": id,
            "verdict": verdict,
            "duration_ms": 1500,
            "report": { "scenario": id, "reasons": reasons, "convergence_max_ms": 40 },
        })
    }

    fn capturing(format: OutputFormat, tty: bool) -> Terminal {
        let mut terminal = Terminal::with_tty("c1", format, true, tty);
        terminal.captured_stdout = Some(Mutex::new(Vec::new()));
        terminal
    }

    fn stdout_lines(terminal: &Terminal) -> Vec<String> {
        terminal.captured_stdout.as_ref().unwrap().lock().unwrap().clone()
    }

    #[test]
    fn summary_table_lists_rows_without_escapes() {
        let terminal = capturing(OutputFormat::Json, false);
        terminal.event(&json!({ "kind": "campaign_start", "scenarios": ["1", "t-fail"] }));
        terminal.event(&end_event("1", "pass", &[]));
        terminal.event(&end_event("t-fail", "fail", &["first reason", "second"]));
        let table = terminal.summary_table(&terminal.progress.lock().unwrap());

        assert!(!table.contains('\x1b'), "{table:?}");
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[1].starts_with("1 "), "{table}");
        assert!(lines[1].contains("PASS"), "{table}");
        assert!(lines[2].contains("FAIL"), "{table}");
        assert!(lines[2].contains("first reason"), "{table}");
        assert!(lines[3].contains("1 passed, 1 failed, 0 skipped"), "{table}");
        assert!(lines[3].contains("2 of 2 scenarios"), "{table}");
    }

    #[test]
    fn human_format_prints_report_lines_only() {
        let terminal = capturing(OutputFormat::Human, false);
        terminal.event(&json!({ "kind": "campaign_start", "scenarios": ["1"] }));
        terminal.event(&json!({ "kind": "check", "scenario": "1", "passed": true }));
        terminal.event(&end_event("1", "pass", &[]));
        let lines = stdout_lines(&terminal);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let report: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(report["scenario"], "1");
    }

    #[test]
    fn json_format_streams_published_events() {
        let terminal = capturing(OutputFormat::Json, false);
        terminal.event(&json!({ "kind": "campaign_start", "ts": "t0", "scenario": null, "scenarios": ["1"] }));
        terminal.event(&json!({ "kind": "request", "ts": "t1", "scenario": "1" }));
        terminal.event(&json!({ "kind": "check", "ts": "t2", "scenario": "1", "passed": true }));
        terminal.event(&end_event("1", "pass", &[]));
        terminal.event(&json!({ "kind": "campaign_end", "ts": "t3", "scenario": null }));
        let events: Vec<Value> = stdout_lines(&terminal).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let names: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(names, ["campaign_start", "check", "scenario_end", "campaign_end"]);
        assert!(events.iter().all(|e| e["campaign"] == "c1"));
    }

    #[test]
    fn tty_colours_only_verdicts() {
        let terminal = capturing(OutputFormat::Json, true);
        terminal.event(&json!({ "kind": "campaign_start", "scenarios": ["1"] }));
        terminal.event(&end_event("1", "fail", &["broke"]));
        let table = terminal.summary_table(&terminal.progress.lock().unwrap());
        assert!(table.contains("\x1b["), "{table:?}");
    }
}
