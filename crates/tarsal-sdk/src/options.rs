//! Reading session options.

use crate::{OptionValue, SessionOptions};

/// Typed access to a session's program options.
pub trait OptionsExt {
    fn integer(&self, key: &str) -> Option<i64>;
    fn flag(&self, key: &str) -> Option<bool>;
    fn text(&self, key: &str) -> Option<&str>;
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
