//! Maillage's event store: an append-only, hash-chained, group-committed log.
//!
//! Every command service embeds one [`EventStore`]. It keeps events in streams
//! (`<category>-<id>`), each with a dense version from 1, and in one global
//! order (`$all`) with a dense position from 1. Appends are checked against an
//! [`ExpectedVersion`], are atomic, idempotent by event id forever, and are
//! acknowledged only once flushed to disk; concurrent appends are committed
//! together by a single writer thread (one batch, one flush, every ack).
//! Every record carries the hash of the previous one, so [`EventStore::verify`]
//! can show that nothing was altered (and that both indexes agree with the
//! log); opening a store checks the chain from where its previous open had
//! verified it, and refuses a broken one. Subscriptions catch up from storage and
//! then go live without gaps or duplicates. A lost log can be written back
//! from a copy (the event stream) with the [`Importer`], which checks every
//! record's hash and link as it writes it.
//!
//! The storage engine sits behind the small [`Engine`] trait; [`SledEngine`]
//! (sled 0.34) is the implementation the platform uses.

mod chunk;
mod clock;
mod codec;
mod engine;
mod error;
mod expected;
mod import;
mod indexes;
mod keys;
mod open_check;
mod record;
mod store;
mod stream_id;
mod subscription;
mod verify;
mod writer;

pub use clock::{Clock, FixedClock, SystemClock};
pub use codec::record_len;
pub use engine::{
    open_sled, Engine, EngineError, Entry, Keyspace, SledEngine, SledOptions, WriteBatch,
    DEFAULT_ZSTD_LEVEL, LOCK_WAIT,
};
pub use error::StoreError;
pub use expected::ExpectedVersion;
pub use import::Importer;
pub use record::{AppendResult, EventData, EventMetadata, RecordView, RecordedEvent, GENESIS_HASH};
pub use store::{Direction, EventStore, Head, PendingAppend, StoreOptions};
pub use stream_id::StreamId;
pub use subscription::{Subscription, SubscriptionFilter, SUBSCRIPTION_BATCH};
pub use verify::Verification;
