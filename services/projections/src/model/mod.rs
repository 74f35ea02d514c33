//! The read model: normalised tables keyed by the ids of what they describe,
//! plus the per-context checkpoints, all in memory, with change tracking so
//! that [`crate::storage`] can write each update atomically with its checkpoint
//! (off in models built for replays and rebuilds: [`ReadModel::for_replay`]).
//!
//! **Memory.** The tables with a row per contact or per fact
//! (`interactions`, `timeline`: [`KEPT_ON_DISK`]) hold each row in its
//! compact binary form ([`Packed`]); the others, a few thousand rows, as
//! structs ([`Table`]). The live model on sled keeps the rows of those two
//! tables in the database only ([`DiskTable`], [`ReadModel::keep_on_disk`]),
//! holding in memory only the rows changed since its last commit: a
//! stakeholder's timeline reads a few of them; the queries that count over
//! every contact (the territory report, follow-ups, audit, the stakeholder
//! map) scan the stored contacts in place ([`DiskTable::rows`]); the
//! projector reads a stored contact back when an event changes it. A
//! rebuild into sled hands those rows to the tree it fills as it goes and
//! reads them back there ([`ReadModel::write_ahead_into`]). The models of
//! `as_of` replays, snapshots and the in-memory storage hold every row.
//! Who took part in which contact is read from the `interactions` rows
//! themselves (the first fields of their binary form, [`ContactHead`]): the
//! former `contacts` index (a row per participant and contact) is no longer
//! kept, and its rows in an older database are ignored.
//!
//! **Convergence.** Every table is written by the events of exactly one
//! context (stakeholders: `stakeholders`, `interactions`, `contact_axes`;
//! engagement: `actions`, `surveys`, `interviews`, `diagnostics`, `codes`, `lessons` and the
//! engagement rows of `timeline`; governance: `consortia`, `meetings`,
//! `commitments`, `commitment_axes` and its rows of `timeline`; `survey_respondents`: engagement), and no update reads a row that
//! another context writes: cross-context facts (a contact naming a stakeholder
//! not registered yet, a vote before the membership) are joined at query
//! time. Each context's events come in log order, so the final state is a
//! function of each context's sequence alone, whatever the interleaving.

pub mod codec;
mod disk_table;
mod packed;
mod rows;
mod table;

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1::EventEnvelope;

pub use disk_table::{BinaryRow, CurrentTree, DiskTable};
pub use packed::Packed;
pub use rows::*;
pub use table::Table;

use crate::projector;

/// The tables the live model on sled keeps in the database only, in name
/// order (see [`DiskTable`]).
pub const KEPT_ON_DISK: &[&str] = &["interactions", "timeline"];

/// The sled key prefix of checkpoint rows.
pub const CHECKPOINT_TABLE: &str = "checkpoint";

/// What [`ReadModel::apply`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The event updated the tables.
    Applied,
    /// Its position was at or below the context's checkpoint: skipped.
    Duplicate,
    /// An event type the projection does not read (the checkpoint advanced).
    Ignored,
    /// The payload of a type the projection reads did not decode: nothing
    /// changed, and the checkpoint did **not** advance (the projection must
    /// stop there, never skip it: for the contact audit a skipped event is a
    /// silent hole). Says which event and why.
    Undecodable(String),
}

/// A row change for the storage: `table\0key` → serialised row, or `None` to delete.
pub type Change = (Vec<u8>, Option<Vec<u8>>);

