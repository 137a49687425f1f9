//! `junit.xml`: one `<testsuite>` per campaign and one `<testcase>` per scenario report, in
//! the layout CI servers read (Jenkins, GitLab, GitHub test reporters).

use std::io::Cursor;

use anyhow::{Context, Result};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::Value;

use super::artifacts::{CampaignArtifacts, ReadVerdict, ScenarioArtifact};
use super::trace::CampaignTrace;

/// Replaces characters that XML 1.0 forbids even when escaped (most C0 controls, U+FFFE and
/// U+FFFF) with U+FFFD, so a log with an escape sequence still parses.
pub fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
            _ => c,
        })
        .collect()
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn meta_str<'a>(artifacts: &'a CampaignArtifacts, pointer: &str) -> Option<&'a str> {
    artifacts.meta.as_ref().and_then(|m| m.pointer(pointer)).and_then(Value::as_str)
}

/// Returns the testcase name: the id, then the declared title when the history has one.
fn case_name(scenario: &ScenarioArtifact, trace: &CampaignTrace) -> String {
    match trace.scenario(&scenario.id).and_then(|t| t.title.as_deref()) {
        Some(title) => format!("{} {title}", scenario.id),
        None => scenario.id.clone(),
    }
}

type XmlWriter = Writer<Cursor<Vec<u8>>>;

fn write_case(writer: &mut XmlWriter, scenario: &ScenarioArtifact, trace: &CampaignTrace, suite: &str) -> std::io::Result<()> {
    let name = xml_safe(&case_name(scenario, trace));
    let classname = xml_safe(&format!("amesh.{suite}"));
    let time = seconds(scenario.duration_ms());
    let reasons: Vec<String> = scenario.reasons().iter().map(|r| xml_safe(r)).collect();
    let first = reasons.first().cloned().unwrap_or_default();
    let log = scenario.log.as_deref().map(xml_safe);

    writer
        .create_element("testcase")
        .with_attributes([("name", name.as_str()), ("classname", classname.as_str()), ("time", time.as_str())])
        .write_inner_content(|writer| {
            match scenario.verdict {
                ReadVerdict::Pass => {}
                ReadVerdict::Fail => {
                    let text = reasons.iter().map(|r| format!("{r}\n")).collect::<String>();
                    writer
                        .create_element("failure")
                        .with_attributes([("message", first.as_str()), ("type", "check")])
                        .write_text_content(BytesText::new(&text))?;
                }
                ReadVerdict::Skip => {
                    writer.create_element("skipped").with_attribute(("message", first.as_str())).write_empty()?;
                }
                ReadVerdict::Unknown => {
                    writer
                        .create_element("error")
                        .with_attributes([("message", first.as_str()), ("type", "unreadable report")])
                        .write_text_content(BytesText::new(&reasons.join("\n")))?;
                }
            }
            if let Some(log) = &log {
                writer.create_element("system-err").write_text_content(BytesText::new(log))?;
            }
            Ok(())
        })?;
    Ok(())
}

