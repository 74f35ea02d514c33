//! Maillage's event bus: how events leave each command service's log and
//! reach the projections (DESIGN.md §2, §5).
//!
//! - [`nats_config`]: [`NatsConfig`], the NATS servers, credentials and TLS every NATS connection uses;
//! - [`mod@connect`]: [`connect()`], with the process's NATS credentials and TLS;
//! - [`subjects`]: the JetStream stream `MAILLAGE_EVENTS`, its subjects
//!   `maillage.events.<context>.<category>.<EventType>`, [`ensure_stream`];
//! - [`headers`]: the message headers (`Nats-Msg-Id`, position, stream,
//!   version, context, W3C `traceparent`);
//! - [`relay`]: the [`Relay`] each command service runs: it tails its own
//!   log from a checkpoint, publishes in order with a bounded number of
//!   unacknowledged publishes, and advances the checkpoint after the acks;
//! - [`feed`]: the [`Feed`] projections consume, with two implementations:
//!   [`JetStreamFeed`] (durable pull consumer) and [`DirectFeed`] (catch-up
//!   subscriptions on local logs, no broker). Read the contract there: the
//!   JetStream feed delivers only events whose hash and link to the event
//!   before them verify, and refuses the rest;
//! - [`mod@restore`]: disaster recovery, a command service's log written back
//!   from the stream with the same checks ([`restore()`]).
//!
//! The service logs stay the source of truth: the feed never replaces a
//! replay of the logs, and nothing here depends on JetStream's retention.

#![warn(missing_docs)]

mod backoff;
pub mod connect;
pub mod feed;
pub mod headers;
pub mod nats_config;
pub mod relay;
pub mod restore;
pub mod subjects;

pub use connect::{connect, ConnectError};
pub use feed::{
    AckHandle, Checkpoints, Delivery, DirectFeed, DirectSource, Feed, FeedError, JetStreamFeed,
    JetStreamFeedConfig, Refusal, Refusals,
};
pub use nats_config::{NatsAuth, NatsConfig, NatsConfigError};
pub use relay::{
    read_checkpoint, with_relay, write_checkpoint, Relay, RelayConfig, RelayError, RelayStatus,
    CHECKPOINT_TREE,
};
pub use restore::{restore, RestoreConfig, RestoreError, RestoreProgress, RestoreReport};
pub use subjects::{
    ensure_stream, event_subject, short_type_name, stream_config, SubjectError, ALL_EVENTS,
    STREAM_NAME,
};
