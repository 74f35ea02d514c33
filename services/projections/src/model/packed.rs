//! A read-model table whose rows are held in their compact binary form
//! ([`super::codec`]) rather than as structs: for the tables with a row per
//! contact or per fact (`interactions`, `timeline`), which made most of the
//! read models' memory (each row a dozen heap allocations: its ids twice,
//! its lists, its strings). A row is decoded when read — whole for the
//! queries about one id, or only its first fields, borrowing its ids from
//! the bytes ([`super::DiskTable::rows`]), for the queries that count over
//! every row — and encoded again when an event changes it. (Both tables are
//! [`super::DiskTable`]s, which hold a [`Packed`] table in memory.)
//!
//! Its stored rows are those of a [`super::Table`] of the same rows, and its
//! snapshot sections hold each row's binary form as it is: a snapshot loads
//! them without decoding them.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::ops::Bound;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec;
use super::table::RowChange;

/// The longest row a snapshot section may hold (a longer length is a
/// damaged file, not a row).
const MAX_ROW: u64 = 1 << 28;

/// Rows of type `V` by string key, held encoded, with change tracking
/// (unless untracked).
#[derive(Debug, Clone)]
pub struct Packed<V> {
    rows: BTreeMap<Box<str>, Box<[u8]>>,
    dirty: BTreeSet<String>,
    /// Whether changed keys are recorded in `dirty`.
    tracking: bool,
    row: PhantomData<fn() -> V>,
}

impl<V> Default for Packed<V> {
    /// An empty table that tracks its changes.
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            dirty: BTreeSet::new(),
            tracking: true,
            row: PhantomData,
        }
    }
}

/// Tables are equal when their rows are (the binary form of a row is a
/// function of its value): change tracking is bookkeeping.
impl<V> PartialEq for Packed<V> {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl<V> Packed<V> {
    /// Turns change tracking on or off; either way, forgets the changes
    /// recorded so far.
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

    /// Whether a row is at `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.rows.contains_key(key)
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether it has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Removes the row at `key` (if any); marked changed.
    pub fn remove(&mut self, key: &str) {
        if self.rows.remove(key).is_some() {
            self.mark(key);
        }
    }

    /// Forgets the recorded changes (after a full rewrite).
    pub fn clear_changes(&mut self) {
        self.dirty.clear();
    }

    /// Forgets every row and change (for [`super::DiskTable`], whose rows
    /// are then in the database).
    pub(super) fn clear(&mut self) {
        self.rows.clear();
        self.dirty.clear();
    }

    /// The keys and binary forms of the rows whose key starts with `prefix`,
    /// in key order (for [`super::DiskTable`]).
    pub(super) fn binary_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.rows
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(prefix))
            .map(|(key, bytes)| (key.as_ref(), bytes.as_ref()))
    }

    /// The changed rows since the last call (value `None`: deleted), in
    /// their stored form; forgets the changes.
    pub fn take_changes(&mut self) -> Result<Vec<RowChange>, serde_json::Error> {
        let dirty = std::mem::take(&mut self.dirty);
        Ok(dirty
            .into_iter()
            .map(|key| {
                let value = self
                    .rows
                    .get(key.as_str())
                    .map(|bytes| codec::stored_from_binary(bytes));
                (key, value)
            })
            .collect())
    }

    /// Every row in its stored form (for a full rewrite); forgets the changes.
    pub fn all_rows(&mut self) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
        self.dirty.clear();
        Ok(self
            .rows
            .iter()
            .map(|(key, bytes)| (key.to_string(), codec::stored_from_binary(bytes)))
            .collect())
    }

    /// Every row in its stored form, in key order, into `sink` (a full
    /// rewrite streamed in batches); stops at the first error.
    pub fn for_each_row<E: From<serde_json::Error>>(
        &self,
        mut sink: impl FnMut(&str, Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        for (key, bytes) in &self.rows {
            sink(key, codec::stored_from_binary(bytes))?;
        }
        Ok(())
    }

    /// Writes every row, in key order, in the snapshots' encoding: the
    /// number of rows, then each key and the length and bytes of its binary
    /// form (bincode, variable-length integers), streamed into `writer`.
    pub fn encode(&self, mut writer: impl std::io::Write) -> Result<(), bincode::Error> {
        let options = bincode::DefaultOptions::new();
        bincode::Options::serialize_into(options, &mut writer, &(self.rows.len() as u64))?;
        for (key, bytes) in &self.rows {
            bincode::Options::serialize_into(options, &mut writer, key.as_ref())?;
            bincode::Options::serialize_into(options, &mut writer, &(bytes.len() as u64))?;
            writer.write_all(bytes)?;
        }
        Ok(())
    }

    /// Replaces every row with those [`Packed::encode`] wrote into `reader`
    /// (none marked changed): the binary forms are read as they are, not
    /// decoded.
    pub fn decode(&mut self, mut reader: impl std::io::Read) -> Result<(), bincode::Error> {
        let options = bincode::DefaultOptions::new();
        let count: u64 = bincode::Options::deserialize_from(options, &mut reader)?;
        let mut rows = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 20));
        for _ in 0..count {
            let key: String = bincode::Options::deserialize_from(options, &mut reader)?;
            let length: u64 = bincode::Options::deserialize_from(options, &mut reader)?;
            if length > MAX_ROW {
                return Err(Box::new(bincode::ErrorKind::SizeLimit));
            }
            let mut bytes = vec![0; length as usize];
            reader.read_exact(&mut bytes)?;
            rows.push((key.into_boxed_str(), bytes.into_boxed_slice()));
        }
        // In key order: the build is linear.
        self.rows = rows.into_iter().collect();
        self.dirty.clear();
        Ok(())
    }
}

