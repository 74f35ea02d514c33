//! The event feed that projections consume, with two implementations.
//!
//! - [`JetStreamFeed`]: a durable pull consumer on `MAILLAGE_EVENTS` (services
//!   in separate processes or on several machines);
//! - [`DirectFeed`]: catch-up subscriptions on the local logs, merged (everything
//!   in one process, no broker).
//!
//! The same consumer code runs on both, through the [`Feed`] trait.
//!
//! # The contract
//!
//! - **Per-context order, no gap.** Each context (`stakeholders`, `engagement`,
//!   `governance`) is one source log with dense positions. For each context, a
//!   feed delivers positions `checkpoint + 1, checkpoint + 2, …` in order, where
//!   `checkpoint` is the value given for that context when the feed was made
//!   (0 if none). No global order across contexts is promised: events of
//!   different contexts interleave arbitrarily, and read models must converge
//!   whatever the interleaving.
//! - **At least once.** A delivery may come again: after a consumer restart
//!   (everything after its stored checkpoint), or, on JetStream, if an ack is
//!   lost. A consumer therefore keeps a **checkpoint per context** (the last
//!   position it applied), writes it **atomically with its read-model update**,
//!   skips any delivery at or below it ([`Checkpoints::is_applied`]), and makes
//!   a new feed from its stored checkpoints when it restarts.
//! - **Ack after commit.** Call [`Delivery::ack`] (or [`AckHandle::ack`]) once
//!   the update and checkpoint are committed. On JetStream this acks the
//!   message; an unacked one is delivered again later. On the direct feed it
//!   does nothing (the consumer's checkpoint is the only state). Acks are
//!   sent without waiting for the broker's confirmation; a lost one only
//!   means a redelivery. Call [`Feed::close`] at shutdown so the last acks leave.
//!
//! - **Only what chains (JetStream).** Anyone allowed to publish on
//!   `maillage.events.>` can put a message in the stream, so the JetStream
//!   feed delivers an event only when its hash is the hash of its content
//!   (recomputed as the store computes it), it came on the subject a relay
//!   gives it, and its `prev_hash` is the hash of the event delivered just
//!   before it in its context. After a restart that is the hash at the
//!   consumer's checkpoint: consumers store it with the checkpoint and give
//!   it back ([`Checkpoints::record_event`], [`Checkpoints::hash`]). What does
//!   not verify is refused: never delivered, terminated on JetStream, logged
//!   and counted ([`Refusals`]). The direct feed reads local logs, which the
//!   store itself verifies.
//!
//! How the JetStream feed keeps the per-context order: the relay publishes in
//! log order, but after a NATS failure a republished event can land in the
//! stream after later events of its context (see [`crate::relay`]). The feed
//! tracks the next expected position of each context; an event ahead of it is
//! held (not acked) as a candidate until the missing ones arrive, then
//! delivered if it chains (forgeries claiming the same position are refused),
//! and an event behind it is a duplicate, acked once the consumer has acked
//! that position and never delivered again. An event more than
//! [`JetStreamFeedConfig::max_held`] positions ahead is refused (no relay
//! publishes that far past a missing event), and past that many candidates
//! held the farthest is given back to JetStream for later, so that a burst of
//! forged future positions cannot stop the feed. If a missing position is
//! awaited for longer than [`JetStreamFeedConfig::gap_timeout`] while later
//! events wait, [`Feed::next`] fails with [`FeedError::Gap`]: the stream lacks
//! an event (e.g. a stream recreated or trimmed by hand), and the projection
//! should rebuild from the logs.
//!
//! ```no_run
//! # async fn demo(mut feed: impl maillage_bus::Feed, mut checkpoints: maillage_bus::Checkpoints)
//! #     -> Result<(), maillage_bus::FeedError> {
//! loop {
//!     let delivery = feed.next().await?;
//!     let (context, position) = (delivery.context().to_owned(), delivery.position());
//!     if !checkpoints.is_applied(&context, position) {
//!         // apply delivery.envelope to the read models, and store
//!         // (context, position) in the same atomic write ...
//!         checkpoints.record(&context, position);
//!     }
//!     delivery.ack().await?;
//! }
//! # }
//! ```

pub(crate) mod chain;
mod direct;
mod jetstream;
mod refusals;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use maillage_eventstore::{StoreError, GENESIS_HASH};
use maillage_proto::v1::EventEnvelope;

pub use direct::{DirectFeed, DirectSource};
pub use jetstream::{JetStreamFeed, JetStreamFeedConfig};
pub use refusals::{Refusal, Refusals};

