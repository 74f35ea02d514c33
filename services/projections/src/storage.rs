//! Where the read models are kept: the service's own sled database (one
//! tree, so that a batch of row changes and the checkpoints it advances is
//! one atomic write), or nowhere (fresh in-memory models for replays).
//!
//! A full rewrite (rebuild) is streamed in batches into the other of two
//! trees, then made current by one atomic write of a pointer: the rows are
//! never all held in one list, and a crash mid-rewrite leaves the previous
//! read models in place.

use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard};

use crate::model::{Change, LoadError, ReadModel};

/// The sled tree of the read models (the current one unless a rebuild
/// switched to [`ALTERNATE_TREE`]).
pub const TREE: &str = "projections.read-models";

/// The other tree a full rewrite fills before switching to it.
pub const ALTERNATE_TREE: &str = "projections.read-models.alternate";

/// The sled tree holding which read-model tree is current.
pub const META_TREE: &str = "projections.meta";

/// The key, in [`META_TREE`], of the current read-model tree's name (absent: [`TREE`]).
const CURRENT: &[u8] = b"current-tree";

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
    /// Replaces everything stored with every row and checkpoint of `model`,
    /// atomically and durably.
    fn replace_all(&self, model: &ReadModel) -> Result<(), StorageError>;
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

    fn replace_all(&self, _model: &ReadModel) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Read models in one sled tree: keys `table\0key`, JSON rows, checkpoints as
/// 8 big-endian bytes then the 32-byte hash of the event there (8 bytes
/// alone in databases written before) under `checkpoint\0<context>`. The tree is [`TREE`] or
/// [`ALTERNATE_TREE`], as the pointer in [`META_TREE`] says (see the module docs).
pub struct SledStorage {
    db: sled::Db,
    meta: sled::Tree,
    /// The current read-model tree (switched by [`Storage::replace_all`]).
    tree: RwLock<sled::Tree>,
}

impl SledStorage {
    /// Opens (or creates) the database in `dir` (waiting, bounded, for a lock
    /// a previous handle of this process is still releasing).
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir).map_err(sled::Error::Io)?;
        let db = maillage_eventstore::open_sled(dir, &maillage_eventstore::SledOptions::default())?;
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
            tree: RwLock::new(tree),
        })
    }

    /// The database (e.g. to flush it on shutdown).
    pub fn db(&self) -> &sled::Db {
        &self.db
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
        for entry in self.tree().iter() {
            let (key, value) = entry?;
            model.load_row(&key, &value)?;
        }
        Ok(model)
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

    fn replace_all(&self, model: &ReadModel) -> Result<(), StorageError> {
        let mut current = self
            .tree
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (old, new) = if current.name().as_ref() == ALTERNATE_TREE.as_bytes() {
            (ALTERNATE_TREE, TREE)
        } else {
            (TREE, ALTERNATE_TREE)
        };
        // Whatever an interrupted rewrite left in the other tree goes first.
        self.db.drop_tree(new)?;
        let fresh = self.db.open_tree(new)?;
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
        // The switch: one durable write of the pointer.
        self.meta.insert(CURRENT, new.as_bytes())?;
        self.meta.flush()?;
        *current = fresh;
        drop(current);
        self.db.drop_tree(old)?;
        Ok(())
    }
}
