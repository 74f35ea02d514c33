//! Stream ids: `<category>-<id>`, validated once so the rest of the store can trust them.

use std::fmt;

use crate::error::StoreError;

/// The longest stream id accepted, in bytes.
pub const MAX_STREAM_ID_LEN: usize = 200;

/// A valid stream id: a category (ASCII letter, then letters, digits or `_`),
/// a `-`, then an id of ASCII letters, digits, `-`, `_`, `.` or `:`.
///
/// Example: `stakeholder-0190f3c2-7b1e-7cc0-9a8e-2f1d6b1c9a10`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(String);

impl StreamId {
    /// Checks `value` and wraps it.
    pub fn parse(value: impl Into<String>) -> Result<Self, StoreError> {
        let value = value.into();
        match Self::problem(&value) {
            Some(reason) => Err(StoreError::InvalidStreamId {
                stream_id: value,
                reason,
            }),
            None => Ok(Self(value)),
        }
    }

    /// Why `value` is not a valid stream id; `None` when it is one.
    pub(crate) fn problem(value: &str) -> Option<&'static str> {
        if value.is_empty() {
            return Some("is empty");
        }
        if value.len() > MAX_STREAM_ID_LEN {
            return Some("is longer than 200 bytes");
        }
        let Some((category, id)) = value.split_once('-') else {
            return Some("has no '-' between category and id");
        };
        let mut category_chars = category.chars();
        match category_chars.next() {
            Some(first) if first.is_ascii_alphabetic() => {}
            _ => return Some("category must start with an ASCII letter"),
        }
        if !category_chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Some("category may hold only ASCII letters, digits and '_'");
        }
        if id.is_empty() {
            return Some("id after the category is empty");
        }
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            return Some("id may hold only ASCII letters, digits, '-', '_', '.' and ':'");
        }
        None
    }

    /// Wraps an id that [`StreamId::problem`] found valid (a record view's).
    pub(crate) fn from_checked(value: &str) -> Self {
        debug_assert_eq!(Self::problem(value), None);
        Self(value.to_owned())
    }

    /// The category of a valid id: what stands before the first `-`.
    pub(crate) fn category_of(value: &str) -> &str {
        value
            .split_once('-')
            .map_or(value, |(category, _)| category)
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The category: what stands before the first `-`.
    pub fn category(&self) -> &str {
        // Invariant: `parse` checked that the id contains a '-'.
        Self::category_of(&self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for StreamId {
    type Error = StoreError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for StreamId {
    type Error = StoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_category_and_uuid() {
        let id = StreamId::parse("stakeholder-0190f3c2-7b1e-7cc0-9a8e-2f1d6b1c9a10").unwrap();
        assert_eq!(id.category(), "stakeholder");
    }

    #[test]
    fn refuses_malformed_ids() {
        for bad in [
            "",
            "nodash",
            "-id",
            "1cat-id",
            "cat-",
            "cat-with space",
            "caté-id",
            "ca.t-id",
        ] {
            assert!(
                matches!(
                    StreamId::parse(bad),
                    Err(StoreError::InvalidStreamId { .. })
                ),
                "{bad:?} was accepted"
            );
        }
        assert!(StreamId::parse(format!("cat-{}", "x".repeat(200))).is_err());
    }
}
