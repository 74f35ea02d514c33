//! Crash safety: a child process appends and prints what was acknowledged; it is killed with
//! SIGKILL at random moments, 24 times on the same directory; every acknowledged event must
//! be there after each reopen, positions dense, and the chain intact.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use maillage_eventstore::{EventStore, StoreOptions, Verification};
use rand::Rng;
use uuid::Uuid;

const KILLS: usize = 24;

#[test]
fn acknowledged_events_survive_sigkill() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut rng = rand::thread_rng();
    let mut acknowledged: HashMap<u64, Uuid> = HashMap::new();
    let runtime = tokio::runtime::Runtime::new()?;

    for round in 0..KILLS {
        let tasks = rng.gen_range(1..=8);
        let mut child = Command::new(env!("CARGO_BIN_EXE_eventstore-crash-writer"))
            .arg(dir.path())
            .arg(tasks.to_string())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.split(' ');
                if let (Some("ack"), Some(position), Some(id), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                {
                    if let (Ok(position), Ok(id)) = (position.parse::<u64>(), id.parse::<Uuid>()) {
                        acks.push((position, id));
                    }
                }
            }
            acks
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(30..400)));
        child.kill()?; // SIGKILL
        child.wait()?;
        let acks = reader.join().expect("reader thread");
        for (position, id) in acks {
            let earlier = acknowledged.insert(position, id);
            assert!(
                earlier.is_none_or(|e| e == id),
                "position {position} acknowledged twice for different events"
            );
        }

        let store = EventStore::open(dir.path(), StoreOptions::default())?;
        let head = store.head().position;
        let mut expected_position = 1;
        let mut found = 0;
        while expected_position <= head {
            for record in store.read_all(expected_position, 10_000)? {
                assert_eq!(record.position, expected_position, "positions are dense");
                if let Some(id) = acknowledged.get(&record.position) {
                    assert_eq!(
                        *id, record.event_id,
                        "round {round}: position {} holds another event",
                        record.position
                    );
                    found += 1;
                }
                expected_position += 1;
            }
        }
        assert_eq!(
            found,
            acknowledged.len(),
            "round {round}: an acknowledged event is missing"
        );
        assert!(
            matches!(store.verify()?, Verification::Intact { head: h } if h.position == head),
            "round {round}: the chain verifies"
        );
        runtime.block_on(store.close())?;
    }
    assert!(
        acknowledged.len() > KILLS,
        "the child acknowledged appends before being killed"
    );
    Ok(())
}
