//! Data keys: the per-subject 256-bit keys that personal data is sealed under.
//!
//! A [`DataKey`] holds a ready XChaCha20-Poly1305 cipher behind an `Arc`, so
//! cloning it (for the cache, for a caller) copies no key bytes; the cipher
//! zeroizes its key when the last clone is dropped.

use std::fmt;
use std::sync::Arc;

use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use rand::RngCore;
use zeroize::Zeroizing;

/// Length of a data key, in bytes.
pub const DATA_KEY_LEN: usize = 32;

/// One subject's data key, unwrapped. `Debug` never shows it.
#[derive(Clone)]
pub struct DataKey {
    cipher: Arc<XChaCha20Poly1305>,
}

impl DataKey {
    /// A new random key from the operating system's generator, with its raw bytes
    /// (for wrapping; zeroized when dropped).
    pub(crate) fn generate() -> (Self, Zeroizing<[u8; DATA_KEY_LEN]>) {
        let mut bytes = Zeroizing::new([0u8; DATA_KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        (DataKey::from_bytes(&bytes), bytes)
    }

    /// A key from its raw bytes.
    pub(crate) fn from_bytes(bytes: &[u8; DATA_KEY_LEN]) -> Self {
        DataKey {
            cipher: Arc::new(XChaCha20Poly1305::new(bytes.into())),
        }
    }

    /// The cipher under this key.
    pub(crate) fn cipher(&self) -> &XChaCha20Poly1305 {
        &self.cipher
    }

    /// Whether two handles share the same key (same cached instance or same key bytes).
    ///
    /// Compares by encrypting nothing under a fixed nonce: equal tags mean equal
    /// keys. Meant for tests and diagnostics, not for hot paths.
    pub fn same_key_as(&self, other: &DataKey) -> bool {
        use chacha20poly1305::aead::AeadInPlace;
        if Arc::ptr_eq(&self.cipher, &other.cipher) {
            return true;
        }
        let nonce = [0u8; 24];
        let aad = b"maillage-privacy/key-comparison";
        let tag = |key: &DataKey| {
            key.cipher
                .encrypt_in_place_detached((&nonce).into(), aad, &mut [])
                .ok()
        };
        matches!((tag(self), tag(other)), (Some(a), Some(b)) if a == b)
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}
