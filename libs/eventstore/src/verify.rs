//! Tamper evidence: walking the hash chain, from position 1 (`verify`) or from
//! a position verified before (the check at open), and checking that both
//! indexes agree with the log.

use std::ops::Bound;

use crate::chunk;
use crate::codec;
use crate::engine::{Engine, Keyspace};
use crate::error::StoreError;
use crate::indexes;
use crate::keys;
use crate::record::{RecordedEvent, GENESIS_HASH};
use crate::store::Head;

/// Chunks read per scan while verifying.
const CHUNKS_PER_SCAN: usize = 64;

/// The outcome of [`crate::EventStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every record hashes right, chains to the one before, and positions are
    /// dense; the stream index and the event-id index hold exactly one entry
    /// per record, pointing at it.
    Intact {
        /// The last record (position 0 and the genesis hash for an empty log).
        head: Head,
    },
    /// The first position where the chain breaks, or where an index disagrees
    /// with the log (the reason then starts with the index's name).
    Broken {
        /// The first bad position (for an index entry that belongs to no
        /// record: the position it names, 0 when it names none).
        position: u64,
        /// What is wrong there.
        reason: String,
    },
}

/// Walks the whole log up to position `until` (the committed head: records
/// written after the walk starts are left for the next one), then checks
/// that both indexes agree with it.
pub fn verify(engine: &dyn Engine, until: u64) -> Result<Verification, StoreError> {
    let genesis = Head {
        position: 0,
        hash: GENESIS_HASH,
    };
    let walked = walk(engine, genesis, until, |record| {
        indexes::check_record(engine, record)
    })?;
    let Verification::Intact { head } = walked else {
        return Ok(walked);
    };
    Ok(match indexes::check_entries(engine, head.position)? {
        Some((position, reason)) => Verification::Broken { position, reason },
        None => walked,
    })
}

/// Walks the chain from the record after `from` (which is trusted: its
/// position and hash) up to `until`, calling `each` on every record that
/// hashes and chains right; a reason returned by `each` breaks the walk there.
pub fn walk(
    engine: &dyn Engine,
    from: Head,
    until: u64,
    mut each: impl FnMut(&RecordedEvent) -> Result<Option<String>, StoreError>,
) -> Result<Verification, StoreError> {
    let mut head = from;
    let broken = |position: u64, reason: String| Ok(Verification::Broken { position, reason });
    loop {
        let start = keys::log_key(head.position + 1);
        let chunks = engine.scan(
            Keyspace::Log,
            Bound::Included(&start),
            Bound::Unbounded,
            false,
            CHUNKS_PER_SCAN,
        )?;
        if chunks.is_empty() {
            return Ok(Verification::Intact { head });
        }
        for (key, chunk) in chunks {
            let expected = head.position + 1;
            if expected > until {
                return Ok(Verification::Intact { head });
            }
            if keys::decode_u64(&key) != Some(expected) {
                return broken(expected, format!("missing (next stored key is {key:?})"));
            }
            let stored = match chunk::records(&chunk) {
                // A chunk without a record would be scanned again for ever.
                Ok(stored) if stored.is_empty() => return broken(expected, "empty chunk".into()),
                Ok(stored) => stored,
                Err(reason) => return broken(expected, reason),
            };
            for stored in stored {
                let expected = head.position + 1;
                if !codec::hash_matches(stored) {
                    return broken(expected, "hash does not match the content".into());
                }
                let record = match codec::open(stored) {
                    Ok(record) => record,
                    Err(reason) => return broken(expected, reason),
                };
                if record.position != expected {
                    return broken(expected, format!("holds position {}", record.position));
                }
                if record.prev_hash != head.hash {
                    return broken(expected, "does not chain to the previous record".into());
                }
                if let Some(reason) = each(&record)? {
                    return broken(expected, reason);
                }
                head = Head {
                    position: expected,
                    hash: record.hash,
                };
            }
        }
    }
}
