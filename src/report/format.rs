//! Text helpers for the terminal.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls() {
        assert_eq!(printable("red \u{1b}[31m\nnext"), "red \\x1b[31m\\x0anext");
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
}
