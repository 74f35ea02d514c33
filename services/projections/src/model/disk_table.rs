//! A read-model table whose rows the live model keeps in the read-model
//! database only, not in memory: `timeline`, a row per fact about a
//! stakeholder (half a million at a million events), which only the
//! per-stakeholder timeline reads, a few rows at a time. In memory it holds
//! only the rows changed since the last commit; once committed
//! ([`DiskTable::take_changes`]) they are read from the database.
//!
//! A table not (yet) given the database ([`DiskTable::keep_on_disk`]) holds
//! every row in memory, as a [`Packed`] table: the models of `as_of`
//! replays, rebuilds (until their switch) and snapshots, and the live model
//! kept nowhere ([`crate::storage::MemoryStorage`]). Its stored rows,
//! snapshot sections and answers are those of a [`Packed`] table of the same
//! rows either way.

use std::iter::Peekable;
use std::sync::{Arc, RwLock};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::table::RowChange;
use super::{codec, storage_key, Packed};

/// The read-model database's current tree, as the storage holds it (a
/// rebuild's switch replaces it).
pub type CurrentTree = Arc<RwLock<sled::Tree>>;

/// Rows of type `V` by string key: the rows changed since the last commit in
/// memory, the others in the database when one is given (see the module docs).
#[derive(Debug, Clone)]
pub struct DiskTable<V> {
    /// Every row when `disk` is `None`; else the rows not committed yet.
    memory: Packed<V>,
    disk: Option<OnDisk>,
}

/// Where a [`DiskTable`]'s committed rows are read: the table's rows
/// (`table\0key`) in the database's current tree.
#[derive(Clone)]
struct OnDisk {
    tree: CurrentTree,
    table: &'static str,
}

impl std::fmt::Debug for OnDisk {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OnDisk")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl<V> Default for DiskTable<V> {
    /// An empty table, in memory, that tracks its changes.
    fn default() -> Self {
        Self {
            memory: Packed::default(),
            disk: None,
        }
    }
}

/// Tables are equal when their rows are, wherever they are kept.
impl<V: Default + Serialize + DeserializeOwned> PartialEq for DiskTable<V> {
    fn eq(&self, other: &Self) -> bool {
        if self.disk.is_none() && other.disk.is_none() {
            return self.memory == other.memory;
        }
        self.binary_rows("").eq(other.binary_rows(""))
    }
}

impl<V: Default + Serialize + DeserializeOwned> DiskTable<V> {
    /// From now on, keeps the rows in `tree`'s rows of `table` and reads
    /// them there: forgets the rows in memory, which must all be stored
    /// there (after a load, or after the switch of a rebuild).
    pub fn keep_on_disk(&mut self, tree: CurrentTree, table: &'static str) {
        self.memory = Packed::default();
        self.disk = Some(OnDisk { tree, table });
    }

    /// Turns change tracking on or off; either way, forgets the changes
    /// recorded so far. (A table kept on disk always tracks: its changes
    /// are what it has not stored yet.)
    pub fn set_tracking(&mut self, tracking: bool) {
        self.memory.set_tracking(tracking || self.disk.is_some());
    }

