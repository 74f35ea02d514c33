//! Writing a log back from a copy of its records (`Importer`, the core of
//! `maillage restore`): the result is the same log, the store refuses a log
//! whose restore is unfinished, and a record that does not continue the log
//! is refused with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::{event, events, temp_store};
use maillage_eventstore::{
    Direction, EventStore, ExpectedVersion, Importer, Keyspace, RecordedEvent, SledEngine,
    SledOptions, StoreError, StoreOptions, Verification, WriteBatch,
};

/// A log of 40 events over three streams, appended 1 to 4 at a time; its records.
async fn source() -> (EventStore, tempfile::TempDir, Vec<RecordedEvent>) {
    let (store, dir) = temp_store();
    for round in 0..16usize {
        let stream = ["alpha-1", "beta-1", "alpha-2"][round % 3];
        let count = [1, 4, 2, 3][round % 4];
        store
            .append(stream, ExpectedVersion::Any, events("t.Source", count))
            .await
            .unwrap();
    }
    let records = store.read_all(1, 1000).unwrap();
    assert_eq!(records.len(), 40);
    (store, dir, records)
}

fn engine(dir: &std::path::Path) -> Arc<SledEngine> {
    Arc::new(SledEngine::open(dir, &SledOptions::default()).unwrap())
}

fn refused(result: Result<impl std::fmt::Debug, StoreError>) -> (u64, String) {
    match result {
        Err(StoreError::ImportRefused { position, reason }) => (position, reason),
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn an_imported_log_is_the_same_log_and_goes_on() {
    let (source, _source_dir, records) = source().await;
    let dir = tempfile::tempdir().unwrap();
    let mut importer = Importer::new(engine(dir.path())).unwrap();
    assert!(!importer.continues_a_restore());
    for batch in records.chunks(7) {
        importer.import(batch).unwrap();
    }
    let head = importer.finish().unwrap();
    assert_eq!(head, source.head());

    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.head(), source.head());
    assert_eq!(store.read_all(1, 1000).unwrap(), records);
    assert_eq!(
        store.verify().unwrap(),
        Verification::Intact {
            head: source.head()
        }
    );
    for stream in ["alpha-1", "beta-1", "alpha-2"] {
        assert_eq!(
            store
                .read_stream(stream, 1, Direction::Forward, 100)
                .unwrap(),
            source
                .read_stream(stream, 1, Direction::Forward, 100)
                .unwrap()
        );
    }
    for record in &records {
        assert_eq!(
            store.event_by_id(&record.event_id).unwrap().as_ref(),
            Some(record)
        );
    }
    // A retry of an append the lost log had acknowledged gets its original
    // result; new appends continue the streams and the chain.
    let original = &records[1..5];
    let retry: Vec<_> = original
        .iter()
        .map(|record| maillage_eventstore::EventData {
            event_id: record.event_id,
            event_type: record.event_type.clone(),
            payload: record.payload.clone(),
            metadata: record.metadata.clone(),
        })
        .collect();
    let again = store
        .append("beta-1", ExpectedVersion::Any, retry)
        .await
        .unwrap();
    assert_eq!((again.first_position, again.last_position), (2, 5));
    let version = store.stream_version("beta-1").unwrap();
    let next = store
        .append(
            "beta-1",
            ExpectedVersion::Exact(version),
            vec![event("t.Next", b"n")],
        )
        .await
        .unwrap();
    assert_eq!(next.first_position, 41);
    assert!(
        matches!(store.verify().unwrap(), Verification::Intact { head } if head.position == 41)
    );
}

#[tokio::test]
async fn an_unfinished_restore_is_refused_at_open_and_can_be_continued() {
    let (source, _source_dir, records) = source().await;
    let dir = tempfile::tempdir().unwrap();
    {
        let mut importer = Importer::new(engine(dir.path())).unwrap();
        importer.import(&records[..25]).unwrap();
        // Stopped here: no finish.
    }
    match EventStore::open(dir.path(), StoreOptions::default()) {
        Err(error @ StoreError::RestoreUnfinished { position: 25 }) => assert!(
            error.to_string().contains("maillage restore --extend"),
            "{error}"
        ),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a half-restored log was opened"),
    }
    let mut importer = Importer::new(engine(dir.path())).unwrap();
    assert!(importer.continues_a_restore());
    assert_eq!(importer.head().position, 25);
    importer.import(&records[25..]).unwrap();
    importer.finish().unwrap();
    let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.read_all(1, 1000).unwrap(), records);
    assert_eq!(store.head(), source.head());
}

#[tokio::test]
async fn records_that_do_not_continue_the_log_are_refused_and_nothing_is_written() {
    let (_source, _source_dir, records) = source().await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path());
    let mut importer = Importer::new(engine.clone()).unwrap();
    importer.import(&records[..10]).unwrap();

    // A gap: position 12 after 10.
    let (position, reason) = refused(importer.import(&records[11..13]));
    assert_eq!(
        (position, reason.as_str()),
        (11, "the record given is position 12")
    );
    // Altered content: the hash no longer matches (after a good record, so
    // that the batch would have written something).
    let mut altered = records[10..12].to_vec();
    altered[1].payload.push(0);
    let (position, reason) = refused(importer.import(&altered));
    assert_eq!(
        (position, reason.as_str()),
        (12, "hash does not match the content")
    );
    // Another log's record 11: a hash of its own, linked to another chain.
    let (_other, _other_dir, others) = source().await;
    let (position, reason) = refused(importer.import(&others[10..11]));
    assert_eq!(
        (position, reason.as_str()),
        (11, "does not chain to the previous record")
    );
    assert_eq!(importer.head().position, 10, "nothing of a refused batch");

    // A target whose indexes already hold the next record's event id, or
    // its stream version (a damaged target), is refused too.
    let next = &records[10];
    let mut batch = WriteBatch::new();
    batch.put(
        Keyspace::EventIdIndex,
        next.event_id.as_bytes().to_vec(),
        999u64.to_be_bytes(),
    );
    maillage_eventstore::Engine::apply(engine.as_ref(), batch).unwrap();
    let mut fresh = Importer::new(engine.clone()).unwrap();
    let (position, reason) = refused(fresh.import(&records[10..11]));
    assert_eq!(position, 11);
    assert!(reason.contains("is already in the log"), "{reason}");
    let mut key = next.stream_id.as_str().as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&next.version.to_be_bytes());
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::StreamIndex, key, 999u64.to_be_bytes());
    maillage_eventstore::Engine::apply(engine.as_ref(), batch).unwrap();
    let mut fresh = Importer::new(engine.clone()).unwrap();
    let (_, reason) = refused(fresh.import(&records[10..11]));
    assert!(reason.contains("whose last version is"), "{reason}");

    // Those stray index entries also keep the restore from completing:
    // `finish` verifies the whole log, and the store still refuses it.
    match fresh.finish() {
        Err(StoreError::BrokenChain { reason, .. }) => {
            assert!(reason.contains("index"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        EventStore::with_engine(engine, StoreOptions::default()),
        Err(StoreError::RestoreUnfinished { position: 10 })
    ));
}
