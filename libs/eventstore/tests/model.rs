//! Model-based property test: random appends with random expected versions on a few
//! streams, checked against a plain in-memory model of versions, positions and results.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::HashMap;

use common::{event, temp_store};
use maillage_eventstore::{Direction, ExpectedVersion, StoreError, Verification};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Append `count` new events to stream number `stream`.
    Append {
        stream: usize,
        expected: ExpectedVersion,
        count: usize,
    },
    /// Append again the events of an earlier successful append (a retry).
    Retry { nth: usize },
}

const STREAMS: [&str; 3] = ["alpha-1", "alpha-2", "beta-1"];

fn expected_version() -> impl Strategy<Value = ExpectedVersion> {
    prop_oneof![
        Just(ExpectedVersion::Any),
        Just(ExpectedVersion::NoStream),
        Just(ExpectedVersion::StreamExists),
        (0u64..6).prop_map(ExpectedVersion::Exact),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..STREAMS.len(), expected_version(), 1usize..4)
            .prop_map(|(stream, expected, count)| Op::Append { stream, expected, count }),
        1 => (0usize..20).prop_map(|nth| Op::Retry { nth }),
    ]
}

/// The model: each stream's version and the log's length.
#[derive(Default)]
struct Model {
    versions: HashMap<&'static str, u64>,
    head: u64,
}

impl Model {
    fn append(
        &mut self,
        stream: &'static str,
        expected: ExpectedVersion,
        count: u64,
    ) -> Result<(u64, u64, u64), u64> {
        let actual = self.versions.get(stream).copied().unwrap_or(0);
        let ok = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::StreamExists => actual > 0,
            ExpectedVersion::Exact(v) => actual == v,
        };
        if !ok {
            return Err(actual);
        }
        let first = self.head + 1;
        self.head += count;
        self.versions.insert(stream, actual + count);
        Ok((first, self.head, actual + count))
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_store_behaves_like_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (store, _dir) = temp_store();
            let mut model = Model::default();
            let mut successes = Vec::new();
            for op in ops {
                match op {
                    Op::Append { stream, expected, count } => {
                        let name = STREAMS[stream];
                        let events: Vec<_> = (0..count).map(|i| event("t.E", &[i as u8])).collect();
                        let got = store.append(name, expected, events.clone()).await;
                        match (model.append(name, expected, count as u64), got) {
                            (Ok((first, last, version)), Ok(result)) => {
                                prop_assert_eq!((result.first_position, result.last_position, result.stream_version), (first, last, version));
                                successes.push((name, expected, events, result));
                            }
                            (Err(actual), Err(StoreError::WrongExpectedVersion { actual: got, .. })) => {
                                prop_assert_eq!(actual, got);
                            }
                            (want, got) => prop_assert!(false, "model {:?}, store {:?}", want, got),
                        }
                    }
                    Op::Retry { nth } => {
                        if let Some((name, expected, events, result)) = successes.get(nth).cloned() {
                            let again = store.append(name, expected, events).await;
                            prop_assert_eq!(again, Ok(result));
                        }
                    }
                }
                prop_assert_eq!(store.head().position, model.head);
            }
            for name in STREAMS {
                let version = model.versions.get(name).copied().unwrap_or(0);
                prop_assert_eq!(store.stream_version(name).unwrap(), version);
                let read = store.read_stream(name, 1, Direction::Forward, 1000).unwrap();
                prop_assert_eq!(read.len() as u64, version);
                prop_assert!(read.iter().enumerate().all(|(i, e)| e.version == i as u64 + 1));
            }
            let all = store.read_all(1, 10_000).unwrap();
            prop_assert!(all.iter().enumerate().all(|(i, e)| e.position == i as u64 + 1));
            prop_assert_eq!(all.len() as u64, model.head);
            let intact = matches!(store.verify().unwrap(), Verification::Intact { head } if head.position == model.head);
            prop_assert!(intact);
            Ok(())
        })?;
    }
}
