//! The storage engine behind the store: a small engine-neutral trait and its sled implementation.
//!
//! The store needs four things of an engine: an atomic batch over several
//! keyspaces, a durable flush, a point get and an ordered range scan. Anything
//! that offers them (sled here; RocksDB or LMDB would do) can hold the log.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

/// The keyspaces the store writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keyspace {
    /// position → record (the log itself).
    Log,
    /// stream id, 0x00, version → position.
    StreamIndex,
    /// event id → position (idempotency, forever).
    EventIdIndex,
    /// The store's own bookkeeping (the position up to which the chain was verified).
    Meta,
}

impl Keyspace {
    /// The one-byte prefix that separates keyspaces inside one ordered tree.
    fn prefix(self) -> u8 {
        match self {
            Keyspace::Log => b'L',
            Keyspace::StreamIndex => b'S',
            Keyspace::EventIdIndex => b'E',
            Keyspace::Meta => b'M',
        }
    }
}

/// An engine failure (I/O, corruption reported by the engine, ...).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EngineError(pub String);

impl From<sled::Error> for EngineError {
    fn from(error: sled::Error) -> Self {
        EngineError(error.to_string())
    }
}

/// Writes applied together or not at all.
#[derive(Debug, Default)]
pub struct WriteBatch {
    puts: Vec<(Keyspace, Vec<u8>, Vec<u8>)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a write of `value` at `key` in `keyspace`.
    pub fn put(&mut self, keyspace: Keyspace, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.puts.push((keyspace, key.into(), value.into()));
    }

    /// Number of writes in the batch.
    pub fn len(&self) -> usize {
        self.puts.len()
    }

    /// Whether the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
    }

    /// The writes, in the order they were added: what an engine implemented
    /// outside this crate applies (a later write to the same key wins).
    pub fn into_puts(self) -> Vec<(Keyspace, Vec<u8>, Vec<u8>)> {
        self.puts
    }
}

/// A key and its value, as returned by scans.
pub type Entry = (Vec<u8>, Vec<u8>);

/// What the event store needs of a storage engine.
pub trait Engine: Send + Sync + 'static {
    /// Applies every write of `batch` atomically (also across a crash), without flushing.
    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError>;
    /// Makes everything applied so far durable.
    fn flush(&self) -> Result<(), EngineError>;
    /// The value at `key`, if any.
    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;
    /// The entries with `start <= key < end` (keys without the keyspace), in key order
    /// or in reverse, at most `limit` of them.
    fn scan(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, EngineError>;
    /// Hands the entries with `start <= key < end` (keys without the keyspace),
    /// in key order or in reverse, to `visit` until it returns `false`. An
    /// engine that can lend its values without copying them overrides it
    /// (replays read every log chunk through it); this one copies them
    /// through [`Engine::scan`], a page of entries at a time.
    fn visit(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), EngineError> {
        const PAGE: usize = 16;
        let mut last: Option<Vec<u8>> = None;
        loop {
            let (from, to) = match (&last, reverse) {
                (None, _) => (start, end),
                (Some(key), false) => (Bound::Excluded(key.as_slice()), end),
                (Some(key), true) => (start, Bound::Excluded(key.as_slice())),
            };
            let entries = self.scan(keyspace, from, to, reverse, PAGE)?;
            let full = entries.len() == PAGE;
            for (key, value) in &entries {
                if !visit(key, value) {
                    return Ok(());
                }
            }
            match entries.into_iter().last() {
                Some((key, _)) if full => last = Some(key),
                _ => return Ok(()),
            }
        }
    }

    /// Bytes the engine occupies on disk.
    fn size_on_disk(&self) -> Result<u64, EngineError>;
}

