//! `index.html`: a self-contained page rendered by tera from templates compiled into the
//! binary. Every value a scenario produced reaches the page through tera's HTML autoescaping,
//! and bodies, logs and reports are cut to `BODY_LIMIT` bytes.

mod attest;
mod scenario;

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context as _, Result};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;

use super::artifacts::{CampaignArtifacts, ReadVerdict, ScenarioArtifact};
use super::format;
use super::timeline::{self, Timeline};
use super::trace::CampaignTrace;
use attest::{BaselineView, F3View, NodeView};
use scenario::ScenarioView;

const INDEX_TEMPLATE: &str = include_str!("../templates/index.html");
const STYLE_TEMPLATE: &str = include_str!("../templates/style.css");

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

/// A named value from a report or artifact.
#[derive(Serialize)]
struct Entry {
    key: String,
    value: Shown,
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

fn page(artifacts: &CampaignArtifacts) -> Page {
    let trace = CampaignTrace::read(&artifacts.history);
    let anchors = anchors(&artifacts.scenarios);
    let anchor_of: BTreeMap<&str, &str> = artifacts.scenarios.iter().zip(&anchors).map(|(s, a)| (s.id.as_str(), a.as_str())).collect();
    let scenarios: Vec<ScenarioView> = artifacts
        .scenarios
        .iter()
        .zip(anchors.iter())
        .map(|(s, anchor)| scenario::scenario_view(s, anchor.clone(), trace.scenario(&s.id)))
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
        baseline: artifacts.baseline.as_ref().map(attest::baseline_view),
        f3: artifacts.f3.as_ref().map(attest::f3_view),
        nodes: attest::nodes(&artifacts.meta),
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
