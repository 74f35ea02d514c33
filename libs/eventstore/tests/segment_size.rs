//! sled's segment size is fixed when a database is created: a store opened
//! with options naming another size keeps reading (and appending to) a data
//! directory created with the old one, and a new directory gets the size asked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;

use common::event;
use maillage_eventstore::{EventStore, ExpectedVersion, SledOptions, StoreOptions, Verification};

const OLD_SEGMENT: usize = 512 * 1024;
const NEW_SEGMENT: usize = 8 * 1024 * 1024;

fn open(dir: &Path, segment_size: usize) -> EventStore {
    let options = StoreOptions {
        sled: SledOptions {
            segment_size,
            ..SledOptions::default()
        },
        ..StoreOptions::default()
    };
    EventStore::open(dir, options).expect("the store opens")
}

/// The segment size sled recorded in the directory's `conf` file.
fn recorded_segment_size(dir: &Path) -> String {
    let conf = std::fs::read(dir.join("conf")).unwrap();
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|line| line.strip_prefix("segment_size: ").map(str::to_string))
        .expect("sled records its segment size")
}

async fn append_ten(store: &EventStore, stream: &str) {
    let events = (0..10)
        .map(|i| event("t.E", format!("{stream} {i}").as_bytes()))
        .collect();
    store
        .append(stream, ExpectedVersion::NoStream, events)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_directory_created_with_another_segment_size_still_opens_and_grows() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), OLD_SEGMENT);
    append_ten(&store, "old-1").await;
    store.close().await.unwrap();
    drop(store);

    let store = open(dir.path(), NEW_SEGMENT);
    assert_eq!(store.read_all(1, 100).unwrap().len(), 10);
    append_ten(&store, "new-1").await;
    assert!(matches!(
        store.verify().unwrap(),
        Verification::Intact { head } if head.position == 20
    ));
    store.close().await.unwrap();
    drop(store);
    assert_eq!(recorded_segment_size(dir.path()), OLD_SEGMENT.to_string());

    let store = open(dir.path(), OLD_SEGMENT);
    let all = store.read_all(1, 100).unwrap();
    assert_eq!(all.len(), 20);
    assert_eq!(all[19].stream_id.as_str(), "new-1");
}

#[tokio::test]
async fn a_new_directory_gets_the_segment_size_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), NEW_SEGMENT);
    append_ten(&store, "a-1").await;
    store.close().await.unwrap();
    drop(store);
    assert_eq!(recorded_segment_size(dir.path()), NEW_SEGMENT.to_string());
}
