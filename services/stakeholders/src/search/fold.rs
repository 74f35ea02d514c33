//! How the stakeholders log's events change the search index: each event is
//! decoded (a person's names opened from the vault, outside the index's
//! lock), then folded into the index in memory while [`Changes`] collects the
//! rows to write, in one sled batch with the checkpoint.
//!
//! Besides the name prefixes, a stakeholder's tokens hold the dedupe tokens
//! imports look up (`super::blind::Dedupe`): a person's email and identity
//! (names, commune, birth year), an organisation's SIREN, and the fingerprints
//! of the import rows that created or completed it (`StakeholderImported`).
//! They go with the names when a person is erased.
//!
//! Folding is by stakeholder, contact and segment id, so it does not depend on
//! anything but the log's order. A person whose erasure started keeps no
//! names and no tokens; a person whose key is already destroyed when an
//! earlier event of theirs is folded (an index rebuilt after an erasure) gets
//! none either.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use maillage_es::EventPayload;
use maillage_privacy::KeyVault;
use maillage_proto::themes;
use maillage_proto::v1 as pb;
use prost::Message;
use uuid::Uuid;

use super::blind::{identity, BlindKey, Dedupe, Token};
use super::rows::{self, NamesRow};
use super::state::{open_names, person_sort_name, topic_bits, State};
use super::IndexError;
use crate::domain::interaction::InteractionEvent;
use crate::domain::segment::SegmentEvent;
use crate::domain::stakeholder::{consent_of, withdraw, StakeholderEvent};
use crate::grpc::{person_fields, INTERACTION, SEGMENT, STAKEHOLDER};

/// A person's email and birth date (from a registration or a profile
/// update) and an import's fingerprint, opened from the vault; empty when
/// absent or erased.
#[derive(Debug, Default)]
pub struct Secrets {
    /// The email, as validated.
    pub email: String,
    /// `YYYY-MM-DD` or `YYYY`.
    pub birth_date: String,
    /// A `StakeholderImported`'s fingerprint token.
    pub fingerprint: Vec<u8>,
}

/// One event of the log, decoded.
pub enum Fact {
    /// An event of a stakeholder, with the names of a person's registration
    /// or profile update opened (`None`: not such an event, or erased).
    Stakeholder {
        /// The stakeholder's id (from its stream id).
        id: Uuid,
        /// The decoded event.
        event: StakeholderEvent,
        /// The person's given and family names, opened from the event's sealed profile.
        names: Option<(String, String)>,
        /// What else a person's event carries that dedupe needs, opened.
        secrets: Secrets,
    },
    /// An event of an interaction.
    Interaction {
        /// The interaction's id (from its stream id).
        id: Uuid,
        /// The decoded event.
        event: InteractionEvent,
    },
    /// An event of a segment, at this version of its stream.
    Segment {
        /// The segment's id (from its stream id).
        id: Uuid,
        /// The event's version in the segment's stream.
        version: u64,
        /// The decoded event.
        event: SegmentEvent,
    },
    /// An event of another stream (none today).
    Ignored,
}

fn undecodable(envelope: &pb::EventEnvelope, reason: impl std::fmt::Display) -> IndexError {
    IndexError::Undecodable {
        position: envelope.position,
        reason: reason.to_string(),
    }
}

