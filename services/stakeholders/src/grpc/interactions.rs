//! RPCs of the contact log: log an interaction, correct it, complete a
//! follow-up (role facilitator or admin). The facilitator is the caller.
//!
//! A contact's `axis_ids` are checked against the replica of the programme's
//! axes (from the engagement log): a request that carries
//! `maillage-after: engagement=<position>` waits, bounded, for the replica
//! to reach it (`UNAVAILABLE` if it does not); without it, an axis the
//! replica has not seen yet is `INVALID_ARGUMENT`, as an unknown one.

use std::collections::HashSet;

use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::themes;
use maillage_proto::v1 as pb;
use maillage_replica::{Positions, SharedGuards};
use maillage_service_kit::{RequestContext, ServiceError};
use prost_types::Timestamp;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::WRITERS;
use super::{
    blocking, handle_error, privacy_error, run, StakeholdersService, INTERACTION, STAKEHOLDER,
};
use crate::domain::interaction::InteractionCommand;
use crate::domain::stakeholder::Profile;
use crate::domain::timestamp;
use crate::ids::derived_id;
use crate::validate::{
    self, MAX_FOLLOW_UPS, MAX_INTERACTION_NOTES, MAX_PARTICIPANTS, MAX_SHORT_TEXT, MAX_SUBJECT,
};

/// Field names bound into an interaction's sealed values.
pub(crate) mod interaction_fields {
    pub const SUBJECT: &str = "subject";
    pub const NOTES: &str = "notes";
    pub const CORRECTION_REASON: &str = "correction_reason";

    /// A follow-up's description is bound to the follow-up's id.
    pub fn follow_up(follow_up_id: &str) -> String {
        format!("follow_up.{follow_up_id}")
    }
}

/// A validated follow-up (its id is set from the interaction's stream and the request).
struct FollowUpFields {
    description: String,
    due_at: Option<Timestamp>,
    /// Empty: the facilitator logging the contact.
    owner: String,
}

impl StakeholdersService {
    /// Checks each participant id: a UUID, not repeated, a registered
    /// stakeholder, not a person erased or being erased. Returns them with
    /// their type, and shared reference guards on them: hold the guards until
    /// the command's append is durable, so that an erasure starting meanwhile
    /// waits and then finds the interaction (see [`super::erasure`]).
    async fn check_participants(
        &self,
        field: &str,
        ids: &[String],
    ) -> Result<(Vec<pb::InteractionParticipant>, SharedGuards), Status> {
        if ids.is_empty() {
            return Err(ServiceError::invalid_argument(
                field,
                "at least one participant is needed",
            )
            .into());
        }
        if ids.len() > MAX_PARTICIPANTS {
            return Err(ServiceError::invalid_argument(
                field,
                format!("at most {MAX_PARTICIPANTS} participants"),
            )
            .into());
        }
        let mut seen = HashSet::new();
        let mut parsed = Vec::with_capacity(ids.len());
        for (index, raw) in ids.iter().enumerate() {
            let item = format!("{field}[{index}]");
            let id = validate::id(&item, raw)?;
            if !seen.insert(id) {
                return Err(ServiceError::invalid_argument(item, "repeated participant").into());
            }
            parsed.push(id);
        }
        let guards = self.inner.guards.shared(&parsed).await;
        let mut participants = Vec::with_capacity(parsed.len());
        for (index, id) in parsed.into_iter().enumerate() {
            let item = format!("{field}[{index}]");
            // (type, erased) of the stakeholder, None when it is not registered.
            let found = self
                .inner
                .stakeholders
                .inspect(&stream_id(STAKEHOLDER, &id), |_, state| {
                    state.profile.as_ref().map(|profile| match profile {
                        Profile::Person(_) => (pb::StakeholderType::Person, state.is_erasing()),
                        Profile::Organisation(_) => (pb::StakeholderType::Organisation, false),
                    })
                })
                .map_err(|error| handle_error(error, &id))?;
            let kind = match found {
                None => {
                    return Err(ServiceError::invalid_argument(item, "no such stakeholder").into())
                }
                Some((_, true)) => {
                    return Err(ServiceError::failed_precondition(format!(
                        "participant {id} was erased"
                    ))
                    .into())
                }
                Some((kind, false)) => kind,
            };
            participants.push(pb::InteractionParticipant {
                stakeholder_id: id.to_string(),
                r#type: kind as i32,
            });
        }
        Ok((participants, guards))
    }

