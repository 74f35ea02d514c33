//! Master-key rotation and projection rebuild, as an operator runs them: a demo's data,
//! a rotation interrupted midway (the platform then refuses to start with either
//! key), `maillage rekey` offline completing it, the platform restarted under the
//! new key only, then `maillage rebuild` online.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Command, Stdio};

use maillage_eventstore::{open_sled, SledOptions};
use maillage_privacy::{KeyVault, MasterKey};
use process::{maillage, stop, text, MAILLAGE};

/// Starts a rotation of both vaults from `old` to `new` and stops it (a panic
/// in its progress callback) after 10 keys of the stakeholders vault, as a
/// crash would.
fn interrupt_rotation(data: &Path, old: &MasterKey, new: &MasterKey) {
    let dbs = ["stakeholders", "engagement"]
        .map(|service| open_sled(&data.join(service), &SledOptions::default()).unwrap());
    let trees = dbs
        .iter()
        .map(|db| db.open_tree("privacy.keys").unwrap())
        .collect::<Vec<_>>();
    let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| {
        KeyVault::rotate(&trees, old, new, |_, report| {
            assert!(report.rewrapped < 10, "rotation stopped midway on purpose");
        })
    }));
    assert!(stopped.is_err(), "the rotation was to stop midway");
    for db in &dbs {
        db.flush().unwrap();
    }
}

/// `maillage up` in `dir` (with `key` as master key file, if given), expected to refuse to start.
fn refused_start(dir: &Path, key: Option<&Path>) -> String {
    let mut up = Command::new(MAILLAGE);
    up.args(["up", "--listen", "127.0.0.1:0"]);
    // Ports are ephemeral here: no web console on its fixed default port.
    up.env("MAILLAGE_HTTP", "off");
    if let Some(key) = key {
        up.arg("--master-key-file").arg(key);
    }
    let refused = up.current_dir(dir).stdout(Stdio::null()).output().unwrap();
    assert!(!refused.status.success());
    text(&refused.stderr)
}

#[test]
fn rekey_then_the_new_key_alone_opens_the_vaults_and_rebuild_replays_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Command::new(MAILLAGE)
        .args(["demo", "--scale", "0.05", "--out", "report.html"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let data = dir.path().join("maillage-data");

    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, format!("{}\n", "ab".repeat(32))).unwrap();

    let old = MasterKey::from_file(data.join("master.key")).unwrap().key;
    let new = MasterKey::from_file(&new_key).unwrap().key;
    interrupt_rotation(&data, &old, &new);
    // Neither key starts the platform: the refusal names both and says what to run.
    for key in [None, Some(new_key.as_path())] {
        let stderr = refused_start(dir.path(), key);
        assert!(
            stderr.contains(&old.fingerprint().to_string())
                && stderr.contains(&new.fingerprint().to_string())
                && stderr.contains("maillage rekey"),
            "{stderr}"
        );
    }

    // Running the rotation again with the same keys completes it.
    let rekeyed = Command::new(MAILLAGE)
        .arg("rekey")
        .arg("--data-dir")
        .arg(&data)
        .arg("--old-key-file")
        .arg(data.join("master.key"))
        .arg("--new-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert!(rekeyed.status.success(), "{}", text(&rekeyed.stderr));
    // One line per vault: "<service> <n> keys rewrapped, ...": both hold the demo's keys.
    let report = text(&rekeyed.stdout);
    let rewrapped = |service: &str| -> u64 {
        let line = report
            .lines()
            .find(|line| line.split_whitespace().next() == Some(service))
            .unwrap_or_else(|| panic!("no line for {service}: {report}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(rewrapped("stakeholders") > 0, "{report}");
    assert!(rewrapped("engagement") > 0, "{report}");
    // The 10 keys the interrupted run rewrapped are skipped.
    let already_current: u64 = report
        .lines()
        .find(|line| line.starts_with("stakeholders"))
        .and_then(|line| line.split_whitespace().nth(4))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of keys already rewrapped: {report}"));
    assert_eq!(already_current, 10, "{report}");

    // The old key no longer opens the vaults: the platform refuses to start with it.
    let stderr = refused_start(dir.path(), None);
    assert!(stderr.contains("master key"), "{stderr}");

    // Under the new key it starts, and the projections rebuild from the logs.
    let new_key = new_key.to_str().expect("a UTF-8 path");
    let (up, port) =
        process::start_with_args(dir.path(), None, &[], &["--master-key-file", new_key]);
    let rebuilt = maillage(dir.path(), port, &["rebuild"]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    let replayed: u64 = text(&rebuilt.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(replayed > 100, "{}", text(&rebuilt.stdout));
    let verified = maillage(dir.path(), port, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    stop(up);
}