/// Decodes `envelope`, opening with `vault` the names a person's event carries.
pub fn decode(envelope: &pb::EventEnvelope, vault: &KeyVault) -> Result<Fact, IndexError> {
    let Some((category, id)) = envelope.stream_id.split_once('-') else {
        return Err(undecodable(envelope, "a stream id without a category"));
    };
    let category = category.to_owned();
    let parse = || Uuid::try_parse(id).map_err(|error| undecodable(envelope, error));
    let payload = envelope.payload.as_slice();
    let event_type = envelope.event_type.as_str();
    if category == STAKEHOLDER {
        let id = parse()?;
        let event = StakeholderEvent::decode(event_type, payload)
            .map_err(|error| undecodable(envelope, error))?;
        let profile = match &event {
            StakeholderEvent::PersonRegistered(event) => event.profile.as_ref(),
            StakeholderEvent::PersonProfileUpdated(event) => event.profile.as_ref(),
            _ => None,
        };
        let names = match profile {
            Some(profile) => open_names(vault, &id, &sealed_names(profile))?,
            None => None,
        };
        let mut secrets = Secrets::default();
        if let (Some(profile), Some(_)) = (profile, &names) {
            secrets.email = open_field(vault, &id, person_fields::EMAIL, &profile.sealed_email)?;
            secrets.birth_date = open_field(
                vault,
                &id,
                person_fields::BIRTH_DATE,
                &profile.sealed_birth_date,
            )?;
        }
        if let StakeholderEvent::StakeholderImported(imported) = &event {
            secrets.fingerprint = if imported.sealed_fingerprint.is_empty() {
                imported.fingerprint.clone()
            } else {
                let hex = open_field(
                    vault,
                    &id,
                    person_fields::IMPORT_FINGERPRINT,
                    &imported.sealed_fingerprint,
                )?;
                hex::decode(hex).unwrap_or_default()
            };
        }
        Ok(Fact::Stakeholder {
            id,
            event,
            names,
            secrets,
        })
    } else if category == INTERACTION {
        let event = InteractionEvent::decode(event_type, payload)
            .map_err(|error| undecodable(envelope, error))?;
        Ok(Fact::Interaction {
            id: parse()?,
            event,
        })
    } else if category == SEGMENT {
        let event = SegmentEvent::decode(event_type, payload)
            .map_err(|error| undecodable(envelope, error))?;
        Ok(Fact::Segment {
            id: parse()?,
            version: envelope.version,
            event,
        })
    } else {
        Ok(Fact::Ignored)
    }
}

/// A person's sealed field opened (empty when not given or erased).
fn open_field(
    vault: &KeyVault,
    id: &Uuid,
    field: &str,
    sealed: &[u8],
) -> Result<String, IndexError> {
    if sealed.is_empty() {
        return Ok(String::new());
    }
    let subject = maillage_privacy::SubjectId::person(id.to_string());
    Ok(match vault.open_str(&subject, field, sealed)? {
        maillage_privacy::Opened::Clear(text) => text,
        maillage_privacy::Opened::Erased => String::new(),
    })
}

/// A person's names as the index keeps them (sealed), without tokens yet.
fn sealed_names(profile: &pb::SealedPersonProfile) -> NamesRow {
    NamesRow {
        sealed_given_name: profile.sealed_given_name.clone(),
        sealed_family_name: profile.sealed_family_name.clone(),
        tokens: Vec::new(),
        fingerprints: Vec::new(),
    }
}

/// The type of an organisation's profile.
pub fn organisation_type(profile: &pb::OrganisationProfile) -> pb::OrganisationType {
    use pb::organisation_profile::Details;
    match profile.details {
        Some(Details::LocalAuthority(_)) => pb::OrganisationType::LocalAuthority,
        Some(Details::Business(_)) => pb::OrganisationType::Business,
        Some(Details::Chamber(_)) => pb::OrganisationType::Chamber,
        Some(Details::Association(_)) => pb::OrganisationType::Association,
        Some(Details::PublicAdministration(_)) => pb::OrganisationType::PublicAdministration,
        Some(Details::TiersLieu(_)) => pb::OrganisationType::TiersLieu,
        None => pb::OrganisationType::Unspecified,
    }
}

/// The rows a batch of facts changes, written at the end in one sled batch.
pub struct Changes<'a> {
    tree: &'a sled::Tree,
    key: &'a BlindKey,
    /// Names rows as this batch leaves them.
    names: HashMap<Uuid, NamesRow>,
    entries: BTreeSet<Uuid>,
    contacts: BTreeSet<Uuid>,
    segments: BTreeSet<Uuid>,
    batch: sled::Batch,
}

