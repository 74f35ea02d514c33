//! Projection of the stakeholders context: the register (kinds, commune,
//! mandates, business size, archive, erasure) and the contact log
//! (participants, facilitator, channel, date, corrections). Sealed personal
//! fields are never copied.

use maillage_proto::v1 as pb;
use pb::organisation_profile::Details;

use super::Event;
use crate::labels;
use crate::model::{
    AssessmentRow, AxisTagsRow, CorrectionRow, FollowUpRow, MandateRow, ReadModel, StakeholderRow,
};
use crate::time::{micros, opt_micros};

fn sorted_kinds(kinds: &[i32]) -> Vec<i32> {
    let mut kinds = kinds.to_vec();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

fn set_person(row: &mut StakeholderRow, profile: Option<&pb::SealedPersonProfile>) {
    row.person = true;
    if let Some(profile) = profile {
        row.person_kinds = sorted_kinds(&profile.kinds);
        row.commune = profile.commune_code.clone();
    }
}

fn set_organisation(row: &mut StakeholderRow, profile: Option<&pb::OrganisationProfile>) {
    row.person = false;
    let Some(profile) = profile else { return };
    row.commune = profile.commune_code.clone();
    row.organisation_kind = labels::organisation_kind(profile.details.as_ref()).to_owned();
    row.business_size = match &profile.details {
        Some(Details::Business(business)) => business.size,
        _ => 0,
    };
}

pub(super) fn person_registered(model: &mut ReadModel, event: &Event<'_>, p: pb::PersonRegistered) {
    let row = model.stakeholders.upsert(&p.stakeholder_id);
    set_person(row, p.profile.as_ref());
    row.registered = true;
    row.registered_at = Some(opt_micros(p.registered_at.as_ref()).unwrap_or(event.at));
    row.registered_by = event.actor.to_owned();
}

pub(super) fn person_profile_updated(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::PersonProfileUpdated,
) {
    set_person(
        model.stakeholders.upsert(&p.stakeholder_id),
        p.profile.as_ref(),
    );
}

pub(super) fn organisation_registered(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::OrganisationRegistered,
) {
    let row = model.stakeholders.upsert(&p.stakeholder_id);
    set_organisation(row, p.profile.as_ref());
    row.registered = true;
    row.registered_at = Some(opt_micros(p.registered_at.as_ref()).unwrap_or(event.at));
    row.registered_by = event.actor.to_owned();
}

pub(super) fn organisation_profile_updated(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::OrganisationProfileUpdated,
) {
    set_organisation(
        model.stakeholders.upsert(&p.stakeholder_id),
        p.profile.as_ref(),
    );
}

pub(super) fn mandate_started(model: &mut ReadModel, _event: &Event<'_>, p: pb::MandateStarted) {
    let authority = p.authority.unwrap_or_default();
    model
        .stakeholders
        .upsert(&p.stakeholder_id)
        .mandates
        .insert(
            p.mandate_id,
            MandateRow {
                office: p.office,
                authority_level: authority.level,
                authority_code: authority.code,
                started_at: opt_micros(p.started_at.as_ref()),
                ended_at: opt_micros(p.ended_at.as_ref()),
            },
        );
}

pub(super) fn mandate_ended(model: &mut ReadModel, _event: &Event<'_>, p: pb::MandateEnded) {
    let row = model.stakeholders.upsert(&p.stakeholder_id);
    row.mandates.entry(p.mandate_id).or_default().ended_at = opt_micros(p.ended_at.as_ref());
}

pub(super) fn archived(model: &mut ReadModel, _event: &Event<'_>, p: pb::StakeholderArchived) {
    model.stakeholders.upsert(&p.stakeholder_id).archived = true;
}

pub(super) fn assessed(model: &mut ReadModel, _event: &Event<'_>, p: pb::StakeholderAssessed) {
    model.stakeholders.upsert(&p.stakeholder_id).assessment = Some(AssessmentRow {
        influence: p.influence,
        interest: p.interest,
        position: p.position,
    });
}

pub(super) fn person_erased(model: &mut ReadModel, event: &Event<'_>, p: pb::PersonErased) {
    let row = model.stakeholders.upsert(&p.stakeholder_id);
    row.erased = true;
    row.erased_at = Some(opt_micros(p.erased_at.as_ref()).unwrap_or(event.at));
    for interaction_id in &p.interaction_ids {
        model
            .interactions
            .update(interaction_id, |row| row.erased = true);
    }
}

pub(super) fn interaction_logged(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::InteractionLogged,
) {
    let participants: Vec<(String, i32)> = p
        .participants
        .iter()
        .map(|participant| (participant.stakeholder_id.clone(), participant.r#type))
        .collect();
    if !p.axis_ids.is_empty() {
        model.contact_axes.put(
            p.interaction_id.clone(),
            AxisTagsRow {
                axis_ids: p.axis_ids,
            },
        );
    }
    model.interactions.update(&p.interaction_id, |row| {
        row.original_participants = participants.iter().map(|(id, _)| id.clone()).collect();
        row.participants = participants;
        row.channel = p.channel;
        row.original_channel = p.channel;
        row.direction = p.direction;
        row.occurred_at = opt_micros(p.occurred_at.as_ref());
        row.original_occurred_at = row.occurred_at;
        row.topics = p.topics;
        row.themes = p.themes;
        row.logged_by = if event.actor.is_empty() {
            p.facilitator
        } else {
            event.actor.to_owned()
        };
        row.logged_at = event.at;
        row.follow_ups = u32::try_from(p.follow_ups.len()).unwrap_or(u32::MAX);
        for follow_up in p.follow_ups {
            // No owner (or written before owners): the facilitator who logged it.
            let owner = if follow_up.owner.is_empty() {
                row.logged_by.clone()
            } else {
                follow_up.owner
            };
            row.follow_up_rows.insert(
                follow_up.follow_up_id,
                FollowUpRow {
                    owner,
                    due_at: opt_micros(follow_up.due_at.as_ref()),
                    completed: false,
                },
            );
        }
        row.logged = true;
    });
}

pub(super) fn interaction_corrected(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::InteractionCorrected,
) {
    let mut fields = Vec::new();
    let mut values = Vec::new();
    if let Some(axes) = p.axis_ids {
        fields.push("axis_ids".to_owned());
        values.push(format!("axis_ids={}", axes.axis_ids.join(" ")));
        if axes.axis_ids.is_empty() {
            model.contact_axes.remove(&p.interaction_id);
        } else {
            model.contact_axes.put(
                p.interaction_id.clone(),
                AxisTagsRow {
                    axis_ids: axes.axis_ids,
                },
            );
        }
    }
    model.interactions.update(&p.interaction_id, |row| {
        if let Some(list) = p.participants {
            fields.push("participants".to_owned());
            let ids: Vec<&str> = list
                .participants
                .iter()
                .map(|participant| participant.stakeholder_id.as_str())
                .collect();
            values.push(format!("participants={}", ids.join(" ")));
            row.participants = list
                .participants
                .into_iter()
                .map(|participant| (participant.stakeholder_id, participant.r#type))
                .collect();
        }
        if let Some(channel) = p.channel {
            fields.push("channel".to_owned());
            values.push(format!("channel={}", labels::interaction_channel(channel)));
            row.channel = channel;
        }
        if let Some(direction) = p.direction {
            fields.push("direction".to_owned());
            values.push(format!(
                "direction={}",
                labels::interaction_direction(direction)
            ));
            row.direction = direction;
        }
        if let Some(occurred_at) = &p.occurred_at {
            fields.push("occurred_at".to_owned());
            values.push(format!(
                "occurred_at={}",
                crate::time::rfc3339(micros(occurred_at))
            ));
            row.occurred_at = Some(micros(occurred_at));
        }
        if p.sealed_subject.is_some() {
            fields.push("subject".to_owned());
        }
        if p.sealed_notes.is_some() {
            fields.push("notes".to_owned());
        }
        if let Some(themes) = p.themes {
            fields.push("themes".to_owned());
            let names: Vec<&str> = themes
                .themes
                .iter()
                .map(|theme| labels::interaction_theme(*theme))
                .collect();
            values.push(format!("themes={}", names.join(" ")));
            row.themes = themes.themes;
            // Empty for a correction written before `topics`: read from `themes`.
            row.topics = p.topics.map(|topics| topics.themes).unwrap_or_default();
        } else if let Some(topics) = p.topics {
            fields.push("themes".to_owned());
            row.topics = topics.themes;
        }
        row.corrections.push(CorrectionRow {
            corrected_at: Some(opt_micros(p.corrected_at.as_ref()).unwrap_or(event.at)),
            corrected_by: if event.actor.is_empty() {
                p.corrected_by
            } else {
                event.actor.to_owned()
            },
            fields,
            values,
        });
    });
}

pub(super) fn follow_up_completed(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::FollowUpCompleted,
) {
    model.interactions.update(&p.interaction_id, |row| {
        row.follow_ups_completed = row.follow_ups_completed.saturating_add(1);
        if let Some(follow_up) = row.follow_up_rows.get_mut(&p.follow_up_id) {
            follow_up.completed = true;
        }
    });
}

pub(super) fn follow_up_reassigned(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::FollowUpReassigned,
) {
    model.interactions.update(&p.interaction_id, |row| {
        if let Some(follow_up) = row.follow_up_rows.get_mut(&p.follow_up_id) {
            if !p.owner.is_empty() {
                follow_up.owner = p.owner;
            }
            if p.due_at.is_some() {
                follow_up.due_at = opt_micros(p.due_at.as_ref());
            }
        }
    });
}
