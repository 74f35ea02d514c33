//! Writing a log back from a copy of it (disaster recovery): records read
//! from elsewhere — the JetStream stream its relay fed — each checked, then
//! written exactly as the store had written it, after what the log holds.
//!
//! A record is taken only if it is the next position, chains to the log's
//! head, hashes right (the hash recomputed from its content, as the store
//! computed it), is the next version of its stream and carries an event id
//! the log does not hold. Its stored bytes are then sealed from its fields,
//! so the log ends up record for record identical to the one that was lost
//! (the hashes prove it); only the packing of records into chunks may
//! differ. Each call writes one batch with the stream and event-id index
//! entries, and flushes.
//!
//! Until [`Importer::finish`] (which verifies the whole log first), the log
//! is marked as being restored (in the same batch as the first records),
//! and [`crate::EventStore::open`] refuses it with
//! [`StoreError::RestoreUnfinished`]: a service never starts on a log that
//! lacks acknowledged events because a restore stopped halfway. An importer
//! made on such a log continues it.
//!
//! No store may be open on the engine while an importer writes to it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::chunk::{self, ChunkWriter};
use crate::codec::{self, Unsealed};
use crate::engine::{Engine, Keyspace, WriteBatch};
use crate::error::StoreError;
use crate::keys;
use crate::open_check;
use crate::record::{EventData, RecordedEvent};
use crate::store::Head;
use crate::verify::{self, Verification};
use crate::writer;

/// Writes checked records after a log's head; see the module docs.
pub struct Importer {
    engine: Arc<dyn Engine>,
    head: Head,
    /// The last version of each stream written by this importer.
    versions: HashMap<String, u64>,
    /// Whether the log is marked as being restored.
    marked: bool,
}

impl Importer {
    /// Checks the log's chain as an open does (the tail since the position
    /// verified before) and gets ready to write after its head. A log left
    /// unfinished by an earlier restore is accepted: this importer continues it.
    pub fn new(engine: Arc<dyn Engine>) -> Result<Self, StoreError> {
        let head = open_check::checked_head(engine.as_ref())?;
        let marked = open_check::restore_unfinished(engine.as_ref())?;
        Ok(Self {
            engine,
            head,
            versions: HashMap::new(),
            marked,
        })
    }

    /// The last record written (or held before): position and hash.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The hash of the record at `position`, if the log holds it.
    pub fn hash_at(&self, position: u64) -> Result<Option<[u8; 32]>, StoreError> {
        if position == 0 || position > self.head.position {
            return Ok(None);
        }
        Ok(
            chunk::stored_at(self.engine.as_ref(), position)?.and_then(|stored| {
                let hash = stored.get(stored.len().checked_sub(32)?..)?;
                hash.try_into().ok()
            }),
        )
    }

    /// Whether an earlier restore of this log was left unfinished.
    pub fn continues_a_restore(&self) -> bool {
        self.marked
    }

    /// Checks `records`, which must continue the log from its head, and
    /// writes them in one batch, flushed; returns the new head. A refused
    /// record ([`StoreError::ImportRefused`], naming its position and why)
    /// means nothing of this call was written.
    pub fn import(&mut self, records: &[RecordedEvent]) -> Result<Head, StoreError> {
        if records.is_empty() {
            return Ok(self.head);
        }
        let mut batch = WriteBatch::new();
        let mut chunks = ChunkWriter::default();
        let mut head = self.head;
        let mut versions: HashMap<String, u64> = HashMap::new();
        let mut ids = HashSet::with_capacity(records.len());
        for record in records {
            let position = head.position + 1;
            let refuse = |reason: String| StoreError::ImportRefused { position, reason };
            if record.position != position {
                return Err(refuse(format!(
                    "the record given is position {}",
                    record.position
                )));
            }
            if record.prev_hash != head.hash {
                return Err(refuse("does not chain to the previous record".into()));
            }
            if !record.hash_is_valid() {
                return Err(refuse("hash does not match the content".into()));
            }
            let stream = record.stream_id.as_str();
            let last = match versions.get(stream).or_else(|| self.versions.get(stream)) {
                Some(version) => *version,
                None => writer::last_version(self.engine.as_ref(), stream, u64::MAX)?,
            };
            if record.version != last + 1 {
                return Err(refuse(format!(
                    "version {} of {stream}, whose last version is {last}",
                    record.version
                )));
            }
            let id_key = keys::event_id_key(&record.event_id);
            if !ids.insert(record.event_id)
                || self.engine.get(Keyspace::EventIdIndex, &id_key)?.is_some()
            {
                return Err(refuse(format!(
                    "event id {} is already in the log",
                    record.event_id
                )));
            }
            let event = EventData {
                event_id: record.event_id,
                event_type: record.event_type.clone(),
                payload: record.payload.clone(),
                metadata: record.metadata.clone(),
            };
            let (stored, hash) = codec::seal(&Unsealed {
                position,
                stream_id: stream,
                version: record.version,
                recorded_at_micros: codec::to_micros(record.recorded_at),
                prev_hash: head.hash,
                event: &event,
            });
            if hash != record.hash {
                return Err(refuse("hash does not match the content".into()));
            }
            chunks.push(&mut batch, position, &stored);
            let position_bytes = position.to_be_bytes();
            batch.put(
                Keyspace::StreamIndex,
                keys::stream_key(stream, record.version),
                position_bytes,
            );
            batch.put(Keyspace::EventIdIndex, id_key, position_bytes);
            versions.insert(stream.to_owned(), record.version);
            head = Head { position, hash };
        }
        chunks.finish(&mut batch);
        if !self.marked {
            open_check::mark_restore(&mut batch, true);
        }
        self.engine.apply(batch)?;
        self.engine.flush()?;
        self.marked = true;
        self.versions.extend(versions);
        self.head = head;
        Ok(head)
    }

    /// Verifies the whole log as [`crate::EventStore::verify`] does (the
    /// chain from position 1, both indexes against it), then marks the
    /// restore as complete (flushed): the store opens the log again. Call it
    /// once the log holds everything it must. A log that does not verify
    /// stays marked, and the first disagreement is returned as
    /// [`StoreError::BrokenChain`].
    pub fn finish(self) -> Result<Head, StoreError> {
        match verify::verify(self.engine.as_ref(), self.head.position)? {
            Verification::Intact { head } if head == self.head => {}
            Verification::Intact { head } => {
                return Err(StoreError::BrokenChain {
                    position: head.position,
                    reason: format!("the log ends at position {}", head.position),
                })
            }
            Verification::Broken { position, reason } => {
                return Err(StoreError::BrokenChain { position, reason })
            }
        }
        if self.marked {
            let mut batch = WriteBatch::new();
            open_check::mark_restore(&mut batch, false);
            self.engine.apply(batch)?;
            self.engine.flush()?;
        }
        Ok(self.head)
    }
}
