//! Subject ids: who (or what) a data key belongs to.
//!
//! A subject is a kind (person, interaction, or another lower-case tag) and an id
//! string, written `kind:id` (e.g. `person:0190…`). That text is the subject's key
//! in the vault tree and is bound into every wrapped key and sealed value as
//! associated data. It is an identifier, not personal data, so it may be logged.

use std::fmt;

use crate::error::{PrivacyError, Result};

/// Longest accepted subject id, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Longest accepted custom kind tag, in bytes.
pub const MAX_KIND_LEN: usize = 32;

/// The kind of a subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    /// A natural person (stakeholder): names, contact details, addresses.
    Person,
    /// One interaction (contact-log entry): its free-text notes about people.
    Interaction,
    /// Another kind, tagged by a lower-case ASCII word (`[a-z0-9_-]+`).
    Other(String),
}

impl SubjectKind {
    /// The kind's tag as written in `kind:id`.
    pub fn as_str(&self) -> &str {
        match self {
            SubjectKind::Person => "person",
            SubjectKind::Interaction => "interaction",
            SubjectKind::Other(tag) => tag,
        }
    }

    /// Parses a tag; `person` and `interaction` map to their own variants so
    /// that one subject has one spelling.
    pub fn parse(tag: &str) -> Result<Self> {
        match tag {
            "person" => Ok(SubjectKind::Person),
            "interaction" => Ok(SubjectKind::Interaction),
            _ => {
                let valid_char =
                    |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
                if tag.is_empty() || tag.len() > MAX_KIND_LEN || !tag.chars().all(valid_char) {
                    return Err(PrivacyError::Invalid {
                        what: "subject kind",
                        reason: format!(
                            "{tag:?} must be 1 to {MAX_KIND_LEN} characters of [a-z0-9_-]"
                        ),
                    });
                }
                Ok(SubjectKind::Other(tag.to_owned()))
            }
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whom a data key belongs to: a kind and an id.
///
/// Construct with [`SubjectId::person`], [`SubjectId::interaction`] or
/// [`SubjectId::new`]; an empty or over-long id is refused when the subject is
/// used by the vault (`Invalid` error), never by a panic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId {
    kind: SubjectKind,
    id: String,
}

impl SubjectId {
    /// A person, by id (usually the stakeholder's UUID).
    pub fn person(id: impl Into<String>) -> Self {
        SubjectId {
            kind: SubjectKind::Person,
            id: id.into(),
        }
    }

    /// An interaction, by id (usually the interaction's UUID).
    pub fn interaction(id: impl Into<String>) -> Self {
        SubjectId {
            kind: SubjectKind::Interaction,
            id: id.into(),
        }
    }

    /// A subject of any kind, from its tag (`person`, `interaction`, `survey-response`…).
    pub fn new(kind: &str, id: impl Into<String>) -> Result<Self> {
        let subject = SubjectId {
            kind: SubjectKind::parse(kind)?,
            id: id.into(),
        };
        subject.validate()?;
        Ok(subject)
    }

    /// Parses the `kind:id` form (as shown by `Display` and stored in the vault).
    pub fn parse(text: &str) -> Result<Self> {
        let (kind, id) = text.split_once(':').ok_or_else(|| PrivacyError::Invalid {
            what: "subject id",
            reason: format!("{text:?} is not of the form kind:id"),
        })?;
        SubjectId::new(kind, id)
    }

    /// The subject's kind.
    pub fn kind(&self) -> &SubjectKind {
        &self.kind
    }

    /// The subject's id within its kind.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Checks the id is usable: non-empty, at most [`MAX_ID_LEN`] bytes, no control characters.
    pub fn validate(&self) -> Result<()> {
        if self.id.is_empty() || self.id.len() > MAX_ID_LEN || self.id.chars().any(char::is_control)
        {
            return Err(PrivacyError::Invalid {
                what: "subject id",
                reason: format!(
                    "the id of a {} subject must be 1 to {MAX_ID_LEN} bytes without control characters",
                    self.kind
                ),
            });
        }
        Ok(())
    }

    /// The `kind:id` bytes used as the vault key and as associated data.
    pub(crate) fn storage_key(&self) -> Vec<u8> {
        let mut key = Vec::with_capacity(self.kind.as_str().len() + 1 + self.id.len());
        key.extend_from_slice(self.kind.as_str().as_bytes());
        key.push(b':');
        key.extend_from_slice(self.id.as_bytes());
        key
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_roundtrip() {
        let s = SubjectId::person("0190a1b2-c3d4");
        assert_eq!(s.to_string(), "person:0190a1b2-c3d4");
        assert_eq!(SubjectId::parse("person:0190a1b2-c3d4").unwrap(), s);
        let other = SubjectId::new("survey-response", "x:y").unwrap();
        assert_eq!(SubjectId::parse(&other.to_string()).unwrap(), other);
    }

    #[test]
    fn known_tags_have_one_spelling() {
        assert_eq!(
            SubjectId::new("interaction", "a").unwrap(),
            SubjectId::interaction("a")
        );
    }

    #[test]
    fn bad_kinds_and_ids_are_refused() {
        assert!(SubjectId::new("Person", "a").is_err());
        assert!(SubjectId::new("a:b", "a").is_err());
        assert!(SubjectId::new("", "a").is_err());
        assert!(SubjectId::new("person", "").is_err());
        assert!(SubjectId::person("a\nb").validate().is_err());
        assert!(SubjectId::person("x".repeat(MAX_ID_LEN + 1))
            .validate()
            .is_err());
        assert!(SubjectId::parse("nocolon").is_err());
    }
}
