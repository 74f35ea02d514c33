//! Tamper evidence: one byte changed under the store is named by `verify`.

mod common;

use common::{events, temp_store};
use maillage_eventstore::{ExpectedVersion, Keyspace, Verification, WriteBatch};

#[tokio::test]
async fn changing_one_stored_byte_is_found_at_its_position() {
    let (store, _dir) = temp_store();
    for stream in ["a-1", "b-1", "a-2"] {
        store.append(stream, ExpectedVersion::Any, events("t.E", 10)).await.unwrap();
    }
    let Verification::Intact { head } = store.verify().unwrap() else {
        panic!("a fresh log verifies");
    };
    assert_eq!(head, store.head());

    for (position, byte) in [(17u64, 60usize), (1, 0), (30, 9)] {
        let engine = store.engine();
        let key = position.to_be_bytes();
        let original = engine.get(Keyspace::Log, &key).unwrap().unwrap();
        let mut tampered = original.clone();
        tampered[byte] ^= 0x20;
        let mut batch = WriteBatch::new();
        batch.put(Keyspace::Log, key, tampered);
        engine.apply(batch).unwrap();

        match store.verify().unwrap() {
            Verification::Broken { position: bad, .. } => assert_eq!(bad, position),
            intact => panic!("tampering at {position} went unnoticed: {intact:?}"),
        }

        let mut restore = WriteBatch::new();
        restore.put(Keyspace::Log, key, original);
        engine.apply(restore).unwrap();
        assert!(matches!(store.verify().unwrap(), Verification::Intact { .. }));
    }
}

#[tokio::test]
async fn a_record_rewritten_with_a_fresh_hash_breaks_the_chain_after_it() {
    let (store, _dir) = temp_store();
    store.append("a-1", ExpectedVersion::Any, events("t.E", 5)).await.unwrap();
    // Rewrite record 3 with other content and a hash recomputed over it: the
    // forger can fix that record's own hash, but record 4 still names the old one.
    let engine = store.engine();
    let mut stored = engine.get(Keyspace::Log, &3u64.to_be_bytes()).unwrap().unwrap();
    let body_len = stored.len() - 32;
    let last = body_len - 1;
    stored[last] ^= 0xff; // last payload byte
    let hash = *blake3::hash(&stored[..body_len]).as_bytes();
    stored[body_len..].copy_from_slice(&hash);
    let mut batch = WriteBatch::new();
    batch.put(Keyspace::Log, 3u64.to_be_bytes(), stored);
    engine.apply(batch).unwrap();
    match store.verify().unwrap() {
        Verification::Broken { position, reason } => {
            assert_eq!(position, 4, "{reason}");
        }
        intact => panic!("forgery went unnoticed: {intact:?}"),
    }
}
