//! Where the read models are kept: the service's own sled database (one
//! tree, so that a batch of row changes and the checkpoints it advances is
//! one atomic write), or nowhere (fresh in-memory models for replays).
//!
//! A full rewrite (rebuild) is streamed in batches into the other of two
//! trees ([`Storage::prepare`], while the current tree keeps taking the live
//! commits), then completed with what changed since and made current by one
//! atomic write of a pointer ([`Storage::switch`]): the rows are never all
//! held in one list, a crash mid-rewrite leaves the previous read models in
//! place, and the previous tree is dropped afterwards
//! ([`Storage::release_previous`]). A rebuild begins its rewrite first
//! ([`Storage::begin_rewrite`]) and hands the rows the live model keeps on
//! disk (the contacts and the timeline) to the other tree as it goes
//! ([`Storage::write_ahead`]), reading them back there when a later event
//! changes them. The live model reads those rows from the current tree
//! ([`Storage::keep_on_disk`]).
//!
//! Rows are stored in the binary form of [`crate::model::codec`]; JSON rows
//! written by earlier versions are still read (no rebuild needed).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use crate::model::{storage_key, Change, CurrentTree, LoadError, ReadModel, KEPT_ON_DISK};

/// The sled tree of the read models (the current one unless a rebuild
/// switched to [`ALTERNATE_TREE`]).
pub const TREE: &str = "projections.read-models";

/// The other tree a full rewrite fills before switching to it.
pub const ALTERNATE_TREE: &str = "projections.read-models.alternate";

/// The sled tree holding which read-model tree is current.
pub const META_TREE: &str = "projections.meta";

/// The key, in [`META_TREE`], of the current read-model tree's name (absent: [`TREE`]).
const CURRENT: &[u8] = b"current-tree";

/// The page cache of the read-model database, in bytes (half the event
/// stores' default): the live model reads its stored rows only at start and
/// for the tables kept on disk (a stakeholder's timeline), a few at a time,
/// and sled's cache grows to its capacity as the rows are written.
pub const CACHE_CAPACITY: u64 = 32 * 1024 * 1024;

/// Rows per sled batch when a full rewrite is streamed.
pub const REWRITE_BATCH: usize = 20_000;

