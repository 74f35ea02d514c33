//! The error type of the privacy crate.
//!
//! Messages name subjects by kind and id and master keys by fingerprint only:
//! they never carry key material or plaintext, so they are safe to log.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::master_key::Fingerprint;
use crate::subject::SubjectId;

/// Everything that can go wrong while sealing, opening or managing keys.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The subject was erased (crypto-shredded): its key is gone for good.
    #[error("subject {subject} was erased")]
    Erased {
        /// The erased subject.
        subject: SubjectId,
        /// When the erasure happened, as given by the caller of `erase`.
        erased_at: SystemTime,
    },
    /// A sealed value failed authentication: it was altered, or it belongs to
    /// another subject or field.
    #[error("sealed value for field {field:?} of subject {subject} failed authentication (tampered, or sealed for another subject or field)")]
    Tampered {
        /// The subject the caller expected the value to belong to.
        subject: SubjectId,
        /// The field the caller expected the value to belong to.
        field: String,
    },
    /// Sealed bytes that are not in the sealed format (too short, unknown version).
    #[error("malformed sealed value: {0}")]
    Malformed(&'static str),
    /// `open` was asked for a subject that has no data key in this vault:
    /// the value was not sealed here.
    #[error("no data key for subject {subject}: the value was not sealed by this vault")]
    UnknownSubject {
        /// The subject without a key.
        subject: SubjectId,
    },
    /// A sealed value opened fine but is not UTF-8 text (`open_str` on bytes).
    #[error("field {field:?} of subject {subject} does not hold UTF-8 text")]
    NotText {
        /// The subject.
        subject: SubjectId,
        /// The field.
        field: String,
    },
    /// Master key text or bytes that are not a valid 32-byte key.
    #[error("bad master key: {0}")]
    BadMasterKey(String),
    /// The vault's keys are wrapped by another master key than the one given.
    #[error("wrong master key: the vault's keys are wrapped by master key {expected}, this one is {actual}")]
    WrongMasterKey {
        /// Fingerprint of the master key the stored data keys are wrapped by.
        expected: Fingerprint,
        /// Fingerprint of the master key that was supplied.
        actual: Fingerprint,
    },
    /// A master-key rotation of the vault began and did not finish (it was
    /// interrupted): some data keys are wrapped by the old key, some by the
    /// new one. No vault opens on it until the rotation is run again, with
    /// the same two keys, to the end.
    #[error("a master key rotation from key {old} to key {new} was interrupted: the vault holds data keys wrapped by either; run the rotation again (`maillage rekey`) with the old key {old} and the new key {new} to complete it")]
    RotationInProgress {
        /// Fingerprint of the master key the rotation started from.
        old: Fingerprint,
        /// Fingerprint of the master key it rewraps to.
        new: Fingerprint,
    },
    /// A key-vault record that cannot be read (unknown format, or a wrapped key
    /// that fails authentication under the right master key).
    #[error("corrupt key-vault record {record:?}: {reason}")]
    CorruptRecord {
        /// The record's key in the vault tree (a subject id, never key material).
        record: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A subject id or field name that cannot be used.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid ("subject kind", "subject id", "field name", "timestamp").
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The environment variable meant to hold the master key is not set (or not Unicode).
    #[error("environment variable {0} is not set or not valid Unicode")]
    MissingEnv(String),
    /// The sled database failed.
    #[error("key-vault storage error: {0}")]
    Storage(#[from] sled::Error),
    /// Reading or writing a master key file failed.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = PrivacyError> = std::result::Result<T, E>;