    /// The axes `values` (the request's `field`) checked against the
    /// programme replica, once it has reached what `positions` asks of the
    /// engagement log (only when there are axes to check).
    async fn check_axes(
        &self,
        positions: &Positions,
        field: &str,
        values: &[String],
    ) -> Result<Vec<String>, Status> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        self.inner.programme.reach(positions).await?;
        let ids = self.inner.programme.expect_axes(field, values)?;
        Ok(ids.iter().map(Uuid::to_string).collect())
    }

    /// Runs a command on interaction `id` and replies.
    async fn run_interaction(
        &self,
        id: &Uuid,
        command: InteractionCommand,
        expected: Option<u64>,
        context: &RequestContext,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let stream = stream_id(INTERACTION, id);
        run(
            &self.inner.interactions,
            &stream,
            id,
            &command,
            expected,
            context,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(interaction_id))]
    pub(super) async fn handle_log_interaction(
        &self,
        request: Request<pb::LogInteractionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let positions = Positions::from_metadata(request.metadata())?;
        let message = request.into_inner();
        let channel: pb::InteractionChannel = validate::enum_value("channel", message.channel)?;
        let direction: pb::InteractionDirection =
            validate::enum_value("direction", message.direction)?;
        let occurred_at = validate::instant("occurred_at", message.occurred_at.as_ref())?;
        let now = self.now();
        if crate::domain::too_far_in_future(&occurred_at, now) {
            return Err(ServiceError::invalid_argument(
                "occurred_at",
                "more than 5 minutes in the future",
            )
            .into());
        }
        let subject = validate::required_text("subject", &message.subject, MAX_SUBJECT)?;
        let notes = validate::optional_text("notes", &message.notes, MAX_INTERACTION_NOTES)?;
        let (themes, topics) = check_themes("topics", &message.topics, "themes", &message.themes)?;
        if message.follow_ups.len() > MAX_FOLLOW_UPS {
            return Err(ServiceError::invalid_argument(
                "follow_ups",
                format!("at most {MAX_FOLLOW_UPS}"),
            )
            .into());
        }
        let follow_ups = message
            .follow_ups
            .iter()
            .enumerate()
            .map(|(index, follow_up)| {
                Ok(FollowUpFields {
                    description: validate::required_text(
                        &format!("follow_ups[{index}].description"),
                        &follow_up.description,
                        MAX_SHORT_TEXT,
                    )?,
                    due_at: validate::optional_instant(
                        &format!("follow_ups[{index}].due_at"),
                        follow_up.due_at.as_ref(),
                    )?,
                    owner: optional_owner(&format!("follow_ups[{index}].owner"), &follow_up.owner)?,
                })
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let axis_ids = self
            .check_axes(&positions, "axis_ids", &message.axis_ids)
            .await?;
        let (participants, _guards) = self
            .check_participants("participant_ids", &message.participant_ids)
            .await?;

        let id = self
            .inner
            .ids
            .id_for(INTERACTION, &context.principal.name, &context.request_id)
            .map_err(|error| Status::from(ServiceError::internal(format!("id index: {error}"))))?;
        tracing::Span::current().record("interaction_id", tracing::field::display(&id));
        let stream = stream_id(INTERACTION, &id);
        let follow_up_ids: Vec<String> = (0..follow_ups.len())
            .map(|index| derived_id(&stream, &context.request_id, "follow-up", index))
            .collect();
        let vault = self.inner.vault.clone();
        let (sealed_subject, sealed_notes, sealed_follow_ups) = blocking(move || {
            let key = SubjectId::interaction(id.to_string());
            let seal = |field: &str, value: &str| {
                vault.seal_str(&key, field, value).map_err(privacy_error)
            };
            let sealed_subject = seal(interaction_fields::SUBJECT, &subject)?;
            let sealed_notes = if notes.is_empty() {
                Vec::new()
            } else {
                seal(interaction_fields::NOTES, &notes)?
            };
            let follow_ups = follow_ups
                .into_iter()
                .zip(follow_up_ids)
                .map(|(follow_up, follow_up_id)| {
                    Ok(pb::SealedFollowUp {
                        sealed_description: seal(
                            &interaction_fields::follow_up(&follow_up_id),
                            &follow_up.description,
                        )?,
                        follow_up_id,
                        due_at: follow_up.due_at,
                        owner: follow_up.owner,
                    })
                })
                .collect::<Result<Vec<_>, ServiceError>>()?;
            Ok((sealed_subject, sealed_notes, follow_ups))
        })
        .await?;
        let logged = pb::InteractionLogged {
            interaction_id: id.to_string(),
            participants,
            channel: channel as i32,
            direction: direction as i32,
            occurred_at: Some(occurred_at),
            sealed_subject,
            sealed_notes,
            themes,
            topics,
            follow_ups: sealed_follow_ups,
            logged_at: Some(timestamp(now)),
            facilitator: context.principal.name.clone(),
            axis_ids,
        };
        self.run_interaction(&id, InteractionCommand::Log { logged, now }, None, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(interaction_id))]
    pub(super) async fn handle_correct_interaction(
        &self,
        request: Request<pb::CorrectInteractionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let positions = Positions::from_metadata(request.metadata())?;
        let message = request.into_inner();
        let id = super::traced_id("interaction_id", &message.interaction_id)?;
        let reason = validate::required_text("reason", &message.reason, MAX_SHORT_TEXT)?;
        let now = self.now();
        let channel = message
            .channel
            .map(|channel| validate::enum_value::<pb::InteractionChannel>("channel", channel))
            .transpose()?
            .map(|channel| channel as i32);
        let direction = message
            .direction
            .map(|direction| {
                validate::enum_value::<pb::InteractionDirection>("direction", direction)
            })
            .transpose()?
            .map(|direction| direction as i32);
        let occurred_at = validate::optional_instant("occurred_at", message.occurred_at.as_ref())?;
        if occurred_at.is_some_and(|at| crate::domain::too_far_in_future(&at, now)) {
            return Err(ServiceError::invalid_argument(
                "occurred_at",
                "more than 5 minutes in the future",
            )
            .into());
        }
        let subject = message
            .subject
            .as_deref()
            .map(|subject| validate::required_text("subject", subject, MAX_SUBJECT))
            .transpose()?;
        let notes = message
            .notes
            .as_deref()
            .map(|notes| validate::optional_text("notes", notes, MAX_INTERACTION_NOTES))
            .transpose()?;
        let (themes, topics) = if message.themes.is_some() || message.topics.is_some() {
            let older = message.themes.as_ref().map_or(&[][..], |t| &t.themes[..]);
            let topics = message.topics.as_ref().map_or(&[][..], |t| &t.themes[..]);
            let (themes, topics) = check_themes("topics.themes", topics, "themes.themes", older)?;
            (
                Some(pb::InteractionThemes { themes }),
                Some(pb::Themes { themes: topics }),
            )
        } else {
            (None, None)
        };
        let axis_ids = match &message.axis_ids {
            Some(list) => Some(pb::AxisIds {
                axis_ids: self
                    .check_axes(&positions, "axis_ids.axis_ids", &list.axis_ids)
                    .await?,
            }),
            None => None,
        };
        // The interaction must exist before anything is sealed under its key.
        let (_, state) = self
            .inner
            .interactions
            .load(&stream_id(INTERACTION, &id))
            .map_err(|error| handle_error(error, &id))?;
        if state.current.is_none() {
            return Err(ServiceError::not_found("interaction", id.to_string()).into());
        }
        let (participants, _guards) = match &message.participants {
            Some(list) => {
                let (participants, guards) = self
                    .check_participants("participants.stakeholder_ids", &list.stakeholder_ids)
                    .await?;
                (Some(pb::ParticipantList { participants }), Some(guards))
            }
            None => (None, None),
        };
        let vault = self.inner.vault.clone();
        let (sealed_reason, sealed_subject, sealed_notes) = blocking(move || {
            let key = SubjectId::interaction(id.to_string());
            let seal = |field: &str, value: &str| {
                vault.seal_str(&key, field, value).map_err(privacy_error)
            };
            let reason = seal(interaction_fields::CORRECTION_REASON, &reason)?;
            let subject = subject
                .map(|subject| seal(interaction_fields::SUBJECT, &subject))
                .transpose()?;
            // Empty notes clear them: recorded as present and empty.
            let notes = notes
                .map(|notes| {
                    if notes.is_empty() {
                        Ok(Vec::new())
                    } else {
                        seal(interaction_fields::NOTES, &notes)
                    }
                })
                .transpose()?;
            Ok((reason, subject, notes))
        })
        .await?;
        let correction = pb::InteractionCorrected {
            interaction_id: id.to_string(),
            sealed_reason,
            participants,
            channel,
            direction,
            occurred_at,
            sealed_subject,
            sealed_notes,
            themes,
            topics,
            corrected_at: Some(timestamp(now)),
            corrected_by: context.principal.name.clone(),
            axis_ids,
        };
        self.run_interaction(
            &id,
            InteractionCommand::Correct { correction, now },
            message.expected_version,
            &context,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(interaction_id))]
    pub(super) async fn handle_complete_follow_up(
        &self,
        request: Request<pb::CompleteFollowUpRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("interaction_id", &message.interaction_id)?;
        let follow_up_id = validate::id("follow_up_id", &message.follow_up_id)?.to_string();
        let command = InteractionCommand::CompleteFollowUp {
            follow_up_id,
            actor: context.principal.name.clone(),
            now: self.now(),
        };
        self.run_interaction(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(interaction_id))]
    pub(super) async fn handle_reassign_follow_up(
        &self,
        request: Request<pb::ReassignFollowUpRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("interaction_id", &message.interaction_id)?;
        let follow_up_id = validate::id("follow_up_id", &message.follow_up_id)?.to_string();
        let owner = optional_owner("owner", &message.owner)?;
        let due_at = validate::optional_instant("due_at", message.due_at.as_ref())?;
        if owner.is_empty() && due_at.is_none() {
            return Err(ServiceError::invalid_argument(
                "owner",
                "give a new owner or a new due_at",
            )
            .into());
        }
        let reassigned = pb::FollowUpReassigned {
            interaction_id: id.to_string(),
            follow_up_id,
            owner,
            due_at,
            reassigned_at: Some(timestamp(self.now())),
            reassigned_by: context.principal.name.clone(),
        };
        let command = InteractionCommand::ReassignFollowUp { reassigned };
        self.run_interaction(&id, command, message.expected_version, &context)
            .await
    }
}

/// A follow-up's owner: empty (the default) or a principal name.
fn optional_owner(field: &str, owner: &str) -> Result<String, ServiceError> {
    if owner.is_empty() {
        return Ok(String::new());
    }
    maillage_service_kit::auth::check_principal(owner).map_err(|_| {
        ServiceError::invalid_argument(field, "a principal name: 1 to 128 of A-Z a-z 0-9 . _ @ -")
    })?;
    Ok(owner.to_owned())
}

/// A contact's themes: `topics` (the shared vocabulary) or, from a client
/// written before them, the older `themes` (each known and set; repeats
/// dropped). Returned in both vocabularies, sorted, for the event's two fields.
fn check_themes(
    topics_field: &str,
    topics: &[i32],
    older_field: &str,
    older: &[i32],
) -> Result<(Vec<i32>, Vec<i32>), ServiceError> {
    let mut mapped = Vec::with_capacity(older.len());
    for (index, theme) in older.iter().enumerate() {
        let theme: pb::InteractionTheme =
            validate::enum_value(&format!("{older_field}[{index}]"), *theme)?;
        mapped.push(pb::Theme::from(theme));
    }
    mapped.sort_unstable();
    mapped.dedup();
    let mut topics = themes::requested(topics_field, topics, older_field, mapped)
        .map_err(|error| ServiceError::invalid_argument(error.field, error.reason))?;
    topics.sort_unstable();
    let mut older =
        themes::older_values(&topics, |theme| Some(themes::as_interaction_theme(theme)));
    older.sort_unstable();
    Ok((
        older,
        topics.into_iter().map(|theme| theme as i32).collect(),
    ))
}
