//! Labeler names. A name becomes a directory under the output directory, so only a
//! small, path-free alphabet is accepted: no separators, dots or empty names.

use std::fmt;

use super::error::{LabelError, LabelResult};

pub const MAX_NAME_LEN: usize = 32;

/// A validated labeler name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labeler(String);

impl Labeler {
    pub fn new(name: &str) -> LabelResult<Self> {
        let ok = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Labeler(name.to_string()))
        } else {
            // Cut what is echoed back so a hostile name cannot flood the message.
            Err(LabelError::BadName(name.chars().take(40).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Labeler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_pass() {
        for good in ["alice", "Bob_2", "x", "a-b", &"n".repeat(32)] {
            assert_eq!(Labeler::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a.b",
            " a",
            "é",
            "a\0",
            &"n".repeat(33),
        ] {
            assert!(Labeler::new(bad).is_err(), "{bad:?}");
        }
    }
}