impl<'a> Changes<'a> {
    /// Changes to the index stored in `tree`, its tokens made with `key`.
    pub fn new(tree: &'a sled::Tree, key: &'a BlindKey) -> Self {
        Self {
            tree,
            key,
            names: HashMap::new(),
            entries: BTreeSet::new(),
            contacts: BTreeSet::new(),
            segments: BTreeSet::new(),
            batch: sled::Batch::default(),
        }
    }

    /// The names row of `id` as this batch sees it.
    fn names_row(&self, id: &Uuid) -> Result<NamesRow, IndexError> {
        if let Some(row) = self.names.get(id) {
            return Ok(row.clone());
        }
        Ok(match self.tree.get(rows::key(rows::NAMES, id))? {
            Some(bytes) => NamesRow::decode(bytes.as_ref())?,
            None => NamesRow::default(),
        })
    }

    /// Replaces `id`'s names row and its postings.
    fn set_names(&mut self, id: &Uuid, row: NamesRow) -> Result<(), IndexError> {
        let old = self.names_row(id)?;
        for token in old.tokens.iter().chain(&old.fingerprints) {
            if let Ok(token) = Token::try_from(token.as_slice()) {
                self.batch.remove(rows::posting(&token, id));
            }
        }
        for token in row.tokens.iter().chain(&row.fingerprints) {
            if let Ok(token) = Token::try_from(token.as_slice()) {
                self.batch.insert(rows::posting(&token, id), Vec::new());
            }
        }
        self.names.insert(*id, row);
        Ok(())
    }

    /// The tokens of `names`.
    fn tokens<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Vec<Vec<u8>> {
        let mut tokens = BTreeSet::new();
        for name in names {
            self.key.add_name_tokens(name, &mut tokens);
        }
        tokens.into_iter().map(|token| token.to_vec()).collect()
    }

    /// Forgets person `id`'s names and tokens for good (their erasure started).
    pub fn erase(&mut self, state: &mut State, id: &Uuid) -> Result<(), IndexError> {
        self.set_names(id, NamesRow::default())?;
        let entry = state.entries.entry(*id).or_default();
        entry.row.erased = true;
        entry.sort_name = None;
        self.entries.insert(*id);
        Ok(())
    }

    /// A person's kinds, commune and names, from a registration or an update.
    fn person(
        &mut self,
        state: &mut State,
        id: &Uuid,
        profile: Option<&pb::SealedPersonProfile>,
        names: Option<(String, String)>,
        secrets: &Secrets,
    ) -> Result<(), IndexError> {
        let profile = profile.cloned().unwrap_or_default();
        let entry = state.entries.entry(*id).or_default();
        entry.row.r#type = pb::StakeholderType::Person as i32;
        entry.row.person_kinds = profile.kinds.clone();
        entry.row.commune_code = profile.commune_code.clone();
        self.entries.insert(*id);
        match names {
            Some((given, family)) if !entry.row.erased => {
                entry.sort_name = Some(person_sort_name(&given, &family));
                let mut row = sealed_names(&profile);
                let mut tokens = BTreeSet::new();
                self.key.add_name_tokens(&given, &mut tokens);
                self.key.add_name_tokens(&family, &mut tokens);
                if !secrets.email.is_empty() {
                    let email = secrets.email.to_lowercase();
                    tokens.insert(self.key.dedupe_token(Dedupe::Email, email.as_bytes()));
                }
                if let Some(identity) =
                    identity(&given, &family, &profile.commune_code, &secrets.birth_date)
                {
                    tokens.insert(self.key.dedupe_token(Dedupe::Identity, identity.as_bytes()));
                }
                row.tokens = tokens.into_iter().map(|token| token.to_vec()).collect();
                row.fingerprints = self.names_row(id)?.fingerprints;
                self.set_names(id, row)
            }
            // The key is gone (or the erasure started): nothing to index.
            _ => self.erase(state, id),
        }
    }

