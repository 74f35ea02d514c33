//! The key vault: per-subject data keys in the service's own sled database,
//! wrapped by the master key, with erasure by crypto-shredding.
//!
//! One [`KeyVault`] per tree, shared (e.g. in an `Arc`) by everything in the
//! process that seals or opens personal data: its in-memory cache of unwrapped
//! keys is what makes erasure take effect at once, so a second vault over the
//! same tree would keep serving keys from its own cache.

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use lru::LruCache;

use crate::data_key::DataKey;
use crate::error::{PrivacyError, Result};
use crate::master_key::{Fingerprint, MasterKey};
use crate::record::{self, Record, META_KEY, ROTATION_KEY};
use crate::sealed::{self, Opened};
use crate::subject::SubjectId;

/// Default number of unwrapped data keys kept in memory.
pub const DEFAULT_CACHE_CAPACITY: usize = 16_384;

/// Per-subject data keys, wrapped by a master key, in a sled tree.
pub struct KeyVault {
    tree: sled::Tree,
    master: MasterKey,
    cache: Mutex<LruCache<SubjectId, DataKey>>,
    /// Whether a new key is flushed before use (see [`KeyVault::sharing_log_database`]).
    flush_new_keys: bool,
}

/// What `erase` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erasure {
    /// When the subject was erased: the time given now, or the earlier one if
    /// the subject was already erased (erasing is idempotent).
    pub erased_at: SystemTime,
    /// True when the subject had already been erased before this call.
    pub already_erased: bool,
}

/// The state of a subject known to the vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectState {
    /// It has a live data key.
    Live,
    /// It was erased at this time.
    Erased {
        /// When.
        erased_at: SystemTime,
    },
}

/// A subject's key as found in the tree.
enum Lookup {
    Live(DataKey),
    Erased(SystemTime),
    Missing,
}

