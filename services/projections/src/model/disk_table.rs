//! A read-model table whose rows the live model keeps in the read-model
//! database only, not in memory: `interactions` (a row per contact, 400,000
//! at a région's million events) and `timeline` (a row per fact about a
//! stakeholder). In memory it holds only the rows changed since the last
//! commit; once committed ([`DiskTable::take_changes`]) they are read from
//! the database. The queries that count over every contact read each stored
//! row in place ([`DiskTable::rows`], [`BinaryRow::head`]): no copy of its
//! bytes, the rows changed in memory merged in key order.
//!
//! A table not (yet) given the database ([`DiskTable::keep_on_disk`]) holds
//! every row in memory, as a [`Packed`] table: the models of `as_of`
//! replays and snapshots, and the live model kept nowhere
//! ([`crate::storage::MemoryStorage`]). Its stored rows, snapshot sections
//! and answers are those of a [`Packed`] table of the same rows either way.
//!
//! A model being rebuilt into sled reads its rows from the tree the rebuild
//! fills ([`DiskTable::write_ahead_into`]): its rows are handed to that tree
//! as they are made ([`DiskTable::drain`]) and read back there when a later
//! event changes them; the rebuild's full rewrite then writes only the rows
//! it still holds.

use std::cmp::Ordering;
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
    /// Every row when `disk` is `None`; else the rows not stored yet.
    memory: Packed<V>,
    disk: Option<OnDisk>,
}

/// Where a [`DiskTable`]'s stored rows are read: the table's rows
/// (`table\0key`) in a tree of the database.
#[derive(Clone)]
struct OnDisk {
    tree: CurrentTree,
    table: &'static str,
    /// The tree is the one a rebuild fills, not the current one: a full
    /// rewrite of the table writes only the rows in memory.
    ahead: bool,
}

impl std::fmt::Debug for OnDisk {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OnDisk")
            .field("table", &self.table)
            .field("ahead", &self.ahead)
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
        let mut mine = self.rows("");
        let mut theirs = other.rows("");
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some(a), Some(b)) if a.key == b.key && a.binary == b.binary => {}
                _ => return false,
            }
        }
    }
}

impl<V: Default + Serialize + DeserializeOwned> DiskTable<V> {
    /// From now on, keeps the rows in `tree`'s rows of `table` and reads
    /// them there: forgets the rows in memory, which must all be stored
    /// there (after a load, or after the switch of a rebuild).
    pub fn keep_on_disk(&mut self, tree: CurrentTree, table: &'static str) {
        self.memory = Packed::default();
        self.disk = Some(OnDisk {
            tree,
            table,
            ahead: false,
        });
    }

    /// From now on, reads the rows it does not hold in `tree`'s rows of
    /// `table`, where a rebuild writes the rows [`DiskTable::drain`] takes
    /// (a model being rebuilt: see the module docs). Its change tracking is
    /// left as it is.
    pub fn write_ahead_into(&mut self, tree: CurrentTree, table: &'static str) {
        self.disk = Some(OnDisk {
            tree,
            table,
            ahead: true,
        });
    }

    /// Turns change tracking on or off; either way, forgets the changes
    /// recorded so far. (A table kept on disk always tracks: its changes
    /// are what it has not stored yet.)
    pub fn set_tracking(&mut self, tracking: bool) {
        let stored = self.disk.as_ref().is_some_and(|disk| !disk.ahead);
        self.memory.set_tracking(tracking || stored);
    }

