//! The search index in memory: every stakeholder's row with what is derived
//! from the contacts naming it (last contact, themes), the contacts, the
//! segments, and each stakeholder's sort name. Loaded from the index's tree
//! when the service opens; searches read it under a read lock.
//!
//! The sort name of a person (family then given name, folded) is opened from
//! the key vault when the index loads or folds the person, and kept in memory
//! only, never written anywhere: it is what sorting by name needs, and the
//! process that holds it already holds the master key and a cache of data
//! keys. An erased person has none.

use std::collections::{BTreeMap, HashMap};

use maillage_privacy::{KeyVault, Opened, SubjectId};
use maillage_proto::v1 as pb;
use prost::Message;
use prost_types::Timestamp;
use uuid::Uuid;

use super::rows::{self, ContactRow, EntryRow, NamesRow};
use super::IndexError;
use crate::domain::ts_key;
use crate::grpc::person_fields;

/// A stakeholder in the index.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// What is stored of it.
    pub row: EntryRow,
    /// Its folded sort name (memory only); `None` for an erased person.
    pub sort_name: Option<String>,
    /// The contacts naming it.
    pub contacts: Vec<Uuid>,
    /// The latest date of those contacts.
    pub last_contact: Option<Timestamp>,
    /// Their themes (bit n: `Theme` value n).
    pub topics: u64,
}

impl Entry {
    /// Whether it is a person.
    pub fn is_person(&self) -> bool {
        self.row.r#type == pb::StakeholderType::Person as i32
    }
}

/// A contact in the index.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// Its participants.
    pub participants: Vec<Uuid>,
    /// When it took place.
    pub occurred_at: Option<Timestamp>,
    /// Its themes (bit n: `Theme` value n).
    pub topics: u64,
}

impl Contact {
    /// As stored.
    pub fn to_row(&self) -> ContactRow {
        ContactRow {
            participants: self
                .participants
                .iter()
                .map(|id| id.as_bytes().to_vec())
                .collect(),
            occurred_at: self.occurred_at,
            topics: self.topics,
        }
    }

    fn from_row(row: ContactRow) -> Self {
        Contact {
            participants: row
                .participants
                .iter()
                .filter_map(|bytes| Uuid::from_slice(bytes).ok())
                .collect(),
            occurred_at: row.occurred_at,
            topics: row.topics,
        }
    }
}

/// The themes of a list of `Theme` values as a bit set (values above 63 are
/// not kept: the vocabulary has 14).
pub fn topic_bits(topics: &[i32]) -> u64 {
    topics
        .iter()
        .filter(|value| (1..64).contains(*value))
        .fold(0, |bits, value| bits | 1 << value)
}

/// The sort name of a person.
pub fn person_sort_name(given: &str, family: &str) -> String {
    maillage_territory::fold(&format!("{family} {given}"))
}

/// The index in memory.
#[derive(Debug, Default)]
pub struct State {
    /// Stakeholders by id.
    pub entries: HashMap<Uuid, Entry>,
    /// Contacts by interaction id.
    pub contacts: HashMap<Uuid, Contact>,
    /// Segments by id.
    pub segments: BTreeMap<Uuid, pb::Segment>,
}

impl State {
    /// Loads the index stored in `tree`, opening persons' names with `vault`.
    pub fn load(tree: &sled::Tree, vault: &KeyVault) -> Result<Self, IndexError> {
        let mut state = State::default();
        // Every prefix but the postings (which stay on disk).
        let rows = [rows::ENTRY, rows::NAMES, rows::CONTACT, rows::SEGMENT]
            .into_iter()
            .flat_map(|prefix| tree.scan_prefix([prefix]));
        for item in rows {
            let (key, value) = item?;
            let Some((&prefix, _)) = key.split_first() else {
                continue;
            };
            let id = || rows::id_of(&key).ok_or(IndexError::Corrupt("a row key"));
            match prefix {
                rows::ENTRY => {
                    let row = EntryRow::decode(value.as_ref())?;
                    let entry = state.entries.entry(id()?).or_default();
                    if row.r#type == pb::StakeholderType::Organisation as i32 {
                        entry.sort_name = Some(maillage_territory::fold(&row.organisation_name));
                    }
                    entry.row = row;
                }
                rows::NAMES => {
                    let row = NamesRow::decode(value.as_ref())?;
                    let id = id()?;
                    if let Some(names) = open_names(vault, &id, &row)? {
                        state.entries.entry(id).or_default().sort_name =
                            Some(person_sort_name(&names.0, &names.1));
                    }
                }
                rows::CONTACT => {
                    let row = ContactRow::decode(value.as_ref())?;
                    state.contacts.insert(id()?, Contact::from_row(row));
                }
                rows::SEGMENT => {
                    let segment = pb::Segment::decode(value.as_ref())?;
                    state.segments.insert(id()?, segment);
                }
                _ => {}
            }
        }
        let links: Vec<(Uuid, Uuid)> = state
            .contacts
            .iter()
            .flat_map(|(contact, found)| found.participants.iter().map(|id| (*id, *contact)))
            .collect();
        for (stakeholder, contact) in links {
            if let Some(entry) = state.entries.get_mut(&stakeholder) {
                entry.contacts.push(contact);
            }
        }
        let ids: Vec<Uuid> = state.entries.keys().copied().collect();
        for id in ids {
            state.derive_contacts(&id);
        }
        Ok(state)
    }

    /// Recomputes a stakeholder's last contact and themes from its contacts.
    pub fn derive_contacts(&mut self, id: &Uuid) {
        let Some(entry) = self.entries.get(id) else {
            return;
        };
        let mut last: Option<Timestamp> = None;
        let mut topics = 0;
        for contact in entry.contacts.iter().filter_map(|c| self.contacts.get(c)) {
            topics |= contact.topics;
            if let Some(at) = contact.occurred_at {
                if last.is_none_or(|seen| ts_key(&at) > ts_key(&seen)) {
                    last = Some(at);
                }
            }
        }
        if let Some(entry) = self.entries.get_mut(id) {
            entry.last_contact = last;
            entry.topics = topics;
        }
    }
}

/// A person's names opened from the vault: `None` when the person's key was
/// destroyed (or the row holds none).
pub fn open_names(
    vault: &KeyVault,
    id: &Uuid,
    row: &NamesRow,
) -> Result<Option<(String, String)>, IndexError> {
    if row.sealed_family_name.is_empty() && row.sealed_given_name.is_empty() {
        return Ok(None);
    }
    let subject = SubjectId::person(id.to_string());
    let open = |field: &str, sealed: &[u8]| -> Result<Option<String>, IndexError> {
        if sealed.is_empty() {
            return Ok(Some(String::new()));
        }
        Ok(match vault.open_str(&subject, field, sealed)? {
            Opened::Clear(text) => Some(text),
            Opened::Erased => None,
        })
    };
    let given = open(person_fields::GIVEN_NAME, &row.sealed_given_name)?;
    let family = open(person_fields::FAMILY_NAME, &row.sealed_family_name)?;
    Ok(given.zip(family))
}
