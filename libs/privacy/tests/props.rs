//! Property tests: any plaintext, subject and field roundtrips, and never opens elsewhere.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use maillage_privacy::{KeyVault, MasterKey, Opened, PrivacyError, SubjectId};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_plaintext_roundtrips_and_is_bound_to_its_field(
        plaintext in proptest::collection::vec(any::<u8>(), 0..4096),
        id in "[0-9a-f-]{1,40}",
        field in "[a-z_.]{1,24}",
        text in "\\PC{0,200}",
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path().join("db")).open().unwrap();
        let vault = KeyVault::new(db.open_tree("privacy.keys").unwrap(), MasterKey::generate()).unwrap();
        let subject = SubjectId::person(id);

        let sealed = vault.seal(&subject, &field, &plaintext).unwrap();
        prop_assert_eq!(sealed.len(), plaintext.len() + 41);
        prop_assert_eq!(vault.open(&subject, &field, &sealed).unwrap(), Opened::Clear(plaintext));
        let other_field = format!("{field}x");
        let moved = matches!(
            vault.open(&subject, &other_field, &sealed),
            Err(PrivacyError::Tampered { .. })
        );
        prop_assert!(moved, "a value moved to another field must fail to open");

        let sealed_text = vault.seal_str(&subject, &field, &text).unwrap();
        prop_assert_eq!(vault.open_str(&subject, &field, &sealed_text).unwrap(), Opened::Clear(text));
    }
}
