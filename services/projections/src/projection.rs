//! The live projection: the read model in memory, kept in its storage, fed
//! batch by batch (each batch committed atomically with its checkpoints), read
//! by queries, rebuilt from the source logs on demand, and (when it has
//! [`Snapshots`]) snapshotted every so many events for `as_of` queries.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use maillage_bus::{Checkpoints, Refusals};
use maillage_proto::v1::EventEnvelope;
use tokio::sync::watch;

use crate::consumer::{ConsumerState, ConsumerStatus};
use crate::model::{Applied, ReadModel};
use crate::replay;
use crate::snapshot::Snapshots;
use crate::source::{SharedSource, SourceError};
use crate::storage::{Storage, StorageError};

/// Why the projection could not be updated.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The storage failed (the in-memory model may be ahead of it: restart).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A source log could not be read (rebuild).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// An event the projection reads did not decode: the projection stopped
    /// before it (its checkpoint is the position before), never skipping it.
    #[error("undecodable event, the projection stops before it: {reason}")]
    Undecodable {
        /// Its context.
        context: String,
        /// Its position.
        position: u64,
        /// Its type, position, context and the decoding error.
        reason: String,
    },
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events folded into the tables.
    pub applied: usize,
    /// Deliveries at or below their checkpoint, skipped.
    pub duplicates: usize,
    /// Events of types the projection does not read.
    pub ignored: usize,
}

/// The live read models and their storage.
pub struct LiveProjection {
    model: RwLock<ReadModel>,
    storage: Arc<dyn Storage>,
    applied: watch::Sender<BTreeMap<String, u64>>,
    consumer: watch::Sender<ConsumerStatus>,
    refusals: Refusals,
    /// Whether the consumer is running (what health follows).
    serving: watch::Sender<bool>,
    /// Where the read models are snapshotted as they follow the logs.
    snapshots: Option<Arc<Snapshots>>,
    /// Held by the running rebuild (one at a time).
    rebuilding: tokio::sync::Mutex<()>,
    /// How far the running rebuild is (see [`LiveProjection::rebuild_progress`]).
    progress: watch::Sender<RebuildProgress>,
}

/// How far a rebuild is, for an operator to follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildProgress {
    /// Whether a rebuild is running.
    pub running: bool,
    /// Events replayed so far into the models being rebuilt.
    pub replayed: u64,
    /// Events the live models had applied when it started (a rebuild reads
    /// on to the end of each log, so it may replay more; 0 for empty models).
    pub expected: u64,
}

/// Events a rebuild replays between two reports of its progress.
const PROGRESS_STEP: u64 = 20_000;

impl LiveProjection {
    /// Loads the read models kept in `storage`.
    pub fn open(storage: Arc<dyn Storage>) -> Result<Self, StorageError> {
        let model = storage.load()?;
        let (applied, _) = watch::channel(model.checkpoints().clone());
        Ok(Self {
            model: RwLock::new(model),
            storage,
            applied,
            consumer: watch::Sender::new(ConsumerStatus::default()),
            refusals: Refusals::new(),
            serving: watch::Sender::new(false),
            snapshots: None,
            rebuilding: tokio::sync::Mutex::new(()),
            progress: watch::Sender::new(RebuildProgress::default()),
        })
    }

    /// Snapshots the read models into `snapshots` after each batch that
    /// takes them [`Snapshots::every`] events beyond the latest snapshot
    /// (and lets `as_of` queries start from them).
    pub fn with_snapshots(mut self, snapshots: Arc<Snapshots>) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    /// The snapshots of these read models, if kept.
    pub fn snapshots(&self) -> Option<&Arc<Snapshots>> {
        self.snapshots.as_ref()
    }

