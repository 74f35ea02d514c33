//! Key-vault tests on real sled databases in temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use maillage_privacy::{KeyVault, MasterKey, Opened, PrivacyError, SubjectId, SubjectState};

const TREE: &str = "privacy.keys";

/// Opens the test database; sled frees its lock a moment after the previous
/// handle is dropped, so a reopen waits for it (bounded).
fn open_db(dir: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::Config::new().path(dir.join("db")).open() {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(error) => panic!("open sled: {error}"),
        }
    }
}

fn vault(db: &sled::Db, master: &MasterKey) -> KeyVault {
    KeyVault::new(db.open_tree(TREE).expect("tree"), master.clone()).expect("vault")
}

fn person(n: u32) -> SubjectId {
    SubjectId::person(format!("0190a1b2-0000-7000-8000-{n:012}"))
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::new(secs, 123_456_789)
}

#[test]
fn seal_then_open_roundtrips_bytes_and_text() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let p = person(1);

    let sealed = vault.seal(&p, "phone", b"+33 6 12 34 56 78")?;
    assert_eq!(sealed[0], 1, "version byte");
    assert_eq!(sealed.len(), 1 + 24 + 17 + 16);
    assert!(
        !sealed.windows(8).any(|w| w == b"12 34 56"),
        "no clear text in the sealed value"
    );
    assert_eq!(
        vault.open(&p, "phone", &sealed)?,
        Opened::Clear(b"+33 6 12 34 56 78".to_vec())
    );

    let name = vault.seal_str(&p, "name", "Camille Lefèvre")?;
    assert_eq!(
        vault.open_str(&p, "name", &name)?.into_option().as_deref(),
        Some("Camille Lefèvre")
    );

    let empty = vault.seal(&p, "note", b"")?;
    assert_eq!(vault.open(&p, "note", &empty)?, Opened::Clear(Vec::new()));
    Ok(())
}

#[test]
fn sealing_twice_gives_different_ciphertexts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let p = person(1);
    let a = vault.seal(&p, "email", b"a@example.fr")?;
    let b = vault.seal(&p, "email", b"a@example.fr")?;
    assert_ne!(a, b, "random nonces");
    Ok(())
}

#[test]
fn a_value_moved_to_another_field_or_subject_fails() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let (p1, p2) = (person(1), person(2));
    vault.key_for(&p2)?;
    let sealed = vault.seal(&p1, "email", b"camille@example.fr")?;

    let err = vault.open(&p1, "phone", &sealed).unwrap_err();
    assert!(
        matches!(err, PrivacyError::Tampered { ref field, .. } if field == "phone"),
        "{err}"
    );
    let err = vault.open(&p2, "email", &sealed).unwrap_err();
    assert!(
        matches!(err, PrivacyError::Tampered { ref subject, .. } if *subject == p2),
        "{err}"
    );

    // Same id, other kind: another subject with its own key.
    let interaction = SubjectId::interaction(p1.id());
    vault.key_for(&interaction)?;
    assert!(matches!(
        vault.open(&interaction, "email", &sealed),
        Err(PrivacyError::Tampered { .. })
    ));
    Ok(())
}

#[test]
fn a_tampered_value_is_an_error_not_erased() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let p = person(1);
    let sealed = vault.seal(&p, "address", b"12 rue de la Mairie, 23000 Gueret")?;
    for i in 1..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        assert!(
            matches!(
                vault.open(&p, "address", &bad),
                Err(PrivacyError::Tampered { .. })
            ),
            "flipped byte {i}"
        );
    }
    let mut bad_version = sealed.clone();
    bad_version[0] = 9;
    assert!(matches!(
        vault.open(&p, "address", &bad_version),
        Err(PrivacyError::Malformed(_))
    ));
    assert!(matches!(
        vault.open(&p, "address", &sealed[..40]),
        Err(PrivacyError::Malformed(_))
    ));
    assert!(matches!(
        vault.open(&p, "address", &sealed[..sealed.len() - 1]),
        Err(PrivacyError::Tampered { .. })
    ));
    Ok(())
}

