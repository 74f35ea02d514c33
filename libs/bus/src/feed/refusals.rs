//! What the JetStream feed refuses, and the count a consumer reports.
//!
//! Anyone allowed to publish on `maillage.events.>` can put a message in the
//! stream, so the feed checks every one (see [`super::chain`]) and refuses
//! what a relay could not have published: it is never delivered, it is
//! terminated on JetStream (never redelivered to that consumer), and it is
//! logged at ERROR level with its subject, stream sequence, context,
//! position and the reason (never its payload). [`Refusals`] counts them for
//! a consumer across the feeds it makes (the projections show it in
//! `GetProjectionStatus`).

use std::sync::{Arc, Mutex};

/// Why a message on the event stream was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The payload is not an event envelope, or a field is malformed.
    #[error("not an event envelope: {0}")]
    NotAnEnvelope(String),
    /// The subject is not the one the relay gives this envelope.
    #[error("published on {subject}, but a relay publishes this event on {expected}")]
    WrongSubject {
        /// The message's subject.
        subject: String,
        /// The subject of the envelope's context, category and type.
        expected: String,
    },
    /// The hash is not the hash of the envelope's content.
    #[error("its hash does not match its content")]
    BadHash,
    /// Its `prev_hash` is not the hash of the event before it in its context.
    #[error("its prev_hash is not the hash of position {previous} of its context")]
    NotChained {
        /// The position it should chain to.
        previous: u64,
    },
    /// Another event was already delivered at its position.
    #[error("another event with another hash was delivered at its position")]
    Conflicting,
    /// So far ahead of the next expected position that no relay could have
    /// published it yet (see `JetStreamFeedConfig::max_held`).
    #[error("it is more than {window} positions ahead of the next expected position {expected}")]
    TooFarAhead {
        /// The next position the feed expects in that context.
        expected: u64,
        /// The reorder window.
        window: u64,
    },
}

/// The messages refused by a consumer's feeds, shared: clone it into every
/// [`JetStreamFeedConfig`](super::JetStreamFeedConfig) the consumer makes.
#[derive(Debug, Clone, Default)]
pub struct Refusals(Arc<Mutex<Counted>>);

#[derive(Debug, Default)]
struct Counted {
    count: u64,
    last: Option<String>,
}

impl Refusals {
    /// Nothing refused yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many messages were refused.
    pub fn count(&self) -> u64 {
        self.lock().count
    }

    /// The last refusal, as logged (context, position and reason), if any.
    pub fn last(&self) -> Option<String> {
        self.lock().last.clone()
    }

    pub(crate) fn record(&self, what: String) {
        let mut counted = self.lock();
        counted.count += 1;
        counted.last = Some(what);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counted> {
        // A poisoned lock only means a panic between two plain field updates.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