    /// An organisation's profile (its name is not personal data).
    fn organisation(
        &mut self,
        state: &mut State,
        id: &Uuid,
        profile: Option<&pb::OrganisationProfile>,
    ) -> Result<(), IndexError> {
        let profile = profile.cloned().unwrap_or_default();
        let entry = state.entries.entry(*id).or_default();
        entry.row.r#type = pb::StakeholderType::Organisation as i32;
        entry.row.organisation_type = organisation_type(&profile) as i32;
        entry.row.commune_code = profile.commune_code.clone();
        entry.row.organisation_name = profile.name.clone();
        entry.sort_name = Some(maillage_territory::fold(&profile.name));
        self.entries.insert(*id);
        let mut tokens = self.tokens([profile.name.as_str()]);
        if !profile.siren.is_empty() {
            let siren = self
                .key
                .dedupe_token(Dedupe::Siren, profile.siren.as_bytes());
            tokens.push(siren.to_vec());
        }
        let fingerprints = self.names_row(id)?.fingerprints;
        self.set_names(
            id,
            NamesRow {
                tokens,
                fingerprints,
                ..NamesRow::default()
            },
        )
    }

    /// Applies a change to a stakeholder's row.
    fn update(&mut self, state: &mut State, id: &Uuid, change: impl FnOnce(&mut rows::EntryRow)) {
        change(&mut state.entries.entry(*id).or_default().row);
        self.entries.insert(*id);
    }

    /// Folds one fact into `state`.
    pub fn fold(&mut self, state: &mut State, fact: Fact) -> Result<(), IndexError> {
        match fact {
            Fact::Stakeholder {
                id,
                event,
                names,
                secrets,
            } => self.stakeholder(state, &id, event, names, &secrets),
            Fact::Interaction { id, event } => {
                self.interaction(state, &id, event);
                Ok(())
            }
            Fact::Segment { id, version, event } => {
                let SegmentEvent::SegmentDefined(defined) = event;
                state.segments.insert(
                    id,
                    pb::Segment {
                        segment_id: id.to_string(),
                        version,
                        name: defined.name,
                        description: defined.description,
                        filter: defined.filter,
                        defined_at: defined.defined_at,
                        defined_by: defined.defined_by,
                    },
                );
                self.segments.insert(id);
                Ok(())
            }
            Fact::Ignored => Ok(()),
        }
    }