impl<V: Default + Serialize + DeserializeOwned> Packed<V> {
    /// The row at `key`, decoded (`None` also for a row that does not
    /// decode: rows are encoded by [`Packed`] itself, it would be a bug).
    pub fn get(&self, key: &str) -> Option<V> {
        self.rows
            .get(key)
            .and_then(|bytes| codec::from_binary(bytes).ok())
    }

    /// Changes the row at `key` (created empty if missing) with `change`;
    /// marked changed.
    pub fn update(&mut self, key: &str, change: impl FnOnce(&mut V)) {
        let mut row = self.get(key).unwrap_or_default();
        change(&mut row);
        self.mark(key);
        let bytes = pack(&row);
        match self.rows.get_mut(key) {
            Some(slot) => *slot = bytes,
            None => {
                self.rows.insert(key.into(), bytes);
            }
        }
    }

    /// Replaces the row at `key`; marked changed.
    pub fn put(&mut self, key: String, row: V) {
        self.mark(&key);
        self.rows.insert(key.into_boxed_str(), pack(&row));
    }

    /// Every row, decoded, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, V)> + '_ {
        self.rows.iter().filter_map(|(key, bytes)| {
            codec::from_binary(bytes)
                .ok()
                .map(|row| (key.as_ref(), row))
        })
    }

    /// The rows whose key starts with `prefix`, decoded, in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, V)> + 'a {
        self.rows
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(key, _)| key.starts_with(prefix))
            .filter_map(|(key, bytes)| {
                codec::from_binary(bytes)
                    .ok()
                    .map(|row| (key.as_ref(), row))
            })
    }

    /// Loads one stored row (binary, or JSON as stored before); not marked
    /// changed.
    pub fn load(&mut self, key: String, value: &[u8]) -> Result<(), codec::RowError> {
        let bytes = codec::binary_from_stored::<V>(value)?;
        self.rows
            .insert(key.into_boxed_str(), bytes.into_boxed_slice());
        Ok(())
    }
}

/// The binary form of `row`, boxed. Serialising a row cannot fail in
/// practice (plain structs, maps and sequences of known length); if it
/// did, the row would be kept empty, and read as missing.
fn pack<V: Serialize>(row: &V) -> Box<[u8]> {
    codec::to_binary(row).unwrap_or_default().into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InteractionRow, Table};

    fn row(participant: &str, at: i64) -> InteractionRow {
        InteractionRow {
            participants: vec![(participant.into(), 1)],
            occurred_at: Some(at),
            topics: vec![3, 4],
            logged: true,
            logged_by: "agent".into(),
            ..InteractionRow::default()
        }
    }

    #[test]
    fn a_packed_table_reads_writes_and_encodes_as_a_table_of_the_same_rows() {
        let mut packed = Packed::<InteractionRow>::default();
        let mut table = Table::<InteractionRow>::default();
        for (key, participant, at) in [("b", "s2", 2), ("a", "s1", 1), ("c", "s1", 3)] {
            packed.put(key.into(), row(participant, at));
            table.put(key.into(), row(participant, at));
        }
        packed.update("a", |row| row.erased = true);
        table.upsert("a").erased = true;
        packed.update("d", |row| row.follow_ups = 2);
        table.upsert("d").follow_ups = 2;
        assert_eq!(packed.get("a"), table.get("a").cloned());
        assert_eq!(
            packed.take_changes().unwrap(),
            table.take_changes().unwrap()
        );
        assert_eq!(packed.all_rows().unwrap(), table.all_rows().unwrap());
        let decoded: Vec<(String, InteractionRow)> = packed
            .iter()
            .map(|(key, row)| (key.to_owned(), row))
            .collect();
        let expected: Vec<(String, InteractionRow)> = table
            .iter()
            .map(|(key, row)| (key.clone(), row.clone()))
            .collect();
        assert_eq!(decoded, expected);

        // A snapshot section reads back.
        let mut section = Vec::new();
        packed.encode(&mut section).unwrap();
        let mut again = Packed::<InteractionRow>::default();
        again.decode(section.as_slice()).unwrap();
        assert_eq!(again, packed);
        assert!(again.decode(&section[..section.len() - 1]).is_err());

        // Stored rows load back.
        let mut loaded = Packed::<InteractionRow>::default();
        for (key, value) in packed.all_rows().unwrap() {
            loaded.load(key, &value).unwrap();
        }
        assert_eq!(loaded, packed);
        assert_eq!(
            packed
                .with_prefix("b")
                .map(|(key, _)| key)
                .collect::<Vec<_>>(),
            vec!["b"]
        );
        packed.remove("b");
        assert_eq!(packed.len(), 3);
        assert_eq!(packed.take_changes().unwrap(), vec![("b".to_owned(), None)]);
    }
}