#[test]
fn opening_for_a_subject_without_a_key_is_an_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let sealed = vault.seal(&person(1), "email", b"x@example.fr")?;
    assert!(matches!(
        vault.open(&person(2), "email", &sealed),
        Err(PrivacyError::UnknownSubject { .. })
    ));
    assert!(vault.subjects().count() == 1, "open does not create keys");
    Ok(())
}

#[test]
fn erase_then_open_gives_erased_and_other_subjects_are_untouched() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let (p1, p2) = (person(1), person(2));
    let s1 = vault.seal_str(&p1, "name", "Dominique")?;
    let s2 = vault.seal_str(&p2, "name", "Sacha")?;

    let erasure = vault.erase(&p1, at(1_800_000_000))?;
    assert!(!erasure.already_erased);
    assert_eq!(erasure.erased_at, at(1_800_000_000));

    assert_eq!(vault.open_str(&p1, "name", &s1)?, Opened::Erased);
    assert!(vault.open(&p1, "name", &s1)?.is_erased());
    assert_eq!(
        vault.open_str(&p2, "name", &s2)?,
        Opened::Clear("Sacha".to_owned())
    );
    assert!(vault.is_erased(&p1)?);
    assert!(!vault.is_erased(&p2)?);
    assert_eq!(vault.erased_at(&p1)?, Some(at(1_800_000_000)));

    // Idempotent: a second erasure keeps the first date.
    let again = vault.erase(&p1, at(1_900_000_000))?;
    assert!(again.already_erased);
    assert_eq!(again.erased_at, at(1_800_000_000));
    Ok(())
}

#[test]
fn key_for_and_seal_after_erase_fail_even_with_the_key_cached() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let p = person(1);
    vault.key_for(&p)?; // now cached
    vault.erase(&p, at(1_800_000_000))?;
    let err = vault.key_for(&p).unwrap_err();
    assert!(
        matches!(err, PrivacyError::Erased { ref subject, erased_at } if *subject == p && erased_at == at(1_800_000_000)),
        "{err}"
    );
    assert!(matches!(
        vault.seal(&p, "name", b"x"),
        Err(PrivacyError::Erased { .. })
    ));

    // A subject erased before it ever had a key can never get one either.
    let never = person(2);
    vault.erase(&never, at(1_800_000_001))?;
    assert!(matches!(
        vault.key_for(&never),
        Err(PrivacyError::Erased { .. })
    ));
    Ok(())
}

#[test]
fn keys_and_erasure_survive_reopening_the_database() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let master = MasterKey::generate();
    let (p1, p2) = (person(1), person(2));
    let (s1, s2) = {
        let db = open_db(dir.path());
        let vault = vault(&db, &master);
        let s1 = vault.seal_str(&p1, "email", "un@example.fr")?;
        let s2 = vault.seal_str(&p2, "email", "deux@example.fr")?;
        vault.erase(&p1, at(1_800_000_000))?;
        (s1, s2)
    };
    let db = open_db(dir.path());
    let vault = vault(&db, &master);
    assert_eq!(vault.open_str(&p1, "email", &s1)?, Opened::Erased);
    assert_eq!(vault.erased_at(&p1)?, Some(at(1_800_000_000)));
    assert!(matches!(
        vault.key_for(&p1),
        Err(PrivacyError::Erased { .. })
    ));
    assert_eq!(
        vault.open_str(&p2, "email", &s2)?,
        Opened::Clear("deux@example.fr".into())
    );
    Ok(())
}

