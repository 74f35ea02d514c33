//! The sealed format of personal-data fields, and sealing/opening under a data key.
//!
//! A sealed value is `version (1 byte) ‖ nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! Version 1 is XChaCha20-Poly1305 with a random nonce. The associated data binds
//! the value to its subject and its field name, so a ciphertext copied to another
//! field or another subject fails to open:
//! `"maillage-privacy/sealed" ‖ version ‖ u32be(len) ‖ "kind:id" ‖ u32be(len) ‖ field`.

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::XNonce;
use rand::RngCore;

use crate::data_key::DataKey;
use crate::error::{PrivacyError, Result};
use crate::subject::SubjectId;

/// Version byte of the current sealed format (XChaCha20-Poly1305, random 24-byte nonce).
pub const SEALED_V1: u8 = 1;
/// Nonce length of the v1 format.
pub const NONCE_LEN: usize = 24;
/// Authentication tag length of the v1 format.
pub const TAG_LEN: usize = 16;
/// Bytes a v1 sealed value adds to its plaintext.
pub const SEALED_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Longest accepted field name, in bytes.
pub const MAX_FIELD_LEN: usize = 128;

const HEADER_LEN: usize = 1 + NONCE_LEN;
const AAD_DOMAIN: &[u8] = b"maillage-privacy/sealed";

/// The result of opening a sealed value: the clear value, or the fact that its
/// subject was erased. A tampered value is an error, never `Erased`.
#[derive(Clone, PartialEq, Eq)]
pub enum Opened<T = Vec<u8>> {
    /// The value, decrypted and authenticated.
    Clear(T),
    /// The subject was erased: the value can never be read again.
    Erased,
}

impl<T> Opened<T> {
    /// `Some(value)`, or `None` when erased.
    pub fn into_option(self) -> Option<T> {
        match self {
            Opened::Clear(value) => Some(value),
            Opened::Erased => None,
        }
    }

    /// Whether the subject was erased.
    pub fn is_erased(&self) -> bool {
        matches!(self, Opened::Erased)
    }

    /// Borrows the clear value, if any.
    pub fn as_ref(&self) -> Opened<&T> {
        match self {
            Opened::Clear(value) => Opened::Clear(value),
            Opened::Erased => Opened::Erased,
        }
    }

    /// Maps the clear value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Opened<U> {
        match self {
            Opened::Clear(value) => Opened::Clear(f(value)),
            Opened::Erased => Opened::Erased,
        }
    }
}

/// Shows `Clear(<n bytes>)`-like text only: personal data never reaches a log by `{:?}`.
impl<T> std::fmt::Debug for Opened<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opened::Clear(_) => f.write_str("Clear(<redacted>)"),
            Opened::Erased => f.write_str("Erased"),
        }
    }
}

impl DataKey {
    /// Seals `plaintext` as field `field` of `subject` under this key.
    pub fn seal(&self, subject: &SubjectId, field: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        subject.validate()?;
        check_field(field)?;
        let aad = associated_data(subject, field);
        let mut out = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
        out.push(SEALED_V1);
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, &mut out[HEADER_LEN..])
            // Only fails for messages over ~256 GiB, which a Vec in memory here is not.
            .map_err(|_| PrivacyError::Malformed("plaintext too long to seal"))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens a value sealed as field `field` of `subject` under this key.
    pub fn open(&self, subject: &SubjectId, field: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        subject.validate()?;
        check_field(field)?;
        check_format(sealed)?;
        let aad = associated_data(subject, field);
        let (nonce, rest) = sealed[1..].split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut clear = ciphertext.to_vec();
        self.cipher()
            .decrypt_in_place_detached(XNonce::from_slice(nonce), &aad, &mut clear, tag.into())
            .map_err(|_| PrivacyError::Tampered {
                subject: subject.clone(),
                field: field.to_owned(),
            })?;
        Ok(clear)
    }
}

/// Checks that `sealed` has the shape of a sealed value (length, known version).
pub(crate) fn check_format(sealed: &[u8]) -> Result<()> {
    if sealed.len() < SEALED_OVERHEAD {
        return Err(PrivacyError::Malformed(
            "shorter than the sealed header and tag",
        ));
    }
    if sealed[0] != SEALED_V1 {
        return Err(PrivacyError::Malformed("unknown sealed format version"));
    }
    Ok(())
}

fn check_field(field: &str) -> Result<()> {
    if field.is_empty() || field.len() > MAX_FIELD_LEN {
        return Err(PrivacyError::Invalid {
            what: "field name",
            reason: format!("a field name is 1 to {MAX_FIELD_LEN} bytes"),
        });
    }
    Ok(())
}

fn associated_data(subject: &SubjectId, field: &str) -> Vec<u8> {
    let subject_key = subject.storage_key();
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 9 + subject_key.len() + field.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.push(SEALED_V1);
    // Lengths fit in u32: subject keys and field names are bounded far below.
    aad.extend_from_slice(&(subject_key.len() as u32).to_be_bytes());
    aad.extend_from_slice(&subject_key);
    aad.extend_from_slice(&(field.len() as u32).to_be_bytes());
    aad.extend_from_slice(field.as_bytes());
    aad
}
