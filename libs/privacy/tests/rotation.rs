//! An interrupted master-key rotation, for real: a child process rotating two
//! vaults (two sled databases, as stakeholders and engagement) is killed with
//! SIGKILL midway. Neither key then opens either vault, and the refusal names
//! both keys; a rotation with other keys is refused; running the same
//! rotation again completes it, skipping what was done; every sealed value
//! then opens under the new key, and the old key opens nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maillage_privacy::{KeyVault, MasterKey, Opened, PrivacyError, SubjectId};

const TREE: &str = "privacy.keys";
/// Subjects per vault: far more than the lines a pipe holds (about 4,000 of
/// them), so the child, blocked on its full stdout once the test stops
/// reading, is still in the middle when it is killed.
const SUBJECTS: u32 = 6_000;
/// Subjects of the first vault done when the child is killed: past the first
/// periodic flush of the rotation (every 1,024 keys).
const KILL_AFTER: u64 = 1_500;
/// The subject of each vault erased before the rotation.
const ERASED: u32 = 17;

/// Opens a database, waiting (bounded) for the lock a just-dropped handle or
/// a just-killed process still holds.
fn open_db(dir: &Path) -> sled::Db {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match sled::Config::new().path(dir).open() {
            Ok(db) => return db,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(error) => panic!("open sled: {error}"),
        }
    }
}

fn person(n: u32) -> SubjectId {
    SubjectId::person(format!("0190a1b2-0000-7000-8000-{n:012}"))
}

/// Every subject's name sealed in the vault of `dir` under `master`, one erased.
fn seal_names(dir: &Path, master: &MasterKey) -> Vec<(SubjectId, Vec<u8>)> {
    let db = open_db(dir);
    let vault = KeyVault::new(db.open_tree(TREE).unwrap(), master.clone())
        .unwrap()
        .sharing_log_database();
    let sealed = (0..SUBJECTS)
        .map(|n| {
            let subject = person(n);
            let value = vault
                .seal_str(&subject, "name", &format!("name {n}"))
                .unwrap();
            (subject, value)
        })
        .collect();
    vault
        .erase(&person(ERASED), std::time::SystemTime::now())
        .unwrap();
    vault.flush().unwrap();
    sealed
}

/// Runs the rotation in a child process and kills it once it has done
/// [`KILL_AFTER`] subjects of the first vault.
fn rotate_and_kill(old_file: &Path, new_file: &Path, dbs: &[PathBuf]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_privacy-rotation-child"))
        .arg(old_file)
        .arg(new_file)
        .args(dbs)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines
            .next()
            .expect("the child stopped before it was killed")
            .unwrap();
        if line == format!("rotated 0 {KILL_AFTER}") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn a_rotation_killed_midway_is_refused_at_open_then_completed_by_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let (old_file, new_file) = (dir.path().join("old.key"), dir.path().join("new.key"));
    old.write_file(&old_file).unwrap();
    new.write_file(&new_file).unwrap();
    let dbs = [
        dir.path().join("stakeholders"),
        dir.path().join("engagement"),
    ];
    let sealed: Vec<_> = dbs.iter().map(|db| seal_names(db, &old)).collect();

    rotate_and_kill(&old_file, &new_file, &dbs);

    let dbs: Vec<_> = dbs.iter().map(|dir| open_db(dir)).collect();
    let trees: Vec<_> = dbs.iter().map(|db| db.open_tree(TREE).unwrap()).collect();
    let (old_fp, new_fp) = (old.fingerprint(), new.fingerprint());
    for tree in &trees {
        for key in [&old, &new] {
            match KeyVault::new(tree.clone(), key.clone()) {
                Err(error @ PrivacyError::RotationInProgress { .. }) => {
                    let message = error.to_string();
                    assert!(
                        message.contains(&old_fp.to_string())
                            && message.contains(&new_fp.to_string())
                            && message.contains("maillage rekey"),
                        "{message}"
                    );
                }
                other => panic!("a vault in mid-rotation opened: {other:?}"),
            }
        }
    }
    // Another rotation is refused while this one is unfinished, naming it.
    match KeyVault::rotate(&trees, &old, &MasterKey::generate(), |_, _| {}) {
        Err(PrivacyError::RotationInProgress { old: o, new: n }) => {
            assert_eq!((o, n), (old_fp, new_fp))
        }
        other => panic!("a second rotation started: {other:?}"),
    }

    let reports = KeyVault::rotate(&trees, &old, &new, |_, _| {}).unwrap();
    let live = u64::from(SUBJECTS - 1);
    assert!(
        reports[0].already_current >= 1024,
        "the killed run's flushed work is skipped: {reports:?}"
    );
    for report in &reports {
        assert_eq!(
            report.rewrapped + report.already_current,
            live,
            "{report:?}"
        );
        assert_eq!(report.erased, 1, "{report:?}");
    }

    for (tree, sealed) in trees.iter().zip(&sealed) {
        assert!(matches!(
            KeyVault::new(tree.clone(), old.clone()),
            Err(PrivacyError::WrongMasterKey { .. })
        ));
        let vault = KeyVault::new(tree.clone(), new.clone()).unwrap();
        for (n, (subject, value)) in sealed.iter().enumerate() {
            let expected = if n as u32 == ERASED {
                Opened::Erased
            } else {
                Opened::Clear(format!("name {n}"))
            };
            assert_eq!(vault.open_str(subject, "name", value).unwrap(), expected);
        }
    }
}
