//! Text helpers shared by the HTML page, the JUnit file and the terminal.

use std::cmp::Ordering;

use serde_json::Value;

use crate::client::history::{BODY_LIMIT, truncate_utf8};

/// Formats milliseconds for people: `85 ms`, `1.53 s`, `2 min 05 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.2} s", ms as f64 / 1000.0),
        _ => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// Cuts `text` to at most `max_chars` characters, ending with `…` when it was cut.
pub fn shorten(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() {
        let mut cut: String = head.chars().take(max_chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        head
    }
}

/// Text cut to [`BODY_LIMIT`] bytes for display, with a note when it was cut.
pub struct Capped {
    pub text: String,
    /// `None` when the whole text is shown.
    pub note: Option<String>,
}

/// Cuts `text` to [`BODY_LIMIT`] bytes without splitting a character.
pub fn cap(text: &str) -> Capped {
    let cut = truncate_utf8(text.as_bytes(), BODY_LIMIT);
    if cut.len() == text.len() {
        return Capped { text: text.to_string(), note: None };
    }
    Capped {
        text: String::from_utf8_lossy(cut).into_owned(),
        note: Some(format!("first {} of {} bytes shown", cut.len(), text.len())),
    }
}

/// Orders scenario ids by their leading number, so `2` comes before `10` and `1b` right after
/// `1`. Ids without a leading number come last, in text order.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    fn split(id: &str) -> (Option<u64>, &str) {
        let digits = id.len() - id.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        (id[..digits].parse().ok(), &id[digits..])
    }
    match (split(a), split(b)) {
        ((Some(x), rest_a), (Some(y), rest_b)) => x.cmp(&y).then_with(|| rest_a.cmp(rest_b)),
        ((Some(_), _), (None, _)) => Ordering::Less,
        ((None, _), (Some(_), _)) => Ordering::Greater,
        _ => a.cmp(b),
    }
}

/// Renders a JSON value for a table cell: strings as they are, everything else as compact
/// JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Replaces control characters (an escape sequence, a bell, a newline) with visible escapes
/// such as `\x1b`, so scenario text cannot drive the terminal or break a table row.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Replaces control characters other than newline and tab with visible escapes, for text
/// shown in a block such as a log.
pub fn visible(text: &str) -> String {
    text.split_inclusive(['\n', '\t'])
        .map(|part| match part.strip_suffix(['\n', '\t']) {
            Some(body) => format!("{}{}", printable(body), &part[body.len()..]),
            None => printable(part),
        })
        .collect()
}

/// Renders a JSON value for a block: strings as they are, objects and arrays as indented
/// JSON.
pub fn value_pretty(value: &Value) -> String {
    match value {
        Value::Object(_) | Value::Array(_) => serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()),
        other => value_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_numerically_with_suffix_after() {
        let mut ids = vec!["t-fail", "10", "1b", "2", "1", "23", "21-mtls", "abc"];
        ids.sort_by(|a, b| compare_ids(a, b));
        assert_eq!(ids, ["1", "1b", "2", "10", "21-mtls", "23", "abc", "t-fail"]);
    }

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("red \u{1b}[31m\nnext"), "red \\x1b[31m\\x0anext");
    }

    #[test]
    fn visible_keeps_newlines_and_tabs() {
        assert_eq!(visible("a\u{1}b\n\tc\r\n"), "a\\x01b\n\tc\\x0d\n");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(85), "85 ms");
        assert_eq!(duration(1526), "1.53 s");
        assert_eq!(duration(125_000), "2 min 05 s");
    }

    #[test]
    fn shorten_marks_the_cut() {
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }

    #[test]
    fn cap_keeps_characters_whole_and_notes_the_cut() {
        let text = "é".repeat(BODY_LIMIT);
        let capped = cap(&text);
        assert!(capped.text.len() <= BODY_LIMIT);
        assert!(capped.note.as_deref().unwrap_or_default().contains(&format!("of {} bytes", text.len())));
        assert!(cap("short").note.is_none());
    }
}
