//! Both indexes against the log, both ways: every record has its stream-index
//! and event-id entries pointing at it, and no entry points at a record that
//! does not name it, or past the end of the log (what `verify` adds to the
//! chain walk).

use std::ops::Bound;

use uuid::Uuid;

use crate::chunk;
use crate::engine::{Engine, Keyspace};
use crate::error::StoreError;
use crate::keys;
use crate::record::RecordedEvent;

/// Index entries read per scan.
const ENTRIES_PER_SCAN: usize = 4096;

/// A disagreement: the position concerned and what is wrong.
type Finding = Option<(u64, String)>;

/// Why `record`'s entries in the stream index or the event-id index are not
/// what they should be, if they are not.
pub fn check_record(
    engine: &dyn Engine,
    record: &RecordedEvent,
) -> Result<Option<String>, StoreError> {
    for index in [Index::Stream, Index::EventId] {
        let entry = engine.get(index.keyspace(), &index.key_of(record))?;
        let wrong = match entry.as_deref().map(decode_position) {
            None => "has no entry".to_string(),
            Some(Some(position)) if position == record.position => continue,
            Some(Some(position)) => format!("points at position {position}"),
            Some(None) => "has an unreadable entry".to_string(),
        };
        return Ok(Some(format!(
            "{}: {} {wrong}",
            index.name(),
            index.describe_record(record)
        )));
    }
    Ok(None)
}

/// The first index entry that belongs to no record of the log up to `head`
/// (whose records were all checked by [`check_record`]), if there is one.
///
/// Each record has exactly one entry per index, so an index holding more
/// entries up to `head` than there are records holds one too many: only then
/// are its entries read against the log one by one, to name it. Entries past
/// `head` belong to records written since the walk, unless they point past
/// the end of the log.
pub fn check_entries(engine: &dyn Engine, head: u64) -> Result<Finding, StoreError> {
    for index in [Index::Stream, Index::EventId] {
        let mut counted = 0u64;
        let mut furthest: Option<(u64, Vec<u8>)> = None;
        let unreadable = first_entry(engine, index, |key, position| {
            let Some(position) = position else {
                return Ok(Some((
                    0,
                    format!(
                        "{}: {} has an unreadable entry",
                        index.name(),
                        index.describe_key(key)
                    ),
                )));
            };
            if position <= head {
                counted += 1;
            } else if furthest.as_ref().is_none_or(|(at, _)| position > *at) {
                furthest = Some((position, key.to_vec()));
            }
            Ok(None)
        })?;
        if unreadable.is_some() {
            return Ok(unreadable);
        }
        if let Some((position, key)) = furthest {
            let end = chunk::last_record(engine)?.map_or(0, |(last, _)| last);
            if position > end {
                return Ok(Some((
                    position,
                    format!(
                        "{}: {} points at position {position}, past the end of the log ({end})",
                        index.name(),
                        index.describe_key(&key)
                    ),
                )));
            }
        }
        if counted > head {
            let stray = first_entry(engine, index, |key, position| {
                let Some(position) = position.filter(|position| *position <= head) else {
                    return Ok(None);
                };
                let record = chunk::record_at(engine, position)?;
                if index.names(key, &record) {
                    return Ok(None);
                }
                Ok(Some((
                    position,
                    format!(
                        "{}: {} points at position {position}, which holds {}",
                        index.name(),
                        index.describe_key(key),
                        index.describe_record(&record)
                    ),
                )))
            })?;
            return Ok(stray.or_else(|| {
                Some((
                    0,
                    format!("{}: {counted} entries for {head} records", index.name()),
                ))
            }));
        }
    }
    Ok(None)
}

/// The first finding of `check` over the index's entries, in key order
/// (`check` gets each key and the position it names, if readable).
fn first_entry(
    engine: &dyn Engine,
    index: Index,
    mut check: impl FnMut(&[u8], Option<u64>) -> Result<Finding, StoreError>,
) -> Result<Finding, StoreError> {
    let mut after: Option<Vec<u8>> = None;
    loop {
        let start = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let entries = engine.scan(
            index.keyspace(),
            start,
            Bound::Unbounded,
            false,
            ENTRIES_PER_SCAN,
        )?;
        let full = entries.len() == ENTRIES_PER_SCAN;
        for (key, value) in &entries {
            if let Some(finding) = check(key, decode_position(value))? {
                return Ok(Some(finding));
            }
        }
        match entries.into_iter().last() {
            Some((key, _)) if full => after = Some(key),
            _ => return Ok(None),
        }
    }
}

/// A position stored as an index value (exactly 8 bytes, big-endian).
fn decode_position(value: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(value).ok().map(u64::from_be_bytes)
}

/// The two indexes of the log.
#[derive(Clone, Copy)]
enum Index {
    /// stream id, 0x00, version → position.
    Stream,
    /// event id → position.
    EventId,
}

impl Index {
    fn keyspace(self) -> Keyspace {
        match self {
            Index::Stream => Keyspace::StreamIndex,
            Index::EventId => Keyspace::EventIdIndex,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Index::Stream => "stream index",
            Index::EventId => "event-id index",
        }
    }

    /// The key under which `record` is indexed.
    fn key_of(self, record: &RecordedEvent) -> Vec<u8> {
        match self {
            Index::Stream => keys::stream_key(record.stream_id.as_str(), record.version),
            Index::EventId => keys::event_id_key(&record.event_id).to_vec(),
        }
    }

    /// Whether the entry at `key` is `record`'s.
    fn names(self, key: &[u8], record: &RecordedEvent) -> bool {
        self.key_of(record) == key
    }

    fn describe_record(self, record: &RecordedEvent) -> String {
        match self {
            Index::Stream => format!("{} version {}", record.stream_id, record.version),
            Index::EventId => format!("event {}", record.event_id),
        }
    }

    fn describe_key(self, key: &[u8]) -> String {
        match self {
            Index::Stream => match key.len().checked_sub(9) {
                Some(split) if key[split] == 0 => format!(
                    "{} version {}",
                    String::from_utf8_lossy(&key[..split]),
                    keys::decode_u64(key).unwrap_or_default()
                ),
                _ => format!("the unreadable key {key:?}"),
            },
            Index::EventId => match Uuid::from_slice(key) {
                Ok(id) => format!("event {id}"),
                Err(_) => format!("the unreadable key {key:?}"),
            },
        }
    }
}