    /// Whether a row is at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.memory.contains(key)
            || self
                .disk
                .as_ref()
                .is_some_and(|disk| disk.get(key).is_some())
    }

    /// The row at `key`, decoded (`None` also for a row that does not
    /// decode, which is logged).
    pub fn get(&self, key: &str) -> Option<V> {
        if self.memory.contains(key) {
            return self.memory.get(key);
        }
        let stored = self.disk.as_ref()?.get(key)?;
        codec::from_stored(&stored)
            .map_err(|error| tracing::error!(%error, key, "cannot read a read-model row"))
            .ok()
    }

    /// Changes the row at `key` (created empty if missing) with `change`;
    /// marked changed.
    pub fn update(&mut self, key: &str, change: impl FnOnce(&mut V)) {
        if self.disk.is_none() || self.memory.contains(key) {
            return self.memory.update(key, change);
        }
        let mut row = self.get(key).unwrap_or_default();
        change(&mut row);
        self.memory.put(key.to_owned(), row);
    }

    /// Replaces the row at `key`; marked changed.
    pub fn put(&mut self, key: String, row: V) {
        self.memory.put(key, row);
    }

    /// The rows whose key starts with `prefix`, in key order, each as its
    /// key and binary form, read in place: those in memory, and those on
    /// disk that memory does not replace.
    pub fn rows<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = BinaryRow<'a>> + 'a {
        let memory = self
            .memory
            .binary_with_prefix(prefix)
            .map(|(key, bytes)| BinaryRow {
                key: Held::Memory(key.as_bytes()),
                binary: Held::Memory(bytes),
            });
        let disk = self
            .disk
            .iter()
            .flat_map(move |disk| disk.scan::<V>(prefix));
        ByKey {
            first: memory.peekable(),
            second: disk.peekable(),
        }
    }

    /// The rows whose key starts with `prefix`, decoded, in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (String, V)> + 'a {
        self.rows(prefix).filter_map(|row| {
            codec::from_binary(row.binary())
                .ok()
                .map(|decoded: V| (row.key().to_owned(), decoded))
        })
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
    /// rebuilt table, whose rows the storage takes as they are made: see
    /// [`super::ReadModel::drain_kept_on_disk`]).
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
            .rows("")
            .map(|row| {
                (
                    row.key().to_owned(),
                    codec::stored_from_binary(row.binary()),
                )
            })
            .collect();
        self.memory.clear_changes();
        Ok(rows)
    }

    /// Every row a full rewrite of the table writes, in its stored form, in
    /// key order, into `sink` (streamed in batches): every row, or, reading
    /// from a rebuild's tree ([`DiskTable::write_ahead_into`]), only those
    /// in memory (the others are there already); stops at the first error.
    pub fn for_each_row<E: From<serde_json::Error>>(
        &self,
        mut sink: impl FnMut(&str, Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.disk.as_ref().is_some_and(|disk| disk.ahead) {
            return self.memory.for_each_row(sink);
        }
        for row in self.rows("") {
            sink(row.key(), codec::stored_from_binary(row.binary()))?;
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
        let count = self.rows("").count() as u64;
        bincode::Options::serialize_into(options, &mut writer, &count)?;
        for row in self.rows("").take(count as usize) {
            let bytes = row.binary();
            bincode::Options::serialize_into(options, &mut writer, row.key())?;
            bincode::Options::serialize_into(options, &mut writer, &(bytes.len() as u64))?;
            writer.write_all(bytes)?;
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
}

/// A row of a [`DiskTable`] as read by [`DiskTable::rows`]: its key and
/// binary form, borrowed from memory or held as sled gave them (a stored
/// binary row is not copied; a JSON row, stored before, is converted).
#[derive(Debug)]
pub struct BinaryRow<'a> {
    key: Held<'a>,
    binary: Held<'a>,
}

/// Bytes borrowed from memory, or held from the database.
#[derive(Debug)]
enum Held<'a> {
    /// In a table in memory.
    Memory(&'a [u8]),
    /// In a value sled gave, from an offset (past the table's name in a
    /// key, past [`codec::BINARY_TAG`] in a row).
    Stored { value: sled::IVec, from: usize },
    /// Converted from a JSON row.
    Converted(Vec<u8>),
}

impl Held<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Held::Memory(bytes) => bytes,
            Held::Stored { value, from } => value.get(*from..).unwrap_or_default(),
            Held::Converted(bytes) => bytes,
        }
    }
}

impl PartialEq for Held<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl BinaryRow<'_> {
    /// Its key (in UTF-8: rows whose key is not are skipped when read).
    pub fn key(&self) -> &str {
        std::str::from_utf8(self.key.bytes()).unwrap_or_default()
    }

    /// Its binary form ([`codec`]).
    pub fn binary(&self) -> &[u8] {
        self.binary.bytes()
    }

    /// Its first fields as `H`, borrowing from the row (see
    /// [`codec::prefix_from_binary`]); `None` if they do not decode (rows
    /// are encoded by the table itself: it would be a bug).
    pub fn head<'r, H: serde::Deserialize<'r>>(&'r self) -> Option<H> {
        codec::prefix_from_binary(self.binary()).ok()
    }
}

