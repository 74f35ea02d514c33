//! Fuzzing the store's decoders through its public API: arbitrary bytes where
//! the store reads chunks, records, index entries and its verified-position
//! marker, on a real sled database.
//!
//! A genuine log (three streams, a few appends, several chunks) is written
//! once and closed; each case copies its directory, overwrites or adds one
//! to three entries with fuzzed bytes (fully arbitrary, a well-framed chunk
//! around arbitrary record bytes, or a genuine chunk or record with bytes
//! flipped, cut or appended), then opens the store on it (the chain check at
//! open), reads it every way (`read_all`, `read_stream` both ways,
//! `event_by_id`, `stream_version`) and verifies it. Every call must return
//! a value or a typed error, never panic nor loop; and whenever the store
//! opens and `verify` says intact, every read must return exactly the
//! genuine events (a damage that reads differently must not verify).
//!
//! 300 cases, times `MAILLAGE_FUZZ_SCALE` (default 1), from the seed
//! `MAILLAGE_FUZZ_SEED` (default fixed, so that a run is reproducible); the
//! count tried and the seed are printed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::ops::Bound;
use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

use common::event;
use maillage_eventstore::{
    Direction, EventStore, ExpectedVersion, Keyspace, RecordedEvent, SledEngine, SledOptions,
    StoreOptions, Verification, WriteBatch,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

const STREAMS: [&str; 3] = ["alpha-1", "beta-2", "alpha-3"];
/// How long one case may take before it counts as a hang (a liveness bound;
/// a case takes about 20 ms).
const CASE_BOUND: Duration = Duration::from_secs(60);

/// Where fuzzed bytes go.
#[derive(Debug, Clone)]
enum Target {
    /// A log chunk: one of the genuine chunk keys (by index), or any position.
    Chunk(usize),
    ChunkAt(u64),
    /// A stream-index entry of a genuine (stream, version), or any key.
    StreamEntry(usize, u64),
    StreamKey(Vec<u8>),
    /// An event-id entry of a genuine event (by position), or any key.
    EventIdEntry(u64),
    EventIdKey(Vec<u8>),
    /// The verified-position marker.
    Marker,
}

/// What is written there.
#[derive(Debug, Clone)]
enum Bytes {
    Arbitrary(Vec<u8>),
    /// A well-framed chunk (format byte, then `u32 length ‖ record`) around arbitrary records.
    Framed(Vec<Vec<u8>>),
    /// The genuine value at the target, changed.
    Mutated(Mutation),
    /// A genuine record (by position) with bytes changed, alone in a framed chunk.
    MutatedRecord(u64, Mutation),
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR bytes at these offsets (modulo the length).
    Flip(Vec<(usize, u8)>),
    /// Keep only this many bytes (modulo the length + 1).
    Cut(usize),
    /// Append these bytes.
    Extend(Vec<u8>),
    /// Overwrite 4 bytes at this offset (a length field) with this value.
    Length(usize, u32),
}

impl Mutation {
    fn apply(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        match self {
            Mutation::Flip(flips) if !bytes.is_empty() => {
                let len = bytes.len();
                for (offset, mask) in flips {
                    bytes[offset % len] ^= mask | 1;
                }
            }
            Mutation::Flip(_) => bytes.push(0),
            Mutation::Cut(keep) => bytes.truncate(keep % (bytes.len() + 1)),
            Mutation::Extend(tail) => bytes.extend_from_slice(tail),
            Mutation::Length(offset, value) => {
                let offset = offset % (bytes.len().saturating_sub(3).max(1));
                let end = (offset + 4).min(bytes.len());
                let value = value.to_be_bytes();
                bytes[offset..end].copy_from_slice(&value[..end - offset]);
            }
        }
        bytes
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => prop::collection::vec((any::<usize>(), any::<u8>()), 1..4).prop_map(Mutation::Flip),
        2 => any::<usize>().prop_map(Mutation::Cut),
        1 => prop::collection::vec(any::<u8>(), 1..40).prop_map(Mutation::Extend),
        2 => (any::<usize>(), prop_oneof![Just(0u32), Just(u32::MAX), 0u32..600, any::<u32>()])
            .prop_map(|(offset, value)| Mutation::Length(offset, value)),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => (0usize..8).prop_map(Target::Chunk),
        1 => prop_oneof![0u64..40, any::<u64>()].prop_map(Target::ChunkAt),
        2 => ((0usize..3), (0u64..12)).prop_map(|(s, v)| Target::StreamEntry(s, v)),
        1 => prop::collection::vec(any::<u8>(), 0..24).prop_map(Target::StreamKey),
        2 => (0u64..40).prop_map(Target::EventIdEntry),
        1 => prop::collection::vec(any::<u8>(), 0..20).prop_map(Target::EventIdKey),
        1 => Just(Target::Marker),
    ]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Bytes::Arbitrary),
        2 => prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..3)
            .prop_map(Bytes::Framed),
        4 => mutation().prop_map(Bytes::Mutated),
        3 => ((1u64..40), mutation()).prop_map(|(p, m)| Bytes::MutatedRecord(p, m)),
    ]
}

