//! The search index: its tree and its state in memory, fed from the
//! stakeholders log ([`maillage_replica::Follows`], so that
//! `maillage_replica::follow` keeps it fed from a direct feed of the log),
//! told by the erasure saga to forget a person ([`SearchIndex::erase`]), and
//! searched.
//!
//! Writers (a batch of events, an erasure) take turns: each folds into the
//! state in memory under its write lock, then writes its rows (and a batch
//! its checkpoint) in one atomic sled batch and flushes before it returns,
//! as a replica does: whatever survives a crash is a checkpoint with exactly
//! its rows, and an erasure is on disk before the saga records
//! `PersonErased`. A batch opens the names it indexes before it takes the
//! lock, so a search waits only for the fold itself. If the write fails, the
//! state is loaded again from the tree, and the follower starts again from
//! the stored checkpoint.
//!
//! The index's tree records the check value of the blind key it was built
//! with, and the format of its rows: opened under another master key (after
//! `maillage rekey`), or by a version whose rows hold more
//! ([`rows::FORMAT`]), the tree is cleared and the index folds the log again
//! from position 1.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use maillage_privacy::KeyVault;
use maillage_proto::v1 as pb;
use maillage_replica::checkpoint;
use maillage_replica::follow::{FollowError, Follows};
use maillage_service_kit::Disclosure;
use prost::Message;
use prost_types::Timestamp;
use tokio::sync::watch;
use uuid::Uuid;

use super::blind::{BlindKey, Token, TOKEN_LEN};
use super::filter::Filter;
use super::fold::{decode, Changes};
use super::order::{Key, SortKey};
use super::page::{Page, PageTokens};
use super::rows::{self, NamesRow};
use super::state::{Entry, State};
use super::IndexError;
use crate::CONTEXT;

/// What a search found: one page, and how many in all.
#[derive(Debug)]
pub struct Found {
    /// How many stakeholders match, in all pages.
    pub total: usize,
    /// The page, in order, with whether the caller may see each name.
    pub rows: Vec<(Uuid, Entry, bool)>,
    /// The last key of the page when more follow.
    pub next: Option<SortKey>,
    /// The log position the index had applied.
    pub position: u64,
}

/// The register's search index (see the module docs).
pub struct SearchIndex {
    tree: sled::Tree,
    vault: Arc<KeyVault>,
    key: BlindKey,
    pages: PageTokens,
    state: RwLock<State>,
    /// Writers (batches, erasures) take turns.
    writer: Mutex<()>,
    position: watch::Sender<u64>,
}

/// Whether `disclosure` shows `entry`'s name: an organisation's always, a
/// person's as `GetStakeholder` shows it.
pub fn name_shown(entry: &Entry, disclosure: Disclosure) -> bool {
    !entry.is_person()
        || disclosure.is_full()
        || (disclosure.shows_public_names() && entry.row.public_role)
}

impl SearchIndex {
    /// Opens the index stored in `tree` and loads it in memory, opening
    /// persons' names with `vault`; clears it first when it was built under
    /// another master key.
    pub fn open(tree: sled::Tree, vault: Arc<KeyVault>) -> Result<Self, IndexError> {
        let key = BlindKey::from_vault(&vault);
        let check = key.check_value();
        let stored = tree.get(rows::KEY_CHECK_KEY)?;
        let format = tree.get(rows::FORMAT_KEY)?;
        if stored.as_deref() != Some(check.as_slice()) || format.as_deref() != Some(rows::FORMAT) {
            if !tree.is_empty() {
                tracing::warn!(
                    "the search index was built under another master key or in an older format: it is rebuilt from the log"
                );
            }
            tree.clear()?;
            tree.insert(rows::KEY_CHECK_KEY, check.as_slice())?;
            tree.insert(rows::FORMAT_KEY, rows::FORMAT)?;
            tree.flush()?;
        }
        let state = State::load(&tree, &vault)?;
        let (position, _) = checkpoint::read(&tree, rows::CHECKPOINT_KEY)?;
        Ok(Self {
            pages: PageTokens::from_vault(&vault),
            tree,
            vault,
            key,
            state: RwLock::new(state),
            writer: Mutex::new(()),
            position: watch::Sender::new(position),
        })
    }

    /// The page tokens of searches.
    pub fn pages(&self) -> &PageTokens {
        &self.pages
    }

    /// The last log position applied.
    pub fn position(&self) -> u64 {
        *self.position.borrow()
    }