/// Why the storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// sled failed.
    #[error("read-model database: {0}")]
    Sled(#[from] sled::Error),
    /// A row could not be serialised.
    #[error("read-model row: {0}")]
    Encode(#[from] serde_json::Error),
    /// A stored row could not be read back.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The database could not be opened.
    #[error("read-model database: {0}")]
    Open(#[from] maillage_eventstore::EngineError),
}

/// A place to keep read models: load at start, then commit updates atomically.
pub trait Storage: Send + Sync + 'static {
    /// The stored read model (empty when nothing is stored).
    fn load(&self) -> Result<ReadModel, StorageError>;
    /// Writes `changes` (row updates with their checkpoints) atomically and durably.
    fn commit(&self, changes: Vec<Change>) -> Result<(), StorageError>;
    /// Starts a full rewrite: when the storage takes rows ahead of
    /// [`Storage::prepare`] ([`Storage::write_ahead`]), returns the tree it
    /// writes them into, where the model being rebuilt reads them back
    /// ([`ReadModel::write_ahead_into`]); a storage that does not (`None`,
    /// the default) needs every row in the model it prepares.
    fn begin_rewrite(&self) -> Result<Option<CurrentTree>, StorageError> {
        Ok(None)
    }
    /// Writes `rows`, taken out of the model being rebuilt
    /// ([`ReadModel::drain_kept_on_disk`]), where its [`Storage::prepare`]
    /// will write the others (after [`Storage::begin_rewrite`] said yes).
    fn write_ahead(&self, _rows: Vec<Change>) -> Result<(), StorageError> {
        Ok(())
    }
    /// Writes every row and checkpoint of `model` where they will replace
    /// everything stored at the next [`Storage::switch`] (beside the rows
    /// written ahead since [`Storage::begin_rewrite`], if it was called:
    /// the model's tables that read them there write only the others),
    /// durably; what is stored now is untouched (commits go on).
    fn prepare(&self, model: &ReadModel) -> Result<(), StorageError>;
    /// Writes `changes` (made to the model since its [`Storage::prepare`])
    /// over the prepared rows, then makes them what is stored, atomically
    /// and durably.
    fn switch(&self, changes: Vec<Change>) -> Result<(), StorageError>;
    /// Frees what the last [`Storage::switch`] replaced.
    fn release_previous(&self) -> Result<(), StorageError>;
    /// Makes `model` (every row of which is stored, e.g. a rebuilt model
    /// after its [`Storage::switch`]) read the rows it need not hold in
    /// memory from the storage ([`ReadModel::keep_on_disk`]); a storage that
    /// keeps nothing leaves it as it is.
    fn keep_on_disk(&self, _model: &mut ReadModel) {}
    /// Replaces everything stored with every row and checkpoint of `model`,
    /// atomically and durably.
    fn replace_all(&self, model: &ReadModel) -> Result<(), StorageError> {
        // Begun afresh: nothing an interrupted rebuild wrote ahead is kept.
        self.begin_rewrite()?;
        self.prepare(model)?;
        self.switch(Vec::new())?;
        self.release_previous()
    }
}

/// Read models kept nowhere: for replays into fresh models.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryStorage;

impl Storage for MemoryStorage {
    fn load(&self) -> Result<ReadModel, StorageError> {
        Ok(ReadModel::new())
    }

    fn commit(&self, _changes: Vec<Change>) -> Result<(), StorageError> {
        Ok(())
    }

    fn prepare(&self, _model: &ReadModel) -> Result<(), StorageError> {
        Ok(())
    }

    fn switch(&self, _changes: Vec<Change>) -> Result<(), StorageError> {
        Ok(())
    }

    fn release_previous(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Read models in one sled tree: keys `table\0key`, rows in their stored
/// form ([`crate::model::codec`]: binary, or JSON as written before), checkpoints as
/// 8 big-endian bytes then the 32-byte hash of the event there (8 bytes
/// alone in databases written before) under `checkpoint\0<context>`. The tree is [`TREE`] or
/// [`ALTERNATE_TREE`], as the pointer in [`META_TREE`] says (see the module docs).
pub struct SledStorage {
    db: sled::Db,
    meta: sled::Tree,
    /// The current read-model tree (switched by [`Storage::switch`]), shared
    /// with the live model's tables kept on disk.
    tree: CurrentTree,
    /// The tree a rewrite begun by [`Storage::begin_rewrite`] fills, until
    /// its [`Storage::prepare`].
    begun: Mutex<Option<sled::Tree>>,
    /// One rewrite at a time: the tree [`Storage::prepare`] filled, until
    /// [`Storage::switch`] makes it current; then the tree it replaced,
    /// until [`Storage::release_previous`] drops it.
    rewrite: Mutex<Option<sled::Tree>>,
}

impl SledStorage {
    /// Opens (or creates) the database in `dir` (waiting, bounded, for a lock
    /// a previous handle of this process is still releasing).
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(sled::Error::Io)?;
        let options = maillage_eventstore::SledOptions {
            cache_capacity: CACHE_CAPACITY,
            ..maillage_eventstore::SledOptions::default()
        };
        let db = maillage_eventstore::open_sled(dir, &options)?;
        Self::with_db(db)
    }

    /// The storage in a database the caller opened.
    pub fn with_db(db: sled::Db) -> Result<Self, StorageError> {
        let meta = db.open_tree(META_TREE)?;
        let name = match meta.get(CURRENT)? {
            Some(name) if name.as_ref() == ALTERNATE_TREE.as_bytes() => ALTERNATE_TREE,
            _ => TREE,
        };
        let tree = db.open_tree(name)?;
        Ok(Self {
            db,
            meta,
            tree: Arc::new(RwLock::new(tree)),
            begun: Mutex::new(None),
            rewrite: Mutex::new(None),
        })
    }

    /// The database (e.g. to flush it on shutdown).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The rewrite's tree. A poisoned lock only means a panic mid-rewrite:
    /// the next [`Storage::prepare`] starts the other tree afresh.
    fn rewrite(&self) -> MutexGuard<'_, Option<sled::Tree>> {
        self.rewrite
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The tree a rewrite has begun to fill. A poisoned lock only means a
    /// panic mid-rewrite: the next rewrite starts the other tree afresh.
    fn begun(&self) -> MutexGuard<'_, Option<sled::Tree>> {
        self.begun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The other tree than the current one, emptied: a rewrite's.
    fn fresh_other_tree(&self) -> Result<sled::Tree, StorageError> {
        let other = if self.tree().name().as_ref() == ALTERNATE_TREE.as_bytes() {
            TREE
        } else {
            ALTERNATE_TREE
        };
        // Whatever an interrupted rewrite left in the other tree goes first.
        self.db.drop_tree(other)?;
        Ok(self.db.open_tree(other)?)
    }

    /// The current read-model tree. A poisoned lock only means a panic while
    /// switching trees after the pointer was written or before: either tree
    /// handle is whole, so it is recovered.
    fn tree(&self) -> RwLockReadGuard<'_, sled::Tree> {
        self.tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Storage for SledStorage {
    fn load(&self) -> Result<ReadModel, StorageError> {
        let mut model = ReadModel::new();
        self.keep_on_disk(&mut model);
        // The rows of the tables kept on disk stay there: not even read.
        let tree = self.tree();
        let mut from = Vec::new();
        for table in KEPT_ON_DISK {
            let rows = storage_key(table, "");
            for entry in tree.range(from.clone()..rows.clone()) {
                let (key, value) = entry?;
                model.load_row(&key, &value)?;
            }
            // Past every key of the table (no UTF-8 key holds the byte 0xFF).
            from = rows;
            from.push(u8::MAX);
        }
        for entry in tree.range(from..) {
            let (key, value) = entry?;
            model.load_row(&key, &value)?;
        }
        Ok(model)
    }

    fn keep_on_disk(&self, model: &mut ReadModel) {
        model.keep_on_disk(self.tree.clone());
    }

    fn commit(&self, changes: Vec<Change>) -> Result<(), StorageError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        let tree = self.tree();
        tree.apply_batch(batch)?;
        // Durable before the feed is acked: an acked event is never delivered again.
        tree.flush()?;
        Ok(())
    }

    fn begin_rewrite(&self) -> Result<Option<CurrentTree>, StorageError> {
        let mut begun = self.begun();
        *begun = None;
        *self.rewrite() = None;
        let fresh = self.fresh_other_tree()?;
        *begun = Some(fresh.clone());
        Ok(Some(Arc::new(RwLock::new(fresh))))
    }

    fn write_ahead(&self, rows: Vec<Change>) -> Result<(), StorageError> {
        let begun = self.begun();
        let tree = begun.as_ref().ok_or_else(|| {
            sled::Error::Unsupported("rows written ahead of a rewrite not begun".into())
        })?;
        for rows in rows.chunks(REWRITE_BATCH) {
            let mut batch = sled::Batch::default();
            for (key, value) in rows {
                match value {
                    Some(value) => batch.insert(key.as_slice(), value.as_slice()),
                    None => batch.remove(key.as_slice()),
                }
            }
            tree.apply_batch(batch)?;
        }
        Ok(())
    }

    fn prepare(&self, model: &ReadModel) -> Result<(), StorageError> {
        let begun = self.begun().take();
        let mut rewrite = self.rewrite();
        *rewrite = None;
        let fresh = match begun {
            Some(begun) => begun,
            None => self.fresh_other_tree()?,
        };
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        model.write_rows(|key, value| -> Result<(), StorageError> {
            batch.insert(key, value);
            pending += 1;
            if pending == REWRITE_BATCH {
                fresh.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
            Ok(())
        })?;
        fresh.apply_batch(batch)?;
        fresh.flush()?;
        *rewrite = Some(fresh);
        Ok(())
    }

    fn switch(&self, changes: Vec<Change>) -> Result<(), StorageError> {
        let mut rewrite = self.rewrite();
        let fresh = rewrite.take().ok_or_else(|| {
            sled::Error::Unsupported("switch without a prepared read-model tree".into())
        })?;
        let mut batch = sled::Batch::default();
        for (key, value) in changes {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        fresh.apply_batch(batch)?;
        fresh.flush()?;
        let mut current = self
            .tree
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The switch: one durable write of the pointer.
        self.meta.insert(CURRENT, fresh.name())?;
        self.meta.flush()?;
        *rewrite = Some(std::mem::replace(&mut *current, fresh));
        Ok(())
    }

    fn release_previous(&self) -> Result<(), StorageError> {
        if let Some(previous) = self.rewrite().take() {
            let name = previous.name();
            drop(previous);
            self.db.drop_tree(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{codec, storage_key, InteractionRow, StakeholderRow, CHECKPOINT_TABLE};

    #[test]
    fn json_rows_of_an_older_database_load_and_rows_are_now_written_binary() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SledStorage::open(dir.path()).unwrap();
        let interaction = InteractionRow {
            participants: vec![("s1".into(), 1)],
            occurred_at: Some(42),
            logged_by: "agent".into(),
            logged: true,
            ..InteractionRow::default()
        };
        let stakeholder = StakeholderRow {
            commune: "64102".into(),
            registered: true,
            ..StakeholderRow::default()
        };
        // As an earlier version wrote them: JSON rows, and a `contacts` index.
        let tree = storage.tree().clone();
        tree.insert(
            storage_key("interactions", "i1"),
            serde_json::to_vec(&interaction).unwrap(),
        )
        .unwrap();
        tree.insert(
            storage_key("stakeholders", "s1"),
            serde_json::to_vec(&stakeholder).unwrap(),
        )
        .unwrap();
        tree.insert(storage_key("contacts", "s1/i1"), b"true".to_vec())
            .unwrap();
        tree.insert(
            storage_key(CHECKPOINT_TABLE, "stakeholders"),
            &3u64.to_be_bytes(),
        )
        .unwrap();
        let mut model = storage.load().unwrap();
        assert_eq!(model.interactions.get("i1"), Some(interaction.clone()));
        assert_eq!(model.stakeholders.get("s1"), Some(&stakeholder));
        assert_eq!(model.checkpoint("stakeholders"), 3);

        // A rewrite stores every row in the binary form, without `contacts`.
        storage.replace_all(&model).unwrap();
        let rows: Vec<(Vec<u8>, Vec<u8>)> = storage
            .tree()
            .iter()
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (key.to_vec(), value.to_vec())
            })
            .collect();
        assert_eq!(rows.len(), 3);
        let stored = |key: Vec<u8>| rows.iter().find(|(k, _)| *k == key).unwrap().1.clone();
        assert_eq!(
            stored(storage_key("interactions", "i1")),
            codec::to_stored(&interaction).unwrap()
        );
        assert_eq!(
            stored(storage_key("stakeholders", "s1")),
            codec::to_stored(&stakeholder).unwrap()
        );
        assert!(storage.load().unwrap() == model);
        assert_eq!(
            model.take_changes().unwrap(),
            Vec::<crate::model::Change>::new()
        );
    }
}