    /// The read model, for queries. Poisoning cannot leave it half-updated in a
    /// way queries care about more than a crash would, so it is recovered.
    pub fn read(&self) -> RwLockReadGuard<'_, ReadModel> {
        self.model
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, ReadModel> {
        self.model
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The last position applied per context.
    pub fn checkpoints(&self) -> BTreeMap<String, u64> {
        self.read().checkpoints().clone()
    }

    /// The checkpoints to make a feed from: each context's last position
    /// applied, with the hash of the event there when known (the JetStream
    /// feed checks that the next event chains to it).
    pub fn feed_checkpoints(&self) -> Checkpoints {
        let model = self.read();
        let mut checkpoints = Checkpoints::new();
        for (context, position) in model.checkpoints() {
            match model.head_hash(context) {
                Some(hash) => checkpoints.record_event(context, *position, hash),
                None => checkpoints.record(context, *position),
            }
        }
        checkpoints
    }

    /// Where the JetStream feeds of these read models count the messages they
    /// refuse: give it to each feed's configuration (shown by `GetProjectionStatus`).
    pub fn feed_refusals(&self) -> Refusals {
        self.refusals.clone()
    }

    /// What the consumer feeding these read models is doing.
    pub fn consumer_status(&self) -> ConsumerStatus {
        self.consumer.borrow().clone()
    }

    /// Watches the consumer's status.
    pub fn watch_consumer(&self) -> watch::Receiver<ConsumerStatus> {
        self.consumer.subscribe()
    }

    /// `true` while the consumer feeding these read models is running:
    /// health says NOT_SERVING otherwise (not started yet, restarting after a
    /// failure, or stopped), since answers may then fall behind the logs.
    pub fn serving(&self) -> watch::Receiver<bool> {
        self.serving.subscribe()
    }

    /// Updates the consumer's status (its supervisor does).
    pub(crate) fn update_consumer(&self, update: impl FnOnce(&mut ConsumerStatus)) {
        self.consumer.send_modify(update);
        let running = self.consumer.borrow().state == ConsumerState::Running;
        self.serving.send_if_modified(|serving| {
            let changed = *serving != running;
            *serving = running;
            changed
        });
    }

    /// Watches the checkpoints (updated after each commit).
    pub fn subscribe(&self) -> watch::Receiver<BTreeMap<String, u64>> {
        self.applied.subscribe()
    }

    /// Waits until `context` is applied up to `position` at least.
    pub async fn wait_for(&self, context: &str, position: u64) {
        let mut receiver = self.subscribe();
        // An error means the projection was dropped: nothing more to wait for.
        let _ = receiver
            .wait_for(|checkpoints| checkpoints.get(context).copied().unwrap_or(0) >= position)
            .await;
    }

    /// Applies a batch of deliveries (duplicates skipped) and commits the
    /// changed rows with the new checkpoints in one atomic, durable write.
    #[tracing::instrument(skip_all, fields(events = envelopes.len()))]
    pub fn apply_batch(
        &self,
        envelopes: &[EventEnvelope],
    ) -> Result<BatchOutcome, ProjectionError> {
        let mut outcome = BatchOutcome::default();
        let mut undecodable = None;
        let checkpoints = {
            let mut model = self.write();
            for envelope in envelopes {
                match model.apply(envelope) {
                    Applied::Applied => outcome.applied += 1,
                    Applied::Duplicate => outcome.duplicates += 1,
                    Applied::Ignored => outcome.ignored += 1,
                    Applied::Undecodable(reason) => {
                        // What came before it is committed; nothing after it is applied.
                        undecodable = Some(ProjectionError::Undecodable {
                            context: envelope.context.clone(),
                            position: envelope.position,
                            reason,
                        });
                        break;
                    }
                }
            }
            let changes = model.take_changes().map_err(StorageError::from)?;
            self.storage.commit(changes)?;
            model.checkpoints().clone()
        };
        self.applied.send_replace(checkpoints);
        self.snapshot_if_due();
        match undecodable {
            Some(error) => Err(error),
            None => Ok(outcome),
        }
    }

    /// Writes a snapshot when one is due, under the read lock: queries go on,
    /// the next batch waits for it. A failure is logged: snapshots are
    /// derived data, they only save `as_of` replays time.
    fn snapshot_if_due(&self) {
        let Some(snapshots) = &self.snapshots else {
            return;
        };
        let model = self.read();
        if !snapshots.due(&model) {
            return;
        }
        let started = std::time::Instant::now();
        match snapshots.write(&model) {
            Ok(Some(path)) => tracing::info!(
                path = %path.display(),
                millis = started.elapsed().as_millis() as u64,
                "read-model snapshot written"
            ),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot write a read-model snapshot"),
        }
    }

    /// Rebuilds the read models from position 1 of every source, then swaps
    /// them in (and in the storage) atomically. Deliveries keep being applied,
    /// and queries answered from the previous models, while the sources are
    /// read and while the rebuilt rows are written into the storage beside
    /// the current ones ([`Storage::prepare`]); then the fresh model catches
    /// up with every position the live one has applied (its changes since
    /// recorded), and only that short tail's rows, the switch and the swap
    /// hold the write lock, so no event is lost and later deliveries at or
    /// below the new checkpoints are skipped. One rebuild at a time (another
    /// waits for it).
    #[tracing::instrument(skip_all)]
    pub async fn rebuild(&self, sources: &[SharedSource]) -> Result<u64, ProjectionError> {
        let _one_at_a_time = self.rebuilding.lock().await;
        let expected = self.read().checkpoints().values().sum();
        self.progress.send_replace(RebuildProgress {
            running: true,
            replayed: 0,
            expected,
        });
        let outcome = self.rebuild_models(sources).await;
        self.progress.send_replace(RebuildProgress::default());
        outcome
    }

    /// How far the running rebuild is (not running: all zero).
    pub fn rebuild_progress(&self) -> RebuildProgress {
        *self.progress.borrow()
    }

    /// Replays every source into `fresh` from its start to its end, by steps
    /// of [`PROGRESS_STEP`] events, reporting each step; returns how many.
    /// With `write_ahead`, the rows the live model keeps on disk are handed
    /// to the storage after each step rather than held.
    async fn replay_reporting(
        &self,
        fresh: &mut ReadModel,
        sources: &[SharedSource],
        write_ahead: bool,
    ) -> Result<u64, ProjectionError> {
        let mut replayed = 0;
        for source in sources {
            loop {
                let until = fresh.checkpoint(source.context()) + PROGRESS_STEP;
                let step = replay::replay_source(fresh, source.as_ref(), None, Some(until)).await?;
                replayed += step;
                self.progress
                    .send_modify(|progress| progress.replayed = replayed);
                if write_ahead {
                    self.storage.write_ahead(fresh.drain_kept_on_disk())?;
                }
                if step == 0 || fresh.checkpoint(source.context()) < until {
                    break;
                }
            }
        }
        Ok(replayed)
    }

    /// The rebuild itself (see [`LiveProjection::rebuild`]).
    async fn rebuild_models(&self, sources: &[SharedSource]) -> Result<u64, ProjectionError> {
        // Untracked while it is built: every row is written by `prepare`, or
        // handed to the storage ahead of it (the contacts' and the timeline's,
        // when it takes them, and read back there).
        let mut fresh = ReadModel::for_replay();
        let ahead = self.storage.begin_rewrite()?;
        let write_ahead = ahead.is_some();
        if let Some(tree) = ahead {
            fresh.write_ahead_into(tree);
        }
        let mut replayed = self
            .replay_reporting(&mut fresh, sources, write_ahead)
            .await?;
        replayed += self.catch_up(&mut fresh, sources).await?;
        self.progress
            .send_modify(|progress| progress.replayed = replayed);
        self.storage.prepare(&fresh)?;
        // From now on its changes are recorded: they complete the prepared rows.
        fresh.set_tracking(true);
        loop {
            replayed += self.catch_up(&mut fresh, sources).await?;
            let mut live = self.write();
            let caught_up = sources.iter().all(|source| {
                fresh.checkpoint(source.context()) >= live.checkpoint(source.context())
            });
            if !caught_up {
                continue;
            }
            let changes = fresh.take_changes().map_err(StorageError::from)?;
            self.storage.switch(changes)?;
            // Every row is stored: the ones it need not hold are read there.
            self.storage.keep_on_disk(&mut fresh);
            let checkpoints = fresh.checkpoints().clone();
            *live = std::mem::take(&mut fresh);
            drop(live);
            self.applied.send_replace(checkpoints);
            self.storage.release_previous()?;
            tracing::info!(replayed, "read models rebuilt");
            return Ok(replayed);
        }
    }

    /// Replays into `fresh` every source's events up to the position the
    /// live model has applied (without holding its lock while reading);
    /// returns how many.
    async fn catch_up(
        &self,
        fresh: &mut ReadModel,
        sources: &[SharedSource],
    ) -> Result<u64, ProjectionError> {
        let behind: Vec<(usize, u64)> = {
            let live = self.read();
            sources
                .iter()
                .enumerate()
                .filter_map(|(index, source)| {
                    let live = live.checkpoint(source.context());
                    (live > fresh.checkpoint(source.context())).then_some((index, live))
                })
                .collect()
        };
        let mut replayed = 0;
        for (index, until) in behind {
            let source = sources[index].as_ref();
            replayed += replay::replay_source(fresh, source, None, Some(until)).await?;
        }
        Ok(replayed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SledStorage;

    fn event(position: u64, hash: u8) -> EventEnvelope {
        EventEnvelope {
            context: "governance".into(),
            position,
            event_type: "maillage.v1.NotReadByProjections".into(),
            prev_hash: vec![hash.wrapping_sub(1); 32],
            hash: vec![hash; 32],
            ..EventEnvelope::default()
        }
    }

    #[test]
    fn the_hash_at_each_checkpoint_is_stored_and_given_to_the_feed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let live =
                LiveProjection::open(Arc::new(SledStorage::open(dir.path()).unwrap())).unwrap();
            live.apply_batch(&[event(1, 1), event(2, 2)]).unwrap();
        }
        let storage = Arc::new(SledStorage::open(dir.path()).unwrap());
        let live = LiveProjection::open(storage.clone()).unwrap();
        let checkpoints = live.feed_checkpoints();
        assert_eq!(checkpoints.get("governance"), 2);
        assert_eq!(checkpoints.hash("governance"), Some([2; 32]));

        // A checkpoint stored before hashes were kept: the position alone.
        let tree = storage.db().open_tree(crate::storage::TREE).unwrap();
        tree.insert(
            crate::model::storage_key(crate::model::CHECKPOINT_TABLE, "governance"),
            &7u64.to_be_bytes(),
        )
        .unwrap();
        drop(live);
        let live = LiveProjection::open(storage).unwrap();
        let checkpoints = live.feed_checkpoints();
        assert_eq!(checkpoints.get("governance"), 7);
        assert_eq!(checkpoints.hash("governance"), None);
    }
}
