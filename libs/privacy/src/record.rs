//! The records a key vault keeps in its sled tree, and wrapping data keys.
//!
//! Tree layout, one record per subject under its `kind:id` key:
//!
//! - wrapped data key: `0x01 ‖ wrap version (0x01) ‖ master fingerprint (8) ‖
//!   nonce (24) ‖ XChaCha20-Poly1305(data key) (32 + 16)`, with associated data
//!   `"maillage-privacy/wrap" ‖ the first 10 bytes ‖ "kind:id"`;
//! - tombstone (erased): `0x02 ‖ erased_at seconds since 1970 (u64 be) ‖ nanoseconds (u32 be)`.
//!
//! Metadata records live under keys starting with `0x00` (no subject key can):
//!
//! - the fingerprint of the master key the vault is bound to:
//!   `0x01 ‖ fingerprint (8)`;
//! - while a master-key rotation is under way (and after it was interrupted),
//!   the rotation: `0x01 ‖ old key's fingerprint (8) ‖ new key's fingerprint (8)`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chacha20poly1305::aead::AeadInPlace;
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::data_key::{DataKey, DATA_KEY_LEN};
use crate::error::{PrivacyError, Result};
use crate::master_key::{Fingerprint, MasterKey};

/// Tree key of the metadata record.
pub(crate) const META_KEY: &[u8] = b"\x00meta/master";
/// Tree key of the rotation-in-progress record.
pub(crate) const ROTATION_KEY: &[u8] = b"\x00meta/rotation";

const TAG_KEY: u8 = 0x01;
const TAG_TOMBSTONE: u8 = 0x02;
const WRAP_V1: u8 = 0x01;
const META_V1: u8 = 0x01;
const WRAP_DOMAIN: &[u8] = b"maillage-privacy/wrap";
const WRAP_HEADER_LEN: usize = 2 + 8;
const NONCE_LEN: usize = 24;
const WRAPPED_LEN: usize = WRAP_HEADER_LEN + NONCE_LEN + DATA_KEY_LEN + 16;
const TOMBSTONE_LEN: usize = 1 + 8 + 4;

/// A subject's record, decoded.
pub(crate) enum Record<'a> {
    /// A live data key, wrapped by the master key with this fingerprint.
    Key {
        fingerprint: Fingerprint,
        raw: &'a [u8],
    },
    /// The subject was erased at this time.
    Tombstone { erased_at: SystemTime },
}

impl<'a> Record<'a> {
    /// Decodes a stored record; `record` names it in errors.
    pub(crate) fn decode(raw: &'a [u8], record: &[u8]) -> Result<Self> {
        let corrupt = |reason| PrivacyError::CorruptRecord {
            record: String::from_utf8_lossy(record).into_owned(),
            reason,
        };
        match raw.first() {
            Some(&TAG_KEY) => {
                if raw.len() != WRAPPED_LEN {
                    return Err(corrupt("wrapped key of the wrong length"));
                }
                if raw[1] != WRAP_V1 {
                    return Err(corrupt("unknown key-wrapping version"));
                }
                let mut fingerprint = [0u8; 8];
                fingerprint.copy_from_slice(&raw[2..WRAP_HEADER_LEN]);
                Ok(Record::Key {
                    fingerprint: Fingerprint(fingerprint),
                    raw,
                })
            }
            Some(&TAG_TOMBSTONE) => {
                if raw.len() != TOMBSTONE_LEN {
                    return Err(corrupt("tombstone of the wrong length"));
                }
                let mut secs = [0u8; 8];
                secs.copy_from_slice(&raw[1..9]);
                let mut nanos = [0u8; 4];
                nanos.copy_from_slice(&raw[9..13]);
                let since = Duration::new(u64::from_be_bytes(secs), u32::from_be_bytes(nanos));
                let erased_at = UNIX_EPOCH
                    .checked_add(since)
                    .ok_or_else(|| corrupt("tombstone time out of range"))?;
                Ok(Record::Tombstone { erased_at })
            }
            _ => Err(corrupt("unknown record type")),
        }
    }
}

/// Encodes a tombstone.
pub(crate) fn tombstone(erased_at: SystemTime) -> Result<Vec<u8>> {
    let since = erased_at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| PrivacyError::Invalid {
            what: "timestamp",
            reason: "an erasure time before 1970".into(),
        })?;
    let mut raw = Vec::with_capacity(TOMBSTONE_LEN);
    raw.push(TAG_TOMBSTONE);
    raw.extend_from_slice(&since.as_secs().to_be_bytes());
    raw.extend_from_slice(&since.subsec_nanos().to_be_bytes());
    Ok(raw)
}

