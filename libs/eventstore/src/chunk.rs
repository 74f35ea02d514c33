//! The log keyspace holds records packed in chunks: reading and writing them.
//!
//! A group commit writes its records, consecutive in position, into one or
//! more chunks of about [`CHUNK_TARGET_BYTES`], each stored under the position
//! of its first record: `format byte ‖ (u32 length ‖ record)*`. Replays then
//! cost one engine entry per chunk instead of one per event, and an append
//! writes one log entry per group instead of one per event. Records are never
//! split across chunks; each keeps its own hash, so tampering is still found
//! at the exact position.

use std::ops::Bound;

use crate::codec;
use crate::engine::{Engine, Keyspace, WriteBatch};
use crate::error::StoreError;
use crate::keys;
use crate::record::{RecordView, RecordedEvent};

const CHUNK_FORMAT_V1: u8 = 1;
/// A chunk is closed once it holds this many bytes (a single larger record gets a chunk of its own).
pub const CHUNK_TARGET_BYTES: usize = 64 * 1024;

/// Packs consecutive records into chunks and puts them in a batch.
#[derive(Default)]
pub struct ChunkWriter {
    first_position: u64,
    bytes: Vec<u8>,
}

impl ChunkWriter {
    /// Adds the record at `position` (stored bytes from [`codec::seal`]); records
    /// must come in position order with no gap.
    pub fn push(&mut self, batch: &mut WriteBatch, position: u64, stored: &[u8]) {
        if !self.bytes.is_empty() && self.bytes.len() + 4 + stored.len() > CHUNK_TARGET_BYTES {
            self.finish(batch);
        }
        if self.bytes.is_empty() {
            self.first_position = position;
            self.bytes.push(CHUNK_FORMAT_V1);
        }
        // Record sizes are bounded by the event size limit, far below 4 GiB.
        self.bytes
            .extend_from_slice(&(stored.len() as u32).to_be_bytes());
        self.bytes.extend_from_slice(stored);
    }

    /// Puts the open chunk, if any, in the batch.
    pub fn finish(&mut self, batch: &mut WriteBatch) {
        if !self.bytes.is_empty() {
            let bytes = std::mem::take(&mut self.bytes);
            batch.put(Keyspace::Log, keys::log_key(self.first_position), bytes);
        }
    }
}

/// The stored records of one chunk, in order, as raw bytes.
pub fn records(chunk: &[u8]) -> Result<Vec<&[u8]>, String> {
    let (&format, mut rest) = chunk.split_first().ok_or("empty chunk")?;
    if format != CHUNK_FORMAT_V1 {
        return Err(format!("unknown chunk format {format}"));
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = rest
            .get(..4)
            .and_then(|len| len.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or("truncated chunk")? as usize;
        let record = rest.get(4..4 + len).ok_or("truncated chunk")?;
        out.push(record);
        rest = &rest[4 + len..];
    }
    Ok(out)
}

/// The position a stored record claims (its first bytes), without decoding the rest.
pub fn position_of(stored: &[u8]) -> Option<u64> {
    keys::decode_u64(stored.get(1..9)?)
}

/// The last record of the log: its position and hash, from its stored bytes.
pub fn last_record(engine: &dyn Engine) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let Some((key, chunk)) = engine
        .scan(Keyspace::Log, Bound::Unbounded, Bound::Unbounded, true, 1)?
        .pop()
    else {
        return Ok(None);
    };
    let first = keys::decode_u64(&key).unwrap_or_default();
    let stored = records(&chunk).map_err(|reason| corrupt(first, reason))?;
    let last = stored
        .last()
        .ok_or_else(|| corrupt(first, "empty chunk".into()))?;
    let position = position_of(last).ok_or_else(|| corrupt(first, "truncated record".into()))?;
    let hash = last
        .get(last.len().saturating_sub(32)..)
        .and_then(|tail| tail.try_into().ok())
        .ok_or_else(|| corrupt(position, "truncated record".into()))?;
    Ok(Some((position, hash)))
}

/// Decoded records with `from <= position <= to`, at most `limit` of them.
///
/// Positions are dense: a position of the range missing from the log (a
/// record cut out, a chunk replaced) is a `Corrupt` error naming it, never a
/// silent gap nor an empty answer a caller would ask again for ever.
pub fn read_range(
    engine: &dyn Engine,
    from: u64,
    to: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let wanted = usize::try_from(to.saturating_sub(from))
        .map_or(limit, |span| span.saturating_add(1).min(limit));
    let mut out = Vec::with_capacity(wanted.min(MAX_PREALLOCATED));
    visit_range(engine, from, to, limit, &mut |record| {
        out.push(record.to_owned());
        true
    })?;
    Ok(out)
}