    /// Whether a row is at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.memory.contains(key)
            || self
                .disk
                .as_ref()
                .is_some_and(|disk| disk.get(key).is_some())
    }

    /// Replaces the row at `key`; marked changed.
    pub fn put(&mut self, key: String, row: V) {
        self.memory.put(key, row);
    }

    /// The rows whose key starts with `prefix`, decoded, in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (String, V)> + 'a {
        self.binary_rows(prefix)
            .filter_map(|(key, bytes)| codec::from_binary(&bytes).ok().map(|row: V| (key, row)))
    }

    /// The changed rows since the last call (value `None`: deleted), in
    /// their stored form; forgets the changes, and, kept on disk, the rows.
    pub fn take_changes(&mut self) -> Result<Vec<RowChange>, serde_json::Error> {
        let changes = self.memory.take_changes()?;
        if self.disk.is_some() {
            self.memory.clear();
        }
        Ok(changes)
    }

    /// Takes every row held in memory out of it, in its stored form (a
    /// rebuilt table in memory, whose rows the storage takes as they are
    /// made: see [`super::ReadModel::drain_kept_on_disk`]).
    pub fn drain(&mut self) -> Vec<(String, Vec<u8>)> {
        let rows = self
            .memory
            .binary_with_prefix("")
            .map(|(key, bytes)| (key.to_owned(), codec::stored_from_binary(bytes)))
            .collect();
        self.memory.clear();
        rows
    }

    /// Every row in its stored form (for a full rewrite); forgets the changes.
    pub fn all_rows(&mut self) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
        if self.disk.is_none() {
            return self.memory.all_rows();
        }
        let rows = self
            .binary_rows("")
            .map(|(key, bytes)| (key, codec::stored_from_binary(&bytes)))
            .collect();
        self.memory.clear_changes();
        Ok(rows)
    }

    /// Every row in its stored form, in key order, into `sink` (a full
    /// rewrite streamed in batches); stops at the first error.
    pub fn for_each_row<E: From<serde_json::Error>>(
        &self,
        mut sink: impl FnMut(&str, Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        for (key, bytes) in self.binary_rows("") {
            sink(&key, codec::stored_from_binary(&bytes))?;
        }
        Ok(())
    }

    /// Writes every row in the snapshots' encoding of a [`Packed`] table
    /// (see [`Packed::encode`]); kept on disk, the rows are read twice (to
    /// count them, then to write them) rather than held.
    pub fn encode(&self, mut writer: impl std::io::Write) -> Result<(), bincode::Error> {
        if self.disk.is_none() {
            return self.memory.encode(writer);
        }
        let options = bincode::DefaultOptions::new();
        let count = self.binary_rows("").count() as u64;
        bincode::Options::serialize_into(options, &mut writer, &count)?;
        for (key, bytes) in self.binary_rows("").take(count as usize) {
            bincode::Options::serialize_into(options, &mut writer, key.as_str())?;
            bincode::Options::serialize_into(options, &mut writer, &(bytes.len() as u64))?;
            writer.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Replaces every row with those [`DiskTable::encode`] wrote into
    /// `reader` (a table in memory: the models snapshots load into).
    pub fn decode(&mut self, reader: impl std::io::Read) -> Result<(), bincode::Error> {
        self.disk = None;
        self.memory.decode(reader)
    }

    /// Loads one stored row (binary, or JSON as stored before); not marked
    /// changed. Kept on disk, the row stays there.
    pub fn load(&mut self, key: String, value: &[u8]) -> Result<(), codec::RowError> {
        match self.disk {
            Some(_) => Ok(()),
            None => self.memory.load(key, value),
        }
    }

    /// The binary forms of the rows whose key starts with `prefix`, in key
    /// order: those in memory, and those on disk that memory does not
    /// replace.
    fn binary_rows<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (String, Vec<u8>)> + 'a {
        let memory = self
            .memory
            .binary_with_prefix(prefix)
            .map(|(key, bytes)| (key.to_owned(), bytes.to_vec()));
        let disk = self
            .disk
            .iter()
            .flat_map(move |disk| disk.scan::<V>(prefix));
        ByKey {
            first: memory.peekable(),
            second: disk.peekable(),
        }
    }
}

impl OnDisk {
    /// The stored row at `key`, if any (a failed read is logged, and read as
    /// no row).
    fn get(&self, key: &str) -> Option<sled::IVec> {
        let tree = self
            .tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tree.get(storage_key(self.table, key))
            .unwrap_or_else(|error| {
                tracing::error!(%error, table = self.table, "cannot read a read-model row");
                None
            })
    }

    /// The keys and binary forms of the stored rows whose key starts with
    /// `prefix`, in key order (a failed read is logged, and ends the rows).
    fn scan<V: Serialize + DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = (String, Vec<u8>)> {
        let tree = self
            .tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let table = self.table;
        let skip = table.len() + 1;
        tree.scan_prefix(storage_key(table, prefix))
            .map_while(move |entry| match entry {
                Ok(row) => Some(row),
                Err(error) => {
                    tracing::error!(%error, table, "cannot read the read-model rows");
                    None
                }
            })
            .filter_map(move |(key, value)| {
                let key = std::str::from_utf8(key.get(skip..)?).ok()?.to_owned();
                let bytes = codec::binary_from_stored::<V>(&value).ok()?;
                Some((key, bytes))
            })
    }
}

/// Two iterators of rows in key order, merged in key order; on a key in
/// both, the first's row.
struct ByKey<A: Iterator, B: Iterator> {
    first: Peekable<A>,
    second: Peekable<B>,
}

impl<A, B> Iterator for ByKey<A, B>
where
    A: Iterator<Item = (String, Vec<u8>)>,
    B: Iterator<Item = (String, Vec<u8>)>,
{
    type Item = (String, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        match (self.first.peek(), self.second.peek()) {
            (Some((a, _)), Some((b, _))) => match a.cmp(b) {
                std::cmp::Ordering::Less => self.first.next(),
                std::cmp::Ordering::Greater => self.second.next(),
                std::cmp::Ordering::Equal => {
                    self.second.next();
                    self.first.next()
                }
            },
            (Some(_), None) => self.first.next(),
            (None, _) => self.second.next(),
        }
    }
}
