//! Reading session options.

use crate::{OptionValue, SessionOptions};

/// Typed access to a session's program options.
pub trait OptionsExt {
    /// Integer option `key`; `None` if absent or not an integer.
    fn integer(&self, key: &str) -> Option<i64>;
    /// Flag option `key`; `None` if absent or not a flag.
    fn flag(&self, key: &str) -> Option<bool>;
    /// Text or choice option `key`; `None` if absent or not text.
    fn text(&self, key: &str) -> Option<&str>;

    /// Choice option `key` read by `parse`; `default` when it is absent. A
    /// value `parse` does not know is an error naming the option and value.
    fn choice<T>(
        &self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, String> {
        match self.text(key) {
            None => Ok(default),
            Some(value) => {
                parse(value).ok_or_else(|| format!("unknown choice `{value}` for `{key}`"))
            }
        }
    }
}

impl OptionsExt for SessionOptions {
    fn integer(&self, key: &str) -> Option<i64> {
        self.values
            .iter()
            .find(|o| o.key == key)
            .and_then(|o| match o.value {
                OptionValue::Integer(v) => Some(v),
                _ => None,
            })
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.values
            .iter()
            .find(|o| o.key == key)
            .and_then(|o| match o.value {
                OptionValue::Flag(v) => Some(v),
                _ => None,
            })
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|o| o.key == key)
            .and_then(|o| match &o.value {
                OptionValue::Text(v) => Some(v.as_str()),
                _ => None,
            })
    }
}
