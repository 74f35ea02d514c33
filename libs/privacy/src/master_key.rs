//! The master key: the one secret that wraps every data key of a vault.
//!
//! It is 32 random bytes, kept outside the database: in a file (hex or base64
//! text) or in an environment variable. It is zeroized on drop, never printed
//! (`Debug` shows its fingerprint only), and identified by a [`Fingerprint`]: a
//! one-way BLAKE3 derivation that is safe to log and to store next to the keys it
//! wraps, so that a wrong master key gives a clear error instead of a decryption
//! failure.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::error::{PrivacyError, Result};

/// Length of a master key, in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// BLAKE3 key-derivation context of fingerprints (fixed forever: stored fingerprints depend on it).
const FINGERPRINT_CONTEXT: &str = "maillage-privacy 2026-01-01 master key fingerprint v1";

/// A 256-bit master key. Zeroized on drop; `Debug` prints only its fingerprint.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; MASTER_KEY_LEN]>,
}

/// A short public identifier of a master key (8 bytes, shown as 16 hex digits).
///
/// Derived one-way from the key, it reveals nothing usable about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 8]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// A master key loaded from a file, with what is worth telling about the file.
#[derive(Debug)]
pub struct LoadedKeyFile {
    /// The key.
    pub key: MasterKey,
    /// Set when the file's permissions let other users read or write it.
    pub permission_warning: Option<PermissionWarning>,
}

/// The key file is accessible to its group or to everyone: it should be `chmod 600`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionWarning {
    /// The key file.
    pub path: PathBuf,
    /// Its permission bits (e.g. `0o644`).
    pub mode: u32,
}

impl fmt::Display for PermissionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "master key file {} has mode {:04o}: group or others can access it; chmod 600 it",
            self.path.display(),
            self.mode
        )
    }
}

impl MasterKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        MasterKey { bytes }
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        MasterKey {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A key from text: 64 hex digits, or base64 (standard or URL-safe, padded or
    /// not) of 32 bytes. Surrounding whitespace is ignored. The error never
    /// quotes the text.
    pub fn from_text(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PrivacyError::BadMasterKey("the key text is empty".into()));
        }
        // Even-length all-hex text is hex: base64 of 32 bytes is 44 characters
        // with `=` padding or 43 without, so it is never mistaken for hex.
        let decoded: Zeroizing<Vec<u8>> =
            if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                // Invariant: an even number of ASCII hex digits always decodes.
                Zeroizing::new(hex::decode(text).map_err(|_| bad_format(text))?)
            } else {
                let engines = [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                    &base64::engine::general_purpose::URL_SAFE,
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                ];
                let decoded = engines
                    .iter()
                    .find_map(|engine| engine.decode(text).ok())
                    .ok_or_else(|| bad_format(text))?;
                Zeroizing::new(decoded)
            };
        let bytes: [u8; MASTER_KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            PrivacyError::BadMasterKey(format!(
                "the key decodes to {} bytes, a master key is {MASTER_KEY_LEN} bytes",
                decoded.len()
            ))
        })?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// A key from the value of an environment variable (same text forms as [`MasterKey::from_text`]).
    pub fn from_env_value(value: &str) -> Result<Self> {
        MasterKey::from_text(value)
    }

    /// A key from the environment variable `name`.
    pub fn from_env(name: &str) -> Result<Self> {
        let value =
            Zeroizing::new(std::env::var(name).map_err(|_| PrivacyError::MissingEnv(name.into()))?);
        MasterKey::from_text(&value)
    }

    /// A key from a file holding its text; tells whether the file is too open.
    pub fn from_file(path: impl AsRef<Path>) -> Result<LoadedKeyFile> {
        let path = path.as_ref();
        let io = |source| PrivacyError::Io {
            path: path.to_owned(),
            source,
        };
        let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
        let key = MasterKey::from_text(&text)?;
        let permission_warning = permission_warning(path, &fs::metadata(path).map_err(io)?);
        Ok(LoadedKeyFile {
            key,
            permission_warning,
        })
    }

    /// Generates a key and writes it as hex to a new file with mode 0600,
    /// synced to disk. Refuses to overwrite an existing file.
    pub fn generate_file(path: impl AsRef<Path>) -> Result<Self> {
        let key = MasterKey::generate();
        key.write_file(path)?;
        Ok(key)
    }

    /// Writes this key as hex to a new file with mode 0600, synced to disk.
    /// Refuses to overwrite an existing file.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let io = |source| PrivacyError::Io {
            path: path.to_owned(),
            source,
        };
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        let mut text = Zeroizing::new(hex::encode(self.bytes.as_ref()));
        text.push('\n');
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    /// The key's public fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        let derived = Zeroizing::new(blake3::derive_key(FINGERPRINT_CONTEXT, self.bytes.as_ref()));
        let mut short = [0u8; 8];
        short.copy_from_slice(&derived[..8]);
        Fingerprint(short)
    }

    /// A 256-bit key for another purpose, derived one-way from this one with
    /// BLAKE3's key derivation under `context` (a fixed, unique string per
    /// purpose, e.g. `"maillage 2026 command fingerprint key v1"`). Knowing
    /// it reveals nothing about the master key nor about keys derived under
    /// other contexts; it changes when the master key is rotated. (The
    /// fingerprint's own context is public: never pass it here.)
    pub fn derive_key(&self, context: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(blake3::derive_key(context, self.bytes.as_ref()))
    }

    /// The raw key, for the vault's wrapping cipher.
    pub(crate) fn bytes(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("fingerprint", &self.fingerprint().to_string())
            .finish_non_exhaustive()
    }
}

fn bad_format(text: &str) -> PrivacyError {
    PrivacyError::BadMasterKey(format!(
        "expected 64 hex digits or the base64 of {MASTER_KEY_LEN} bytes, got {} characters that are neither",
        text.chars().count()
    ))
}

#[cfg(unix)]
fn permission_warning(path: &Path, metadata: &fs::Metadata) -> Option<PermissionWarning> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    (mode & 0o077 != 0).then(|| PermissionWarning {
        path: path.to_owned(),
        mode,
    })
}

#[cfg(not(unix))]
fn permission_warning(_path: &Path, _metadata: &fs::Metadata) -> Option<PermissionWarning> {
    None
}