#[test]
fn concurrent_first_calls_get_one_key() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = Arc::new(vault(&db, &MasterKey::generate()));
    const THREADS: usize = 8;
    for round in 0..20u32 {
        let subject = person(1000 + round);
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (vault, barrier, subject) = (vault.clone(), barrier.clone(), subject.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let key = vault.key_for(&subject).expect("key_for");
                    let sealed = key
                        .seal(&subject, "name", format!("thread {t}").as_bytes())
                        .expect("seal");
                    (key, sealed)
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        for (t, (key, sealed)) in results.iter().enumerate() {
            assert!(
                key.same_key_as(&results[0].0),
                "round {round}: thread {t} got another key"
            );
            // Every thread's ciphertext opens through the vault's one stored key.
            assert_eq!(
                vault.open(&subject, "name", sealed)?,
                Opened::Clear(format!("thread {t}").into_bytes())
            );
        }
    }
    assert_eq!(vault.subjects().count(), 20);
    Ok(())
}

#[test]
fn keys_are_not_shared_between_subjects() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    assert!(!vault
        .key_for(&person(1))?
        .same_key_as(&vault.key_for(&person(2))?));
    assert!(vault
        .key_for(&person(1))?
        .same_key_as(&vault.key_for(&person(1))?));
    Ok(())
}

#[test]
fn a_wrong_master_key_is_refused_clearly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (right, wrong) = (MasterKey::generate(), MasterKey::generate());
    let sealed = {
        let db = open_db(dir.path());
        vault(&db, &right).seal(&person(1), "email", b"x@example.fr")?
    };
    let db = open_db(dir.path());
    let err = KeyVault::new(db.open_tree(TREE)?, wrong.clone()).unwrap_err();
    match &err {
        PrivacyError::WrongMasterKey { expected, actual } => {
            assert_eq!(*expected, right.fingerprint());
            assert_eq!(*actual, wrong.fingerprint());
        }
        other => panic!("expected WrongMasterKey, got {other}"),
    }
    let message = err.to_string();
    assert!(message.contains("wrong master key"), "{message}");
    assert!(
        message.contains(&right.fingerprint().to_string()),
        "{message}"
    );

    // The right key still works.
    let vault = vault(&db, &right);
    assert_eq!(
        vault.open(&person(1), "email", &sealed)?,
        Opened::Clear(b"x@example.fr".to_vec())
    );
    Ok(())
}

#[test]
fn a_tampered_key_record_is_reported_as_corrupt() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let master = MasterKey::generate();
    let p = person(1);
    let sealed = vault(&db, &master).seal(&p, "email", b"x@example.fr")?;
    let tree = db.open_tree(TREE)?;
    let mut raw = tree.get(p.to_string())?.expect("record").to_vec();
    let last = raw.len() - 1;
    raw[last] ^= 0x80;
    tree.insert(p.to_string(), raw)?;
    let fresh = vault(&db, &master); // empty cache
    let err = fresh.open(&p, "email", &sealed).unwrap_err();
    assert!(matches!(err, PrivacyError::CorruptRecord { .. }), "{err}");
    // Erasure still works on a corrupt record.
    fresh.erase(&p, at(1_800_000_000))?;
    assert_eq!(fresh.open(&p, "email", &sealed)?, Opened::Erased);
    Ok(())
}

