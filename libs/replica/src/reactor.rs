//! A reaction to another context's events: what a context does when a fact of
//! another context happens (engagement destroying its keys about a person
//! whose erasure started; stakeholders recording that engagement did). The
//! reaction runs for each new event in position order; the checkpoint moves
//! only after the reactions of a batch succeeded, so after a crash the events
//! since the checkpoint are reacted to again: reactions must be idempotent.

use std::sync::Arc;

use futures::future::BoxFuture;
use maillage_proto::v1::EventEnvelope;
use tokio::sync::watch;

use crate::follow::{FollowError, Follows};

/// The key of the checkpoint row.
const CHECKPOINT_KEY: &[u8] = b"checkpoint";

/// Why a reaction failed (it is tried again from the checkpoint).
pub type ReactError = Box<dyn std::error::Error + Send + Sync>;

/// What a context does on another context's events.
pub trait React: Send + Sync + 'static {
    /// The context followed.
    const CONTEXT: &'static str;

    /// Reacts to one event (most events need nothing). Idempotent.
    fn react<'a>(&'a self, envelope: &'a EventEnvelope) -> BoxFuture<'a, Result<(), ReactError>>;
}

/// A reaction with its checkpoint, stored in its own sled tree.
pub struct Reactor<R: React> {
    tree: sled::Tree,
    position: watch::Sender<u64>,
    reaction: R,
}

impl<R: React> Reactor<R> {
    /// `reaction`, with its checkpoint in `tree`.
    pub fn open(tree: sled::Tree, reaction: R) -> Result<Self, sled::Error> {
        let checkpoint = tree
            .get(CHECKPOINT_KEY)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        Ok(Self {
            tree,
            position: watch::Sender::new(checkpoint),
            reaction,
        })
    }

    /// The last position reacted to.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// Reacts to the new events of `envelopes`, then stores the checkpoint.
    pub async fn apply_batch(&self, envelopes: &[EventEnvelope]) -> Result<(), ReactError> {
        let mut checkpoint = self.position();
        for envelope in envelopes {
            if envelope.context != R::CONTEXT {
                return Err(format!(
                    "the reaction to {} was given an event of {}",
                    R::CONTEXT,
                    envelope.context
                )
                .into());
            }
            if envelope.position <= checkpoint {
                continue;
            }
            if envelope.position != checkpoint + 1 {
                return Err(format!(
                    "the reaction to {} is at position {checkpoint} and was given position {}",
                    R::CONTEXT,
                    envelope.position
                )
                .into());
            }
            self.reaction.react(envelope).await?;
            checkpoint = envelope.position;
        }
        if checkpoint != self.position() {
            self.tree
                .insert(CHECKPOINT_KEY, &checkpoint.to_be_bytes())?;
            self.tree.flush_async().await?;
            self.position.send_replace(checkpoint);
        }
        Ok(())
    }
}

impl<R: React> Follows for Reactor<R> {
    fn context(&self) -> &'static str {
        R::CONTEXT
    }

    fn position(&self) -> u64 {
        Reactor::position(self)
    }

    fn apply(
        self: Arc<Self>,
        envelopes: Vec<EventEnvelope>,
    ) -> BoxFuture<'static, Result<(), FollowError>> {
        Box::pin(async move { self.apply_batch(&envelopes).await })
    }
}