/// Wraps a data key for the subject stored under `record` with `master`.
pub(crate) fn wrap(master: &MasterKey, record: &[u8], key: &[u8; DATA_KEY_LEN]) -> Result<Vec<u8>> {
    let mut raw = Vec::with_capacity(WRAPPED_LEN);
    raw.push(TAG_KEY);
    raw.push(WRAP_V1);
    raw.extend_from_slice(&master.fingerprint().0);
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    raw.extend_from_slice(&nonce);
    let start = raw.len();
    raw.extend_from_slice(key);
    let aad = wrap_aad(&raw[..WRAP_HEADER_LEN], record);
    let cipher = XChaCha20Poly1305::new(master.bytes().into());
    let tag = cipher
        .encrypt_in_place_detached(XNonce::from_slice(&nonce), &aad, &mut raw[start..])
        // Only fails for messages over ~256 GiB; this one is 32 bytes.
        .map_err(|_| PrivacyError::CorruptRecord {
            record: String::from_utf8_lossy(record).into_owned(),
            reason: "could not wrap the data key",
        })?;
    raw.extend_from_slice(&tag);
    Ok(raw)
}

/// Unwraps the data key of a `Record::Key` (its `raw` bytes) with `master`.
pub(crate) fn unwrap(master: &MasterKey, record: &[u8], raw: &[u8]) -> Result<DataKey> {
    Ok(DataKey::from_bytes(&*unwrap_bytes(master, record, raw)?))
}

/// Unwraps the raw bytes of the data key of a `Record::Key` with `master`.
pub(crate) fn unwrap_bytes(
    master: &MasterKey,
    record: &[u8],
    raw: &[u8],
) -> Result<Zeroizing<[u8; DATA_KEY_LEN]>> {
    let fingerprint = master.fingerprint();
    if raw.len() != WRAPPED_LEN || raw[2..WRAP_HEADER_LEN] != fingerprint.0 {
        let mut expected = [0u8; 8];
        if let Some(stored) = raw.get(2..WRAP_HEADER_LEN) {
            expected.copy_from_slice(stored);
        }
        return Err(PrivacyError::WrongMasterKey {
            expected: Fingerprint(expected),
            actual: fingerprint,
        });
    }
    let aad = wrap_aad(&raw[..WRAP_HEADER_LEN], record);
    let nonce = &raw[WRAP_HEADER_LEN..WRAP_HEADER_LEN + NONCE_LEN];
    let body = &raw[WRAP_HEADER_LEN + NONCE_LEN..];
    let (wrapped, tag) = body.split_at(DATA_KEY_LEN);
    let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    key.copy_from_slice(wrapped);
    XChaCha20Poly1305::new(master.bytes().into())
        .decrypt_in_place_detached(XNonce::from_slice(nonce), &aad, key.as_mut(), tag.into())
        .map_err(|_| PrivacyError::CorruptRecord {
            record: String::from_utf8_lossy(record).into_owned(),
            reason: "the wrapped data key fails authentication under the right master key",
        })?;
    Ok(key)
}

/// Encodes the metadata record for a master key.
pub(crate) fn meta(master: &MasterKey) -> Vec<u8> {
    let mut raw = Vec::with_capacity(9);
    raw.push(META_V1);
    raw.extend_from_slice(&master.fingerprint().0);
    raw
}

/// Decodes the metadata record: the fingerprint of the vault's master key.
pub(crate) fn decode_meta(raw: &[u8]) -> Result<Fingerprint> {
    if raw.len() != 9 || raw[0] != META_V1 {
        return Err(PrivacyError::CorruptRecord {
            record: "meta/master".into(),
            reason: "unknown metadata format",
        });
    }
    let mut fingerprint = [0u8; 8];
    fingerprint.copy_from_slice(&raw[1..]);
    Ok(Fingerprint(fingerprint))
}

/// Encodes the rotation-in-progress record.
pub(crate) fn rotation(old: Fingerprint, new: Fingerprint) -> Vec<u8> {
    let mut raw = Vec::with_capacity(17);
    raw.push(META_V1);
    raw.extend_from_slice(&old.0);
    raw.extend_from_slice(&new.0);
    raw
}

/// Decodes the rotation-in-progress record: the old and the new key's fingerprints.
pub(crate) fn decode_rotation(raw: &[u8]) -> Result<(Fingerprint, Fingerprint)> {
    if raw.len() != 17 || raw[0] != META_V1 {
        return Err(PrivacyError::CorruptRecord {
            record: "meta/rotation".into(),
            reason: "unknown rotation record format",
        });
    }
    let mut old = [0u8; 8];
    old.copy_from_slice(&raw[1..9]);
    let mut new = [0u8; 8];
    new.copy_from_slice(&raw[9..]);
    Ok((Fingerprint(old), Fingerprint(new)))
}

fn wrap_aad(header: &[u8], record: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_DOMAIN.len() + header.len() + record.len());
    aad.extend_from_slice(WRAP_DOMAIN);
    aad.extend_from_slice(header);
    aad.extend_from_slice(record);
    aad
}