/// The genuine log, closed, and what it holds.
struct Genuine {
    dir: tempfile::TempDir,
    records: Vec<RecordedEvent>,
    chunk_keys: Vec<Vec<u8>>,
}

impl Genuine {
    async fn write() -> Genuine {
        let dir = tempfile::tempdir().unwrap();
        let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
        // Appends of 1 to 5 events, so that the log has several chunks; a
        // large payload forces a chunk of its own.
        for round in 0..8usize {
            let stream = STREAMS[round % STREAMS.len()];
            let count = 1 + round % 5;
            let mut events: Vec<_> = (0..count)
                .map(|i| event("t.Fuzzed", format!("round {round} event {i}").as_bytes()))
                .collect();
            if round == 5 {
                events[0].payload = vec![7; 70_000];
            }
            store
                .append(stream, ExpectedVersion::Any, events)
                .await
                .unwrap();
        }
        let records = store.read_all(1, 1000).unwrap();
        let chunk_keys = store
            .engine()
            .scan(
                Keyspace::Log,
                Bound::Unbounded,
                Bound::Unbounded,
                false,
                100,
            )
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect::<Vec<_>>();
        assert!(chunk_keys.len() >= 3, "{} chunks", chunk_keys.len());
        store.close().await.unwrap();
        drop(store);
        // Opened once more, so that the verified-position marker is written.
        let store = EventStore::open(dir.path(), StoreOptions::default()).unwrap();
        store.close().await.unwrap();
        drop(store);
        Genuine {
            dir,
            records,
            chunk_keys,
        }
    }

    /// The stored bytes of the record at `position` (1-based, wrapped into the log).
    fn stored_record(&self, engine: &SledEngine, position: u64) -> Vec<u8> {
        let position = 1 + (position - 1) % self.records.len() as u64;
        let key = position.to_be_bytes();
        let (_, chunk) = maillage_eventstore::Engine::scan(
            engine,
            Keyspace::Log,
            Bound::Unbounded,
            Bound::Included(&key),
            true,
            1,
        )
        .unwrap()
        .pop()
        .unwrap();
        let mut rest = &chunk[1..];
        while !rest.is_empty() {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let record = &rest[4..4 + len];
            if u64::from_be_bytes(record[1..9].try_into().unwrap()) == position {
                return record.to_vec();
            }
            rest = &rest[4 + len..];
        }
        unreachable!("position {position} is in the chunk at or before it")
    }
}

fn framed(records: &[Vec<u8>]) -> Vec<u8> {
    let mut chunk = vec![1u8];
    for record in records {
        chunk.extend_from_slice(&(record.len() as u32).to_be_bytes());
        chunk.extend_from_slice(record);
    }
    chunk
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The (keyspace, key) a target names in the genuine log.
fn locate(genuine: &Genuine, target: &Target) -> (Keyspace, Vec<u8>) {
    let records = &genuine.records;
    match target {
        Target::Chunk(index) => (
            Keyspace::Log,
            genuine.chunk_keys[index % genuine.chunk_keys.len()].clone(),
        ),
        Target::ChunkAt(position) => (Keyspace::Log, position.to_be_bytes().to_vec()),
        Target::StreamEntry(stream, version) => {
            let mut key = STREAMS[*stream].as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&version.to_be_bytes());
            (Keyspace::StreamIndex, key)
        }
        Target::StreamKey(key) => (Keyspace::StreamIndex, key.clone()),
        Target::EventIdEntry(position) => {
            let record = &records[(*position as usize) % records.len()];
            (Keyspace::EventIdIndex, record.event_id.as_bytes().to_vec())
        }
        Target::EventIdKey(key) => (Keyspace::EventIdIndex, key.clone()),
        Target::Marker => (Keyspace::Meta, b"verified".to_vec()),
    }
}

/// How the cases ended.
#[derive(Debug, Default)]
struct Tally {
    tried: u32,
    refused_at_open: u32,
    broken: u32,
    intact: u32,
}

/// Where one case ended.
enum Outcome {
    RefusedAtOpen,
    Broken,
    Intact,
}