/// Records [`read_range`] reserves room for up front.
const MAX_PREALLOCATED: usize = 4096;

/// Hands the records with `from <= position <= to`, at most `limit` of them,
/// to `visit`, in order and decoded in place (nothing is copied or allocated
/// per record), until it returns `false`. Returns the position after the last
/// record handed.
///
/// Positions are dense, as for [`read_range`]: a missing one is a `Corrupt`
/// error, even when found after `visit` has seen the records before it.
pub fn visit_range(
    engine: &dyn Engine,
    from: u64,
    to: u64,
    limit: usize,
    visit: &mut dyn FnMut(RecordView<'_>) -> bool,
) -> Result<u64, StoreError> {
    if from > to || limit == 0 {
        return Ok(from);
    }
    let mut range = Range {
        from,
        to,
        left: limit,
        next: from,
        stopped: false,
    };
    let start = chunk_key_at_or_before(engine, from)?;
    let end = keys::log_key(to);
    let mut failure = None;
    // The chunks are lent by the engine and decoded in place, never copied whole.
    engine.visit(
        Keyspace::Log,
        Bound::Included(&start),
        Bound::Included(&end),
        false,
        &mut |key, chunk| match range.take(key, chunk, visit) {
            Ok(more) => more,
            Err(error) => {
                failure = Some(error);
                false
            }
        },
    )?;
    if let Some(error) = failure {
        return Err(error);
    }
    if !range.stopped && range.left > 0 && range.next <= range.to {
        return Err(missing(range.next));
    }
    Ok(range.next)
}

/// A range being visited: its bounds and how far it went.
struct Range {
    from: u64,
    to: u64,
    /// Records still wanted.
    left: usize,
    /// The position the next record must have.
    next: u64,
    /// Whether the visitor asked to stop.
    stopped: bool,
}

impl Range {
    /// Hands the records of one chunk that fall in the range to `visit`;
    /// `false` once the range is complete or `visit` asked to stop.
    fn take(
        &mut self,
        key: &[u8],
        chunk: &[u8],
        visit: &mut dyn FnMut(RecordView<'_>) -> bool,
    ) -> Result<bool, StoreError> {
        let first = keys::decode_u64(key).unwrap_or_default();
        for stored in records(chunk).map_err(|reason| corrupt(first, reason))? {
            let position =
                position_of(stored).ok_or_else(|| corrupt(first, "truncated record".into()))?;
            if position < self.from {
                continue;
            }
            if position > self.to || self.left == 0 {
                return Ok(false);
            }
            if position != self.next {
                return Err(missing(self.next));
            }
            let record = codec::view(stored).map_err(|reason| corrupt(position, reason))?;
            self.next += 1;
            self.left -= 1;
            if !visit(record) {
                self.stopped = true;
                return Ok(false);
            }
        }
        Ok(self.left > 0 && self.next <= self.to)
    }
}

/// The stored bytes of the record at `position`, if the log holds it.
pub fn stored_at(engine: &dyn Engine, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
    let key = chunk_key_at_or_before(engine, position)?;
    let Some(chunk) = engine.get(Keyspace::Log, &key)? else {
        return Ok(None);
    };
    let first = keys::decode_u64(&key).unwrap_or_default();
    Ok(records(&chunk)
        .map_err(|reason| corrupt(first, reason))?
        .into_iter()
        .find(|stored| position_of(stored) == Some(position))
        .map(<[u8]>::to_vec))
}

/// The decoded record at `position`.
pub fn record_at(engine: &dyn Engine, position: u64) -> Result<RecordedEvent, StoreError> {
    read_range(engine, position, position, 1)?
        .pop()
        .ok_or_else(|| missing(position))
}

/// The key of the chunk holding `position` (or the first chunk after it).
fn chunk_key_at_or_before(engine: &dyn Engine, position: u64) -> Result<Vec<u8>, StoreError> {
    let at = keys::log_key(position);
    let mut found = None;
    // Only the key is kept: the chunk itself is not copied.
    engine.visit(
        Keyspace::Log,
        Bound::Unbounded,
        Bound::Included(&at),
        true,
        &mut |key, _| {
            found = Some(key.to_vec());
            false
        },
    )?;
    Ok(found.unwrap_or_else(|| at.to_vec()))
}

fn missing(position: u64) -> StoreError {
    corrupt(position, "missing from the log".into())
}

fn corrupt(position: u64, reason: String) -> StoreError {
    StoreError::Corrupt { position, reason }
}
