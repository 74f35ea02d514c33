//! Master-key rotation: rewrapping every data key of one or more vaults from
//! the old master key to a new one, resumable after an interruption.
//!
//! A rotation first writes, in every vault, a rotation record naming both
//! keys' fingerprints (flushed), then rewraps each vault's keys and binds it
//! to the new key, and removes the records only once every vault is done.
//! While a record is there, no vault opens on that tree, with either key
//! ([`PrivacyError::RotationInProgress`] names both): a service never starts
//! on a vault whose keys are wrapped partly by one key and partly by the
//! other. Running the same rotation again (same old and new keys) skips the
//! keys already rewrapped and completes it; a rotation with other keys is
//! refused until then.

use crate::error::{PrivacyError, Result};
use crate::master_key::{Fingerprint, MasterKey};
use crate::record::{self, Record, META_KEY, ROTATION_KEY};
use crate::vault::KeyVault;

/// Keys rewrapped between two flushes of a vault's tree, so that an
/// interrupted rotation keeps most of its work.
const FLUSH_EVERY: u64 = 1024;

/// What a rotation did in one vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RewrapReport {
    /// Data keys rewrapped from the old master key to the new one.
    pub rewrapped: u64,
    /// Data keys already wrapped by the new master key (an earlier, interrupted run).
    pub already_current: u64,
    /// Tombstones of erased subjects (left as they are: they hold no key).
    pub erased: u64,
}

impl KeyVault {
    /// Rotates the master key of every vault in `trees` (one per service
    /// database) from `old` to `new`: rewraps each data key, binds each tree
    /// to `new`, flushes. See the module documentation for how an
    /// interrupted rotation is detected and resumed.
    ///
    /// Run it with no vault open on these trees (services stopped).
    /// `on_progress` is called after each subject of vault `trees[i]` with
    /// `i` and that vault's report so far. After it, destroy the old master
    /// key: that also makes the stale copies of erased keys that sled may
    /// keep in its files unrecoverable.
    pub fn rotate(
        trees: &[sled::Tree],
        old: &MasterKey,
        new: &MasterKey,
        mut on_progress: impl FnMut(usize, &RewrapReport),
    ) -> Result<Vec<RewrapReport>> {
        let (old_fp, new_fp) = (old.fingerprint(), new.fingerprint());
        if old_fp == new_fp {
            return Err(PrivacyError::BadMasterKey(
                "the new master key is the same as the old one".into(),
            ));
        }
        // Every vault is checked before any is written to.
        for tree in trees {
            check_can_rotate(tree, old_fp, new_fp)?;
        }
        for tree in trees {
            tree.insert(ROTATION_KEY, record::rotation(old_fp, new_fp))?;
            tree.flush()?;
        }
        let mut reports = Vec::with_capacity(trees.len());
        for (index, tree) in trees.iter().enumerate() {
            reports.push(rewrap(tree, old, new, |report| on_progress(index, report))?);
        }
        for tree in trees {
            tree.remove(ROTATION_KEY)?;
            tree.flush()?;
        }
        tracing::info!(
            old = %old_fp,
            new = %new_fp,
            rewrapped = reports.iter().map(|report| report.rewrapped).sum::<u64>(),
            "master key rotated"
        );
        Ok(reports)
    }
}

/// A tree can rotate from `old` to `new` if it is bound to either (or to
/// none yet) and no rotation with other keys was left unfinished on it.
fn check_can_rotate(tree: &sled::Tree, old: Fingerprint, new: Fingerprint) -> Result<()> {
    if let Some(raw) = tree.get(ROTATION_KEY)? {
        let recorded = record::decode_rotation(&raw)?;
        if recorded != (old, new) {
            return Err(PrivacyError::RotationInProgress {
                old: recorded.0,
                new: recorded.1,
            });
        }
    }
    if let Some(raw) = tree.get(META_KEY)? {
        let bound = record::decode_meta(&raw)?;
        if bound != old && bound != new {
            return Err(PrivacyError::WrongMasterKey {
                expected: bound,
                actual: old,
            });
        }
    }
    Ok(())
}

/// Rewraps the data keys of one tree still under `old`, then binds it to `new`.
fn rewrap(
    tree: &sled::Tree,
    old: &MasterKey,
    new: &MasterKey,
    mut on_progress: impl FnMut(&RewrapReport),
) -> Result<RewrapReport> {
    let new_fp = new.fingerprint();
    let mut report = RewrapReport::default();
    for item in tree.iter() {
        let (record_key, _) = item?;
        if record_key.starts_with(b"\x00") {
            continue;
        }
        // Re-read and compare-and-swap, in case the record changed meanwhile.
        loop {
            let Some(raw) = tree.get(&record_key)? else {
                break;
            };
            match Record::decode(&raw, &record_key)? {
                Record::Tombstone { .. } => {
                    report.erased += 1;
                    break;
                }
                Record::Key { fingerprint, .. } if fingerprint == new_fp => {
                    report.already_current += 1;
                    break;
                }
                Record::Key { raw: wrapped, .. } => {
                    let key = record::unwrap_bytes(old, &record_key, wrapped)?;
                    let rewrapped = record::wrap(new, &record_key, &key)?;
                    if tree
                        .compare_and_swap(&record_key, Some(&raw), Some(rewrapped))?
                        .is_ok()
                    {
                        report.rewrapped += 1;
                        if report.rewrapped % FLUSH_EVERY == 0 {
                            tree.flush()?;
                        }
                        break;
                    }
                }
            }
        }
        on_progress(&report);
    }
    tree.insert(META_KEY, record::meta(new))?;
    tree.flush()?;
    Ok(report)
}
