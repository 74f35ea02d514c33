//! The chain check at open: a store whose log was altered since its last
//! verified position refuses to open, naming the first bad position; the
//! check reads only what was appended since the previous open.
//!
//! The log is altered in the sled tree itself, with the store closed, as an
//! intruder with access to the files (or a failing disk) would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;

use common::{chunk_key, event, flip_record_byte, tamper};
use maillage_eventstore::{EventStore, ExpectedVersion, StoreError, StoreOptions, Verification};

fn open(dir: &Path) -> Result<EventStore, StoreError> {
    EventStore::open(dir, StoreOptions::default())
}

/// Appends `appends` groups of 10 events (each group is one chunk), then closes.
async fn append_tens(dir: &Path, appends: usize) {
    let store = open(dir).expect("a sound store opens");
    for n in 0..appends {
        let events = (0..10)
            .map(|i| event("t.E", format!("payload {n} {i}").as_bytes()))
            .collect();
        store
            .append(&format!("a-{n}"), ExpectedVersion::NoStream, events)
            .await
            .unwrap();
    }
    store.close().await.unwrap();
}

/// The position of the broken chain `open` refused, with its message.
fn refused_at(dir: &Path) -> (u64, String) {
    match open(dir) {
        Err(error @ StoreError::BrokenChain { position, .. }) => (position, error.to_string()),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a store with an altered log opened"),
    }
}

#[tokio::test]
async fn a_record_altered_before_the_first_verified_open_is_refused_at_its_position() {
    for position in [1, 17, 30] {
        let dir = tempfile::tempdir().unwrap();
        append_tens(dir.path(), 3).await;
        tamper(dir.path(), |tree| flip_record_byte(tree, position));
        let (at, message) = refused_at(dir.path());
        assert_eq!(at, position, "{message}");
        assert!(
            message.contains(&format!("position {position}")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn open_checks_what_was_appended_since_the_last_open_and_only_that() {
    let dir = tempfile::tempdir().unwrap();
    append_tens(dir.path(), 3).await; // 1..=30, verified by the next open
    append_tens_more(dir.path()).await; // 31..=40

    tamper(dir.path(), |tree| flip_record_byte(tree, 35));
    assert_eq!(refused_at(dir.path()).0, 35);

    // Put it back: the store opens, and that open verified up to 40.
    tamper(dir.path(), |tree| flip_record_byte(tree, 35));
    open(dir.path()).unwrap().close().await.unwrap();

    // A record before the verified position is not read again at open: `verify` finds it.
    tamper(dir.path(), |tree| flip_record_byte(tree, 5));
    let store = open(dir.path()).expect("open reads only the tail");
    assert!(matches!(
        store.verify().unwrap(),
        Verification::Broken { position: 5, .. }
    ));
}

/// Opens the store (verifying it), appends 10 events to a stream of their own, closes.
async fn append_tens_more(dir: &Path) {
    let store = open(dir).expect("a sound store opens");
    let events = (0..10).map(|i| event("t.E", &[i])).collect();
    store
        .append("b-1", ExpectedVersion::NoStream, events)
        .await
        .unwrap();
    store.close().await.unwrap();
}

#[tokio::test]
async fn records_cut_below_the_verified_position_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    append_tens(dir.path(), 3).await;
    open(dir.path()).unwrap().close().await.unwrap(); // verified up to 30

    tamper(dir.path(), |tree| {
        tree.remove(chunk_key(21))
            .unwrap()
            .expect("the chunk of 21..=30");
    });
    let (at, message) = refused_at(dir.path());
    assert_eq!(at, 21, "{message}");
    assert!(message.contains("ends at position 20"), "{message}");
}

#[tokio::test]
async fn the_last_verified_record_rewritten_with_a_fresh_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    append_tens(dir.path(), 3).await;
    open(dir.path()).unwrap().close().await.unwrap(); // verified up to 30

    // A forger rewrites the head with other content and a hash recomputed
    // over it: nothing after it names the old hash, but the marker does.
    tamper(dir.path(), |tree| {
        let mut chunk = tree.get(chunk_key(21)).unwrap().unwrap().to_vec();
        let mut offset = 1;
        for _ in 21..30 {
            offset +=
                4 + u32::from_be_bytes(chunk[offset..offset + 4].try_into().unwrap()) as usize;
        }
        let len = u32::from_be_bytes(chunk[offset..offset + 4].try_into().unwrap()) as usize;
        let (body, end) = (offset + 4, offset + 4 + len);
        chunk[end - 33] ^= 0xff;
        let hash = *blake3::hash(&chunk[body..end - 32]).as_bytes();
        chunk[end - 32..end].copy_from_slice(&hash);
        tree.insert(chunk_key(21), chunk).unwrap();
    });
    let (at, message) = refused_at(dir.path());
    assert_eq!(at, 30, "{message}");
}

/// Regression (found by fuzzing the store, tests/fuzz.rs): a chunk holding
/// no record (its format byte alone) where the walk expected the next
/// record was read again and again, so `open` spun at full CPU for ever
/// instead of refusing the log. The wait below only bounds a hang.
#[tokio::test]
async fn an_empty_chunk_after_the_head_is_refused_not_walked_for_ever() {
    let dir = tempfile::tempdir().unwrap();
    append_tens(dir.path(), 2).await;
    open(dir.path()).unwrap().close().await.unwrap(); // verified up to 20
    tamper(dir.path(), |tree| {
        tree.insert(chunk_key(21), vec![1u8]).unwrap();
    });
    let path = dir.path().to_owned();
    let (sender, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(refused_at(&path));
    });
    let (at, message) = outcome
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("open returned");
    assert_eq!(at, 21, "{message}");
    assert!(message.contains("empty chunk"), "{message}");
}
