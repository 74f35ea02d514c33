//! Reads from the aggregates' own streams (read-your-writes): a stakeholder or
//! an interaction as of now, with sealed fields opened (or shown as erased)
//! as far as the caller's purpose allows ([`Disclosure`]): facilitator and
//! admin read every personal field; an auditor reads who contacted whom, when
//! and how, and the names of persons in a public role (a mandate or an
//! affiliation); an analyst reads no personal field. Withheld fields are left
//! empty and the reply's `disclosure` says so. A read that returns personal
//! data opened from the vault is recorded in the access journal, durably,
//! before it is answered (else it fails).

use std::sync::Arc;

use maillage_es::stream_id;
use maillage_privacy::{KeyVault, Opened, SubjectId};
use maillage_proto::themes;
use maillage_proto::v1 as pb;
use maillage_service_kit::access::Subject;
use maillage_service_kit::{Disclosure, Reader, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::interactions::interaction_fields;
use super::register::person_fields;
use super::{
    blocking, handle_error, privacy_error, StakeholdersService, INTERACTION, READERS, STAKEHOLDER,
};
use crate::domain::interaction::{apply_correction, corrected_fields, owner_of, InteractionState};
use crate::domain::stakeholder::{Profile, StakeholderState};

/// Opens one sealed text field: `Some(text)`, `None` when the subject was
/// erased; an empty value stays empty.
fn open(
    vault: &KeyVault,
    subject: &SubjectId,
    field: &str,
    sealed: &[u8],
) -> Result<Option<String>, ServiceError> {
    if sealed.is_empty() {
        return Ok(Some(String::new()));
    }
    match vault
        .open_str(subject, field, sealed)
        .map_err(privacy_error)?
    {
        Opened::Clear(text) => Ok(Some(text)),
        Opened::Erased => Ok(None),
    }
}

/// A stakeholder's view, its personal fields opened.
pub(super) fn stakeholder_view(
    vault: &KeyVault,
    version: u64,
    state: &StakeholderState,
) -> Result<pb::Stakeholder, ServiceError> {
    Ok(disclosed_stakeholder_view(vault, version, state, Disclosure::Full)?.0)
}

/// Whether a person holds a public role: an élu (a mandate, current or past)
/// or an organisation's representative (an affiliation, current or past).
fn in_public_role(state: &StakeholderState) -> bool {
    !state.mandates.is_empty() || !state.affiliations.is_empty()
}

/// A stakeholder's view as `disclosure` allows, and whether it holds
/// personal data opened from the vault (then the read must be journalled).
/// Fields the disclosure withholds are never opened.
pub(super) fn disclosed_stakeholder_view(
    vault: &KeyVault,
    version: u64,
    state: &StakeholderState,
    disclosure: Disclosure,
) -> Result<(pb::Stakeholder, bool), ServiceError> {
    let mut view = pb::Stakeholder {
        stakeholder_id: state.id.clone(),
        version,
        archived: state.archived,
        mandates: state.mandates.clone(),
        affiliations: state.affiliations.clone(),
        consents: state.consents.values().cloned().collect(),
        erased: state.erased_at.is_some(),
        erased_at: state.erased_at,
        registered_at: state.registered_at,
        registered_by: state.registered_by.clone(),
        disclosure: disclosure.to_proto() as i32,
        assessment: state.assessments.last().cloned(),
        assessments: state.assessments.clone(),
        ..Default::default()
    };
    let mut opened = false;
    match &state.profile {
        None => {}
        Some(Profile::Organisation(profile)) => {
            view.r#type = pb::StakeholderType::Organisation as i32;
            view.organisation = Some(profile.clone());
        }
        Some(Profile::Person(sealed)) => {
            view.r#type = pb::StakeholderType::Person as i32;
            let subject = SubjectId::person(state.id.clone());
            let names =
                disclosure.is_full() || (disclosure.shows_public_names() && in_public_role(state));
            let details = disclosure.is_full();
            if !names && !view.erased && vault.is_erased(&subject).map_err(privacy_error)? {
                // Keys destroyed before the marker event was recorded.
                view.erased = true;
            }
            let mut erased = view.erased;
            let mut field =
                |shown: bool, name: &str, value: &[u8]| -> Result<String, ServiceError> {
                    if erased || !shown {
                        return Ok(String::new());
                    }
                    match open(vault, &subject, name, value)? {
                        Some(text) => {
                            opened |= !value.is_empty();
                            Ok(text)
                        }
                        None => {
                            erased = true;
                            Ok(String::new())
                        }
                    }
                };
            let profile = pb::PersonProfile {
                given_name: field(names, person_fields::GIVEN_NAME, &sealed.sealed_given_name)?,
                family_name: field(
                    names,
                    person_fields::FAMILY_NAME,
                    &sealed.sealed_family_name,
                )?,
                kinds: sealed.kinds.clone(),
                commune_code: sealed.commune_code.clone(),
                email: field(details, person_fields::EMAIL, &sealed.sealed_email)?,
                phone: field(details, person_fields::PHONE, &sealed.sealed_phone)?,
                postal_address: field(
                    details,
                    person_fields::POSTAL_ADDRESS,
                    &sealed.sealed_postal_address,
                )?,
                notes: field(details, person_fields::NOTES, &sealed.sealed_notes)?,
                birth_date: field(
                    details,
                    person_fields::BIRTH_DATE,
                    &sealed.sealed_birth_date,
                )?,
            };
            if erased {
                // Keys destroyed (possibly before the marker event is recorded):
                // nothing personal is shown, not even a field opened before.
                opened = false;
                view.erased = true;
                view.person = Some(pb::PersonProfile {
                    kinds: sealed.kinds.clone(),
                    commune_code: sealed.commune_code.clone(),
                    ..Default::default()
                });
            } else {
                view.person = Some(profile);
            }
        }
    }
    Ok((view, opened))
}

/// An interaction's view, its free text opened.
pub(super) fn interaction_view(
    vault: &KeyVault,
    version: u64,
    state: &InteractionState,
) -> Result<pb::Interaction, ServiceError> {
    Ok(disclosed_interaction_view(vault, version, state, Disclosure::Full)?.0)
}

/// An interaction's view as `disclosure` allows (its free text — subject,
/// notes, follow-ups, correction reasons — only for [`Disclosure::Full`];
/// who, whom, when and how for every reader), and whether it holds text
/// opened from the vault (then the read must be journalled).
pub(super) fn disclosed_interaction_view(
    vault: &KeyVault,
    version: u64,
    state: &InteractionState,
    disclosure: Disclosure,
) -> Result<(pb::Interaction, bool), ServiceError> {
    let Some(current) = &state.current else {
        return Ok((pb::Interaction::default(), false));
    };
    let subject = SubjectId::interaction(current.interaction_id.clone());
    let shown = disclosure.is_full();
    let mut erased = !shown && vault.is_erased(&subject).map_err(privacy_error)?;
    let mut opened = false;
    let mut text = |name: &str, value: &[u8]| -> Result<String, ServiceError> {
        if !shown {
            return Ok(String::new());
        }
        match open(vault, &subject, name, value)? {
            Some(text) => {
                opened |= !value.is_empty();
                Ok(text)
            }
            None => {
                erased = true;
                Ok(String::new())
            }
        }
    };
    let subject_text = text(interaction_fields::SUBJECT, &current.sealed_subject)?;
    let notes = text(interaction_fields::NOTES, &current.sealed_notes)?;
    let mut follow_ups = Vec::with_capacity(current.follow_ups.len());
    for follow_up in &current.follow_ups {
        let completed = state.completed.get(&follow_up.follow_up_id);
        follow_ups.push(pb::FollowUp {
            follow_up_id: follow_up.follow_up_id.clone(),
            description: text(
                &interaction_fields::follow_up(&follow_up.follow_up_id),
                &follow_up.sealed_description,
            )?,
            due_at: follow_up.due_at,
            completed: completed.is_some(),
            completed_at: completed.and_then(|done| done.completed_at),
            completed_by: completed
                .map(|done| done.completed_by.clone())
                .unwrap_or_default(),
            owner: owner_of(follow_up, current).to_owned(),
        });
    }
    let mut corrections = Vec::with_capacity(state.corrections.len());
    // The corrections replayed on the interaction as first logged: each
    // one's fields read just before it and just after it.
    let mut version_of = state.logged.clone().unwrap_or_default();
    for correction in &state.corrections {
        let fields = corrected_fields(correction);
        let mut values = |at: &pb::InteractionLogged| -> Result<Vec<_>, ServiceError> {
            fields
                .iter()
                .map(|field| -> Result<pb::InteractionFieldValue, ServiceError> {
                    let mut value = pb::InteractionFieldValue {
                        field: field.clone(),
                        ..Default::default()
                    };
                    match field.as_str() {
                        "participants" => value.participants = at.participants.clone(),
                        "channel" => value.channel = at.channel,
                        "direction" => value.direction = at.direction,
                        "occurred_at" => value.occurred_at = at.occurred_at,
                        "subject" => {
                            value.text = text(interaction_fields::SUBJECT, &at.sealed_subject)?;
                        }
                        "notes" => value.text = text(interaction_fields::NOTES, &at.sealed_notes)?,
                        _ => {
                            value.topics = themes::topics_or_older(
                                &at.topics,
                                &at.themes,
                                themes::from_interaction_value,
                            );
                        }
                    }
                    Ok(value)
                })
                .collect()
        };
        let before = values(&version_of)?;
        apply_correction(&mut version_of, correction);
        let after = values(&version_of)?;
        corrections.push(pb::InteractionCorrectionView {
            corrected_at: correction.corrected_at,
            corrected_by: correction.corrected_by.clone(),
            reason: text(
                interaction_fields::CORRECTION_REASON,
                &correction.sealed_reason,
            )?,
            fields,
            before,
            after,
        });
    }
    if erased {
        opened = false;
    }
    let view = pb::Interaction {
        interaction_id: current.interaction_id.clone(),
        version,
        participants: current.participants.clone(),
        channel: current.channel,
        direction: current.direction,
        occurred_at: current.occurred_at,
        subject: subject_text,
        notes,
        themes: current.themes.clone(),
        topics: themes::topics_or_older(
            &current.topics,
            &current.themes,
            themes::from_interaction_value,
        ),
        follow_ups,
        facilitator: current.facilitator.clone(),
        logged_at: current.logged_at,
        corrections,
        erased,
        disclosure: disclosure.to_proto() as i32,
        axis_ids: current.axis_ids.clone(),
    };
    Ok((view, opened))
}

impl StakeholdersService {
    /// A stakeholder's version, state and view; NOT_FOUND when never registered.
    pub(super) async fn load_stakeholder(
        &self,
        id: &Uuid,
    ) -> Result<(StakeholderState, pb::Stakeholder), Status> {
        let (version, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, id))
            .map_err(|error| handle_error(error, id))?;
        if state.profile.is_none() {
            return Err(ServiceError::not_found("stakeholder", id.to_string()).into());
        }
        let vault: Arc<KeyVault> = self.inner.vault.clone();
        let for_view = state.clone();
        let view = blocking(move || stakeholder_view(&vault, version, &for_view)).await?;
        Ok((state, view))
    }

    /// An interaction's view; NOT_FOUND when never logged.
    pub(super) async fn load_interaction(&self, id: &Uuid) -> Result<pb::Interaction, Status> {
        let (version, state) = self
            .inner
            .interactions
            .load(&stream_id(INTERACTION, id))
            .map_err(|error| handle_error(error, id))?;
        if state.current.is_none() {
            return Err(ServiceError::not_found("interaction", id.to_string()).into());
        }
        let vault = self.inner.vault.clone();
        blocking(move || interaction_view(&vault, version, &state)).await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_get_stakeholder(
        &self,
        request: Request<pb::GetStakeholderRequest>,
    ) -> Result<Response<pb::Stakeholder>, Status> {
        let reader = Reader::admit(&request, READERS)?;
        let id = super::traced_id("stakeholder_id", &request.get_ref().stakeholder_id)?;
        let (version, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, &id))
            .map_err(|error| handle_error(error, &id))?;
        if state.profile.is_none() {
            return Err(ServiceError::not_found("stakeholder", id.to_string()).into());
        }
        let outgoing = state.organisation_links.clone();
        let organisation = state.is_organisation();
        let vault: Arc<KeyVault> = self.inner.vault.clone();
        let disclosure = reader.disclosure;
        let (mut view, opened) =
            blocking(move || disclosed_stakeholder_view(&vault, version, &state, disclosure))
                .await?;
        if organisation {
            let mut links = outgoing;
            links.extend(self.incoming_links(&id).await);
            view.organisation_links = Self::sorted_links(links);
        }
        if opened {
            let subject = Subject {
                kind: "person",
                id: &id,
            };
            self.inner
                .journal
                .record(&reader, "GetStakeholder", subject)
                .await?;
        }
        Ok(Response::new(view))
    }

    #[tracing::instrument(skip_all, fields(interaction_id))]
    pub(super) async fn handle_get_interaction(
        &self,
        request: Request<pb::GetInteractionRequest>,
    ) -> Result<Response<pb::Interaction>, Status> {
        let reader = Reader::admit(&request, READERS)?;
        let id = super::traced_id("interaction_id", &request.get_ref().interaction_id)?;
        let (version, state) = self
            .inner
            .interactions
            .load(&stream_id(INTERACTION, &id))
            .map_err(|error| handle_error(error, &id))?;
        if state.current.is_none() {
            return Err(ServiceError::not_found("interaction", id.to_string()).into());
        }
        let vault = self.inner.vault.clone();
        let disclosure = reader.disclosure;
        let (view, opened) =
            blocking(move || disclosed_interaction_view(&vault, version, &state, disclosure))
                .await?;
        if opened {
            let subject = Subject {
                kind: "interaction",
                id: &id,
            };
            self.inner
                .journal
                .record(&reader, "GetInteraction", subject)
                .await?;
        }
        Ok(Response::new(view))
    }
}