macro_rules! tables {
    ($($name:ident : $table:ty),* $(,)?) => {
        /// Every read-model table and the checkpoints. See the module docs.
        #[derive(Debug, Clone)]
        pub struct ReadModel {
            $(
                #[allow(missing_docs)]
                pub $name: $table,
            )*
            checkpoints: BTreeMap<String, u64>,
            /// The hash of the event at each checkpoint (absent: not known,
            /// e.g. a checkpoint stored before hashes were kept).
            heads: BTreeMap<String, [u8; 32]>,
            dirty_checkpoints: BTreeSet<String>,
            /// Whether changes are recorded for [`ReadModel::take_changes`].
            tracking: bool,
        }

        impl Default for ReadModel {
            /// An empty read model that tracks its changes (the live one).
            fn default() -> Self {
                Self {
                    $(
                        $name: <$table>::default(),
                    )*
                    checkpoints: BTreeMap::new(),
                    heads: BTreeMap::new(),
                    dirty_checkpoints: BTreeSet::new(),
                    tracking: true,
                }
            }
        }

        /// Read models are equal when their tables' rows and their checkpoints
        /// are: change tracking is bookkeeping.
        impl PartialEq for ReadModel {
            fn eq(&self, other: &Self) -> bool {
                $(
                    self.$name == other.$name &&
                )*
                self.checkpoints == other.checkpoints && self.heads == other.heads
            }
        }

        /// Every table's name, in the order of [`ReadModel`]'s fields (the
        /// sections of a [`crate::snapshot`]).
        pub const TABLES: &[&str] = &[$(stringify!($name)),*];

        impl ReadModel {
            /// Writes the rows of the table named `table` (one of [`TABLES`])
            /// in the snapshots' binary encoding; an unknown name writes nothing.
            pub fn encode_table(
                &self,
                table: &str,
                writer: impl std::io::Write,
            ) -> Result<(), bincode::Error> {
                match table {
                    $(
                        stringify!($name) => self.$name.encode(writer),
                    )*
                    _ => Ok(()),
                }
            }

            /// Replaces the rows of the table named `table` with those read
            /// from `reader` (as [`ReadModel::encode_table`] wrote them); an
            /// unknown name reads nothing.
            pub fn decode_table(
                &mut self,
                table: &str,
                reader: impl std::io::Read,
            ) -> Result<(), bincode::Error> {
                match table {
                    $(
                        stringify!($name) => self.$name.decode(reader),
                    )*
                    _ => Ok(()),
                }
            }

            /// Turns change tracking on or off in every table; either way,
            /// forgets the changes recorded so far.
            pub fn set_tracking(&mut self, tracking: bool) {
                $(
                    self.$name.set_tracking(tracking);
                )*
                self.dirty_checkpoints.clear();
                self.tracking = tracking;
            }

            /// Serialises every row and checkpoint, as storage rows in
            /// table order, into `sink` (a full rewrite streamed in batches:
            /// no list of every row); stops at the first error. The recorded
            /// changes are left alone (see [`ReadModel::set_tracking`]).
            pub fn write_rows<E: From<serde_json::Error>>(
                &self,
                mut sink: impl FnMut(Vec<u8>, Vec<u8>) -> Result<(), E>,
            ) -> Result<(), E> {
                $(
                    self.$name.for_each_row(|key, value| {
                        sink(storage_key(stringify!($name), key), value)
                    })?;
                )*
                for context in self.checkpoints.keys() {
                    sink(
                        storage_key(CHECKPOINT_TABLE, context),
                        self.checkpoint_row(context),
                    )?;
                }
                Ok(())
            }

            /// Whether `key` (as written by [`ReadModel::write_rows`]) is a
            /// row or checkpoint of this model.
            pub fn has_row(&self, key: &[u8]) -> bool {
                let Ok(text) = std::str::from_utf8(key) else {
                    return false;
                };
                let Some((table, key)) = text.split_once('\0') else {
                    return false;
                };
                match table {
                    $(
                        stringify!($name) => self.$name.contains(key),
                    )*
                    CHECKPOINT_TABLE => self.checkpoints.contains_key(key),
                    _ => false,
                }
            }

            /// The changes since the last call, as storage rows; forgets them.
            pub fn take_changes(&mut self) -> Result<Vec<Change>, serde_json::Error> {
                let mut changes = Vec::new();
                $(
                    for (key, value) in self.$name.take_changes()? {
                        changes.push((storage_key(stringify!($name), &key), value));
                    }
                )*
                for context in std::mem::take(&mut self.dirty_checkpoints) {
                    changes.push((
                        storage_key(CHECKPOINT_TABLE, &context),
                        Some(self.checkpoint_row(&context)),
                    ));
                }
                Ok(changes)
            }

            /// Every row and checkpoint, as storage rows (for a full rewrite).
            pub fn all_rows(&mut self) -> Result<Vec<(Vec<u8>, Vec<u8>)>, serde_json::Error> {
                let mut rows = Vec::new();
                $(
                    for (key, value) in self.$name.all_rows()? {
                        rows.push((storage_key(stringify!($name), &key), value));
                    }
                )*
                self.dirty_checkpoints.clear();
                for context in self.checkpoints.keys() {
                    rows.push((
                        storage_key(CHECKPOINT_TABLE, context),
                        self.checkpoint_row(context),
                    ));
                }
                Ok(rows)
            }

            /// Loads one stored row (from [`ReadModel::take_changes`] or
            /// [`ReadModel::all_rows`]); unknown tables are ignored.
            pub fn load_row(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
                let text = std::str::from_utf8(key).map_err(|_| LoadError::Key)?;
                let (table, key) = text.split_once('\0').ok_or(LoadError::Key)?;
                match table {
                    $(
                        stringify!($name) => self.$name.load(key.to_owned(), value)?,
                    )*
                    CHECKPOINT_TABLE => {
                        // The position, then (since the feed checks links) the hash there.
                        let (position, hash) = match value.len() {
                            8 => (value, None),
                            40 => (&value[..8], Some(&value[8..])),
                            _ => return Err(LoadError::Key),
                        };
                        let position: [u8; 8] = position.try_into().map_err(|_| LoadError::Key)?;
                        self.checkpoints.insert(key.to_owned(), u64::from_be_bytes(position));
                        if let Some(hash) = hash {
                            let hash: [u8; 32] = hash.try_into().map_err(|_| LoadError::Key)?;
                            self.heads.insert(key.to_owned(), hash);
                        }
                    }
                    _ => {}
                }
                Ok(())
            }
        }
    };
}

