//! Personal-data encryption for Maillage, with a key vault and erasure by
//! crypto-shredding.
//!
//! Personal data (names, contact details, addresses, free-text notes about
//! people) never reaches an event log in clear. Each field is sealed
//! (XChaCha20-Poly1305) under the data key of its subject — a person, or an
//! interaction for its notes — with the subject and the field name bound in as
//! associated data. Data keys live in a [`KeyVault`]: a sled tree in the
//! service's own database, each key wrapped by the [`MasterKey`], which is kept
//! outside the database. Erasing a subject destroys its key and leaves a
//! tombstone: the log still verifies (its hashes cover ciphertext) and opening
//! the subject's fields gives [`Opened::Erased`].
//!
//! Limit worth knowing: sled is log-structured, so after an erasure the old
//! *wrapped* key can remain in the database files until sled rewrites them. It
//! is useless without the master key; rotating the master key
//! ([`KeyVault::rotate`]) and destroying the old one makes every such copy
//! unrecoverable, which is what makes erasures final against a copy of the disk.
//!
//! ```no_run
//! # fn main() -> Result<(), maillage_privacy::PrivacyError> {
//! use maillage_privacy::{KeyVault, MasterKey, Opened, SubjectId};
//! let db = sled::open("service-data")?;
//! let master = MasterKey::from_file("/etc/maillage/master.key")?.key;
//! let vault = KeyVault::new(db.open_tree("privacy.keys")?, master)?;
//! let person = SubjectId::person("0190a1b2-0000-7000-8000-000000000001");
//! let sealed = vault.seal_str(&person, "email", "camille@example.fr")?;
//! assert_eq!(vault.open_str(&person, "email", &sealed)?, Opened::Clear("camille@example.fr".into()));
//! vault.erase(&person, std::time::SystemTime::now())?;
//! assert_eq!(vault.open_str(&person, "email", &sealed)?, Opened::Erased);
//! # Ok(()) }
//! ```

pub mod data_key;
pub mod error;
pub mod master_key;
mod record;
pub mod rotation;
pub mod sealed;
pub mod subject;
pub mod vault;

pub use data_key::DataKey;
pub use error::{PrivacyError, Result};
pub use master_key::{Fingerprint, LoadedKeyFile, MasterKey, PermissionWarning};
pub use rotation::RewrapReport;
pub use sealed::Opened;
pub use subject::{SubjectId, SubjectKind};
pub use vault::{Erasure, KeyVault, SubjectState};
