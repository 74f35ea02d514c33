//! A damaged log as an operator meets it: `maillage up` refuses to start on a
//! broken hash chain and names the service and the position; `maillage
//! verify` names an index that disagrees with the log.
//!
//! The governance log is written and then altered in its sled tree with the
//! platform stopped, as a failing disk or an intruder would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::path::Path;
use std::process::{Command, Stdio};

use maillage_eventstore::{
    open_sled, EventData, EventMetadata, EventStore, ExpectedVersion, SledEngine, SledOptions,
    StoreOptions,
};
use process::{maillage, start, stop, text, MAILLAGE};

/// Appends three events to the governance log under `data`, then closes it.
async fn governance_log_with_three_events(data: &Path) {
    let store = EventStore::open(&data.join("governance"), StoreOptions::default()).unwrap();
    let events = (0..3u8)
        .map(|i| EventData {
            event_id: uuid::Uuid::now_v7(),
            event_type: "test.Written".into(),
            payload: vec![i],
            metadata: EventMetadata::default(),
        })
        .collect();
    store
        .append("check-1", ExpectedVersion::NoStream, events)
        .await
        .unwrap();
    store.close().await.unwrap();
}

/// Edits the governance log's sled tree with the platform stopped.
fn tamper(data: &Path, edit: impl FnOnce(&sled::Tree)) {
    let db = open_sled(&data.join("governance"), &SledOptions::default()).unwrap();
    edit(&db.open_tree(SledEngine::TREE).unwrap());
    db.flush().unwrap();
}

#[tokio::test]
async fn up_refuses_a_broken_chain_naming_the_service_and_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("maillage-data");
    governance_log_with_three_events(&data).await;
    // Flip the last payload byte of record 2 (the chunk of 1..=3 is under key `L` ‖ 1).
    tamper(&data, |tree| {
        let key = [b"L".as_slice(), &1u64.to_be_bytes()].concat();
        let mut chunk = tree.get(&key).unwrap().unwrap().to_vec();
        let first = u32::from_be_bytes(chunk[1..5].try_into().unwrap()) as usize;
        let second = 1 + 4 + first;
        let len = u32::from_be_bytes(chunk[second..second + 4].try_into().unwrap()) as usize;
        chunk[second + 4 + len - 33] ^= 0x01;
        tree.insert(key, chunk).unwrap();
    });

    let up = Command::new(MAILLAGE)
        .args(["up", "--listen", "127.0.0.1:0"])
        // Ports are ephemeral here: no web console on its fixed default port.
        .env("MAILLAGE_HTTP", "off")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&up.stderr);
    assert!(!up.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot open the governance service")
            && stderr.contains("the log's hash chain is broken at position 2"),
        "{stderr}"
    );
}

#[tokio::test]
async fn verify_names_a_stream_index_entry_missing_from_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("maillage-data");
    governance_log_with_three_events(&data).await;
    tamper(&data, |tree| {
        let key = [b"Scheck-1\0".as_slice(), &2u64.to_be_bytes()].concat();
        tree.remove(key).unwrap().expect("version 2 was indexed");
    });

    let (up, port) = start(dir.path());
    let verified = maillage(dir.path(), port, &["verify"]);
    stop(up);
    let stdout = text(&verified.stdout);
    assert!(!verified.status.success(), "{stdout}");
    let governance = stdout
        .lines()
        .find(|line| line.starts_with("governance"))
        .unwrap_or_else(|| panic!("no line for governance: {stdout}"));
    assert!(
        governance.contains("BROKEN")
            && governance.contains("stream index: check-1 version 2 has no entry"),
        "{stdout}"
    );
}
