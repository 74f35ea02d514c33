//! What goes in (`EventData`), what comes out (`RecordedEvent`), and an append's result.

use std::time::SystemTime;

use uuid::Uuid;

use crate::stream_id::StreamId;

/// The hash that the first record chains to.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Who and what caused an event; stored with it and covered by its hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventMetadata {
    /// The authenticated principal that asked for the change.
    pub actor: String,
    /// The client's request id (retries of one request share it).
    pub request_id: String,
    /// The id that ties together everything done for one user action.
    pub correlation_id: String,
    /// The id of what directly caused this event (a command or another event).
    pub causation_id: String,
}

/// One event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventData {
    /// Unique forever: appending the same id again is recognised as a retry.
    pub event_id: Uuid,
    /// The payload's type (the protobuf full name).
    pub event_type: String,
    /// The payload (protobuf bytes).
    pub payload: Vec<u8>,
    /// Who and why.
    pub metadata: EventMetadata,
}

impl EventData {
    /// Whether `recorded` holds this same event (id, type, payload, metadata).
    pub(crate) fn same_content(&self, recorded: &RecordedEvent) -> bool {
        self.event_id == recorded.event_id
            && self.event_type == recorded.event_type
            && self.payload == recorded.payload
            && self.metadata == recorded.metadata
    }
}

/// An event as the log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position in the log, dense from 1.
    pub position: u64,
    /// The stream it belongs to.
    pub stream_id: StreamId,
    /// Its version in that stream, dense from 1.
    pub version: u64,
    /// The event's id.
    pub event_id: Uuid,
    /// The payload's type.
    pub event_type: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// Who and why.
    pub metadata: EventMetadata,
    /// When the store recorded it (the store's clock, microsecond precision).
    pub recorded_at: SystemTime,
    /// The hash of the record before it ([`GENESIS_HASH`] for position 1).
    pub prev_hash: [u8; 32],
    /// BLAKE3 over this record's content and `prev_hash`.
    pub hash: [u8; 32],
}

impl RecordedEvent {
    /// Whether `hash` is the hash of this record's content and `prev_hash`,
    /// recomputed exactly as the store computed it when it wrote the record.
    /// A record read from elsewhere (the JetStream feed) is checked this way.
    pub fn hash_is_valid(&self) -> bool {
        crate::codec::content_hash(self) == Some(self.hash)
    }
}

/// The outcome of a successful append (also returned, unchanged, to a retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    /// Position of the append's first event.
    pub first_position: u64,
    /// Position of its last event.
    pub last_position: u64,
    /// The stream's version after the append (the version of its last event).
    pub stream_version: u64,
}
