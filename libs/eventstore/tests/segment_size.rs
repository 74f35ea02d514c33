//! sled's segment size and compression are fixed when a database is created:
//! a store opened with options naming another size, or asking for compression
//! or not, keeps reading (and appending to) a data directory created with the
//! old settings, and a new directory gets the settings asked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::path::Path;

use common::event;
use maillage_eventstore::{EventStore, ExpectedVersion, SledOptions, StoreOptions, Verification};

const OLD_SEGMENT: usize = 512 * 1024;
const NEW_SEGMENT: usize = 8 * 1024 * 1024;

fn open(dir: &Path, segment_size: usize) -> EventStore {
    open_with(dir, segments(segment_size))
}

/// The default options but for the segment size.
fn segments(segment_size: usize) -> SledOptions {
    SledOptions {
        segment_size,
        ..SledOptions::default()
    }
}

fn open_with(dir: &Path, sled: SledOptions) -> EventStore {
    let options = StoreOptions {
        sled,
        ..StoreOptions::default()
    };
    EventStore::open(dir, options).expect("the store opens")
}

/// The segment size sled recorded in the directory's `conf` file.
fn recorded_segment_size(dir: &Path) -> String {
    recorded(dir, "segment_size")
}

/// A setting sled recorded in the directory's `conf` file.
fn recorded(dir: &Path, name: &str) -> String {
    let conf = std::fs::read(dir.join("conf")).unwrap();
    let prefix = format!("{name}: ");
    String::from_utf8_lossy(&conf)
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(str::to_string))
        .expect("sled records the setting")
}

/// Opens the store of `dir` (ten events in `old-1`) with `options`: it reads
/// them, takes ten more in `new-1` and verifies intact; then closes it.
async fn reopened_takes_ten_more(dir: &Path, options: SledOptions) {
    let store = open_with(dir, options);
    assert_eq!(store.read_all(1, 100).unwrap().len(), 10);
    append_ten(&store, "new-1").await;
    assert!(matches!(
        store.verify().unwrap(),
        Verification::Intact { head } if head.position == 20
    ));
    store.close().await.unwrap();
}

/// The twenty events of `old-1` then `new-1`, read back with `options`.
fn reads_all_twenty(dir: &Path, options: SledOptions) {
    let store = open_with(dir, options);
    let all = store.read_all(1, 100).unwrap();
    assert_eq!(all.len(), 20);
    assert_eq!(all[19].stream_id.as_str(), "new-1");
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

    reopened_takes_ten_more(dir.path(), segments(NEW_SEGMENT)).await;
    assert_eq!(recorded_segment_size(dir.path()), OLD_SEGMENT.to_string());
    reads_all_twenty(dir.path(), segments(OLD_SEGMENT));
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

#[tokio::test]
async fn a_directory_keeps_the_compression_it_was_created_with() {
    for created_compressed in [false, true] {
        let compression = |compressed: bool| SledOptions {
            compression: compressed.then_some(3),
            ..SledOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = open_with(dir.path(), compression(created_compressed));
        append_ten(&store, "old-1").await;
        store.close().await.unwrap();
        drop(store);

        reopened_takes_ten_more(dir.path(), compression(!created_compressed)).await;
        assert_eq!(
            recorded(dir.path(), "use_compression"),
            created_compressed.to_string()
        );
        reads_all_twenty(dir.path(), SledOptions::default());
    }
}
