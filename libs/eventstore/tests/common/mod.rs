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
