//! The store's typed errors: every refusal a caller can act on, and storage failures.

use uuid::Uuid;

use crate::expected::ExpectedVersion;

/// Why the store refused or failed an operation. A refused append changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The stream id is empty or not of the form `<category>-<id>`.
    #[error("invalid stream id {stream_id:?}: {reason}")]
    InvalidStreamId {
        /// The id as given.
        stream_id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An append with no event.
    #[error("an append must carry at least one event")]
    EmptyAppend,
    /// One event is larger than the store's limit.
    #[error("event #{index} is {size} bytes, over the limit of {limit} bytes")]
    EventTooLarge {
        /// Index of the event in the append.
        index: usize,
        /// Its encoded size (type, payload and metadata).
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// One event is malformed (empty type, metadata field too long, ...).
    #[error("event #{index} is invalid: {reason}")]
    InvalidEvent {
        /// Index of the event in the append.
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same event id appears twice in one append.
    #[error("event id {event_id} appears twice in one append")]
    DuplicateEventInAppend {
        /// The repeated id.
        event_id: Uuid,
    },
    /// The stream's version is not the one the append expected.
    #[error("stream {stream_id}: expected {expected}, but its version is {actual}")]
    WrongExpectedVersion {
        /// The stream.
        stream_id: String,
        /// What the append expected.
        expected: ExpectedVersion,
        /// The stream's current version (0: no event yet).
        actual: u64,
    },
    /// An event id already recorded with other content, in another stream,
    /// or as part of another append: it is not a retry of the same append.
    #[error("event id {event_id} is already recorded with other content")]
    EventIdConflict {
        /// The conflicting id.
        event_id: Uuid,
    },
    /// The store was closed.
    #[error("the event store is closed")]
    Closed,
    /// A stored record could not be decoded.
    #[error("record at position {position} is corrupt: {reason}")]
    Corrupt {
        /// Its position.
        position: u64,
        /// What failed.
        reason: String,
    },
    /// The hash chain is broken: found when the store opens (which it then
    /// refuses) by walking the log from the last position verified before.
    #[error("the log's hash chain is broken at position {position}: {reason}")]
    BrokenChain {
        /// The first bad position.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
    /// A restore of the log (from a copy of it, such as the event stream)
    /// was started and not completed: the log may lack events that were
    /// acknowledged, so the store refuses to open it.
    #[error(
        "a restore of this log was started and not completed (it holds positions 1 to \
         {position}): complete it (`maillage restore --extend`) or remove the log"
    )]
    RestoreUnfinished {
        /// The last position the log holds.
        position: u64,
    },
    /// A record given to restore a log does not continue it; nothing of
    /// that batch was written.
    #[error("cannot restore position {position}: {reason}")]
    ImportRefused {
        /// The position the record was to take.
        position: u64,
        /// Why it cannot.
        reason: String,
    },
    /// An index disagrees with the log: a reader found an entry missing, or
    /// pointing at a record it does not name. Reads through that index fail
    /// rather than skip or loop; `verify` names the first such disagreement.
    #[error("the {index} index is corrupt at {entry}: {reason}")]
    IndexCorrupt {
        /// Which index: "stream" or "event-id".
        index: &'static str,
        /// The entry (stream id and version, or event id).
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The storage engine failed; the append was not acknowledged.
    #[error("storage failure: {0}")]
    Storage(String),
}

impl From<crate::engine::EngineError> for StoreError {
    fn from(error: crate::engine::EngineError) -> Self {
        StoreError::Storage(error.to_string())
    }
}