    fn stakeholder(
        &mut self,
        state: &mut State,
        id: &Uuid,
        event: StakeholderEvent,
        names: Option<(String, String)>,
        secrets: &Secrets,
    ) -> Result<(), IndexError> {
        use StakeholderEvent as E;
        match event {
            E::PersonRegistered(event) => {
                self.person(state, id, event.profile.as_ref(), names, secrets)?
            }
            E::PersonProfileUpdated(event) => {
                self.person(state, id, event.profile.as_ref(), names, secrets)?
            }
            E::StakeholderImported(_) => {
                let erased = state.entries.get(id).is_some_and(|entry| entry.row.erased);
                if !erased && secrets.fingerprint.len() == super::blind::TOKEN_LEN {
                    let mut row = self.names_row(id)?;
                    if !row.fingerprints.contains(&secrets.fingerprint) {
                        row.fingerprints.push(secrets.fingerprint.clone());
                        self.set_names(id, row)?;
                    }
                }
            }
            E::OrganisationRegistered(event) => {
                self.organisation(state, id, event.profile.as_ref())?
            }
            E::OrganisationProfileUpdated(event) => {
                self.organisation(state, id, event.profile.as_ref())?
            }
            E::MandateStarted(event) => self.update(state, id, |row| {
                row.public_role = true;
                row.mandates
                    .retain(|mandate| mandate.mandate_id != event.mandate_id);
                row.mandates.push(pb::Mandate {
                    mandate_id: event.mandate_id,
                    office: event.office,
                    authority: event.authority,
                    started_at: event.started_at,
                    ended_at: event.ended_at,
                });
            }),
            E::MandateEnded(event) => self.update(state, id, |row| {
                if let Some(mandate) = row
                    .mandates
                    .iter_mut()
                    .find(|mandate| mandate.mandate_id == event.mandate_id)
                {
                    mandate.ended_at = event.ended_at;
                }
            }),
            E::AffiliationAdded(event) => self.update(state, id, |row| {
                row.public_role = true;
                row.affiliations
                    .retain(|affiliation| affiliation.affiliation_id != event.affiliation_id);
                row.affiliations.push(pb::Affiliation {
                    affiliation_id: event.affiliation_id,
                    organisation_id: event.organisation_id,
                    role: event.role,
                    started_at: event.started_at,
                    ended_at: None,
                });
            }),
            E::AffiliationEnded(event) => self.update(state, id, |row| {
                if let Some(affiliation) = row
                    .affiliations
                    .iter_mut()
                    .find(|affiliation| affiliation.affiliation_id == event.affiliation_id)
                {
                    affiliation.ended_at = event.ended_at;
                }
            }),
            E::ConsentRecorded(event) => self.update(state, id, |row| {
                row.consents
                    .retain(|consent| consent.channel != event.channel);
                row.consents.push(consent_of(&event));
                row.consents.sort_by_key(|consent| consent.channel);
            }),
            E::ConsentWithdrawn(event) => self.update(state, id, |row| {
                let mut held: BTreeMap<i32, pb::Consent> = row
                    .consents
                    .drain(..)
                    .map(|consent| (consent.channel, consent))
                    .collect();
                withdraw(&mut held, &event);
                row.consents = held.into_values().collect();
            }),
            E::OrganisationLinked(event) => {
                let link = pb::OrganisationLink {
                    link_id: event.link_id,
                    organisation_id: id.to_string(),
                    kind: event.kind,
                    linked_organisation_id: event.linked_organisation_id,
                    started_at: event.started_at,
                    ended_at: None,
                };
                let other = Uuid::try_parse(&link.linked_organisation_id).ok();
                for side in std::iter::once(*id).chain(other) {
                    let link = link.clone();
                    self.update(state, &side, |row| {
                        row.organisation_links
                            .retain(|held| held.link_id != link.link_id);
                        row.organisation_links.push(link);
                    });
                }
            }
            E::OrganisationLinkEnded(event) => {
                let other = state
                    .entries
                    .get(id)
                    .and_then(|entry| {
                        entry
                            .row
                            .organisation_links
                            .iter()
                            .find(|link| link.link_id == event.link_id)
                    })
                    .and_then(|link| Uuid::try_parse(&link.linked_organisation_id).ok());
                for side in std::iter::once(*id).chain(other) {
                    self.update(state, &side, |row| {
                        if let Some(link) = row
                            .organisation_links
                            .iter_mut()
                            .find(|link| link.link_id == event.link_id)
                        {
                            link.ended_at = event.ended_at;
                        }
                    });
                }
            }
            E::StakeholderArchived(_) => self.update(state, id, |row| row.archived = true),
            E::PersonErasureStarted(_) | E::PersonErased(_) => self.erase(state, id)?,
            E::StakeholderAssessed(_)
            | E::PersonErasureConfirmed(_)
            | E::PersonErasureCompleted(_) => {}
        }
        Ok(())
    }

