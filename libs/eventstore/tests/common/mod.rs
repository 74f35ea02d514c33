//! Helpers shared by the event store's integration tests: a store on a real sled dir, events.

#![allow(dead_code)]

pub mod faulty;

use maillage_eventstore::{EventData, EventMetadata, EventStore, StoreOptions};
use tempfile::TempDir;
use uuid::Uuid;

/// A store in a fresh temporary directory (kept alive by the returned guard).
pub fn temp_store() -> (EventStore, TempDir) {
    temp_store_with(StoreOptions::default())
}

/// A store with these options in a fresh temporary directory.
pub fn temp_store_with(options: StoreOptions) -> (EventStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EventStore::open(dir.path(), options).expect("open store");
    (store, dir)
}

/// An event of type `t` with a small payload and a fresh id.
pub fn event(t: &str, payload: &[u8]) -> EventData {
    EventData {
        event_id: Uuid::now_v7(),
        event_type: t.to_string(),
        payload: payload.to_vec(),
        metadata: EventMetadata {
            actor: "facilitator:alice".into(),
            request_id: "req-1".into(),
            correlation_id: "corr-1".into(),
            causation_id: String::new(),
        },
    }
}

/// `n` events of type `t`.
pub fn events(t: &str, n: usize) -> Vec<EventData> {
    (0..n).map(|i| event(t, &i.to_be_bytes())).collect()
}

/// Edits the store's sled tree in `dir` directly, as an intruder or a disk
/// fault would, then flushes. Every handle of the store must be closed and dropped.
pub fn tamper(dir: &std::path::Path, edit: impl FnOnce(&sled::Tree)) {
    let db = maillage_eventstore::open_sled(dir, &maillage_eventstore::SledOptions::default())
        .expect("open the store's sled database");
    let tree = db
        .open_tree(maillage_eventstore::SledEngine::TREE)
        .expect("the store's tree");
    edit(&tree);
    db.flush().expect("flush the tampered tree");
}

/// The sled key of a stream-index entry (keyspace prefix `S`).
pub fn stream_index_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = vec![b'S'];
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The sled key of an event-id entry (keyspace prefix `E`).
pub fn event_id_key(event_id: &Uuid) -> Vec<u8> {
    let mut key = vec![b'E'];
    key.extend_from_slice(event_id.as_bytes());
    key
}

/// The sled key of the log chunk whose first record is at `position` (keyspace prefix `L`).
pub fn chunk_key(position: u64) -> Vec<u8> {
    let mut key = vec![b'L'];
    key.extend_from_slice(&position.to_be_bytes());
    key
}

/// Flips one bit of the payload end of the record at `position`, in the sled tree.
pub fn flip_record_byte(tree: &sled::Tree, position: u64) {
    let (key, chunk) = tree
        .range(chunk_key(0)..=chunk_key(position))
        .next_back()
        .expect("a chunk at or before the position")
        .expect("read the chunk");
    let mut chunk = chunk.to_vec();
    let mut offset = 1;
    while offset < chunk.len() {
        let len = u32::from_be_bytes(chunk[offset..offset + 4].try_into().unwrap()) as usize;
        let record = offset + 4;
        if u64::from_be_bytes(chunk[record + 1..record + 9].try_into().unwrap()) == position {
            // The last payload byte: just before the 32-byte hash.
            chunk[record + len - 33] ^= 0x20;
            tree.insert(key, chunk).expect("write the chunk back");
            return;
        }
        offset += 4 + len;
    }
    panic!("position {position} not found in its chunk");
}