/// How long [`SledEngine::open`] waits for a lock released by a database of the same process.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Opens (or creates) the sled database in `dir`.
///
/// sled releases its file lock a moment after the last handle of a database
/// is dropped (its background flusher ends first), so a reopen right after a
/// close in the same process may find the lock still held: that case is
/// retried for up to [`LOCK_WAIT`]. Another process holding the database
/// still fails, after that wait, with sled's error.
///
/// A new database gets `options.segment_size` and `options.compression`; an
/// existing one keeps the segment size it was created with, and stays
/// compressed or not as it was created (sled refuses to open it otherwise),
/// both read from the `conf` file sled keeps in `dir`.
pub fn open_sled(dir: &Path, options: &SledOptions) -> Result<sled::Db, EngineError> {
    forget_interrupted_creation(dir)?;
    let segment_size = persisted_setting(dir, "segment_size")
        .and_then(|size| size.parse().ok())
        .unwrap_or(options.segment_size);
    let compression = match persisted_setting(dir, "use_compression").as_deref() {
        Some("true") => Some(options.compression.unwrap_or(DEFAULT_ZSTD_LEVEL)),
        Some("false") => None,
        _ => options.compression,
    };
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(options.cache_capacity)
        .segment_size(segment_size)
        .use_compression(compression.is_some())
        .compression_factor(compression.unwrap_or(DEFAULT_ZSTD_LEVEL))
        .mode(sled::Mode::HighThroughput);
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Removes the `conf` file of a database whose creation was interrupted, so
/// that it is created again. sled writes `conf` once, when it creates a
/// database, before its data file, in two writes: the settings, then their
/// CRC-32. A process killed between the two leaves settings without their
/// checksum, which sled then refuses to open ("Read corrupted data"). Such a
/// `conf` beside no data file, or an empty one, belongs to a database that
/// never held anything: it is removed. A `conf` whose checksum fails beside
/// data is left as it is, for sled to refuse.
fn forget_interrupted_creation(dir: &Path) -> Result<(), EngineError> {
    let Ok(conf) = std::fs::read(dir.join("conf")) else {
        return Ok(());
    };
    // sled itself rewrites a `conf` of 8 bytes or fewer.
    let Some(split) = conf.len().checked_sub(4).filter(|_| conf.len() > 8) else {
        return Ok(());
    };
    let (settings, crc) = conf.split_at(split);
    if crc32fast::hash(settings).to_le_bytes() == crc {
        return Ok(());
    }
    let data = std::fs::metadata(dir.join("db")).map_or(0, |data| data.len());
    if data == 0 {
        std::fs::remove_file(dir.join("conf")).map_err(|error| {
            EngineError(format!(
                "{}: cannot remove the conf of an interrupted creation: {error}",
                dir.display()
            ))
        })?;
    }
    Ok(())
}

/// A setting an existing sled database in `dir` was created with (e.g.
/// `segment_size`, `use_compression`): the `name: value` line of the `conf`
/// file sled writes (its text, then a 4-byte checksum that sled itself
/// checks when it opens the database).
fn persisted_setting(dir: &Path, name: &str) -> Option<String> {
    let conf = std::fs::read(dir.join("conf")).ok()?;
    let text = conf.get(..conf.len().checked_sub(4)?)?;
    std::str::from_utf8(text).ok()?.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(": ")?;
        Some(value.to_string())
    })
}

/// sled's data file in `dir` (sled 0.34 keeps its log and pages in `db`),
/// opened to be synced, after the directory itself is synced once so that
/// the file's entry in it is durable too.
fn open_data_file(dir: &Path) -> Result<std::fs::File, EngineError> {
    let cannot = |what: &str, error: std::io::Error| {
        EngineError(format!("{}: cannot {what}: {error}", dir.display()))
    };
    std::fs::File::open(dir)
        .and_then(|directory| directory.sync_all())
        .map_err(|error| cannot("sync the directory", error))?;
    std::fs::File::open(dir.join("db")).map_err(|error| cannot("open sled's data file db", error))
}

/// The zstd level of a compressed database opened without a level asked.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// Tuning of the sled engine.
#[derive(Debug, Clone)]
pub struct SledOptions {
    /// sled's page cache, in bytes (sled's own default is 1 GiB; the store's is 64 MiB).
    pub cache_capacity: u64,
    /// Size of sled's log segments for a new database, a power of two (sled's
    /// default is 512 KiB; the store's is 8 MiB). sled writes a tree node
    /// larger than a quarter of a segment to a file of its own (a blob),
    /// which its flush does not sync: 8 MiB keeps the log's nodes (up to 17
    /// chunks of about 64 KiB) in the segments, which it does sync, and
    /// segments of 8 MiB leave less garbage behind (docs/benchmarks.md).
    /// An existing database keeps the size it was created with.
    pub segment_size: usize,
    /// Whether sled compresses the pages of a new database with zstd, and
    /// at which level (1, fastest, to 22; `None`: not compressed, the
    /// default). It costs CPU on every write of a page and every read of
    /// one from disk (docs/benchmarks.md). An existing database stays as it
    /// was created (at this level, or [`DEFAULT_ZSTD_LEVEL`], if compressed).
    pub compression: Option<i32>,
    /// Whether [`SledEngine`]'s flush ends with an `fdatasync` of the
    /// database's data file (the default). sled's own flush writes its
    /// buffer with `sync_file_range`, which does not empty a volatile
    /// device cache nor sync a grown file's size: without this, a power cut
    /// can take away acknowledged appends (docs/operations.md, "What
    /// durable rests on"; its cost in docs/benchmarks.md). Only the engine
    /// reads it: [`open_sled`] alone does not sync.
    pub sync_data: bool,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            cache_capacity: 64 * 1024 * 1024,
            segment_size: 8 * 1024 * 1024,
            compression: None,
            sync_data: true,
        }
    }
}

/// The sled 0.34 engine: one tree, keyspaces told apart by a one-byte key prefix,
/// so that a batch over several keyspaces is one atomic sled batch.
#[derive(Clone)]
pub struct SledEngine {
    db: sled::Db,
    tree: sled::Tree,
    /// sled's data file, synced after each flush ([`SledOptions::sync_data`]).
    data_file: Option<Arc<std::fs::File>>,
}

impl SledEngine {
    /// The name of the sled tree holding the log and its indexes.
    pub const TREE: &'static str = "eventstore";

