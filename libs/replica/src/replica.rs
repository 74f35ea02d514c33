//! A replica on disk: rows folded from one context's events, in a sled tree of
//! the consuming service's own database, with the checkpoint of that context
//! written in the same atomic batch as the rows it covers.
//!
//! What the rows mean is a [`Model`]'s business: it folds one event into
//! writes, reading the rows it needs through an [`Overlay`] (the tree plus the
//! writes of the batch so far). The replica skips positions at or below its
//! checkpoint (the feed delivers at least once), refuses a gap (the feed
//! promises none, so a gap is a bug or a misconfigured feed), and stops at an
//! event it cannot decode rather than skipping it: a replica that silently
//! missed a registration or an erasure would answer wrongly forever.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use maillage_proto::v1::EventEnvelope;
use tokio::sync::watch;

use crate::checkpoint;

/// The key of the checkpoint row (rows of a model never start with 0xFF):
/// the position, then the hash of the event there ([`crate::checkpoint`]).
const CHECKPOINT_KEY: &[u8] = b"\xffcheckpoint";

/// What a replica keeps, and how one event of its context changes it.
pub trait Model: Send + Sync + 'static {
    /// The context whose log the model follows (`stakeholders`, `engagement`).
    const CONTEXT: &'static str;

    /// Folds `envelope` (an event of [`Model::CONTEXT`]) into `rows`. Events
    /// the model does not keep anything of leave `rows` alone.
    fn fold(envelope: &EventEnvelope, rows: &mut Overlay<'_>) -> Result<(), FoldError>;
}

/// An event a model cannot fold.
#[derive(Debug, thiserror::Error)]
#[error("{event_type} at position {position} cannot be decoded: {reason}")]
pub struct FoldError {
    /// The event's type.
    pub event_type: String,
    /// Its position.
    pub position: u64,
    /// Why.
    pub reason: String,
}

impl FoldError {
    /// The payload of `envelope` did not decode as its type.
    pub fn undecodable(envelope: &EventEnvelope, error: impl std::fmt::Display) -> Self {
        Self {
            event_type: envelope.event_type.clone(),
            position: envelope.position,
            reason: error.to_string(),
        }
    }
}

/// Why a replica could not apply a batch.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// An event could not be folded: the replica stops there, never skips it.
    #[error(transparent)]
    Fold(#[from] FoldError),
    /// An event of another context was delivered (a misconfigured feed).
    #[error("the {expected} replica was given an event of {actual}")]
    WrongContext {
        /// The model's context.
        expected: &'static str,
        /// The envelope's.
        actual: String,
    },
    /// The feed skipped a position.
    #[error("the {context} replica is at position {checkpoint} and was given position {position}")]
    Gap {
        /// The context.
        context: &'static str,
        /// The replica's checkpoint.
        checkpoint: u64,
        /// The position delivered.
        position: u64,
    },
    /// sled failed.
    #[error("replica storage: {0}")]
    Storage(#[from] sled::Error),
}

/// The rows of a replica as a batch sees them: the tree, under the writes the
/// batch has made so far.
pub struct Overlay<'a> {
    tree: &'a sled::Tree,
    writes: HashMap<Vec<u8>, Vec<u8>>,
}

impl Overlay<'_> {
    /// The row at `key`, as written by this batch or stored before it.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, sled::Error> {
        if let Some(value) = self.writes.get(key) {
            return Ok(Some(value.clone()));
        }
        Ok(self.tree.get(key)?.map(|value| value.to_vec()))
    }

    /// Writes the row at `key`.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, value);
    }
}

/// A durable, read-only replica of what [`Model`] `M` keeps; see the module docs.
pub struct Replica<M: Model> {
    tree: sled::Tree,
    position: watch::Sender<u64>,
    model: PhantomData<fn() -> M>,
}

impl<M: Model> Replica<M> {
    /// The replica stored in `tree` (empty: nothing applied yet).
    pub fn open(tree: sled::Tree) -> Result<Self, ReplicaError> {
        let (checkpoint, _) = checkpoint::read(&tree, CHECKPOINT_KEY)?;
        Ok(Self {
            tree,
            position: watch::Sender::new(checkpoint),
            model: PhantomData,
        })
    }

    /// The last position of [`Model::CONTEXT`] applied.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// The hash of the event at [`Replica::position`], when stored.
    pub fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error> {
        Ok(checkpoint::read(&self.tree, CHECKPOINT_KEY)?.1)
    }

    /// Applies `envelopes` (in position order) and their checkpoint in one
    /// atomic batch, then flushes: once it returns, the feed may be acked.
    /// Returns how many events were new (the rest were redeliveries).
    pub fn apply_batch(&self, envelopes: &[EventEnvelope]) -> Result<usize, ReplicaError> {
        let mut checkpoint = self.position();
        let mut overlay = Overlay {
            tree: &self.tree,
            writes: HashMap::new(),
        };
        let mut applied = 0;
        let mut hash = None;
        for envelope in envelopes {
            if envelope.context != M::CONTEXT {
                return Err(ReplicaError::WrongContext {
                    expected: M::CONTEXT,
                    actual: envelope.context.clone(),
                });
            }
            if envelope.position <= checkpoint {
                continue;
            }
            if envelope.position != checkpoint + 1 {
                return Err(ReplicaError::Gap {
                    context: M::CONTEXT,
                    checkpoint,
                    position: envelope.position,
                });
            }
            M::fold(envelope, &mut overlay)?;
            checkpoint = envelope.position;
            hash = <[u8; 32]>::try_from(envelope.hash.as_slice()).ok();
            applied += 1;
        }
        if applied == 0 {
            return Ok(0);
        }
        let mut batch = sled::Batch::default();
        for (key, value) in overlay.writes {
            batch.insert(key, value);
        }
        batch.insert(CHECKPOINT_KEY, checkpoint::row(checkpoint, hash));
        self.tree.apply_batch(batch)?;
        self.tree.flush()?;
        self.position.send_replace(checkpoint);
        Ok(applied)
    }

    /// Waits until the replica has applied `position`, at most `timeout`;
    /// returns the position reached (which is below `position` on a time-out).
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> u64 {
        let mut reached = self.position.subscribe();
        let _ = tokio::time::timeout(timeout, reached.wait_for(|at| *at >= position)).await;
        self.position()
    }

    /// The row at `key`.
    pub(crate) fn row(&self, key: &[u8]) -> Result<Option<sled::IVec>, sled::Error> {
        self.tree.get(key)
    }
}
