//! Text that comes from outside the service — a plugin's names, log lines and
//! error messages, file names in the programs directory, a client's argument
//! echoed in a refusal — made safe to show: one line, no control characters,
//! bounded length. It then cannot forge a log line, move a terminal's cursor,
//! reverse the text around it, or grow a reply to megabytes.

use std::borrow::Cow;
use std::fmt::Write;

/// How much of a client's argument a refusal quotes back.
pub const ECHO_MAX_BYTES: usize = 80;

/// Whether `c` must not appear in shown text: control characters (C0, DEL,
/// C1, line and paragraph separators) and the bidirectional overrides and
/// isolates that reorder what follows them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `text` on one line of at most `max_bytes` bytes (plus a short note that
/// it was cut): unsafe characters are written as visible escapes (`\n`,
/// `\u{1b}`), so nothing is lost silently and nothing acts on a terminal or
/// a log reader.
pub fn one_line(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes && !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max_bytes) + 24);
    let mut used = 0;
    for (i, c) in text.char_indices() {
        // `i`: bytes of the original shown so far (reported when cut).
        let escaped_len = if is_unsafe(c) {
            c.escape_default().len()
        } else {
            c.len_utf8()
        };
        if used + escaped_len > max_bytes {
            let _ = write!(out, "… ({} bytes, cut at {i})", text.len());
            return Cow::Owned(out);
        }
        if is_unsafe(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
        used += escaped_len;
    }
    Cow::Owned(out)
}

/// A client's argument quoted back in an error: one line, at most
/// [`ECHO_MAX_BYTES`].
pub fn echo(text: &str) -> Cow<'_, str> {
    one_line(text, ECHO_MAX_BYTES)
}

/// Whether `text` is already safe to show on one line of `max_bytes`.
pub fn is_clean(text: &str, max_bytes: usize) -> bool {
    text.len() <= max_bytes && !text.chars().any(is_unsafe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        assert!(matches!(one_line("Fußbad 38 °C", 100), Cow::Borrowed(_)));
        assert!(is_clean("Ngâm chân", 100));
    }

    #[test]
    fn newlines_and_escapes_cannot_forge_a_log_line() {
        let forged = "ok\n2026-12-02T00:00:00Z ERROR tarsald: estop released\u{1b}[2K";
        let shown = one_line(forged, 1000);
        assert!(
            !shown.contains('\n') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(
            shown.contains("\\n2026") && shown.contains("\\u{1b}[2K"),
            "{shown}"
        );
        assert!(!one_line("a\u{202E}gnp.exe", 100).contains('\u{202E}'));
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary_and_says_so() {
        let long = "é".repeat(10_000);
        let shown = one_line(&long, 81);
        assert!(shown.starts_with(&"é".repeat(40)), "{shown}");
        assert!(shown.ends_with("(20000 bytes, cut at 80)"), "{shown}");
        let huge = "x".repeat(20 << 20);
        let echoed = echo(&huge);
        assert!(
            echoed.ends_with("… (20971520 bytes, cut at 80)"),
            "{echoed}"
        );
        assert!(echoed.len() < ECHO_MAX_BYTES + 40);
    }
}