/// Renders `junit.xml` for the folder.
pub fn render(artifacts: &CampaignArtifacts) -> Result<String> {
    let trace = CampaignTrace::read(&artifacts.history);
    let suite = xml_safe(&artifacts.name);
    let tests = artifacts.scenarios.len().to_string();
    let failures = artifacts.count(ReadVerdict::Fail).to_string();
    let errors = artifacts.count(ReadVerdict::Unknown).to_string();
    let skipped = artifacts.count(ReadVerdict::Skip).to_string();
    let total_ms = trace
        .duration_ms(artifacts.meta.as_ref())
        .unwrap_or_else(|| artifacts.scenarios.iter().map(ScenarioArtifact::duration_ms).sum());
    let time = seconds(total_ms);
    let timestamp = meta_str(artifacts, "/timing/started_at").unwrap_or_default().trim_end_matches('Z').to_string();
    let hostname = xml_safe(meta_str(artifacts, "/infra/host").unwrap_or("localhost"));
    let properties: Vec<(&str, String)> = [
        ("ai_memory_git_ref", meta_str(artifacts, "/ai_memory_git_ref")),
        ("backend", meta_str(artifacts, "/amesh/backend")),
        ("tls_mode", meta_str(artifacts, "/amesh/tls_mode")),
        ("agent_group", meta_str(artifacts, "/agent_group")),
        ("amesh_version", meta_str(artifacts, "/amesh/version")),
        ("interrupted", Some(if artifacts.interrupted() { "true" } else { "false" })),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key, xml_safe(v))))
    .collect();

    let mut writer = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let counts = [("tests", tests.as_str()), ("failures", failures.as_str()), ("errors", errors.as_str()), ("skipped", skipped.as_str()), ("time", time.as_str())];
    writer
        .create_element("testsuites")
        .with_attribute(("name", "amesh"))
        .with_attributes(counts)
        .write_inner_content(|writer| {
            let mut suite_attributes = vec![("name", suite.as_str())];
            suite_attributes.extend(counts);
            if !timestamp.is_empty() {
                suite_attributes.push(("timestamp", timestamp.as_str()));
            }
            suite_attributes.push(("hostname", hostname.as_str()));
            writer.create_element("testsuite").with_attributes(suite_attributes).write_inner_content(|writer| {
                writer.create_element("properties").write_inner_content(|writer| {
                    for (key, value) in &properties {
                        writer.create_element("property").with_attributes([("name", *key), ("value", value.as_str())]).write_empty()?;
                    }
                    Ok(())
                })?;
                for scenario in &artifacts.scenarios {
                    write_case(writer, scenario, &trace, &suite)?;
                }
                Ok(())
            })?;
            Ok(())
        })
        .context("failed to write junit.xml")?;
    let mut xml = String::from_utf8(writer.into_inner().into_inner()).context("junit.xml is not UTF-8")?;
    xml.push('\n');
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> CampaignArtifacts {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        CampaignArtifacts::load(dir.path()).unwrap()
    }

    #[test]
    fn xml_safe_replaces_forbidden_controls() {
        assert_eq!(xml_safe("a\u{1}b\tc\u{1b}[31m"), "a\u{fffd}b\tc\u{fffd}[31m");
    }

    #[test]
    fn cases_carry_failure_skip_and_log() {
        let artifacts = load(&[
            ("scenario-1.json", r#"{"scenario":"1","pass":true,"skipped":false,"duration_ms":1500}"#),
            ("scenario-2.json", r#"{"scenario":"2","pass":false,"skipped":false,"reasons":["first <b>", "second & \u0001"]}"#),
            ("scenario-2.log", "log line <x>\n"),
            ("scenario-3.json", r#"{"scenario":"3","pass":null,"skipped":true,"reason":"no libfaketime"}"#),
        ]);
        let xml = render(&artifacts).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|err| panic!("{err}:\n{xml}"));

        let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
        assert_eq!(suite.attribute("tests"), Some("3"));
        assert_eq!(suite.attribute("failures"), Some("1"));
        assert_eq!(suite.attribute("skipped"), Some("1"));
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].attribute("time"), Some("1.500"));

        let failure = cases[1].children().find(|n| n.has_tag_name("failure")).unwrap();
        assert_eq!(failure.attribute("message"), Some("first <b>"));
        let text = failure.text().unwrap();
        assert!(text.contains("first <b>"), "{text}");
        assert!(text.contains("second & \u{fffd}"), "{text}");
        let log = cases[1].children().find(|n| n.has_tag_name("system-err")).unwrap();
        assert_eq!(log.text(), Some("log line <x>\n"));

        let skipped = cases[2].children().find(|n| n.has_tag_name("skipped")).unwrap();
        assert_eq!(skipped.attribute("message"), Some("no libfaketime"));
    }
}