/// Applies the fuzzed writes to a copy of the genuine log, then exercises
/// every read; fails on a read that differs from the genuine log while
/// `verify` says intact. Panics propagate to the runner.
fn exercise(genuine: &Genuine, writes: &[(Target, Bytes)]) -> Result<Outcome, TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(genuine.dir.path(), dir.path());
    let engine = SledEngine::open(dir.path(), &SledOptions::default()).unwrap();
    let mut batch = WriteBatch::new();
    for (target, bytes) in writes {
        let (keyspace, key) = locate(genuine, target);
        let value = match bytes {
            Bytes::Arbitrary(bytes) => bytes.clone(),
            Bytes::Framed(records) => framed(records),
            Bytes::Mutated(mutation) => {
                let current = maillage_eventstore::Engine::get(&engine, keyspace, &key).unwrap();
                mutation.apply(current.unwrap_or_default())
            }
            Bytes::MutatedRecord(position, mutation) => {
                framed(&[mutation.apply(genuine.stored_record(&engine, *position))])
            }
        };
        batch.put(keyspace, key, value);
    }
    maillage_eventstore::Engine::apply(&engine, batch).unwrap();
    let Ok(store) = EventStore::with_engine(Arc::new(engine), StoreOptions::default()) else {
        // Refused at open, with a typed error: the chain check did its job.
        return Ok(Outcome::RefusedAtOpen);
    };
    let all = store.read_all(1, 10_000);
    let streams: Vec<_> = STREAMS
        .iter()
        .map(|stream| {
            (
                store.read_stream(stream, 1, Direction::Forward, 1000),
                store.read_stream(stream, u64::MAX, Direction::Backward, 1000),
                store.stream_version(stream),
            )
        })
        .collect();
    let by_id: Vec<_> = genuine
        .records
        .iter()
        .map(|record| store.event_by_id(&record.event_id))
        .collect();
    let verified = store.verify();
    let head = store.head();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(store.close()).unwrap();

    let genuine_head = genuine.records.last().unwrap();
    let intact = matches!(
        verified,
        Ok(Verification::Intact { head: verified }) if verified.position == genuine_head.position
            && verified.hash == genuine_head.hash
    );
    if !intact {
        return Ok(Outcome::Broken);
    }
    prop_assert_eq!(head.position, genuine_head.position);
    prop_assert_eq!(all.as_ref().ok(), Some(&genuine.records), "read_all");
    for (stream, (forward, backward, version)) in STREAMS.iter().zip(streams) {
        let expected: Vec<_> = genuine
            .records
            .iter()
            .filter(|record| record.stream_id.as_str() == *stream)
            .cloned()
            .collect();
        prop_assert_eq!(forward.as_ref().ok(), Some(&expected), "{} forward", stream);
        let mut reversed = expected.clone();
        reversed.reverse();
        prop_assert_eq!(
            backward.as_ref().ok(),
            Some(&reversed),
            "{} backward",
            stream
        );
        prop_assert_eq!(
            version.ok(),
            Some(expected.len() as u64),
            "{} version",
            stream
        );
    }
    for (record, found) in genuine.records.iter().zip(by_id) {
        let found = found.ok().flatten();
        prop_assert_eq!(found.as_ref(), Some(record), "event_by_id");
    }
    Ok(Outcome::Intact)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_bytes_under_the_store_never_panic_nor_read_as_intact_when_they_differ() {
    let genuine = Arc::new(Genuine::write().await);
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let cases = 300 * env("MAILLAGE_FUZZ_SCALE", 1) as u32;
    let seed = env("MAILLAGE_FUZZ_SEED", 2026);
    let tally = tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed),
            ..Config::default()
        });
        let tally = std::sync::Mutex::new(Tally::default());
        let writes = prop::collection::vec((target(), bytes()), 1..4);
        let outcome = runner.run(&writes, |writes| {
            // In a thread of its own, so that a case that never returns (a
            // read looping on damaged bytes) fails instead of hanging.
            let (sender, outcome) = std::sync::mpsc::channel();
            let case = genuine.clone();
            let input = writes.clone();
            std::thread::spawn(move || {
                let _ = sender.send(exercise(&case, &input));
            });
            let outcome = match outcome.recv_timeout(CASE_BOUND) {
                Ok(outcome) => outcome?,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(TestCaseError::fail(format!(
                        "no answer within {CASE_BOUND:?}: the store loops on {writes:?}"
                    )))
                }
                // The case panicked: the panic message is on stderr.
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(TestCaseError::fail(format!("panicked on {writes:?}")))
                }
            };
            let mut tally = tally.lock().unwrap();
            tally.tried += 1;
            match outcome {
                Outcome::RefusedAtOpen => tally.refused_at_open += 1,
                Outcome::Broken => tally.broken += 1,
                Outcome::Intact => tally.intact += 1,
            }
            Ok(())
        });
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
        tally.into_inner().unwrap()
    })
    .await
    .unwrap();
    println!(
        "fuzz (event store): {} inputs tried (seed {seed}): {} refused at open, {} opened and \
         found broken by verify, {} opened intact and read exactly as the genuine log; no panic, no hang",
        tally.tried, tally.refused_at_open, tally.broken, tally.intact
    );
    assert_eq!(tally.tried, cases);
}