    /// Opens (or creates) a sled database in `dir` (see [`open_sled`]) and the store's tree in it.
    pub fn open(dir: &Path, options: &SledOptions) -> Result<Self, EngineError> {
        let db = open_sled(dir, options)?;
        let data_file = if options.sync_data {
            Some(Arc::new(open_data_file(dir)?))
        } else {
            None
        };
        let tree = db.open_tree(Self::TREE)?;
        Ok(Self {
            db,
            tree,
            data_file,
        })
    }

    /// The tree `name` of the same database as a log of its own (a
    /// service's access journal), with its own chain, and the same flush:
    /// a flush makes the whole database durable.
    pub fn other_tree(&self, name: &str) -> Result<Self, EngineError> {
        Ok(Self {
            db: self.db.clone(),
            tree: self.db.open_tree(name)?,
            data_file: self.data_file.clone(),
        })
    }

    /// The sled database, for the service's other trees.
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    fn prefixed(keyspace: Keyspace, key: &[u8]) -> Vec<u8> {
        let mut full = Vec::with_capacity(key.len() + 1);
        full.push(keyspace.prefix());
        full.extend_from_slice(key);
        full
    }

    fn bound(keyspace: Keyspace, bound: Bound<&[u8]>, is_end: bool) -> Bound<Vec<u8>> {
        match bound {
            Bound::Included(key) => Bound::Included(Self::prefixed(keyspace, key)),
            Bound::Excluded(key) => Bound::Excluded(Self::prefixed(keyspace, key)),
            // An open end stops at the next keyspace's prefix.
            Bound::Unbounded if is_end => Bound::Excluded(vec![keyspace.prefix() + 1]),
            Bound::Unbounded => Bound::Included(vec![keyspace.prefix()]),
        }
    }
}

impl Engine for SledEngine {
    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut sled_batch = sled::Batch::default();
        for (keyspace, key, value) in batch.puts {
            sled_batch.insert(Self::prefixed(keyspace, &key), value);
        }
        self.tree.apply_batch(sled_batch)?;
        Ok(())
    }

    fn flush(&self) -> Result<(), EngineError> {
        self.db.flush()?;
        if let Some(data_file) = &self.data_file {
            data_file
                .sync_data()
                .map_err(|error| EngineError(format!("fdatasync of sled's data file: {error}")))?;
        }
        Ok(())
    }

    fn get(&self, keyspace: Keyspace, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self
            .tree
            .get(Self::prefixed(keyspace, key))?
            .map(|value| value.to_vec()))
    }

    fn scan(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Entry>, EngineError> {
        let range = (
            Self::bound(keyspace, start, false),
            Self::bound(keyspace, end, true),
        );
        let iter = self.tree.range(range);
        let strip = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(key, value)| (key[1..].to_vec(), value.to_vec()))
                .map_err(EngineError::from)
        };
        if reverse {
            iter.rev().take(limit).map(strip).collect()
        } else {
            iter.take(limit).map(strip).collect()
        }
    }

    fn visit(
        &self,
        keyspace: Keyspace,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), EngineError> {
        let range = (
            Self::bound(keyspace, start, false),
            Self::bound(keyspace, end, true),
        );
        let mut lend = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(key, value)| visit(&key[1..], &value))
        };
        let iter = self.tree.range(range);
        if reverse {
            for item in iter.rev() {
                if !lend(item)? {
                    break;
                }
            }
        } else {
            for item in iter {
                if !lend(item)? {
                    break;
                }
            }
        }
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, EngineError> {
        Ok(self.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    /// The inode of the file `engine` syncs after each flush, if any.
    fn synced_inode(engine: &SledEngine) -> Option<u64> {
        engine
            .data_file
            .as_ref()
            .map(|file| file.metadata().expect("the synced file's metadata").ino())
    }

    #[test]
    fn a_flush_syncs_the_file_sled_writes_its_log_to_for_every_tree_of_the_database() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).expect("open");
        let mut batch = WriteBatch::new();
        batch.put(Keyspace::Log, b"1".to_vec(), vec![7; 4096]);
        engine.apply(batch).expect("apply");
        engine.flush().expect("flush");
        let data_file = std::fs::metadata(dir.path().join("db")).expect("sled's data file");
        assert!(data_file.len() > 4096, "sled wrote the batch to `db`");
        assert_eq!(synced_inode(&engine), Some(data_file.ino()));
        let journal = engine.other_tree("access.journal").expect("another tree");
        assert_eq!(synced_inode(&journal), Some(data_file.ino()));
        journal.flush().expect("the other tree's flush");
    }

    #[test]
    fn an_engine_asked_not_to_sync_flushes_as_sled_alone_does() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let options = SledOptions {
            sync_data: false,
            ..SledOptions::default()
        };
        let engine = SledEngine::open(dir.path(), &options).expect("open");
        engine.flush().expect("flush");
        assert_eq!(synced_inode(&engine), None);
        assert_eq!(
            synced_inode(&engine.other_tree("other").expect("tree")),
            None
        );
    }
}
