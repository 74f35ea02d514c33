//! One read-model table: rows in key order, with the keys changed since the
//! last commit, so that a commit writes exactly what an update touched.
//!
//! Change tracking is only needed by the live model (each batch commits its
//! changes): a table built for a replay or a rebuild does not track (see
//! [`Table::untracked`]), so that folding an event allocates no key copy for
//! a set nobody reads.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec;

/// A changed row: its key and its serialised value (`None`: deleted).
pub type RowChange = (String, Option<Vec<u8>>);

/// Rows of type `V` by string key, with change tracking (unless untracked).
#[derive(Debug, Clone)]
pub struct Table<V> {
    rows: BTreeMap<String, V>,
    dirty: BTreeSet<String>,
    /// Whether changed keys are recorded in `dirty`.
    tracking: bool,
}

impl<V> Default for Table<V> {
    /// An empty table that tracks its changes.
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            dirty: BTreeSet::new(),
            tracking: true,
        }
    }
}

/// Tables are equal when their rows are: change tracking is bookkeeping.
impl<V: PartialEq> PartialEq for Table<V> {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl<V> Table<V> {
    /// An empty table that does not track its changes (for replays and
    /// rebuilds, which write or read every row at the end).
    pub fn untracked() -> Self {
        Self {
            tracking: false,
            ..Self::default()
        }
    }

    /// Turns change tracking on or off; either way, forgets the changes
    /// recorded so far (the caller writes every row, or none is pending).
    pub fn set_tracking(&mut self, tracking: bool) {
        self.tracking = tracking;
        self.dirty.clear();
    }

    /// Records `key` as changed (when tracking; no copy if already recorded).
    fn mark(&mut self, key: &str) {
        if self.tracking && !self.dirty.contains(key) {
            self.dirty.insert(key.to_owned());
        }
    }
}

impl<V: Default + Serialize + DeserializeOwned> Table<V> {
    /// The row at `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.rows.get(key)
    }

    /// The row at `key`, created empty if missing; marked changed.
    #[allow(clippy::expect_used)] // the row is there: see below
    pub fn upsert(&mut self, key: &str) -> &mut V {
        self.mark(key);
        // Looked up by `&str` first: the key is copied only for a new row.
        if !self.rows.contains_key(key) {
            self.rows.insert(key.to_owned(), V::default());
        }
        // Cannot fail: the row was there or has just been inserted. The entry
        // API would make that plain, but it takes an owned key: a copy of the
        // key on every upsert, where this copies it only for a new row.
        self.rows
            .get_mut(key)
            .expect("the row exists: it was there or has just been inserted")
    }

    /// Replaces the row at `key`; marked changed.
    pub fn put(&mut self, key: String, row: V) {
        self.mark(&key);
        self.rows.insert(key, row);
    }

    /// Whether a row is at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.rows.contains_key(key)
    }

    /// Removes the row at `key` (if any); marked changed.
    pub fn remove(&mut self, key: &str) {
        if self.rows.remove(key).is_some() {
            self.mark(key);
        }
    }

    /// Every row, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.rows.iter()
    }

    /// The rows whose key starts with `prefix`, in key order.
    pub fn with_prefix(&self, prefix: &str) -> impl Iterator<Item = (&String, &V)> + '_ {
        let owned = prefix.to_owned();
        self.rows
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(owned.as_str()))
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The changed rows since the last call (value `None`: deleted), in their
    /// stored form ([`codec`]);
    /// forgets the changes.
    pub fn take_changes(&mut self) -> Result<Vec<RowChange>, serde_json::Error> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|key| {
                let value = self.rows.get(&key).map(codec::to_stored).transpose()?;
                Ok((key, value))
            })
            .collect()
    }

    /// Every row in its stored form (for a full rewrite); forgets the changes.
    pub fn all_rows(&mut self) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
        self.dirty.clear();
        self.rows
            .iter()
            .map(|(key, row)| Ok((key.clone(), codec::to_stored(row)?)))
            .collect()
    }

    /// Every row in its stored form, in key order, into `sink` (for a full rewrite
    /// streamed in batches, without a list of every row); stops at the
    /// first error.
    pub fn for_each_row<E: From<serde_json::Error>>(
        &self,
        mut sink: impl FnMut(&str, Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        for (key, row) in &self.rows {
            sink(key, codec::to_stored(row)?)?;
        }
        Ok(())
    }

    /// Forgets the recorded changes (after a full rewrite).
    pub fn clear_changes(&mut self) {
        self.dirty.clear();
    }

    /// Writes every row, in key order, in the snapshots' compact binary
    /// encoding (bincode, variable-length integers), streamed into `writer`.
    pub fn encode(&self, writer: impl std::io::Write) -> Result<(), bincode::Error> {
        bincode::Options::serialize_into(bincode::DefaultOptions::new(), writer, &self.rows)
    }

    /// Replaces every row with those [`Table::encode`] wrote into `reader`
    /// (none marked changed).
    pub fn decode(&mut self, reader: impl std::io::Read) -> Result<(), bincode::Error> {
        self.rows = bincode::Options::deserialize_from(bincode::DefaultOptions::new(), reader)
            .map(|SortedRows(rows)| rows)?;
        self.dirty.clear();
        Ok(())
    }

    /// Loads one stored row (binary, or JSON as stored before; not marked
    /// changed).
    pub fn load(&mut self, key: String, value: &[u8]) -> Result<(), codec::RowError> {
        self.rows.insert(key, codec::from_stored(value)?);
        Ok(())
    }
}

/// Rows read in key order (as [`Table::encode`] writes them) and built into
/// a map by bulk, [`DECODE_CHUNK`] at a time: inserting them one by one
/// compares each key with a dozen keys per level of the tree, which made most
/// of the time of a snapshot's load.
struct SortedRows<V>(BTreeMap<String, V>);

/// Rows collected before they are built into the map: bounds the extra
/// memory, while each append rebuilds the map (a few passes for the largest
/// tables).
const DECODE_CHUNK: usize = 65_536;

impl<'de, V: serde::Deserialize<'de>> serde::Deserialize<'de> for SortedRows<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Rows<V>(std::marker::PhantomData<V>);
        impl<'de, V: serde::Deserialize<'de>> serde::de::Visitor<'de> for Rows<V> {
            type Value = SortedRows<V>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("rows by key")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut rows = BTreeMap::new();
                let mut chunk = Vec::with_capacity(DECODE_CHUNK.min(map.size_hint().unwrap_or(0)));
                while let Some(entry) = map.next_entry::<String, V>()? {
                    chunk.push(entry);
                    if chunk.len() == DECODE_CHUNK {
                        // In key order: the sort finds one run, the build is linear.
                        rows.append(&mut chunk.drain(..).collect());
                    }
                }
                rows.append(&mut chunk.into_iter().collect());
                Ok(SortedRows(rows))
            }
        }
        deserializer.deserialize_map(Rows(std::marker::PhantomData))
    }
}
