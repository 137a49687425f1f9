//! `amesh report --diff`: the scenarios whose verdict differs between two folders, and the
//! ones only one folder has.

use std::collections::BTreeSet;

use super::artifacts::{CampaignArtifacts, ReadVerdict, ScenarioArtifact};
use super::format;

/// One scenario that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    /// `None` when the scenario is missing on that side.
    pub before: Option<ReadVerdict>,
    pub after: Option<ReadVerdict>,
    /// The first reason on the side that did not pass, preferring the newer side.
    pub reason: String,
}

/// The comparison of two folders.
#[derive(Debug, Clone)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub unchanged: usize,
}

fn first_reason(scenario: Option<&ScenarioArtifact>) -> Option<String> {
    scenario.and_then(|s| s.reasons().into_iter().next())
}

/// Compares the verdicts of `before` and `after`, in scenario id order.
pub fn compare(before: &CampaignArtifacts, after: &CampaignArtifacts) -> Diff {
    let find = |side: &CampaignArtifacts, id: &str| side.scenarios.iter().find(|s| s.id == id).cloned();
    let ids: BTreeSet<&str> = before.scenarios.iter().chain(&after.scenarios).map(|s| s.id.as_str()).collect();
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_by(|a, b| format::compare_ids(a, b));

    let mut changes = Vec::new();
    let mut unchanged = 0;
    for id in ids {
        let (old, new) = (find(before, id), find(after, id));
        let (old_verdict, new_verdict) = (old.as_ref().map(|s| s.verdict), new.as_ref().map(|s| s.verdict));
        if old_verdict == new_verdict {
            unchanged += 1;
            continue;
        }
        let reason = first_reason(new.as_ref()).or_else(|| first_reason(old.as_ref())).unwrap_or_default();
        changes.push(Change { id: id.to_string(), before: old_verdict, after: new_verdict, reason });
    }
    Diff { changes, unchanged }
}

impl Diff {
    /// Formats the changes as a table followed by one line of totals, for stdout.
    pub fn render(&self, before_name: &str, after_name: &str) -> String {
        let label = |v: Option<ReadVerdict>| v.map(ReadVerdict::label).unwrap_or("(absent)");
        let id_width = self.changes.iter().map(|c| c.id.chars().count()).chain([8]).max().unwrap_or(8);
        let mut out = String::new();
        if !self.changes.is_empty() {
            out.push_str(&format!("{:<id_width$}  {:<9}  {:<9}  reason\n", "scenario", "before", "after"));
            for change in &self.changes {
                out.push_str(&format!(
                    "{:<id_width$}  {:<9}  {:<9}  {}\n",
                    format::printable(&change.id),
                    label(change.before),
                    label(change.after),
                    format::shorten(&format::printable(&change.reason), 80)
                ));
            }
        }
        let only_before = self.changes.iter().filter(|c| c.after.is_none()).count();
        let only_after = self.changes.iter().filter(|c| c.before.is_none()).count();
        let changed = self.changes.len() - only_before - only_after;
        out.push_str(&format!(
            "{changed} changed verdicts, {only_before} only in {before_name}, {only_after} only in {after_name}, {} unchanged\n",
            self.unchanged
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(reports: &[(&str, &str)]) -> CampaignArtifacts {
        let dir = tempfile::tempdir().unwrap();
        for (id, verdict) in reports {
            let report = match *verdict {
                "pass" => format!(r#"{{"scenario":"{id}","pass":true,"skipped":false}}"#),
                "fail" => format!(r#"{{"scenario":"{id}","pass":false,"skipped":false,"reasons":["{id} broke"]}}"#),
                _ => format!(r#"{{"scenario":"{id}","pass":null,"skipped":true,"reason":"skip"}}"#),
            };
            std::fs::write(dir.path().join(format!("scenario-{id}.json")), report).unwrap();
        }
        CampaignArtifacts::load(dir.path()).unwrap()
    }

    #[test]
    fn compare_lists_changes_and_one_sided() {
        let before = folder(&[("1", "pass"), ("2", "pass"), ("10", "fail"), ("old", "pass")]);
        let after = folder(&[("1", "pass"), ("2", "fail"), ("10", "pass"), ("new", "skip")]);
        let diff = compare(&before, &after);

        let ids: Vec<&str> = diff.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["2", "10", "new", "old"]);
        assert_eq!(diff.unchanged, 1);
        assert_eq!(diff.changes[0].reason, "2 broke");
        assert_eq!(diff.changes[1].reason, "10 broke", "a fixed scenario names the old reason");
        assert_eq!(diff.changes[2].before, None);
        assert_eq!(diff.changes[3].after, None);

        let text = diff.render("a", "b");
        assert!(text.contains("2 changed verdicts, 1 only in a, 1 only in b, 1 unchanged"), "{text}");
        assert!(text.lines().any(|l| l.starts_with("2 ") && l.contains("PASS") && l.contains("FAIL")), "{text}");
    }
}