    /// Waits until the index has applied `position`, at most `timeout`;
    /// returns the position reached.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> u64 {
        let mut reached = self.position.subscribe();
        let _ = tokio::time::timeout(timeout, reached.wait_for(|at| *at >= position)).await;
        self.position()
    }

    /// The state, for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `batch` (built from the state as it now is in memory) and
    /// flushes; if that fails, loads the state again from the tree.
    fn commit(&self, batch: sled::Batch) -> Result<(), IndexError> {
        let written = self
            .tree
            .apply_batch(batch)
            .and_then(|()| self.tree.flush().map(|_| ()));
        if let Err(error) = written {
            self.reload();
            return Err(error.into());
        }
        Ok(())
    }

    /// Loads the state again from the tree (after a failed write).
    fn reload(&self) {
        match State::load(&self.tree, &self.vault) {
            Ok(state) => *self.write() = state,
            Err(error) => {
                tracing::error!(%error, "the search index could not be loaded again after a failed write")
            }
        }
    }

    /// Applies `envelopes` (in position order) and their checkpoint durably;
    /// returns how many were new (the rest were redeliveries).
    pub fn apply_batch(&self, envelopes: &[pb::EventEnvelope]) -> Result<usize, IndexError> {
        let _turn = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut checkpoint = self.position();
        let mut hash = None;
        let mut facts = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            if envelope.context != CONTEXT {
                return Err(IndexError::WrongContext(envelope.context.clone()));
            }
            if envelope.position <= checkpoint {
                continue;
            }
            if envelope.position != checkpoint + 1 {
                return Err(IndexError::Gap {
                    checkpoint,
                    position: envelope.position,
                });
            }
            facts.push(decode(envelope, &self.vault)?);
            checkpoint = envelope.position;
            hash = <[u8; 32]>::try_from(envelope.hash.as_slice()).ok();
        }
        let applied = facts.len();
        if applied == 0 {
            return Ok(0);
        }
        let folded = {
            let mut state = self.write();
            let mut changes = Changes::new(&self.tree, &self.key);
            let mut outcome = Ok(());
            for fact in facts {
                outcome = changes.fold(&mut state, fact);
                if outcome.is_err() {
                    break;
                }
            }
            outcome.map(|()| changes.into_batch(&state, Some(checkpoint::row(checkpoint, hash))))
        };
        match folded {
            Ok(batch) => self.commit(batch)?,
            Err(error) => {
                self.reload();
                return Err(error);
            }
        }
        self.position.send_replace(checkpoint);
        Ok(applied)
    }

    /// Forgets person `id`'s names and tokens for good, durably (the erasure
    /// saga calls it once their keys are destroyed, before it records
    /// `PersonErased`; folding `PersonErasureStarted` does it too).
    pub fn erase(&self, id: &Uuid) -> Result<(), IndexError> {
        let _turn = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let folded = {
            let mut state = self.write();
            let mut changes = Changes::new(&self.tree, &self.key);
            changes
                .erase(&mut state, id)
                .map(|()| changes.into_batch(&state, None))
        };
        match folded {
            Ok(batch) => self.commit(batch),
            Err(error) => {
                self.reload();
                Err(error)
            }
        }
    }

    /// The stakeholders one token is posted for.
    fn postings(&self, token: &Token) -> Result<HashSet<Uuid>, IndexError> {
        let mut found = HashSet::new();
        for item in self.tree.scan_prefix(rows::postings_of(token)) {
            let (key, _) = item?;
            if key.len() == 1 + TOKEN_LEN + 16 {
                if let Some(id) = rows::id_of(&key) {
                    found.insert(id);
                }
            }
        }
        Ok(found)
    }

    /// The blind key the index's tokens are made with (imports make their
    /// dedupe tokens with it).
    pub fn blind_key(&self) -> &BlindKey {
        &self.key
    }

    /// The stakeholders (not erased) a dedupe token is posted for, in id order.
    pub fn find_token(&self, token: &Token) -> Result<Vec<Uuid>, IndexError> {
        let posted = self.postings(token)?;
        let state = self.read();
        let mut found: Vec<Uuid> = posted
            .into_iter()
            .filter(|id| {
                state
                    .entries
                    .get(id)
                    .is_some_and(|entry| !entry.row.erased && entry.row.r#type != 0)
            })
            .collect();
        found.sort_unstable();
        Ok(found)
    }

    /// The stakeholders whose tokens hold every word of a name query.
    fn named(&self, words: &[String]) -> Result<HashSet<Uuid>, IndexError> {
        let mut found: Option<HashSet<Uuid>> = None;
        for token in self.key.query_tokens(words) {
            let posted = self.postings(&token)?;
            found = Some(match found {
                None => posted,
                Some(found) => found.intersection(&posted).copied().collect(),
            });
            if found.as_ref().is_some_and(HashSet::is_empty) {
                break;
            }
        }
        Ok(found.unwrap_or_default())
    }

    /// A person's names as stored (sealed), to open for a page.
    pub fn sealed_names(&self, id: &Uuid) -> Result<NamesRow, IndexError> {
        Ok(match self.tree.get(rows::key(rows::NAMES, id))? {
            Some(bytes) => NamesRow::decode(bytes.as_ref())?,
            None => NamesRow::default(),
        })
    }

    /// One page of the stakeholders every filter of `filters` finds (at most
    /// one holds a name query), in the order `sort` (reversed when
    /// `descending`), as `disclosure` may see them, as of `now`.
    pub fn search(
        &self,
        filters: &[Filter],
        sort: pb::StakeholderSort,
        descending: bool,
        disclosure: Disclosure,
        page: &Page,
        now: &Timestamp,
    ) -> Result<Found, IndexError> {
        let words: Vec<String> = filters
            .iter()
            .flat_map(|filter| filter.name_words.iter().cloned())
            .collect();
        let named = if words.is_empty() {
            None
        } else {
            Some(self.named(&words)?)
        };
        let position = self.position();
        let state = self.read();
        let order = |a: &Key<'_>, b: &Key<'_>| if descending { b.cmp(a) } else { a.cmp(b) };
        let after = page.after.as_ref().map(Key::borrowed);
        let candidates: Box<dyn Iterator<Item = (&Uuid, &Entry)>> = match &named {
            Some(ids) => Box::new(ids.iter().filter_map(|id| state.entries.get_key_value(id))),
            None => Box::new(state.entries.iter()),
        };
        let mut total = 0;
        let mut keys: Vec<Key<'_>> = Vec::new();
        for (id, entry) in candidates {
            if entry.row.erased || entry.row.r#type == 0 {
                continue;
            }
            let shown = name_shown(entry, disclosure);
            if named.is_some() && !shown {
                continue;
            }
            if !filters.iter().all(|filter| filter.matches(entry, now)) {
                continue;
            }
            total += 1;
            let key = Key::of(sort, *id, entry, shown);
            if after
                .as_ref()
                .is_none_or(|after| order(&key, after) == std::cmp::Ordering::Greater)
            {
                keys.push(key);
            }
        }
        let wanted = page.size + 1;
        if keys.len() > wanted {
            keys.select_nth_unstable_by(wanted - 1, order);
            keys.truncate(wanted);
        }
        keys.sort_unstable_by(order);
        let more = keys.len() > page.size;
        keys.truncate(page.size);
        let next = if more {
            keys.last().cloned().map(Key::into_owned)
        } else {
            None
        };
        let rows = keys
            .iter()
            .filter_map(|key| {
                let id = key.id();
                let entry = state.entries.get(&id)?;
                Some((id, entry.clone(), name_shown(entry, disclosure)))
            })
            .collect();
        Ok(Found {
            total,
            rows,
            next,
            position,
        })
    }

    /// One page of the segments, by name (folded) then id.
    pub fn segments(&self, page: &Page) -> (Vec<pb::Segment>, Option<SortKey>) {
        let state = self.read();
        let after = page.after.as_ref().map(Key::borrowed);
        let folded: Vec<(String, &pb::Segment)> = state
            .segments
            .values()
            .map(|segment| (maillage_territory::fold(&segment.name), segment))
            .collect();
        let mut keys: Vec<(Key<'_>, &pb::Segment)> = folded
            .iter()
            .filter_map(|(name, segment)| {
                let id = Uuid::try_parse(&segment.segment_id).ok()?;
                let key = Key::Name {
                    hidden: false,
                    name: Cow::Borrowed(name.as_str()),
                    id,
                };
                match &after {
                    Some(after) if key <= *after => None,
                    _ => Some((key, *segment)),
                }
            })
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let more = keys.len() > page.size;
        keys.truncate(page.size);
        let next = if more {
            keys.last().map(|(key, _)| key.clone().into_owned())
        } else {
            None
        };
        (
            keys.into_iter()
                .map(|(_, segment)| segment.clone())
                .collect(),
            next,
        )
    }
}

impl Follows for SearchIndex {
    fn context(&self) -> &'static str {
        CONTEXT
    }

    fn position(&self) -> u64 {
        SearchIndex::position(self)
    }

    fn position_hash(&self) -> Result<Option<[u8; 32]>, sled::Error> {
        Ok(checkpoint::read(&self.tree, rows::CHECKPOINT_KEY)?.1)
    }

    fn apply(
        self: Arc<Self>,
        envelopes: Vec<pb::EventEnvelope>,
    ) -> BoxFuture<'static, Result<(), FollowError>> {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || self.apply_batch(&envelopes))
                .await
                .map_err(|error| format!("the search index's commit task was lost: {error}"))??;
            Ok(())
        })
    }
}
