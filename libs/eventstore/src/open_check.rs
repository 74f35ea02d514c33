//! The chain check at open: the log's tail since the position verified at an
//! earlier open, so that a store never starts on a broken chain.
//!
//! The store keeps a marker, "verified up to position P, whose hash is H", in
//! its `Meta` keyspace. Opening checks that the record at P is still there
//! with hash H, walks the chain from P + 1 to the end of the log, then moves
//! the marker to the end and flushes it. Each open thus reads what was
//! appended since the previous one; a store without a marker (new, or written
//! before the marker existed) is walked whole once. Records before P are not
//! read again at open: `verify` walks everything.
//!
//! A log a restore is writing ([`crate::Importer`]) carries a second mark,
//! "being restored", until the restore completes; opening refuses it.

use crate::chunk;
use crate::codec;
use crate::engine::{Engine, Keyspace, WriteBatch};
use crate::error::StoreError;
use crate::record::GENESIS_HASH;
use crate::store::Head;
use crate::verify::{self, Verification};

/// Key of the marker in the `Meta` keyspace.
const MARKER_KEY: &[u8] = b"verified";
/// Marker format: `1 ‖ position (u64 be) ‖ hash (32)`.
const MARKER_V1: u8 = 1;
const MARKER_LEN: usize = 1 + 8 + 32;

/// Key of the restore mark in the `Meta` keyspace: one byte, 1 while a
/// restore is unfinished, 0 once it completed.
const RESTORE_KEY: &[u8] = b"restore";

/// Verifies the tail of the log and returns its head; a broken chain is a
/// [`StoreError::BrokenChain`] naming the first bad position, a log whose
/// restore is unfinished a [`StoreError::RestoreUnfinished`].
pub fn check(engine: &dyn Engine) -> Result<Head, StoreError> {
    let head = checked_head(engine)?;
    if restore_unfinished(engine)? {
        return Err(StoreError::RestoreUnfinished {
            position: head.position,
        });
    }
    Ok(head)
}

/// Whether a restore of the log was started and not completed.
pub fn restore_unfinished(engine: &dyn Engine) -> Result<bool, StoreError> {
    Ok(engine
        .get(Keyspace::Meta, RESTORE_KEY)?
        .is_some_and(|mark| mark.first() != Some(&0)))
}

/// Adds the restore mark to `batch`: unfinished, or completed.
pub fn mark_restore(batch: &mut WriteBatch, unfinished: bool) {
    batch.put(Keyspace::Meta, RESTORE_KEY, [u8::from(unfinished)]);
}

/// [`check`] without the restore mark: verifies the tail of the log, moves
/// the verified-position marker to its end, and returns its head.
pub fn checked_head(engine: &dyn Engine) -> Result<Head, StoreError> {
    let verified = read_marker(engine)?;
    if verified.position > 0 {
        check_marked_record(engine, verified)?;
    }
    let head = match verify::walk(engine, verified, u64::MAX, |_| Ok(None))? {
        Verification::Intact { head } => head,
        Verification::Broken { position, reason } => {
            return Err(StoreError::BrokenChain { position, reason })
        }
    };
    let end = chunk::last_record(engine)?.map_or(0, |(last, _)| last);
    if end != head.position {
        return Err(StoreError::BrokenChain {
            position: head.position + 1,
            reason: format!("the log's last chunk ends at position {end}"),
        });
    }
    if head != verified {
        let mut batch = WriteBatch::new();
        batch.put(Keyspace::Meta, MARKER_KEY, encode(head));
        engine.apply(batch)?;
        engine.flush()?;
    }
    Ok(head)
}

/// The position verified at an earlier open (the genesis when none was).
fn read_marker(engine: &dyn Engine) -> Result<Head, StoreError> {
    let Some(raw) = engine.get(Keyspace::Meta, MARKER_KEY)? else {
        return Ok(Head {
            position: 0,
            hash: GENESIS_HASH,
        });
    };
    if raw.len() != MARKER_LEN || raw[0] != MARKER_V1 {
        return Err(StoreError::Storage(
            "the store's verified-position marker is unreadable".into(),
        ));
    }
    let mut position = [0; 8];
    position.copy_from_slice(&raw[1..9]);
    let mut hash = [0; 32];
    hash.copy_from_slice(&raw[9..]);
    Ok(Head {
        position: u64::from_be_bytes(position),
        hash,
    })
}

fn encode(head: Head) -> Vec<u8> {
    let mut raw = Vec::with_capacity(MARKER_LEN);
    raw.push(MARKER_V1);
    raw.extend_from_slice(&head.position.to_be_bytes());
    raw.extend_from_slice(&head.hash);
    raw
}

/// The record at the marker must be the one verified then: present, intact,
/// with the same hash (the walk only checks that the next record names it).
fn check_marked_record(engine: &dyn Engine, verified: Head) -> Result<(), StoreError> {
    let broken = |position: u64, reason: String| Err(StoreError::BrokenChain { position, reason });
    let Some(stored) = chunk::stored_at(engine, verified.position)? else {
        let end = chunk::last_record(engine)?.map_or(0, |(last, _)| last);
        if end < verified.position {
            return broken(
                end + 1,
                format!(
                    "missing: the log ends at position {end}, but it was verified up to position {} when the store was last opened",
                    verified.position
                ),
            );
        }
        return broken(verified.position, "missing".into());
    };
    if !codec::hash_matches(&stored) {
        return broken(verified.position, "hash does not match the content".into());
    }
    if !stored.ends_with(&verified.hash) {
        return broken(
            verified.position,
            "not the record verified when the store was last opened".into(),
        );
    }
    Ok(())
}
