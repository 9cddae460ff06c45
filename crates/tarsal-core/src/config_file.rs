//! Reading TOML files people write by hand (chair profiles, the service config)
//! with errors that say where: file, line, column and the dotted key.
//!
//! Parsing is two-phase: serde checks the shape (unknown keys, wrong types,
//! missing fields), then the caller checks meaning (a cutoff above a ceiling) and
//! reports by key path; [`Located`] turns a key path back into a line.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// The file's name, as the caller gave it.
    pub file: String,
    /// 1-based line, when the problem could be placed.
    pub line: Option<usize>,
    /// 1-based column in characters, when the problem could be placed.
    pub column: Option<usize>,
    /// Dotted key path such as `bath.heater.cutoff_c`.
    pub key: Option<String>,
    /// What is wrong, and what is allowed.
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a file, in file order. Never empty.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    /// The problems, in file order.
    pub problems: Vec<FileProblem>,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl FileError {
    /// An error of one problem.
    pub fn single(problem: FileProblem) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// A problem with the file as a whole (unreadable, for instance).
    pub fn whole_file(file: &str, message: impl Into<String>) -> Self {
        Self::single(FileProblem {
            file: file.to_owned(),
            line: None,
            column: None,
            key: None,
            message: message.into(),
        })
    }
}

/// A parsed file that can still point at its own keys.
pub struct Located<'a> {
    file: &'a str,
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Located<'a> {
    /// Reads `text`, named `file` in errors; syntax errors surface from [`Located::deserialize`].
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// Deserialize the whole file into `T`, reporting shape errors with their place.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, FileError> {
        toml::from_str(self.text).map_err(|e| {
            let offset = e.span().map(|s| s.start);
            let key = offset.and_then(|o| self.key_at(o));
            let (line, column) = match offset {
                Some(o) => {
                    let (l, c) = line_column(self.text, o);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            FileError::single(FileProblem {
                file: self.file.to_owned(),
                line,
                column,
                key,
                message: tidy_serde_message(e.message()),
            })
        })
    }

    /// A problem about the value at `key` (dotted path; a number indexes an
    /// array). When the key is not in the file (a default was used), the nearest
    /// enclosing table that is present gives the line.
    pub fn problem(&self, key: &str, message: impl Into<String>) -> FileProblem {
        let span = self.span_of(key);
        let (line, column) = match span {
            Some(o) => {
                let (l, c) = line_column(self.text, o);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        FileProblem {
            file: self.file.to_owned(),
            line,
            column,
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    fn span_of(&self, key: &str) -> Option<usize> {
        let root = self.root.as_ref()?;
        let mut best = None;
        let mut table: &DeTable<'_> = root.get_ref();
        let mut value: Option<&Spanned<DeValue<'_>>> = None;
        for segment in key.split('.') {
            let (name, index) = match segment.split_once('[') {
                Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (segment, None),
            };
            if let Some(v) = value {
                match v.get_ref() {
                    DeValue::Table(t) => table = t,
                    _ => break,
                }
            }
            let Some((k, v)) = table.get_key_value(name) else {
                break;
            };
            best = Some(k.span().start);
            value = Some(v);
            if let (Some(i), DeValue::Array(items)) = (index, v.get_ref())
                && let Some(item) = items.get(i)
            {
                best = Some(item.span().start);
            }
        }
        best
    }

    /// The dotted key whose key or value contains `offset`, innermost first.
    fn key_at(&self, offset: usize) -> Option<String> {
        fn walk(table: &DeTable<'_>, offset: usize, path: &mut Vec<String>) -> bool {
            for (k, v) in table.iter() {
                let in_key = k.span().contains(&offset);
                let in_value = v.span().contains(&offset);
                let nested = match v.get_ref() {
                    DeValue::Table(t) => {
                        path.push(k.get_ref().to_string());
                        if walk(t, offset, path) {
                            return true;
                        }
                        path.pop();
                        false
                    }
                    DeValue::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let DeValue::Table(t) = item.get_ref() {
                                path.push(format!("{}[{i}]", k.get_ref()));
                                if walk(t, offset, path) {
                                    return true;
                                }
                                path.pop();
                            }
                        }
                        false
                    }
                    _ => false,
                };
                if nested {
                    return true;
                }
                if in_key || in_value {
                    path.push(k.get_ref().to_string());
                    return true;
                }
            }
            false
        }
        let root = self.root.as_ref()?;
        let mut path = Vec::new();
        walk(root.get_ref(), offset, &mut path).then(|| path.join("."))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// serde's messages name Rust types; people editing a TOML file think in TOML.
fn tidy_serde_message(message: &str) -> String {
    message
        .replace(
            "invalid type: floating point",
            "expected a different type, found the number",
        )
        .replace(
            "invalid type: integer",
            "expected a different type, found the integer",
        )
        .replace(
            "invalid type: string",
            "expected a different type, found the text",
        )
        .replace(", expected f64", ": expected a number")
        .replace(", expected u8", ": expected a whole number")
        .replace(", expected u32", ": expected a whole number")
        .replace(", expected u64", ": expected a whole number")
        .replace(", expected a boolean", ": expected true or false")
        .replace(", expected a string", ": expected text in quotes")
        .trim_end()
        .to_owned()
}

/// Collects semantic problems while checking a parsed file.
pub struct Checker<'a> {
    located: &'a Located<'a>,
    problems: Vec<FileProblem>,
}

impl<'a> Checker<'a> {
    /// A checker reporting against the keys of `located`.
    pub fn new(located: &'a Located<'a>) -> Self {
        Self {
            located,
            problems: Vec::new(),
        }
    }

    /// Record a problem unless `ok`.
    pub fn require(&mut self, ok: bool, key: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(self.located.problem(key, message()));
        }
    }

    /// `value` must lie in `lo..=hi`.
    pub fn range(&mut self, value: f64, lo: f64, hi: f64, key: &str, unit: &str) {
        self.require(value.is_finite() && value >= lo && value <= hi, key, || {
            format!("{value} {unit} is out of range; allowed: {lo}–{hi} {unit}")
        });
    }

    /// `value` must be positive and at most `hi`.
    pub fn positive(&mut self, value: f64, hi: f64, key: &str, unit: &str) {
        self.require(value.is_finite() && value > 0.0 && value <= hi, key, || {
            format!("{value} {unit} is out of range; allowed: more than 0, at most {hi} {unit}")
        });
    }

    /// `value` must lie in `lo..=hi`.
    pub fn duration(&mut self, value: Duration, lo: Duration, hi: Duration, key: &str) {
        self.require(value >= lo && value <= hi, key, || {
            format!(
                "{} is out of range; allowed: {}–{}",
                human_duration(value),
                human_duration(lo),
                human_duration(hi)
            )
        });
    }

    /// Every recorded problem, in file order; `Ok` when there were none.
    pub fn finish(mut self) -> Result<(), FileError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            self.problems.sort_by_key(|p| (p.line, p.column));
            Err(FileError {
                problems: self.problems,
            })
        }
    }
}

