//! `verify` checks both indexes against the log, both ways: a record missing
//! from the stream index or the event-id index, an entry pointing at another
//! record, and an entry that belongs to no record are each named.
//!
//! The indexes are altered in the sled tree itself, with the store closed;
//! the hash chain stays intact, so the store opens.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;

use common::{event, event_id_key, stream_index_key, tamper};
use maillage_eventstore::{EventStore, ExpectedVersion, StoreOptions, Verification};
use uuid::Uuid;

/// 30 events: a-1 at positions 1..=10, b-1 at 11..=20, a-2 at 21..=30. Returns their ids.
async fn write_30(dir: &Path) -> Vec<Uuid> {
    let store = EventStore::open(dir, StoreOptions::default()).unwrap();
    let mut ids = Vec::new();
    for (n, stream) in ["a-1", "b-1", "a-2"].into_iter().enumerate() {
        let events: Vec<_> = (0..10)
            .map(|i| event("t.E", format!("payload {n} {i}").as_bytes()))
            .collect();
        ids.extend(events.iter().map(|e| e.event_id));
        store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .unwrap();
    }
    store.close().await.unwrap();
    ids
}

/// Opens the tampered store (its chain is intact) and verifies it.
async fn verify(dir: &Path) -> Verification {
    let store = EventStore::open(dir, StoreOptions::default()).unwrap();
    let verification = store.verify().unwrap();
    store.close().await.unwrap();
    verification
}

fn broken(verification: Verification) -> (u64, String) {
    match verification {
        Verification::Broken { position, reason } => (position, reason),
        intact => panic!("the index disagreement went unnoticed: {intact:?}"),
    }
}

fn position_bytes(position: u64) -> Vec<u8> {
    position.to_be_bytes().to_vec()
}

#[tokio::test]
async fn a_sound_store_verifies_intact() {
    let dir = tempfile::tempdir().unwrap();
    write_30(dir.path()).await;
    assert!(matches!(
        verify(dir.path()).await,
        Verification::Intact { head } if head.position == 30
    ));
}

#[tokio::test]
async fn a_record_missing_from_the_stream_index_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.remove(stream_index_key("b-1", 4)).unwrap().unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 14, "{reason}");
    assert_eq!(reason, "stream index: b-1 version 4 has no entry");
}

#[tokio::test]
async fn a_stream_index_entry_pointing_at_another_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(stream_index_key("a-2", 2), position_bytes(29))
            .unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 22, "{reason}");
    assert_eq!(reason, "stream index: a-2 version 2 points at position 29");
}

#[tokio::test]
async fn stream_index_entries_of_no_record_are_named() {
    // Beyond the stream's last version, pointing at a record of another stream.
    let dir = tempfile::tempdir().unwrap();
    write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(stream_index_key("a-1", 11), position_bytes(12))
            .unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 12, "{reason}");
    assert_eq!(
        reason,
        "stream index: a-1 version 11 points at position 12, which holds b-1 version 2"
    );

    // A stream the log never had, pointing past the end of the log.
    let dir = tempfile::tempdir().unwrap();
    write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(stream_index_key("ghost-1", 1), position_bytes(31))
            .unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 31, "{reason}");
    assert_eq!(
        reason,
        "stream index: ghost-1 version 1 points at position 31, past the end of the log (30)"
    );
}

#[tokio::test]
async fn a_record_missing_from_the_event_id_index_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ids = write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.remove(event_id_key(&ids[6])).unwrap().unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 7, "{reason}");
    assert_eq!(
        reason,
        format!("event-id index: event {} has no entry", ids[6])
    );
}

#[tokio::test]
async fn event_id_entries_pointing_elsewhere_or_of_no_record_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let ids = write_30(dir.path()).await;
    tamper(dir.path(), |tree| {
        tree.insert(event_id_key(&ids[19]), position_bytes(3))
            .unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 20, "{reason}");
    assert_eq!(
        reason,
        format!("event-id index: event {} points at position 3", ids[19])
    );

    let dir = tempfile::tempdir().unwrap();
    let ids = write_30(dir.path()).await;
    let stray = Uuid::now_v7();
    tamper(dir.path(), |tree| {
        tree.insert(event_id_key(&stray), position_bytes(8))
            .unwrap();
    });
    let (position, reason) = broken(verify(dir.path()).await);
    assert_eq!(position, 8, "{reason}");
    assert_eq!(
        reason,
        format!(
            "event-id index: event {stray} points at position 8, which holds event {}",
            ids[7]
        )
    );
}