tables! {
    stakeholders: Table<StakeholderRow>,
    interactions: DiskTable<InteractionRow>,
    timeline: DiskTable<TimelineRow>,
    actions: Table<ActionRow>,
    surveys: Table<SurveyRow>,
    interviews: Table<InterviewRow>,
    diagnostics: Table<DiagnosticRow>,
    codes: Table<CodeRow>,
    lessons: Table<LessonRow>,
    consortia: Table<ConsortiumRow>,
    meetings: Table<MeetingRow>,
    commitments: Table<CommitmentRow>,
    contact_axes: Table<AxisTagsRow>,
    commitment_axes: Table<AxisTagsRow>,
    survey_respondents: Table<u64>,
}

/// A stored row that cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The key is not `table\0key` in UTF-8, or a checkpoint is neither 8
    /// bytes (a position) nor 40 (a position and its hash).
    #[error("malformed read-model key or checkpoint")]
    Key,
    /// The row does not deserialise.
    #[error(transparent)]
    Row(#[from] codec::RowError),
}

/// The key, in `survey_respondents`, of the responses of `stakeholder_id` to
/// `survey_id`: a row per survey and stakeholder (a count), so that a
/// response changes a small row, not the survey's (which the live model
/// writes again with each batch that changes it: with 14,000 respondents,
/// half a megabyte per survey and batch).
pub fn survey_respondent_key(survey_id: &str, stakeholder_id: &str) -> String {
    format!("{survey_id}/{stakeholder_id}")
}

