//! One read-model table: rows in key order, with the keys changed since the
//! last commit, so that a commit writes exactly what an update touched.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A changed row: its key and its serialised value (`None`: deleted).
pub type RowChange = (String, Option<Vec<u8>>);

/// Rows of type `V` by string key, with change tracking.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<V> {
    rows: BTreeMap<String, V>,
    dirty: BTreeSet<String>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            dirty: BTreeSet::new(),
        }
    }
}

impl<V: Default + Serialize + DeserializeOwned> Table<V> {
    /// The row at `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.rows.get(key)
    }

    /// The row at `key`, created empty if missing; marked changed.
    pub fn upsert(&mut self, key: &str) -> &mut V {
        if !self.dirty.contains(key) {
            self.dirty.insert(key.to_owned());
        }
        self.rows.entry(key.to_owned()).or_default()
    }

    /// Replaces the row at `key`; marked changed.
    pub fn put(&mut self, key: String, row: V) {
        self.dirty.insert(key.clone());
        self.rows.insert(key, row);
    }

    /// Removes the row at `key` (if any); marked changed.
    pub fn remove(&mut self, key: &str) {
        if self.rows.remove(key).is_some() {
            self.dirty.insert(key.to_owned());
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

    /// The changed rows since the last call (value `None`: deleted), serialised;
    /// forgets the changes.
    pub fn take_changes(&mut self) -> Result<Vec<RowChange>, serde_json::Error> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .map(|key| {
                let value = self.rows.get(&key).map(serde_json::to_vec).transpose()?;
                Ok((key, value))
            })
            .collect()
    }

    /// Every row, serialised (for a full rewrite); forgets the changes.
    pub fn all_rows(&mut self) -> Result<Vec<(String, Vec<u8>)>, serde_json::Error> {
        self.dirty.clear();
        self.rows
            .iter()
            .map(|(key, row)| Ok((key.clone(), serde_json::to_vec(row)?)))
            .collect()
    }

    /// Loads one stored row (not marked changed).
    pub fn load(&mut self, key: String, value: &[u8]) -> Result<(), serde_json::Error> {
        self.rows.insert(key, serde_json::from_slice(value)?);
        Ok(())
    }
}
