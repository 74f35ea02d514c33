//! What goes in (`EventData`), what comes out (`RecordedEvent`, or a
//! `RecordView` borrowing the stored bytes), and an append's result.

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

/// A record decoded in place: its text and payload borrow the stored bytes,
/// so reading it allocates nothing (see [`EventStore::replay`]). Every field
/// was checked as for a [`RecordedEvent`] (the stream id is valid, the texts
/// are UTF-8); [`RecordView::to_owned`] makes one a caller can keep.
///
/// [`EventStore::replay`]: crate::EventStore::replay
///
/// Only the store makes one (a private field sees to it): its stream id is
/// known valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Global position in the log, dense from 1.
    pub position: u64,
    /// The stream it belongs to (a valid stream id).
    pub stream_id: &'a str,
    /// Its version in that stream, dense from 1.
    pub version: u64,
    /// The event's id.
    pub event_id: Uuid,
    /// The payload's type.
    pub event_type: &'a str,
    /// The payload.
    pub payload: &'a [u8],
    /// The authenticated principal that asked for the change.
    pub actor: &'a str,
    /// The client's request id.
    pub request_id: &'a str,
    /// The id tying together everything done for one user action.
    pub correlation_id: &'a str,
    /// The id of what directly caused this event.
    pub causation_id: &'a str,
    /// When the store recorded it.
    pub recorded_at: SystemTime,
    /// The hash of the record before it.
    pub prev_hash: [u8; 32],
    /// BLAKE3 over this record's content and `prev_hash`.
    pub hash: [u8; 32],
    /// The stored bytes it was decoded from.
    pub(crate) stored: &'a [u8],
}

impl RecordView<'_> {
    /// The category of its stream: what stands before the first `-`.
    pub fn category(&self) -> &str {
        StreamId::category_of(self.stream_id)
    }

    /// The same record, owning its fields.
    pub fn to_owned(&self) -> RecordedEvent {
        RecordedEvent {
            position: self.position,
            stream_id: StreamId::from_checked(self.stream_id),
            version: self.version,
            event_id: self.event_id,
            event_type: self.event_type.to_owned(),
            payload: self.payload.to_vec(),
            metadata: EventMetadata {
                actor: self.actor.to_owned(),
                request_id: self.request_id.to_owned(),
                correlation_id: self.correlation_id.to_owned(),
                causation_id: self.causation_id.to_owned(),
            },
            recorded_at: self.recorded_at,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
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