/// The storage key of `key` in `table`.
pub fn storage_key(table: &str, key: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(table.len() + 1 + key.len());
    bytes.extend_from_slice(table.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(key.as_bytes());
    bytes
}

impl ReadModel {
    /// An empty read model (every context from position 1) that tracks its
    /// changes, for [`ReadModel::take_changes`] (the live model).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty read model that does not track its changes: for replays
    /// (`as_of`) and rebuilds, which never take changes (a rebuild writes
    /// every row). Its answers are those of [`ReadModel::new`]'s.
    pub fn for_replay() -> Self {
        let mut model = Self::default();
        model.set_tracking(false);
        model
    }

    /// The stakeholders who answered the survey `survey_id` (whose row is
    /// `survey`) and how many times each: the rows of `survey_respondents`,
    /// and those a survey row stored before that table kept in itself
    /// ([`SurveyRow::by_stakeholder`]; a stakeholder may be in both, each
    /// count for the responses of its time).
    pub fn respondents<'a>(
        &'a self,
        survey_id: &str,
        survey: &'a SurveyRow,
    ) -> impl Iterator<Item = (&'a str, u64)> + 'a {
        let prefix = survey_respondent_key(survey_id, "");
        let stored = survey
            .by_stakeholder
            .iter()
            .map(|(id, count)| (id.as_str(), *count));
        let rows = self
            .survey_respondents
            .with_prefix(&prefix)
            .map(move |(key, count)| (&key[prefix.len()..], *count));
        stored.chain(rows)
    }

    /// From now on, keeps the rows of the tables in [`KEPT_ON_DISK`] in
    /// `tree` only, not in memory (the live model on sled: see
    /// [`DiskTable`]); every row of those tables must be stored there.
    pub fn keep_on_disk(&mut self, tree: CurrentTree) {
        self.interactions.keep_on_disk(tree.clone(), "interactions");
        self.timeline.keep_on_disk(tree, "timeline");
    }

    /// From now on, reads the rows of the tables in [`KEPT_ON_DISK`] that it
    /// does not hold from `tree`, the tree a rebuild fills, where
    /// [`ReadModel::drain_kept_on_disk`]'s rows are written (a model being
    /// rebuilt into sled: see [`DiskTable::write_ahead_into`]).
    pub fn write_ahead_into(&mut self, tree: CurrentTree) {
        self.interactions
            .write_ahead_into(tree.clone(), "interactions");
        self.timeline.write_ahead_into(tree, "timeline");
    }

    /// Takes the rows of the tables the live model keeps on disk
    /// ([`KEPT_ON_DISK`]) out of this model, as storage rows: a rebuild hands
    /// them to the storage as it goes ([`crate::storage::Storage::write_ahead`])
    /// rather than holding them until its end, and the model reads them
    /// back there when an event changes them ([`ReadModel::write_ahead_into`]).
    pub fn drain_kept_on_disk(&mut self) -> Vec<Change> {
        let interactions = self
            .interactions
            .drain()
            .into_iter()
            .map(|(key, value)| (storage_key("interactions", &key), Some(value)));
        let timeline = self
            .timeline
            .drain()
            .into_iter()
            .map(|(key, value)| (storage_key("timeline", &key), Some(value)));
        interactions.chain(timeline).collect()
    }

    /// The last position applied from `context`'s log (0: none).
    pub fn checkpoint(&self, context: &str) -> u64 {
        self.checkpoints.get(context).copied().unwrap_or(0)
    }

    /// Every context's checkpoint, in context order.
    pub fn checkpoints(&self) -> &BTreeMap<String, u64> {
        &self.checkpoints
    }

    /// Sets `context`'s checkpoint and the hash of the event there (a model
    /// loaded from a snapshot, whose rows are loaded table by table).
    pub fn restore_checkpoint(&mut self, context: &str, position: u64, hash: [u8; 32]) {
        self.checkpoints.insert(context.to_owned(), position);
        self.heads.insert(context.to_owned(), hash);
    }

    /// The hash of the event at `context`'s checkpoint, when known.
    pub fn head_hash(&self, context: &str) -> Option<[u8; 32]> {
        self.heads.get(context).copied()
    }

    /// The stored form of `context`'s checkpoint: the position (8 bytes,
    /// big-endian), then the hash of the event there when known.
    fn checkpoint_row(&self, context: &str) -> Vec<u8> {
        let mut row = self.checkpoint(context).to_be_bytes().to_vec();
        if let Some(hash) = self.heads.get(context) {
            row.extend_from_slice(hash);
        }
        row
    }

    /// Applies one event: skipped when its position is at or below its
    /// context's checkpoint, else folded into the tables and the checkpoint
    /// advanced. Pure: no I/O, no clock.
    pub fn apply(&mut self, envelope: &EventEnvelope) -> Applied {
        if envelope.position <= self.checkpoint(&envelope.context) {
            return Applied::Duplicate;
        }
        let outcome = projector::project(self, envelope);
        if matches!(outcome, Applied::Undecodable(_)) {
            return outcome;
        }
        // The context's name is copied only the first time it is seen.
        match self.checkpoints.get_mut(envelope.context.as_str()) {
            Some(checkpoint) => *checkpoint = envelope.position,
            None => {
                self.checkpoints
                    .insert(envelope.context.clone(), envelope.position);
            }
        }
        match <[u8; 32]>::try_from(envelope.hash.as_slice()) {
            Ok(hash) => match self.heads.get_mut(envelope.context.as_str()) {
                Some(head) => *head = hash,
                None => {
                    self.heads.insert(envelope.context.clone(), hash);
                }
            },
            Err(_) => {
                self.heads.remove(envelope.context.as_str());
            }
        }
        if self.tracking && !self.dirty_checkpoints.contains(envelope.context.as_str()) {
            self.dirty_checkpoints.insert(envelope.context.clone());
        }
        outcome
    }
}