/// "90 s", "30 min", "250 ms".
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms >= 60_000 {
        format!("{} min", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

fn duration_from<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    scale_to_secs: f64,
    unit: &str,
) -> Result<Duration, D::Error> {
    let value = f64::deserialize(deserializer)?;
    let secs = value * scale_to_secs;
    if !(0.0..1.0e9).contains(&secs) {
        return Err(serde::de::Error::custom(format!(
            "{value} is not a duration; expected a non-negative number of {unit}"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `deserialize_with` for a number of seconds.
pub fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration_from(d, 1.0, "seconds")
}

/// `deserialize_with` for a number of milliseconds.
pub fn milliseconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration_from(d, 0.001, "milliseconds")
}

/// `deserialize_with` for a number of minutes.
pub fn minutes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    duration_from(d, 60.0, "minutes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        outer: Outer,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        a: f64,
        #[serde(deserialize_with = "seconds")]
        wait_s: Duration,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        b: bool,
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = "[outer]\na = 1.0\nwait_s = 2\n\n[outer.inner]\nb = true\nc = 3\n";
        let err = Located::new("x.toml", text)
            .deserialize::<Doc>()
            .unwrap_err();
        let p = &err.problems[0];
        assert_eq!(p.line, Some(7), "{err}");
        assert_eq!(p.key.as_deref(), Some("outer.inner.c"), "{err}");
        assert!(p.message.contains("unknown field `c`"), "{err}");
        assert!(p.message.contains("expected `b`"), "{err}");
    }

    #[test]
    fn wrong_type_is_named_with_its_line() {
        let text = "[outer]\na = \"warm\"\nwait_s = 2\n";
        let err = Located::new("x.toml", text)
            .deserialize::<Doc>()
            .unwrap_err();
        assert_eq!(err.problems[0].line, Some(2), "{err}");
        assert_eq!(err.problems[0].key.as_deref(), Some("outer.a"), "{err}");
        assert!(err.to_string().starts_with("x.toml:2:"), "{err}");
    }

    #[test]
    fn negative_duration_is_refused() {
        let text = "[outer]\na = 1\nwait_s = -4\n";
        let err = Located::new("x.toml", text)
            .deserialize::<Doc>()
            .unwrap_err();
        assert_eq!(err.problems[0].line, Some(3), "{err}");
        assert!(
            err.to_string().contains("non-negative number of seconds"),
            "{err}"
        );
    }

    #[test]
    fn semantic_problem_points_at_key_or_nearest_table() {
        let text = "[outer]\na = 1\nwait_s = 2\n[outer.inner]\nb = true\n";
        let located = Located::new("x.toml", text);
        assert_eq!(located.problem("outer.wait_s", "x").line, Some(3));
        assert_eq!(located.problem("outer.inner.b", "x").line, Some(5));
        // Absent key: falls back to its table.
        assert_eq!(located.problem("outer.inner.zzz", "x").line, Some(4));
    }

    #[test]
    fn array_items_are_addressable() {
        let text = "list = [\n 1,\n 2,\n 3,\n]\n";
        let located = Located::new("x.toml", text);
        assert_eq!(located.problem("list[2]", "x").line, Some(4));
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\n°c", 5), (2, 2));
        assert_eq!(line_column("", 10), (1, 1));
    }
}