impl OnDisk {
    /// The tree's handle (a rebuild's switch may replace the current tree
    /// after this: a read started before it goes on in the tree it began in).
    fn tree(&self) -> sled::Tree {
        self.tree
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The stored row at `key`, if any (a failed read is logged, and read as
    /// no row).
    fn get(&self, key: &str) -> Option<sled::IVec> {
        self.tree()
            .get(storage_key(self.table, key))
            .unwrap_or_else(|error| {
                tracing::error!(%error, table = self.table, "cannot read a read-model row");
                None
            })
    }

    /// The stored rows whose key starts with `prefix`, in key order (a
    /// failed read is logged, and ends the rows; a row whose key is not
    /// UTF-8 or whose JSON does not decode is skipped).
    fn scan<'r, V: Serialize + DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> impl Iterator<Item = BinaryRow<'r>> {
        let table = self.table;
        let skip = table.len() + 1;
        self.tree()
            .scan_prefix(storage_key(table, prefix))
            .map_while(move |entry| match entry {
                Ok(row) => Some(row),
                Err(error) => {
                    tracing::error!(%error, table, "cannot read the read-model rows");
                    None
                }
            })
            .filter_map(move |(key, value)| {
                std::str::from_utf8(key.get(skip..)?).ok()?;
                let binary = match value.first() {
                    Some(&codec::BINARY_TAG) => Held::Stored { value, from: 1 },
                    _ => Held::Converted(codec::binary_from_stored::<V>(&value).ok()?),
                };
                Some(BinaryRow {
                    key: Held::Stored {
                        value: key,
                        from: skip,
                    },
                    binary,
                })
            })
    }
}

/// Two iterators of rows in key order, merged in key order; on a key in
/// both, the first's row.
struct ByKey<A: Iterator, B: Iterator> {
    first: Peekable<A>,
    second: Peekable<B>,
}

impl<'a, A, B> Iterator for ByKey<A, B>
where
    A: Iterator<Item = BinaryRow<'a>>,
    B: Iterator<Item = BinaryRow<'a>>,
{
    type Item = BinaryRow<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match (self.first.peek(), self.second.peek()) {
            (Some(a), Some(b)) => match a.key.bytes().cmp(b.key.bytes()) {
                Ordering::Less => self.first.next(),
                Ordering::Greater => self.second.next(),
                Ordering::Equal => {
                    self.second.next();
                    self.first.next()
                }
            },
            (Some(_), None) => self.first.next(),
            (None, _) => self.second.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InteractionRow, TimelineRow};

    fn row(at: i64) -> InteractionRow {
        InteractionRow {
            participants: vec![("s1".into(), 1)],
            occurred_at: Some(at),
            logged: true,
            ..InteractionRow::default()
        }
    }

    #[test]
    fn rows_changed_in_memory_are_read_over_the_stored_ones_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let tree = db.open_tree("read-models").unwrap();
        let mut in_memory = DiskTable::<InteractionRow>::default();
        for (key, at) in [("a", 1), ("c", 3), ("e", 5)] {
            tree.insert(
                storage_key("interactions", key),
                codec::to_stored(&row(at)).unwrap(),
            )
            .unwrap();
            in_memory.put(key.into(), row(at));
        }
        // Another table's rows, after this one's, are not read.
        tree.insert(
            storage_key("timeline", "a"),
            codec::to_stored(&TimelineRow::default()).unwrap(),
        )
        .unwrap();
        let mut on_disk = DiskTable::<InteractionRow>::default();
        on_disk.keep_on_disk(Arc::new(RwLock::new(tree)), "interactions");
        assert!(on_disk == in_memory);
        // Both as after a commit: no change recorded.
        in_memory.set_tracking(true);

        for table in [&mut on_disk, &mut in_memory] {
            table.update("c", |row| row.erased = true);
            table.update("d", |row| row.follow_ups = 1);
            table.put("0".into(), row(0));
        }
        assert!(on_disk == in_memory);
        let keys: Vec<String> = on_disk.rows("").map(|row| row.key().to_owned()).collect();
        assert_eq!(keys, ["0", "a", "c", "d", "e"]);
        assert!(on_disk.get("c").unwrap().erased);
        assert_eq!(on_disk.get("e"), Some(row(5)));
        assert!(on_disk.contains("a") && !on_disk.contains("b"));
        let stored = on_disk.rows("e").next().unwrap();
        let head: crate::model::ContactHead<'_> = stored.head().unwrap();
        assert_eq!(head.occurred_at, Some(5));
        let mut encoded = (Vec::new(), Vec::new());
        on_disk.encode(&mut encoded.0).unwrap();
        in_memory.encode(&mut encoded.1).unwrap();
        assert_eq!(encoded.0, encoded.1);

        // Committed: the changes handed out, and forgotten in memory.
        let changes = on_disk.take_changes().unwrap();
        assert_eq!(changes, in_memory.take_changes().unwrap());
        assert_eq!(on_disk.rows("").count(), 3);
    }
}
