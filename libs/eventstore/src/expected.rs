//! The expected version an append is checked against (optimistic concurrency).

use std::fmt;

/// What the caller expects of the stream's current version before its append.
///
/// Versions start at 1; a stream with no event has version 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream's version.
    Any,
    /// The stream must not exist yet (no event in it).
    NoStream,
    /// The stream must have at least one event.
    StreamExists,
    /// The stream's current version must be exactly this one
    /// (`Exact(0)` means the same as `NoStream`).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream whose current version is `actual` (0: no stream) satisfies this expectation.
    pub fn accepts(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::StreamExists => actual > 0,
            ExpectedVersion::Exact(version) => actual == version,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::StreamExists => f.write_str("stream exists"),
            ExpectedVersion::Exact(version) => write!(f, "version {version}"),
        }
    }
}
