//! The geometry of the timeline chart: one row per scenario on a shared time axis, with its
//! convergence waits, fault windows and failed checks. The template draws it as inline SVG.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::format;
use super::trace::{CampaignTrace, ms_between, timestamp};

/// Chart width in SVG user units; the page scales it to the window.
const WIDTH: f64 = 1000.0;
/// Space for the row labels left of the plot.
const LABEL_WIDTH: f64 = 96.0;
const RIGHT_MARGIN: f64 = 16.0;
/// Space for the tick labels above the first row.
const TOP: f64 = 22.0;
const ROW_HEIGHT: f64 = 18.0;
const BAR_HEIGHT: f64 = 10.0;
const BAND_HEIGHT: f64 = ROW_HEIGHT - 2.0;
const WAIT_HEIGHT: f64 = 4.0;
/// Narrowest bar drawn, so a 5 ms scenario stays visible on a 10 min axis.
const MIN_WIDTH: f64 = 2.0;

/// A horizontal span with a tooltip.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub x: f64,
    pub width: f64,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    pub x: f64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The scenario id, or a phase name such as `setup`.
    pub label: String,
    /// The scenario id this row links to, when it is a scenario.
    pub scenario: Option<String>,
    /// `pass`, `fail`, `skip`, `unknown` or `phase`.
    pub class: String,
    /// The top of the row.
    pub y: f64,
    pub bar_y: f64,
    pub text_y: f64,
    /// The top of the fault bands, a little inside the row.
    pub band_y: f64,
    /// The bottom of failed-check marks.
    pub mark_bottom: f64,
    /// The top of the wait spans, centred on the bar.
    pub wait_y: f64,
    pub bar: Span,
    pub waits: Vec<Span>,
    pub faults: Vec<Span>,
    /// x positions of failed checks.
    pub failed_checks: Vec<Span>,
}

/// Everything the template needs to draw the chart.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub width: f64,
    pub height: f64,
    pub plot_left: f64,
    pub plot_right: f64,
    /// The right edge of the row labels.
    pub label_x: f64,
    pub bar_height: f64,
    pub band_height: f64,
    pub wait_height: f64,
    pub ticks: Vec<Tick>,
    pub rows: Vec<Row>,
    pub total: String,
    pub fault_count: usize,
    pub wait_count: usize,
}

struct Axis {
    origin: DateTime<Utc>,
    total_ms: u64,
}

impl Axis {
    fn x(&self, at: DateTime<Utc>) -> f64 {
        let fraction = ms_between(self.origin, at).min(self.total_ms) as f64 / self.total_ms as f64;
        round(LABEL_WIDTH + fraction * (WIDTH - LABEL_WIDTH - RIGHT_MARGIN))
    }

