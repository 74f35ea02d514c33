//! Tamper evidence: walking the hash chain from position 1 to the end of the log.

use std::ops::Bound;

use crate::chunk;
use crate::codec;
use crate::engine::{Engine, Keyspace};
use crate::error::StoreError;
use crate::keys;
use crate::record::GENESIS_HASH;
use crate::store::Head;

/// Chunks read per scan while verifying.
const CHUNKS_PER_SCAN: usize = 64;

/// The outcome of [`crate::EventStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every record hashes right, chains to the one before, and positions are dense.
    Intact {
        /// The last record (position 0 and the genesis hash for an empty log).
        head: Head,
    },
    /// The first position where the chain breaks.
    Broken {
        /// The first bad position.
        position: u64,
        /// What is wrong there.
        reason: String,
    },
}

/// Walks the whole log.
pub fn verify(engine: &dyn Engine) -> Result<Verification, StoreError> {
    let mut head = Head {
        position: 0,
        hash: GENESIS_HASH,
    };
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
            let broken = |position: u64, reason: String| Verification::Broken { position, reason };
            let expected = head.position + 1;
            if keys::decode_u64(&key) != Some(expected) {
                return Ok(broken(
                    expected,
                    format!("missing (next stored key is {key:?})"),
                ));
            }
            let stored = match chunk::records(&chunk) {
                Ok(stored) => stored,
                Err(reason) => return Ok(broken(expected, reason)),
            };
            for stored in stored {
                let expected = head.position + 1;
                if !codec::hash_matches(stored) {
                    return Ok(broken(expected, "hash does not match the content".into()));
                }
                let record = match codec::open(stored) {
                    Ok(record) => record,
                    Err(reason) => return Ok(broken(expected, reason)),
                };
                if record.position != expected {
                    return Ok(broken(
                        expected,
                        format!("holds position {}", record.position),
                    ));
                }
                if record.prev_hash != head.hash {
                    return Ok(broken(
                        expected,
                        "does not chain to the previous record".into(),
                    ));
                }
                head = Head {
                    position: expected,
                    hash: record.hash,
                };
            }
        }
    }
}
