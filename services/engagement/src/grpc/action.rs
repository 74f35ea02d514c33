//! Action RPCs: plan, schedule, reschedule, invite, answers, attendance, held,
//! minutes, outcomes, cancel, and the read.

use std::time::SystemTime;

use maillage_proto::v1::{self as pb, action_venue::Place};
use maillage_replica::Expected;
use maillage_service_kit::{Refusal, ServiceError};
use maillage_territory::TerritoryLevel;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    creation_id, instant, invalid, load, older_themes, reader, references, run, statements,
    stored_topics, theme, themes, traced_uuid, Aggregate, MAX_DESCRIPTION, MAX_ITEMS, MAX_NOTES,
    MAX_STATEMENT, MAX_TITLE, WRITERS,
};
use crate::category::ACTION;
use crate::domain::action::{Action, Approval, Change, Command, Error, Plan, Venue};
use crate::domain::timestamp;
use crate::EngagementService;
use maillage_service_kit::{validate, RequestContext};

/// Largest anonymous head count accepted for one audience.
const MAX_HEAD_COUNT: u32 = 1_000_000;

impl Aggregate for Action {
    const CATEGORY: &'static str = ACTION;
}

impl Refusal for Error {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            Error::NotFound => ServiceError::not_found("action", id.to_string()),
            Error::AlreadyExists => ServiceError::already_exists("action", id.to_string()),
            Error::EndNotAfterStart => {
                ServiceError::invalid_argument("ends_at", "must be after starts_at")
            }
            Error::NotDesignated(_) => ServiceError::PermissionDenied {
                needed: vec![
                    "an officer designated for the programme or one of the action's axes".into(),
                ],
                french: None,
            },
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

fn venue(
    service: &EngagementService,
    field: &str,
    venue: &Option<pb::ActionVenue>,
) -> Result<Venue, Status> {
    match venue.as_ref().and_then(|v| v.place.as_ref()) {
        None => Err(invalid(field, "a commune or online is required")),
        Some(Place::Online(true)) => Ok(Venue::Online),
        Some(Place::Online(false)) => Err(invalid(
            format!("{field}.online"),
            "must be true (or give a commune)",
        )),
        Some(Place::CommuneCode(code)) => Ok(Venue::Commune(super::commune(
            service,
            &format!("{field}.commune_code"),
            code,
        )?)),
    }
}

/// An optional target territory (`target_territory`): a known level and a
/// code of the COG at that level.
fn target_territory(
    service: &EngagementService,
    value: &Option<pb::TerritoryRef>,
) -> Result<Option<pb::TerritoryRef>, Status> {
    let Some(target) = value else {
        return Ok(None);
    };
    let level = match pb::TerritoryLevel::try_from(target.level) {
        Ok(pb::TerritoryLevel::Commune) => TerritoryLevel::Commune,
        Ok(pb::TerritoryLevel::Epci) => TerritoryLevel::Epci,
        Ok(pb::TerritoryLevel::Departement) => TerritoryLevel::Departement,
        Ok(pb::TerritoryLevel::Region) => TerritoryLevel::Region,
        _ => {
            return Err(invalid(
                "target_territory.level",
                "must be commune, epci, departement or region",
            ))
        }
    };
    service
        .territory
        .validate_code(level, &target.code)
        .map_err(|error| {
            Status::from(
                ServiceError::invalid_argument("target_territory.code", error.to_string())
                    .with_french(error.french()),
            )
        })?;
    Ok(Some(target.clone()))
}

impl EngagementService {
    #[tracing::instrument(name = "PlanAction", skip_all, fields(action_id))]
    pub(super) async fn handle_plan_action(
        &self,
        request: Request<pb::PlanActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let kind = validate::enum_value::<pb::ActionKind>("kind", r.kind)?;
        let title = validate::required_text("title", &r.title, MAX_TITLE)?;
        let description = validate::optional_text("description", &r.description, MAX_DESCRIPTION)?;
        let themes = themes("topics", &r.topics, "themes", &r.themes, true)?;
        let audiences = validate::enum_values("audiences", &r.audiences, true)?;
        let venue = venue(self, "venue", &r.venue)?;
        let target_territory = target_territory(self, &r.target_territory)?;
        let organiser_ids = validate::ids("organiser_ids", &r.organiser_ids, MAX_ITEMS, false)?;
        let axes = super::programme::axes(self, "axis_ids", &r.axis_ids)?;
        let approval_required = kind == pb::ActionKind::ThematicWorkshop
            && super::programme::has_officer_for(self, &axes)?;
        let (_guards, register) = references(self, &request, &organiser_ids).await?;
        register.expect_all("organiser_ids", &organiser_ids, Expected::Any)?;
        let id = creation_id(self, ACTION, "action_id", &ctx)?;
        let command = Command::Plan(Plan {
            action_id: id,
            kind,
            title,
            description,
            themes,
            audiences,
            venue,
            target_territory,
            organiser_ids,
            axes,
            approval_required,
            actor: ctx.principal.name.clone(),
        });
        run(&self.actions, &id, command, None, &ctx).await
    }
}

/// A time slot: `starts_at` and `ends_at`, the end after the start.
fn slot(
    starts_at: &Option<prost_types::Timestamp>,
    ends_at: &Option<prost_types::Timestamp>,
) -> Result<(SystemTime, SystemTime), Status> {
    let starts_at = instant("starts_at", starts_at)?;
    let ends_at = instant("ends_at", ends_at)?;
    if ends_at <= starts_at {
        return Err(invalid("ends_at", "must be after starts_at"));
    }
    Ok((starts_at, ends_at))
}

impl EngagementService {
    #[tracing::instrument(name = "ScheduleAction", skip_all, fields(action_id))]
    pub(super) async fn handle_schedule_action(
        &self,
        request: Request<pb::ScheduleActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let (starts_at, ends_at) = slot(&r.starts_at, &r.ends_at)?;
        let command = Change::Schedule { starts_at, ends_at };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "RescheduleAction", skip_all, fields(action_id))]
    pub(super) async fn handle_reschedule_action(
        &self,
        request: Request<pb::RescheduleActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let (starts_at, ends_at) = slot(&r.starts_at, &r.ends_at)?;
        let venue = match &r.venue {
            None => None,
            Some(_) => Some(venue(self, "venue", &r.venue)?),
        };
        let reason = validate::optional_text("reason", &r.reason, MAX_STATEMENT)?;
        let command = Change::Reschedule {
            starts_at,
            ends_at,
            venue,
            reason,
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "InviteToAction", skip_all, fields(action_id))]
    pub(super) async fn handle_invite_to_action(
        &self,
        request: Request<pb::InviteToActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let stakeholder_ids =
            validate::ids("stakeholder_ids", &r.stakeholder_ids, MAX_ITEMS, true)?;
        let (_guards, register) = references(self, &request, &stakeholder_ids).await?;
        register.expect_all("stakeholder_ids", &stakeholder_ids, Expected::Any)?;
        let command = Change::Invite { stakeholder_ids };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "RecordInvitationAnswer", skip_all, fields(action_id))]
    pub(super) async fn handle_record_invitation_answer(
        &self,
        request: Request<pb::RecordInvitationAnswerRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let stakeholder_id = validate::id("stakeholder_id", &r.stakeholder_id)?;
        let (_guards, register) = references(self, &request, &[stakeholder_id]).await?;
        register.expect("stakeholder_id", &stakeholder_id, Expected::Any)?;
        let answer = validate::enum_value::<pb::ActionInvitationAnswer>("answer", r.answer)?;
        let command = Change::Answer {
            stakeholder_id,
            answer,
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "RecordAttendance", skip_all, fields(action_id))]
    pub(super) async fn handle_record_attendance(
        &self,
        request: Request<pb::RecordAttendanceRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let attendee_ids = validate::ids("attendee_ids", &r.attendee_ids, MAX_ITEMS, false)?;
        if r.head_counts.len() > MAX_ITEMS {
            return Err(invalid("head_counts", format!("at most {MAX_ITEMS}")));
        }
        let mut head_counts = Vec::with_capacity(r.head_counts.len());
        for (i, count) in r.head_counts.iter().enumerate() {
            let audience =
                validate::enum_value(&format!("head_counts[{i}].audience"), count.audience)?;
            if head_counts.iter().any(|(a, _)| *a == audience) {
                return Err(invalid(
                    format!("head_counts[{i}].audience"),
                    "appears twice",
                ));
            }
            if count.count > MAX_HEAD_COUNT {
                return Err(invalid(
                    format!("head_counts[{i}].count"),
                    format!("at most {MAX_HEAD_COUNT}"),
                ));
            }
            head_counts.push((audience, count.count));
        }
        if attendee_ids.is_empty() && head_counts.is_empty() {
            return Err(invalid(
                "attendee_ids",
                "give attendees or head counts (or both)",
            ));
        }
        let (_guards, register) = references(self, &request, &attendee_ids).await?;
        register.expect_all("attendee_ids", &attendee_ids, Expected::Any)?;
        let command = Change::RecordAttendance {
            attendee_ids,
            head_counts,
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "MarkActionHeld", skip_all, fields(action_id))]
    pub(super) async fn handle_mark_action_held(
        &self,
        request: Request<pb::MarkActionHeldRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let command = Change::MarkHeld {
            now: self.clock.now(),
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "PublishMinutes", skip_all, fields(action_id))]
    pub(super) async fn handle_publish_minutes(
        &self,
        request: Request<pb::PublishMinutesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let Some(minutes) = &r.minutes else {
            return Err(invalid("minutes", "is required"));
        };
        let summary = validate::required_text("minutes.summary", &minutes.summary, MAX_NOTES)?;
        let key_points = statements("minutes.key_points", &minutes.key_points)?;
        let command = Change::PublishMinutes {
            summary,
            key_points,
        };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "RecordOutcomes", skip_all, fields(action_id))]
    pub(super) async fn handle_record_outcomes(
        &self,
        request: Request<pb::RecordOutcomesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        if r.outcomes.is_empty() {
            return Err(invalid("outcomes", "at least one is required"));
        }
        if r.outcomes.len() > MAX_ITEMS {
            return Err(invalid("outcomes", format!("at most {MAX_ITEMS}")));
        }
        let outcomes = r
            .outcomes
            .iter()
            .enumerate()
            .map(|(i, outcome)| {
                let at = format!("outcomes[{i}]");
                let topic = theme(&at, outcome.topic, outcome.theme)?;
                Ok(pb::ActionOutcome {
                    outcome_id: Uuid::now_v7().to_string(),
                    proposal: validate::required_text(
                        &format!("{at}.proposal"),
                        &outcome.proposal,
                        MAX_STATEMENT,
                    )?,
                    theme: older_themes(&[topic]).first().copied().unwrap_or_default(),
                    topic: topic as i32,
                    suggested_owner_id: validate::optional_id(
                        &format!("{at}.suggested_owner_id"),
                        &outcome.suggested_owner_id,
                    )?
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let command = Change::RecordOutcomes { outcomes };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "CancelAction", skip_all, fields(action_id))]
    pub(super) async fn handle_cancel_action(
        &self,
        request: Request<pb::CancelActionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("action_id", &r.action_id)?;
        let reason = validate::required_text("reason", &r.reason, MAX_STATEMENT)?;
        let command = Change::Cancel { reason };
        run(&self.actions, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "GetAction", skip_all, fields(action_id))]
    pub(super) async fn handle_get_action(
        &self,
        request: Request<pb::GetActionRequest>,
    ) -> Result<Response<pb::ActionView>, Status> {
        reader(&request)?;
        let id = traced_uuid("action_id", &request.get_ref().action_id)?;
        let (version, state) = load(&self.actions, &id)?;
        let Some(planned) = state.planned else {
            return Err(ServiceError::not_found("action", id.to_string()).into());
        };
        Ok(Response::new(pb::ActionView {
            action_id: planned.action_id,
            version,
            kind: planned.kind,
            title: planned.title,
            description: planned.description,
            topics: stored_topics(&planned.topics, &planned.themes),
            themes: planned.themes,
            audiences: planned.audiences,
            venue: state.venue.as_ref().map(Venue::to_proto),
            organiser_ids: planned.organiser_ids,
            status: state.status as i32,
            starts_at: state.schedule.map(|(start, _)| timestamp(start)),
            ends_at: state.schedule.map(|(_, end)| timestamp(end)),
            invitations: state
                .invitations
                .iter()
                .map(|(id, answer)| pb::ActionInvitation {
                    stakeholder_id: id.to_string(),
                    answer: *answer as i32,
                })
                .collect(),
            attendee_ids: state.attendees.iter().map(Uuid::to_string).collect(),
            head_counts: state
                .head_counts
                .iter()
                .map(|(audience, count)| pb::AudienceHeadCount {
                    audience: *audience,
                    count: *count,
                })
                .collect(),
            minutes: state.minutes,
            outcomes: state
                .outcomes
                .into_iter()
                .map(|outcome| pb::ActionOutcome {
                    topic: stored_topics(&[outcome.topic], &[outcome.theme])
                        .first()
                        .copied()
                        .unwrap_or_default(),
                    ..outcome
                })
                .collect(),
            cancellation_reason: state.cancellation_reason.unwrap_or_default(),
            approval_required: state.approval != Approval::NotRequired,
            approved_by: match &state.approval {
                Approval::Approved { by, .. } => by.clone(),
                _ => String::new(),
            },
            approved_at: match &state.approval {
                Approval::Approved { at, .. } => Some(timestamp(*at)),
                _ => None,
            },
            sent_back_reason: match &state.approval {
                Approval::SentBack(reason) => reason.clone(),
                _ => String::new(),
            },
            held_at: state.held_at.map(timestamp),
            planned_by: planned.planned_by,
            axis_ids: planned.axis_ids,
            target_territory: planned.target_territory,
        }))
    }
}
