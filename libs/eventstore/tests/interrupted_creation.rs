//! A store whose creation was interrupted opens: sled writes its `conf` file
//! in two writes (the settings, then their checksum) when it creates a
//! database, and a process killed between them (the crash test's SIGKILL in
//! its first round once did) left a directory sled refused to open ("Read
//! corrupted data"). Such a `conf` beside no data is forgotten and the
//! database created again; beside data, sled's refusal stands.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_eventstore::{open_sled, EventStore, SledOptions, StoreOptions, Verification};

/// The `conf` a kill between sled's two writes leaves: the settings without
/// their 4-byte checksum.
fn settings_without_checksum() -> Vec<u8> {
    let created = tempfile::tempdir().unwrap();
    drop(EventStore::open(created.path(), StoreOptions::default()).unwrap());
    let conf = std::fs::read(created.path().join("conf")).unwrap();
    conf[..conf.len() - 4].to_vec()
}

#[test]
fn a_creation_killed_while_writing_its_conf_is_created_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conf"), settings_without_checksum()).unwrap();
    let store = EventStore::open(dir.path(), StoreOptions::default())
        .expect("an interrupted creation is created again");
    assert_eq!(store.head().position, 0);
    assert!(matches!(
        store.verify().unwrap(),
        Verification::Intact { .. }
    ));
}

#[test]
fn a_conf_that_fails_its_checksum_beside_data_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = open_sled(dir.path(), &SledOptions::default()).unwrap();
    db.insert(b"held", b"something durable").unwrap();
    db.flush().unwrap();
    drop(db);
    let data = std::fs::metadata(dir.path().join("db")).unwrap().len();
    assert!(data > 0, "sled wrote its data file");
    let damaged = settings_without_checksum();
    std::fs::write(dir.path().join("conf"), &damaged).unwrap();
    assert!(EventStore::open(dir.path(), StoreOptions::default()).is_err());
    assert_eq!(std::fs::read(dir.path().join("conf")).unwrap(), damaged);
}