    fn interaction(&mut self, state: &mut State, id: &Uuid, event: InteractionEvent) {
        let before = state
            .contacts
            .get(id)
            .map(|contact| contact.participants.clone())
            .unwrap_or_default();
        let contact = state.contacts.entry(*id).or_default();
        match event {
            InteractionEvent::InteractionLogged(logged) => {
                contact.participants = participant_ids(&logged.participants);
                contact.occurred_at = logged.occurred_at;
                contact.topics = topic_bits(&themes::topics_or_older(
                    &logged.topics,
                    &logged.themes,
                    themes::from_interaction_value,
                ));
            }
            InteractionEvent::InteractionCorrected(correction) => {
                if let Some(list) = &correction.participants {
                    contact.participants = participant_ids(&list.participants);
                }
                if let Some(at) = correction.occurred_at {
                    contact.occurred_at = Some(at);
                }
                // As `apply_correction` then `topics_or_older` read it.
                if let Some(older) = &correction.themes {
                    let topics = correction
                        .topics
                        .as_ref()
                        .map(|topics| topics.themes.clone())
                        .unwrap_or_default();
                    contact.topics = topic_bits(&themes::topics_or_older(
                        &topics,
                        &older.themes,
                        themes::from_interaction_value,
                    ));
                } else if let Some(topics) = &correction.topics {
                    contact.topics = topic_bits(&topics.themes);
                }
            }
            InteractionEvent::FollowUpCompleted(_) | InteractionEvent::FollowUpReassigned(_) => {
                return
            }
        }
        let after = contact.participants.clone();
        self.contacts.insert(*id);
        for gone in before.iter().filter(|old| !after.contains(old)) {
            if let Some(entry) = state.entries.get_mut(gone) {
                entry.contacts.retain(|contact| contact != id);
            }
        }
        for added in &after {
            if let Some(entry) = state.entries.get_mut(added) {
                if !entry.contacts.contains(id) {
                    entry.contacts.push(*id);
                }
            }
        }
        for touched in before.iter().chain(&after) {
            state.derive_contacts(touched);
        }
    }

    /// The batch that stores every change, with the checkpoint row `checkpoint`.
    pub fn into_batch(mut self, state: &State, checkpoint: Option<Vec<u8>>) -> sled::Batch {
        for id in &self.entries {
            if let Some(entry) = state.entries.get(id) {
                self.batch
                    .insert(rows::key(rows::ENTRY, id), entry.row.encode_to_vec());
            }
        }
        for (id, row) in &self.names {
            let key = rows::key(rows::NAMES, id);
            if *row == NamesRow::default() {
                self.batch.remove(key);
            } else {
                self.batch.insert(key, row.encode_to_vec());
            }
        }
        for id in &self.contacts {
            if let Some(contact) = state.contacts.get(id) {
                self.batch.insert(
                    rows::key(rows::CONTACT, id),
                    contact.to_row().encode_to_vec(),
                );
            }
        }
        for id in &self.segments {
            if let Some(segment) = state.segments.get(id) {
                self.batch
                    .insert(rows::key(rows::SEGMENT, id), segment.encode_to_vec());
            }
        }
        if let Some(checkpoint) = checkpoint {
            self.batch.insert(rows::CHECKPOINT_KEY, checkpoint);
        }
        self.batch
    }
}

fn participant_ids(participants: &[pb::InteractionParticipant]) -> Vec<Uuid> {
    participants
        .iter()
        .filter_map(|participant| Uuid::try_parse(&participant.stakeholder_id).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::state::Contact;
    use super::*;

    #[test]
    fn organisation_types_follow_the_profile_details() {
        use pb::organisation_profile::Details;
        let profile = |details| pb::OrganisationProfile {
            details: Some(details),
            ..Default::default()
        };
        assert_eq!(
            organisation_type(&profile(Details::Business(Default::default()))),
            pb::OrganisationType::Business
        );
        assert_eq!(
            organisation_type(&profile(Details::TiersLieu(Default::default()))),
            pb::OrganisationType::TiersLieu
        );
        assert_eq!(
            organisation_type(&pb::OrganisationProfile::default()),
            pb::OrganisationType::Unspecified
        );
    }

    #[test]
    fn contacts_round_trip_through_their_row() {
        let id = Uuid::now_v7();
        let contact = Contact {
            participants: vec![id],
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            topics: topic_bits(&[pb::Theme::Telework as i32]),
        };
        let row = contact.to_row();
        assert_eq!(row.participants, vec![id.as_bytes().to_vec()]);
        assert_eq!(row.topics, 1 << (pb::Theme::Telework as i32));
    }
}
