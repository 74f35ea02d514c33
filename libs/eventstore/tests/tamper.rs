//! Tamper evidence: one byte changed under the store is named by `verify`.
//!
//! The log keyspace holds chunks (`format ‖ (u32 length ‖ record)*`, keyed by
//! their first position); these tests edit one record inside its chunk
//! through the engine, as an intruder with access to the files would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::ops::Bound;

use common::{event, temp_store};
use maillage_eventstore::{EventStore, ExpectedVersion, Keyspace, Verification, WriteBatch};

/// The chunk holding `position`: its key, its bytes, and the record's offset and length in it.
fn locate(store: &EventStore, position: u64) -> (Vec<u8>, Vec<u8>, usize, usize) {
    let key = position.to_be_bytes();
    let (chunk_key, chunk) = store
        .engine()
        .scan(
            Keyspace::Log,
            Bound::Unbounded,
            Bound::Included(&key),
            true,
            1,
        )
        .unwrap()
        .pop()
        .expect("a chunk at or before the position");
    let mut offset = 1;
    while offset < chunk.len() {
        let len = u32::from_be_bytes(chunk[offset..offset + 4].try_into().unwrap()) as usize;
        let record = &chunk[offset + 4..offset + 4 + len];
        if u64::from_be_bytes(record[1..9].try_into().unwrap()) == position {
            return (chunk_key, chunk.clone(), offset + 4, len);
        }
        offset += 4 + len;
    }
    panic!("position {position} not found in its chunk");
}

fn put_chunk(store: &EventStore, key: Vec<u8>, chunk: Vec<u8>) {
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::Log, key, chunk);
    store.engine().apply(batch).unwrap();
}

async fn store_with_30_events() -> (EventStore, tempfile::TempDir) {
    let (store, dir) = temp_store();
    for (n, stream) in ["a-1", "b-1", "a-2"].into_iter().enumerate() {
        let events = (0..10)
            .map(|i| event("t.E", format!("payload {n} {i}").as_bytes()))
            .collect();
        store
            .append(stream, ExpectedVersion::Any, events)
            .await
            .unwrap();
    }
    (store, dir)
}

#[tokio::test]
async fn changing_one_stored_byte_is_found_at_its_position() {
    let (store, _dir) = store_with_30_events().await;
    let Verification::Intact { head } = store.verify().unwrap() else {
        panic!("a fresh log verifies");
    };
    assert_eq!(head, store.head());

    // A byte of the header, of the payload, of the hash, of the first and last records.
    for (position, byte_in_record) in [(17u64, 60usize), (1, 0), (30, 9), (12, usize::MAX)] {
        let (key, original, offset, len) = locate(&store, position);
        let mut tampered = original.clone();
        let byte = offset + byte_in_record.min(len - 1);
        tampered[byte] ^= 0x20;
        put_chunk(&store, key.clone(), tampered);

        match store.verify().unwrap() {
            Verification::Broken { position: bad, .. } => assert_eq!(bad, position),
            intact => panic!("tampering at {position} went unnoticed: {intact:?}"),
        }

        put_chunk(&store, key, original);
        assert!(matches!(
            store.verify().unwrap(),
            Verification::Intact { .. }
        ));
    }
}

#[tokio::test]
async fn a_record_rewritten_with_a_fresh_hash_breaks_the_chain_after_it() {
    let (store, _dir) = store_with_30_events().await;
    // Rewrite record 3 with other content and a hash recomputed over it: the
    // forger can fix that record's own hash, but record 4 still names the old one.
    let (key, mut chunk, offset, len) = locate(&store, 3);
    let body_end = offset + len - 32;
    chunk[body_end - 1] ^= 0xff; // last payload byte
    let hash = *blake3::hash(&chunk[offset..body_end]).as_bytes();
    chunk[body_end..offset + len].copy_from_slice(&hash);
    put_chunk(&store, key, chunk);
    match store.verify().unwrap() {
        Verification::Broken { position, reason } => assert_eq!(position, 4, "{reason}"),
        intact => panic!("forgery went unnoticed: {intact:?}"),
    }
}

#[tokio::test]
async fn records_cut_from_the_log_are_a_gap_at_the_first_missing_position() {
    let (store, _dir) = store_with_30_events().await;
    // Positions 11..=20 were appended together; keep 11..=15 of their chunk.
    let (key, chunk, offset, len) = locate(&store, 15);
    assert_eq!(locate(&store, 20).0, key, "one append, one chunk");
    put_chunk(&store, key, chunk[..offset + len].to_vec());
    match store.verify().unwrap() {
        Verification::Broken { position, reason } => assert_eq!(position, 16, "{reason}"),
        intact => panic!("removed records went unnoticed: {intact:?}"),
    }
}
