//! Where the read models are kept: the service's own sled database (one
//! tree, so that a batch of row changes and the checkpoints it advances is
//! one atomic write), or nowhere (fresh in-memory models for replays).

use std::path::Path;

use crate::model::{Change, LoadError, ReadModel};

/// The sled tree of the read models.
pub const TREE: &str = "projections.read-models";

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
    /// Replaces everything stored with `rows`, atomically and durably.
    fn replace_all(&self, rows: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StorageError>;
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

    fn replace_all(&self, _rows: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StorageError> {
        Ok(())
    }
}

/// Read models in one sled tree: keys `table\0key`, JSON rows, checkpoints as
/// 8 big-endian bytes under `checkpoint\0<context>`.
#[derive(Clone)]
pub struct SledStorage {
    db: sled::Db,
    tree: sled::Tree,
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
        let tree = db.open_tree(TREE)?;
        Ok(Self { db, tree })
    }

    /// The database (e.g. to flush it on shutdown).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }
}

impl Storage for SledStorage {
    fn load(&self) -> Result<ReadModel, StorageError> {
        let mut model = ReadModel::new();
        for entry in self.tree.iter() {
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
        self.tree.apply_batch(batch)?;
        // Durable before the feed is acked: an acked event is never delivered again.
        self.tree.flush()?;
        Ok(())
    }

    fn replace_all(&self, rows: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StorageError> {
        let mut batch = sled::Batch::default();
        let fresh: std::collections::BTreeSet<&[u8]> =
            rows.iter().map(|(key, _)| key.as_slice()).collect();
        for key in self.tree.iter().keys() {
            let key = key?;
            if !fresh.contains(key.as_ref()) {
                batch.remove(key);
            }
        }
        for (key, value) in rows {
            batch.insert(key, value);
        }
        self.tree.apply_batch(batch)?;
        self.tree.flush()?;
        Ok(())
    }
}