/// A source of deliveries, in per-context position order; see the module docs.
///
/// The method returns a boxed future so that `Box<dyn Feed>` works: a
/// projection can pick the implementation at run time.
pub trait Feed: Send {
    /// The next delivery. Waits for one; fails only when the feed cannot go on
    /// (sources closed, a gap that will not fill, a storage failure). Network
    /// failures are retried inside. Cancel-safe: dropping the future loses nothing.
    fn next(&mut self) -> BoxFuture<'_, Result<Delivery, FeedError>>;

    /// Stops the feed after sending the acks already made: call it before
    /// dropping a feed at shutdown. (Acks are sent without waiting for the
    /// broker; those a dropped feed had not sent yet are simply redelivered
    /// next time, and skipped.) Do not call [`Feed::next`] afterwards.
    fn close(&mut self) -> BoxFuture<'_, Result<(), FeedError>>;
}

impl<F: Feed + ?Sized> Feed for Box<F> {
    fn next(&mut self) -> BoxFuture<'_, Result<Delivery, FeedError>> {
        (**self).next()
    }

    fn close(&mut self) -> BoxFuture<'_, Result<(), FeedError>> {
        (**self).close()
    }
}

/// Why a feed cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Every source is closed (the direct feed's stores were closed).
    #[error("the feed is closed")]
    Closed,
    /// A source log failed.
    #[error("reading the log of {context}: {source}")]
    Store {
        /// The context.
        context: String,
        /// The store's error.
        source: StoreError,
    },
    /// A position of a context stays missing while later events wait for it.
    #[error("context {context}: position {expected} is missing from the feed ({held} later events held)")]
    Gap {
        /// The context.
        context: String,
        /// The position that never came.
        expected: u64,
        /// How many later events were held waiting for it (forgeries included).
        held: usize,
    },
    /// A bad configuration (e.g. an invalid durable name).
    #[error("feed configuration: {0}")]
    Config(String),
    /// An ack could not be sent (it will be redelivered; harmless).
    #[error("ack failed: {0}")]
    Ack(String),
}

/// The per-context checkpoints of a consumer: the last position applied for
/// each context (absent: 0, nothing applied) and, when the consumer stored
/// it, the hash of the event there, which the JetStream feed checks the next
/// event's `prev_hash` against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoints(BTreeMap<String, Checkpoint>);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Checkpoint {
    position: u64,
    hash: Option<[u8; 32]>,
}

impl Checkpoints {
    /// No checkpoint: every context from position 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last position applied for `context` (0 if none).
    pub fn get(&self, context: &str) -> u64 {
        self.0
            .get(context)
            .map_or(0, |checkpoint| checkpoint.position)
    }

    /// The hash of the last event applied for `context`: the genesis hash
    /// when nothing was applied, `None` when the consumer did not store it.
    pub fn hash(&self, context: &str) -> Option<[u8; 32]> {
        match self.0.get(context) {
            None | Some(Checkpoint { position: 0, .. }) => Some(GENESIS_HASH),
            Some(checkpoint) => checkpoint.hash,
        }
    }

    /// Whether `position` of `context` was already applied (so a delivery of it is skipped).
    pub fn is_applied(&self, context: &str, position: u64) -> bool {
        position <= self.get(context)
    }

    /// Notes that `position` of `context` is applied (never moves backwards),
    /// its hash unknown.
    pub fn record(&mut self, context: &str, position: u64) {
        let entry = self.0.entry(context.to_owned()).or_default();
        if position > entry.position {
            *entry = Checkpoint {
                position,
                hash: None,
            };
        }
    }

    /// Notes that the event at `position` of `context`, whose hash is `hash`,
    /// is applied (never moves backwards). Consumers that store this hash
    /// with their checkpoint let the JetStream feed check the first event
    /// after a restart.
    pub fn record_event(&mut self, context: &str, position: u64, hash: [u8; 32]) {
        let entry = self.0.entry(context.to_owned()).or_default();
        if position >= entry.position {
            *entry = Checkpoint {
                position,
                hash: Some(hash),
            };
        }
    }

    /// Every context with a checkpoint, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0
            .iter()
            .map(|(context, checkpoint)| (context.as_str(), checkpoint.position))
    }
}

impl FromIterator<(String, u64)> for Checkpoints {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        let mut checkpoints = Self::new();
        for (context, position) in iter {
            checkpoints.record(&context, position);
        }
        checkpoints
    }
}

impl FromIterator<(String, u64, [u8; 32])> for Checkpoints {
    fn from_iter<I: IntoIterator<Item = (String, u64, [u8; 32])>>(iter: I) -> Self {
        let mut checkpoints = Self::new();
        for (context, position, hash) in iter {
            checkpoints.record_event(&context, position, hash);
        }
        checkpoints
    }
}

