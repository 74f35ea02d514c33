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

use crate::checkpoint;
use crate::follow::{FollowError, Follows};

/// The key of the checkpoint row: the position, then the hash of the event
/// there ([`crate::checkpoint`]).
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
        let (checkpoint, _) = checkpoint::read(&tree, CHECKPOINT_KEY)?;
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

    /// The hash of the event at [`Reactor::position`], when stored.
    pub fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error> {
        Ok(checkpoint::read(&self.tree, CHECKPOINT_KEY)?.1)
    }

    /// Reacts to the new events of `envelopes`, then stores the checkpoint.
    pub async fn apply_batch(&self, envelopes: &[EventEnvelope]) -> Result<(), ReactError> {
        let mut checkpoint = self.position();
        let mut hash = None;
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
            hash = <[u8; 32]>::try_from(envelope.hash.as_slice()).ok();
        }
        if checkpoint != self.position() {
            self.tree
                .insert(CHECKPOINT_KEY, checkpoint::row(checkpoint, hash))?;
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

    fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error> {
        Reactor::position_hash(self)
    }

    fn apply(
        self: Arc<Self>,
        envelopes: Vec<EventEnvelope>,
    ) -> BoxFuture<'static, Result<(), FollowError>> {
        Box::pin(async move { self.apply_batch(&envelopes).await })
    }
}