impl KeyVault {
    /// A vault over `tree` (opened by the caller in its own database, e.g.
    /// `db.open_tree("privacy.keys")`), with the default cache capacity.
    ///
    /// A new tree is bound to `master`; an existing one must have been bound to
    /// the same master key, or this fails with `WrongMasterKey`.
    pub fn new(tree: sled::Tree, master: MasterKey) -> Result<Self> {
        // Invariant: DEFAULT_CACHE_CAPACITY is not zero.
        let capacity = NonZeroUsize::new(DEFAULT_CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        KeyVault::with_cache_capacity(tree, master, capacity)
    }

    /// A vault that keeps at most `capacity` unwrapped keys in memory.
    pub fn with_cache_capacity(
        tree: sled::Tree,
        master: MasterKey,
        capacity: NonZeroUsize,
    ) -> Result<Self> {
        bind_master(&tree, &master)?;
        Ok(KeyVault {
            tree,
            master,
            cache: Mutex::new(LruCache::new(capacity)),
            flush_new_keys: true,
        })
    }

    /// For a vault whose tree lives in the same sled database as the event log
    /// that carries the values sealed under its keys: a new key then needs no
    /// flush of its own, because the log's flush before it acknowledges an
    /// append covers every tree of the database, the key written before the
    /// event included. (sled keeps one log for all the trees of a database.)
    pub fn sharing_log_database(mut self) -> Self {
        self.flush_new_keys = false;
        self
    }

    /// The fingerprint of the master key this vault uses (safe to log).
    pub fn master_fingerprint(&self) -> Fingerprint {
        self.master.fingerprint()
    }

    /// A key for another purpose derived one-way from the master key (see
    /// [`MasterKey::derive_key`]): it is gone once the master key is rotated
    /// and the old one destroyed.
    pub fn derive_key(&self, context: &str) -> zeroize::Zeroizing<[u8; 32]> {
        self.master.derive_key(context)
    }

    /// The data key of `subject`, created (and made durable) if it has none.
    ///
    /// Concurrent first calls for one subject all get the same key: creation is
    /// a compare-and-swap on the tree. An erased subject gets `Erased`, never a
    /// fresh key.
    pub fn key_for(&self, subject: &SubjectId) -> Result<DataKey> {
        match self.lookup(subject, true)? {
            Lookup::Live(key) => Ok(key),
            Lookup::Erased(erased_at) => Err(PrivacyError::Erased {
                subject: subject.clone(),
                erased_at,
            }),
            // Not returned when creating: `lookup` creates the key instead.
            Lookup::Missing => Err(PrivacyError::UnknownSubject {
                subject: subject.clone(),
            }),
        }
    }

    /// Seals `plaintext` as field `field` of `subject` (creating the subject's
    /// key if needed). See [`crate::sealed`] for the format.
    pub fn seal(&self, subject: &SubjectId, field: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.key_for(subject)?.seal(subject, field, plaintext)
    }

    /// Seals a text field.
    pub fn seal_str(&self, subject: &SubjectId, field: &str, text: &str) -> Result<Vec<u8>> {
        self.seal(subject, field, text.as_bytes())
    }

    /// Opens a value sealed as field `field` of `subject`: `Clear(bytes)`, or
    /// `Erased` if the subject was erased. A value that was altered, or sealed
    /// for another subject or field, is a `Tampered` error; malformed bytes are
    /// a `Malformed` error even for an erased subject.
    pub fn open(&self, subject: &SubjectId, field: &str, sealed: &[u8]) -> Result<Opened> {
        sealed::check_format(sealed)?;
        match self.lookup(subject, false)? {
            Lookup::Live(key) => Ok(Opened::Clear(key.open(subject, field, sealed)?)),
            Lookup::Erased(_) => Ok(Opened::Erased),
            Lookup::Missing => Err(PrivacyError::UnknownSubject {
                subject: subject.clone(),
            }),
        }
    }

    /// Opens a text field: `Clear(text)` or `Erased`.
    pub fn open_str(
        &self,
        subject: &SubjectId,
        field: &str,
        sealed: &[u8],
    ) -> Result<Opened<String>> {
        match self.open(subject, field, sealed)? {
            Opened::Clear(bytes) => {
                String::from_utf8(bytes)
                    .map(Opened::Clear)
                    .map_err(|_| PrivacyError::NotText {
                        subject: subject.clone(),
                        field: field.to_owned(),
                    })
            }
            Opened::Erased => Ok(Opened::Erased),
        }
    }

    /// Erases `subject`: destroys its data key, leaves a tombstone dated
    /// `erased_at`, drops the key from the cache and flushes to disk before
    /// returning. Idempotent: erasing again keeps the first date. A subject that
    /// never had a key gets a tombstone too, so no key can be created for it later.
    ///
    /// Note: sled is log-structured, so the old wrapped key may linger in its
    /// files until they are rewritten; it stays unreadable without the master
    /// key, and is gone for good once the master key is rotated (`KeyVault::rotate`) and
    /// the old one destroyed.
    pub fn erase(&self, subject: &SubjectId, erased_at: SystemTime) -> Result<Erasure> {
        subject.validate()?;
        let record_key = subject.storage_key();
        let tombstone = record::tombstone(erased_at)?;
        let erasure = loop {
            let current = self.tree.get(&record_key)?;
            if let Some(raw) = &current {
                // A corrupt record is overwritten like a live one: erasure must not fail on it.
                if let Ok(Record::Tombstone { erased_at }) = Record::decode(raw, &record_key) {
                    break Erasure {
                        erased_at,
                        already_erased: true,
                    };
                }
            }
            if self
                .tree
                .compare_and_swap(&record_key, current, Some(tombstone.as_slice()))?
                .is_ok()
            {
                break Erasure {
                    erased_at,
                    already_erased: false,
                };
            }
        };
        self.cache().pop(subject);
        self.tree.flush()?;
        if !erasure.already_erased {
            tracing::info!(subject_kind = %subject.kind(), subject_id = subject.id(), "subject erased");
        }
        Ok(erasure)
    }

    /// Whether `subject` was erased.
    pub fn is_erased(&self, subject: &SubjectId) -> Result<bool> {
        Ok(self.erased_at(subject)?.is_some())
    }

    /// When `subject` was erased, if it was.
    pub fn erased_at(&self, subject: &SubjectId) -> Result<Option<SystemTime>> {
        subject.validate()?;
        let record_key = subject.storage_key();
        match self.tree.get(&record_key)? {
            Some(raw) => match Record::decode(&raw, &record_key)? {
                Record::Tombstone { erased_at } => Ok(Some(erased_at)),
                Record::Key { .. } => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// Every subject the vault knows, in `kind:id` order, with its state.
    pub fn subjects(&self) -> impl Iterator<Item = Result<(SubjectId, SubjectState)>> {
        self.tree
            .iter()
            .filter(|item| !matches!(item, Ok((key, _)) if key.starts_with(b"\x00")))
            .map(|item| {
                let (key, raw) = item?;
                let subject = std::str::from_utf8(&key)
                    .ok()
                    .and_then(|text| SubjectId::parse(text).ok())
                    .ok_or_else(|| PrivacyError::CorruptRecord {
                        record: String::from_utf8_lossy(&key).into_owned(),
                        reason: "not a subject id",
                    })?;
                let state = match Record::decode(&raw, &key)? {
                    Record::Key { .. } => SubjectState::Live,
                    Record::Tombstone { erased_at } => SubjectState::Erased { erased_at },
                };
                Ok((subject, state))
            })
    }

    /// Flushes the vault's tree (and the rest of its database) to disk.
    pub fn flush(&self) -> Result<()> {
        self.tree.flush()?;
        Ok(())
    }

    /// Finds (or, with `create`, makes) the key of `subject`, through the cache.
    fn lookup(&self, subject: &SubjectId, create: bool) -> Result<Lookup> {
        if let Some(key) = self.cache().get(subject) {
            return Ok(Lookup::Live(key.clone()));
        }
        subject.validate()?;
        let record_key = subject.storage_key();
        // Set when another caller created the key first: it may not be flushed yet.
        let mut lost_race = false;
        loop {
            let current = self.tree.get(&record_key)?;
            let (key, stored) = match &current {
                Some(raw) => match Record::decode(raw, &record_key)? {
                    Record::Tombstone { erased_at } => return Ok(Lookup::Erased(erased_at)),
                    Record::Key { raw: wrapped, .. } => {
                        if lost_race && self.flush_new_keys {
                            self.tree.flush()?;
                        }
                        (
                            record::unwrap(&self.master, &record_key, wrapped)?,
                            raw.clone(),
                        )
                    }
                },
                None if !create => return Ok(Lookup::Missing),
                None => {
                    let (key, bytes) = DataKey::generate();
                    let wrapped = record::wrap(&self.master, &record_key, &bytes)?;
                    let swap = self.tree.compare_and_swap(
                        &record_key,
                        None::<&[u8]>,
                        Some(wrapped.as_slice()),
                    )?;
                    if swap.is_err() {
                        lost_race = true;
                        continue;
                    }
                    // Durable before any value sealed under it can reach the event log
                    // (by the log's own flush when the vault shares its database).
                    if self.flush_new_keys {
                        self.tree.flush()?;
                    }
                    tracing::debug!(subject_kind = %subject.kind(), subject_id = subject.id(), "data key created");
                    (key, sled::IVec::from(wrapped))
                }
            };
            // Cache the key only if its record is still the one we read, checked
            // under the cache lock: `erase` writes its tombstone before taking
            // that lock to evict, so an erased key can never stay cached.
            let mut cache = self.cache();
            if self.tree.get(&record_key)?.as_ref() == Some(&stored) {
                cache.put(subject.clone(), key.clone());
                return Ok(Lookup::Live(key));
            }
        }
    }

    /// The cache, even if a thread panicked while holding it: every cache
    /// operation leaves it consistent, so a poisoned lock is safe to reuse.
    fn cache(&self) -> MutexGuard<'_, LruCache<SubjectId, DataKey>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault")
            .field("master", &self.master.fingerprint().to_string())
            .finish_non_exhaustive()
    }
}

/// Binds a new tree to `master`, or checks that an existing one is bound to
/// it and that no rotation of its master key was left unfinished.
fn bind_master(tree: &sled::Tree, master: &MasterKey) -> Result<()> {
    if let Some(raw) = tree.get(ROTATION_KEY)? {
        let (old, new) = record::decode_rotation(&raw)?;
        return Err(PrivacyError::RotationInProgress { old, new });
    }
    let fingerprint = master.fingerprint();
    loop {
        match tree.get(META_KEY)? {
            Some(raw) => {
                let bound = record::decode_meta(&raw)?;
                if bound != fingerprint {
                    return Err(PrivacyError::WrongMasterKey {
                        expected: bound,
                        actual: fingerprint,
                    });
                }
                return Ok(());
            }
            None => {
                let meta = record::meta(master);
                if tree
                    .compare_and_swap(META_KEY, None::<&[u8]>, Some(meta))?
                    .is_ok()
                {
                    tree.flush()?;
                    return Ok(());
                }
            }
        }
    }
}
