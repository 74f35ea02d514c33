//! Racing writers: one winner per version under `Exact(v)`, and group commit loses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;

use common::{event, temp_store};
use maillage_eventstore::{Direction, ExpectedVersion, StoreError};
use tokio::sync::Barrier;

const STREAM: &str = "race-1";
const TASKS: usize = 32;
const ROUNDS: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_tasks_racing_exact_appends_get_one_winner_per_version() {
    let (store, _dir) = temp_store();
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            let mut losses = 0u64;
            for version in 0..ROUNDS {
                barrier.wait().await;
                let payload = format!("task {task} round {version}");
                match store
                    .append(
                        STREAM,
                        ExpectedVersion::Exact(version),
                        vec![event("t.Won", payload.as_bytes())],
                    )
                    .await
                {
                    Ok(result) => {
                        assert_eq!(result.stream_version, version + 1);
                        wins.push((version + 1, payload));
                    }
                    Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                        assert_eq!(actual, version + 1, "the loser sees the winner's version");
                        losses += 1;
                    }
                    Err(other) => panic!("unexpected error {other}"),
                }
            }
            (wins, losses)
        }));
    }
    let mut winners = Vec::new();
    let mut losses = 0;
    for task in tasks {
        let (wins, lost) = task.await.unwrap();
        winners.extend(wins);
        losses += lost;
    }
    winners.sort();
    assert_eq!(
        winners.len() as u64,
        ROUNDS,
        "exactly one winner per version"
    );
    assert!(winners
        .iter()
        .enumerate()
        .all(|(i, (v, _))| *v == i as u64 + 1));
    assert_eq!(losses, ROUNDS * (TASKS as u64 - 1));
    let stored = store
        .read_stream(STREAM, 1, Direction::Forward, 1000)
        .unwrap();
    let stored: Vec<_> = stored
        .iter()
        .map(|e| (e.version, String::from_utf8(e.payload.clone()).unwrap()))
        .collect();
    assert_eq!(
        stored, winners,
        "every winner's event is stored, and nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_any_appends_to_many_streams_are_all_kept_with_dense_positions() {
    let (store, _dir) = temp_store();
    let mut tasks = Vec::new();
    for task in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut positions = Vec::new();
            for _ in 0..25 {
                let result = store
                    .append(
                        &format!("load-{}", task % 8),
                        ExpectedVersion::Any,
                        vec![event("t.E", b"x")],
                    )
                    .await
                    .unwrap();
                positions.push(result.last_position);
            }
            positions
        }));
    }
    let mut positions = Vec::new();
    for task in tasks {
        positions.extend(task.await.unwrap());
    }
    positions.sort();
    assert_eq!(positions, (1..=1600).collect::<Vec<u64>>());
    for stream in 0..8 {
        assert_eq!(
            store.stream_version(&format!("load-{stream}")).unwrap(),
            200
        );
    }
}