/// One event delivered by a feed, to be acked after the consumer's commit.
#[derive(Debug)]
pub struct Delivery {
    /// The event.
    pub envelope: EventEnvelope,
    /// How many times the broker has delivered it (1 for the direct feed).
    pub delivery_count: u64,
    ack: AckHandle,
}

impl Delivery {
    pub(crate) fn new(envelope: EventEnvelope, delivery_count: u64, ack: AckHandle) -> Self {
        Self {
            envelope,
            delivery_count,
            ack,
        }
    }

    /// The context whose log holds the event.
    pub fn context(&self) -> &str {
        &self.envelope.context
    }

    /// Its position in that log.
    pub fn position(&self) -> u64 {
        self.envelope.position
    }

    /// Acknowledges it: call once the consumer's update and checkpoint are committed.
    pub async fn ack(self) -> Result<(), FeedError> {
        self.ack.ack().await
    }

    /// The event and its ack handle, for consumers that ack later (after a batch commit).
    pub fn into_parts(self) -> (EventEnvelope, AckHandle) {
        (self.envelope, self.ack)
    }
}

/// Acknowledges one delivery (see [`Delivery::into_parts`]).
#[derive(Debug)]
pub struct AckHandle(AckInner);

enum AckInner {
    /// The direct feed: nothing to acknowledge.
    None,
    /// A JetStream message, and the feed's record of what the consumer acked.
    JetStream {
        acker: Box<async_nats::jetstream::message::Acker>,
        acked: Arc<Mutex<Checkpoints>>,
        context: String,
        position: u64,
    },
}

impl std::fmt::Debug for AckInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckInner::None => f.write_str("None"),
            AckInner::JetStream {
                context, position, ..
            } => f
                .debug_struct("JetStream")
                .field("context", context)
                .field("position", position)
                .finish(),
        }
    }
}

impl AckHandle {
    pub(crate) fn none() -> Self {
        Self(AckInner::None)
    }

    pub(crate) fn jetstream(
        acker: async_nats::jetstream::message::Acker,
        acked: Arc<Mutex<Checkpoints>>,
        context: String,
        position: u64,
    ) -> Self {
        Self(AckInner::JetStream {
            acker: Box::new(acker),
            acked,
            context,
            position,
        })
    }

    /// Acknowledges the delivery (after the consumer's commit).
    pub async fn ack(self) -> Result<(), FeedError> {
        match self.0 {
            AckInner::None => Ok(()),
            AckInner::JetStream {
                acker,
                acked,
                context,
                position,
            } => {
                // Recorded first: even if the ack is lost, the consumer has
                // committed this position, so its duplicates may be acked.
                lock(&acked).record(&context, position);
                acker
                    .ack()
                    .await
                    .map_err(|error| FeedError::Ack(error.to_string()))
            }
        }
    }
}

/// Locks the shared ack record. A poisoned lock only means another thread
/// panicked between two plain map updates, which leave it consistent.
pub(crate) fn lock(acked: &Mutex<Checkpoints>) -> std::sync::MutexGuard<'_, Checkpoints> {
    acked
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_only_move_forward() {
        let mut checkpoints: Checkpoints = [("engagement".to_owned(), 4)].into_iter().collect();
        assert!(checkpoints.is_applied("engagement", 4));
        assert!(!checkpoints.is_applied("engagement", 5));
        assert!(!checkpoints.is_applied("governance", 1));
        checkpoints.record("engagement", 2);
        assert_eq!(checkpoints.get("engagement"), 4);
        checkpoints.record("governance", 1);
        assert_eq!(
            checkpoints.iter().collect::<Vec<_>>(),
            [("engagement", 4), ("governance", 1)]
        );
    }

    #[test]
    fn checkpoints_keep_the_hash_of_the_event_applied() {
        let mut checkpoints = Checkpoints::new();
        assert_eq!(checkpoints.hash("engagement"), Some(GENESIS_HASH));
        checkpoints.record_event("engagement", 3, [3; 32]);
        assert_eq!(checkpoints.hash("engagement"), Some([3; 32]));
        checkpoints.record_event("engagement", 2, [2; 32]);
        assert_eq!(checkpoints.hash("engagement"), Some([3; 32]));
        checkpoints.record("engagement", 4);
        assert_eq!(checkpoints.get("engagement"), 4);
        assert_eq!(
            checkpoints.hash("engagement"),
            None,
            "position 4's hash is unknown"
        );
        let stored: Checkpoints = [("governance".to_owned(), 7, [7; 32])]
            .into_iter()
            .collect();
        assert_eq!(stored.hash("governance"), Some([7; 32]));
    }
}