    fn span(&self, from: DateTime<Utc>, to: DateTime<Utc>, title: String) -> Span {
        let x = self.x(from);
        let width = round((self.x(to) - x).max(MIN_WIDTH));
        Span { x, width, title }
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Picks a tick step of 1, 2 or 5 times a power of ten that gives at most about 10 ticks.
fn tick_step(total_ms: u64) -> u64 {
    let rough = (total_ms / 10).max(1);
    let mut magnitude = 1u64;
    while magnitude * 10 <= rough {
        magnitude *= 10;
    }
    [1, 2, 5, 10].into_iter().map(|m| m * magnitude).find(|step| *step >= rough).unwrap_or(magnitude * 10)
}

fn tick_label(ms: u64, step: u64) -> String {
    match step {
        _ if ms == 0 => "0".to_string(),
        s if s % 60_000 == 0 => format!("{} min", ms / 60_000),
        s if s % 1000 == 0 => format!("{} s", ms / 1000),
        s if s >= 100 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{ms} ms"),
    }
}

/// Builds the chart, or `None` when the history has no scenario. `verdict_of` returns the
/// class of a scenario's row from its report (the history's verdict is the fallback).
pub fn build(trace: &CampaignTrace, verdict_of: impl Fn(&str) -> Option<String>) -> Option<Timeline> {
    let first = trace.scenarios.first()?;
    let origin = trace.start.unwrap_or(first.start).min(first.start);
    let end = trace
        .scenarios
        .iter()
        .map(|s| s.last_instant())
        .chain(trace.end)
        .max()
        .unwrap_or(first.start);
    let axis = Axis { origin, total_ms: ms_between(origin, end).max(1) };

    let mut rows = Vec::new();
    let mut row_top = TOP;
    let mut push_row = |mut row: Row| {
        row.y = row_top;
        row.bar_y = round(row_top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0);
        row.text_y = round(row_top + ROW_HEIGHT / 2.0 + 4.0);
        row.band_y = row_top + 1.0;
        row.mark_bottom = row_top + ROW_HEIGHT - 1.0;
        row.wait_y = round(row_top + (ROW_HEIGHT - WAIT_HEIGHT) / 2.0);
        row_top += ROW_HEIGHT;
        rows.push(row);
    };

    if ms_between(origin, first.start) > 0 {
        let title = format!("mesh start, baseline and F3 canary: {}", format::duration(ms_between(origin, first.start)));
        push_row(phase_row("setup", axis.span(origin, first.start, title)));
    }
    let mut fault_count = 0;
    let mut wait_count = 0;
    for scenario in &trace.scenarios {
        let end = scenario.last_instant();
        let class = verdict_of(&scenario.id).or_else(|| scenario.verdict.clone()).unwrap_or_else(|| "unknown".into());
        let name = match &scenario.title {
            Some(title) => format::printable(&format!("{} {title}", scenario.id)),
            None => format::printable(&scenario.id),
        };
        let bar = axis.span(scenario.start, end, format!("{name}: {} ({})", class.to_uppercase(), format::duration(ms_between(scenario.start, end))));
        let waits: Vec<Span> = scenario
            .waits()
            .into_iter()
            .map(|w| {
                let outcome = if w.settle { "fixed window" } else if w.met { "met" } else { "timed out" };
                let what = format::printable(&w.what);
                axis.span(w.start, w.end, format!("wait: {what} ({}, {outcome})", format::duration(ms_between(w.start, w.end))))
            })
            .collect();
        let faults: Vec<Span> = scenario
            .fault_windows()
            .into_iter()
            .map(|f| {
                let ended = f.ended_by.as_deref().map(|by| format!(", until {by}")).unwrap_or_default();
                axis.span(f.start, f.end, format!("fault: {} {} for {}{ended}", f.action, f.node, format::duration(ms_between(f.start, f.end))))
            })
            .collect();
        let failed_checks: Vec<Span> = scenario
            .of_kind("check")
            .filter(|c| c["passed"] == false)
            .filter_map(|c| {
                let at = timestamp(c)?;
                let reason = format::printable(c["reason"].as_str().unwrap_or_default());
                Some(Span { x: axis.x(at), width: 0.0, title: format!("failed check: {reason}") })
            })
            .collect();
        fault_count += faults.len();
        wait_count += waits.len();
        push_row(Row {
            label: format::shorten(&format::printable(&scenario.id), 12),
            scenario: Some(scenario.id.clone()),
            class,
            y: 0.0,
            bar_y: 0.0,
            text_y: 0.0,
            band_y: 0.0,
            mark_bottom: 0.0,
            wait_y: 0.0,
            bar,
            waits,
            faults,
            failed_checks,
        });
    }

    let step = tick_step(axis.total_ms);
    let ticks = (0..=axis.total_ms / step)
        .map(|i| i * step)
        .map(|ms| Tick { x: round(axis.x(origin + chrono::Duration::milliseconds(ms as i64))), label: tick_label(ms, step) })
        .collect();
    Some(Timeline {
        width: WIDTH,
        height: row_top + 6.0,
        plot_left: LABEL_WIDTH,
        plot_right: WIDTH - RIGHT_MARGIN,
        label_x: LABEL_WIDTH - 6.0,
        bar_height: BAR_HEIGHT,
        band_height: BAND_HEIGHT,
        wait_height: WAIT_HEIGHT,
        ticks,
        rows,
        total: format::duration(axis.total_ms),
        fault_count,
        wait_count,
    })
}

fn phase_row(label: &str, bar: Span) -> Row {
    Row {
        label: label.to_string(),
        scenario: None,
        class: "phase".into(),
        y: 0.0,
        bar_y: 0.0,
        text_y: 0.0,
        band_y: 0.0,
        mark_bottom: 0.0,
        wait_y: 0.0,
        bar,
        waits: Vec::new(),
        faults: Vec::new(),
        failed_checks: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn line(seconds: u32, kind: &str, extra: Value) -> Value {
        let mut event = json!({ "ts": format!("2026-01-01T00:00:{seconds:02}.000Z"), "kind": kind, "scenario": "s", "node": null });
        event.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        event
    }

    #[test]
    fn rows_follow_scenarios_on_one_axis() {
        let history = vec![
            line(0, "campaign_start", json!({})),
            line(10, "scenario_start", json!({})),
            line(14, "wait", json!({ "what": "w", "ms": 2000, "met": true })),
            line(15, "fault", json!({ "node": "node-3", "action": "pause", "ms": 0 })),
            line(20, "scenario_end", json!({ "verdict": "fail", "report": { "scenario": "14" } })),
            line(20, "scenario_start", json!({})),
            line(30, "scenario_end", json!({ "verdict": "pass", "report": { "scenario": "15" } })),
            line(40, "campaign_end", json!({})),
        ];
        let timeline = build(&CampaignTrace::read(&history), |_| None).expect("a chart");

        assert_eq!(timeline.rows.len(), 3);
        assert_eq!(timeline.rows[0].class, "phase");
        assert_eq!(timeline.rows[1].class, "fail");
        let plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN;
        assert_eq!(timeline.rows[1].bar.x, round(LABEL_WIDTH + plot / 4.0));
        assert_eq!(timeline.rows[1].bar.width, round(plot / 4.0));
        assert_eq!(timeline.rows[1].waits.len(), 1);
        assert_eq!(timeline.rows[1].faults.len(), 1, "an open fault ends with its scenario");
        assert_eq!(timeline.rows[1].faults[0].width, round(plot / 8.0));
        assert_eq!(timeline.fault_count, 1);
        assert!(timeline.rows[2].y > timeline.rows[1].y);
        assert_eq!(timeline.ticks.first().map(|t| t.label.as_str()), Some("0"));
        assert_eq!(timeline.ticks.last().map(|t| t.label.as_str()), Some("40 s"));
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(40_000), 5_000);
        assert_eq!(tick_step(75_000), 10_000);
        assert_eq!(tick_step(900), 100);
        assert_eq!(tick_step(1), 1);
    }

    #[test]
    fn no_scenarios_no_chart() {
        assert!(build(&CampaignTrace::read(&[]), |_| None).is_none());
    }
}
