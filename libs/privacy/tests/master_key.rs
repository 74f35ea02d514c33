//! Master-key loading tests: text forms, files, permissions, environment.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use maillage_privacy::{MasterKey, PrivacyError};

const BYTES: [u8; 32] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
];

fn expected() -> MasterKey {
    MasterKey::from_bytes(BYTES)
}

#[test]
fn hex_text_loads_with_whitespace_trimmed_in_either_case() -> anyhow::Result<()> {
    let hex = hex::encode(BYTES);
    let key = MasterKey::from_text(&format!("  {hex}\n"))?;
    assert_eq!(key.fingerprint(), expected().fingerprint());
    let upper = MasterKey::from_text(&hex.to_uppercase())?;
    assert_eq!(upper.fingerprint(), expected().fingerprint());
    Ok(())
}

#[test]
fn base64_text_loads_in_all_usual_alphabets() -> anyhow::Result<()> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        let text = engine.encode(BYTES);
        let key = MasterKey::from_text(&format!("{text}\n"))?;
        assert_eq!(key.fingerprint(), expected().fingerprint(), "{text}");
    }
    Ok(())
}

#[test]
fn wrong_lengths_and_garbage_are_refused_without_quoting_the_key() {
    let short_hex = hex::encode(&BYTES[..31]);
    let long_b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 33]);
    for (text, needle) in [
        (short_hex.as_str(), "31 bytes"),
        (long_b64.as_str(), "33 bytes"),
        ("not a key at all!", "neither"),
        ("   \n", "empty"),
    ] {
        let err = MasterKey::from_text(text).unwrap_err();
        assert!(matches!(err, PrivacyError::BadMasterKey(_)), "{err}");
        let message = err.to_string();
        assert!(message.contains(needle), "{message}");
        if text.trim().len() > 4 {
            assert!(
                !message.contains(text.trim()),
                "the error quotes the key: {message}"
            );
        }
    }
}

#[test]
fn a_generated_file_is_private_and_loads_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("master.key");
    let key = MasterKey::generate_file(&path)?;
    let mode = fs::metadata(&path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let loaded = MasterKey::from_file(&path)?;
    assert_eq!(loaded.key.fingerprint(), key.fingerprint());
    assert_eq!(loaded.permission_warning, None);

    // Never overwritten.
    let err = MasterKey::generate_file(&path).unwrap_err();
    assert!(matches!(err, PrivacyError::Io { .. }), "{err}");
    assert_eq!(
        MasterKey::from_file(&path)?.key.fingerprint(),
        key.fingerprint()
    );
    Ok(())
}

#[test]
fn a_readable_key_file_loads_with_a_warning() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("master.key");
    fs::write(
        &path,
        base64::engine::general_purpose::STANDARD.encode(BYTES),
    )?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644))?;
    let loaded = MasterKey::from_file(&path)?;
    assert_eq!(loaded.key.fingerprint(), expected().fingerprint());
    let warning = loaded.permission_warning.expect("a warning");
    assert_eq!(warning.mode, 0o644);
    assert!(warning.to_string().contains("chmod 600"));
    Ok(())
}

#[test]
fn missing_and_bad_files_are_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = MasterKey::from_file(dir.path().join("nope")).unwrap_err();
    assert!(matches!(missing, PrivacyError::Io { .. }), "{missing}");
    let path = dir.path().join("short.key");
    fs::write(&path, "abcd")?;
    assert!(matches!(
        MasterKey::from_file(&path),
        Err(PrivacyError::BadMasterKey(_))
    ));
    Ok(())
}

#[test]
fn env_values_load_like_text() -> anyhow::Result<()> {
    let key = MasterKey::from_env_value(&hex::encode(BYTES))?;
    assert_eq!(key.fingerprint(), expected().fingerprint());
    let missing = MasterKey::from_env("MAILLAGE_PRIVACY_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
    assert!(matches!(missing, PrivacyError::MissingEnv(_)));
    Ok(())
}

#[test]
fn debug_shows_the_fingerprint_not_the_key() {
    let key = expected();
    let debug = format!("{key:?}");
    assert!(debug.contains(&key.fingerprint().to_string()), "{debug}");
    assert!(!debug.contains(&hex::encode(BYTES)), "{debug}");
    assert!(!debug.contains("0011223344"), "{debug}");
    assert_ne!(key.fingerprint(), MasterKey::generate().fingerprint());
}

#[test]
fn derived_keys_depend_on_the_key_and_the_purpose_and_differ_from_both() {
    let key = expected();
    let a = key.derive_key("maillage test purpose a");
    assert_eq!(*a, *expected().derive_key("maillage test purpose a"));
    assert_ne!(*a, *key.derive_key("maillage test purpose b"));
    assert_ne!(*a, BYTES, "the master key itself is never handed out");
    let rotated = MasterKey::from_bytes([7; 32]);
    assert_ne!(*a, *rotated.derive_key("maillage test purpose a"));
}