#[test]
fn rotate_rewraps_under_the_new_master_key_and_old_data_still_opens() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let subjects: Vec<_> = (0..50).map(person).collect();
    let note_subject = SubjectId::interaction("0190a1b2-0000-7000-8000-00000000abcd");
    let (sealed, note) = {
        let db = open_db(dir.path());
        let vault = vault(&db, &old);
        let sealed: Vec<_> = subjects
            .iter()
            .map(|s| vault.seal_str(s, "name", &format!("name of {s}")))
            .collect::<Result<_, _>>()?;
        let note = vault.seal_str(&note_subject, "notes", "met at the fablab")?;
        vault.erase(&subjects[7], at(1_800_000_000))?;
        (sealed, note)
    };

    let db = open_db(dir.path());
    let tree = db.open_tree(TREE)?;
    let trees = [tree.clone()];
    let report = KeyVault::rotate(&trees, &old, &new, |_, _| {})?[0];
    assert_eq!(
        (report.rewrapped, report.already_current, report.erased),
        (50, 0, 1)
    );
    // Running it again finds everything done.
    let again = KeyVault::rotate(&trees, &old, &new, |_, _| {})?[0];
    assert_eq!(
        (again.rewrapped, again.already_current, again.erased),
        (0, 50, 1)
    );

    assert!(matches!(
        KeyVault::new(tree.clone(), old.clone()),
        Err(PrivacyError::WrongMasterKey { .. })
    ));
    let vault = KeyVault::new(tree, new.clone())?;
    assert_eq!(vault.master_fingerprint(), new.fingerprint());
    for (i, (s, v)) in subjects.iter().zip(&sealed).enumerate() {
        let opened = vault.open_str(s, "name", v)?;
        if i == 7 {
            assert_eq!(opened, Opened::Erased);
        } else {
            assert_eq!(opened, Opened::Clear(format!("name of {s}")));
        }
    }
    assert_eq!(
        vault.open_str(&note_subject, "notes", &note)?,
        Opened::Clear("met at the fablab".into())
    );
    Ok(())
}

#[test]
fn rotate_refuses_a_master_key_the_vault_is_not_bound_to() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let tree = db.open_tree(TREE)?;
    let real = MasterKey::generate();
    KeyVault::new(tree.clone(), real.clone())?.key_for(&person(1))?;
    let stranger = MasterKey::generate();
    let trees = [tree.clone()];
    assert!(matches!(
        KeyVault::rotate(&trees, &stranger, &MasterKey::generate(), |_, _| {}),
        Err(PrivacyError::WrongMasterKey { .. })
    ));
    assert!(matches!(
        KeyVault::rotate(&trees, &real, &real, |_, _| {}),
        Err(PrivacyError::BadMasterKey(_))
    ));
    // Nothing changed: the real key still opens the vault.
    KeyVault::new(tree, real)?.key_for(&person(1))?;
    Ok(())
}

#[test]
fn subjects_lists_live_and_erased_subjects() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let other = SubjectId::new("survey-response", "r-42")?;
    vault.key_for(&person(1))?;
    vault.key_for(&other)?;
    vault.erase(&person(2), at(1_800_000_000))?;
    let listed: Vec<_> = vault.subjects().collect::<Result<_, _>>()?;
    assert_eq!(
        listed,
        vec![
            (person(1), SubjectState::Live),
            (
                person(2),
                SubjectState::Erased {
                    erased_at: at(1_800_000_000)
                }
            ),
            (other, SubjectState::Live),
        ]
    );
    Ok(())
}

#[test]
fn invalid_subjects_and_fields_are_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    assert!(matches!(
        vault.key_for(&SubjectId::person("")),
        Err(PrivacyError::Invalid { .. })
    ));
    assert!(matches!(
        vault.seal(&person(1), "", b"x"),
        Err(PrivacyError::Invalid { .. })
    ));
    assert!(matches!(
        vault.erase(&person(1), UNIX_EPOCH - Duration::from_secs(1)),
        Err(PrivacyError::Invalid { .. })
    ));
    let bytes = vault.seal(&person(1), "photo", &[0xff, 0xfe])?;
    assert!(matches!(
        vault.open_str(&person(1), "photo", &bytes),
        Err(PrivacyError::NotText { .. })
    ));
    Ok(())
}

#[test]
fn debug_output_never_shows_keys_or_plaintext() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_db(dir.path());
    let vault = vault(&db, &MasterKey::generate());
    let p = person(1);
    let key = vault.key_for(&p)?;
    assert_eq!(format!("{key:?}"), "DataKey(<redacted>)");
    let sealed = vault.seal_str(&p, "name", "Camille")?;
    let opened = vault.open_str(&p, "name", &sealed)?;
    assert!(!format!("{opened:?}").contains("Camille"));
    assert!(format!("{vault:?}").contains(&vault.master_fingerprint().to_string()));
    Ok(())
}
