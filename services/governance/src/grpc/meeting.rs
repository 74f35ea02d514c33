//! Meeting RPCs: convene, attendance and proxies, resolutions, votes, closing, minutes, and the meeting view.

use std::sync::Arc;

use maillage_es::stream_id;
use maillage_proto::v1 as pv1;
use maillage_service_kit::command_reply;
use tonic::{Request, Response, Status};
use tracing::field::Empty;
use uuid::Uuid;

use super::{
    authorize_read, derive_id, handle_error, invalid, load_existing, slug, GovernanceService,
    MAX_NAME, MAX_TEXT, WRITERS,
};
use crate::domain::meeting::{
    ConveneMeeting, MeetingChange, MeetingCommand, MeetingEvent, MeetingState,
};
use crate::domain::tally::{choice_from_proto, tally};
use maillage_service_kit::{validate, RequestContext};

/// Stream category of meetings.
pub const CATEGORY: &str = "meeting";
/// Most agenda items, members or proxies in one request.
const MAX_ITEMS: usize = 500;

impl GovernanceService {
    /// Runs a command on an existing meeting.
    async fn on_meeting(
        &self,
        meeting_id: &Uuid,
        expected_version: Option<u64>,
        command: impl Into<MeetingCommand>,
        context: &maillage_service_kit::RequestContext,
    ) -> Result<maillage_es::Handled<MeetingEvent>, Status> {
        self.inner
            .meetings
            .handle(
                &stream_id(CATEGORY, meeting_id),
                &command.into(),
                expected_version,
                &context.metadata(),
            )
            .await
            .map_err(|error| handle_error(error, meeting_id))
    }

    /// A meeting's state (NOT_FOUND when it does not exist).
    pub(super) async fn meeting_snapshot(&self, id: &Uuid) -> Result<MeetingState, Status> {
        let (_, state) = load_existing(
            &self.inner.meetings,
            &stream_id(CATEGORY, id),
            "meeting",
            id,
        )?;
        Ok(state)
    }

    /// The snapshot of the consortium a meeting belongs to.
    async fn consortium_of(
        &self,
        meeting: &MeetingState,
    ) -> Result<Arc<crate::domain::consortium::ConsortiumState>, Status> {
        let consortium_id = meeting
            .convening
            .as_ref()
            .and_then(|c| Uuid::parse_str(&c.consortium_id).ok())
            .ok_or_else(|| Status::internal("meeting without a consortium"))?;
        Ok(Arc::new(self.consortium_snapshot(&consortium_id).await?))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty, consortium_id = Empty))]
    pub(super) async fn handle_convene_meeting(
        &self,
        request: Request<pv1::ConveneMeetingRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let consortium_id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&consortium_id));
        let body_code = slug("body_code", &message.body_code)?;
        let scheduled_at = validate::instant("scheduled_at", message.scheduled_at.as_ref())?;
        let Some(venue) = &message.venue else {
            return Err(invalid("venue", "is required"));
        };
        let commune_code = venue.commune_code.trim().to_string();
        if commune_code.is_empty() {
            if !venue.online {
                return Err(invalid(
                    "venue.commune_code",
                    "is required unless the meeting is online",
                ));
            }
        } else {
            self.inner
                .territory
                .validate_commune(&commune_code)
                .map_err(|error| {
                    Status::from(
                        maillage_service_kit::ServiceError::invalid_argument(
                            "venue.commune_code",
                            error.to_string(),
                        )
                        .with_french(error.french()),
                    )
                })?;
        }
        let place = validate::optional_text("venue.place", &venue.place, MAX_NAME)?;
        if message.agenda.is_empty() || message.agenda.len() > MAX_ITEMS {
            return Err(invalid(
                "agenda",
                format!("must have 1 to {MAX_ITEMS} items"),
            ));
        }
        let agenda = message
            .agenda
            .iter()
            .enumerate()
            .map(|(index, title)| {
                validate::required_text(&format!("agenda[{index}]"), title, MAX_NAME)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let consortium = Arc::new(self.consortium_snapshot(&consortium_id).await?);
        let id = derive_id(CATEGORY, &context);
        tracing::Span::current().record("meeting_id", id.to_string());
        let command = MeetingCommand::Convene(ConveneMeeting {
            meeting_id: id,
            consortium_id,
            consortium,
            body_code,
            scheduled_at,
            venue: pv1::MeetingVenue {
                commune_code,
                place,
                online: venue.online,
            },
            agenda,
            now: self.now(),
        });
        let handled = self.on_meeting(&id, None, command, &context).await?;
        Ok(Response::new(command_reply(&id, &handled)))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty))]
    pub(super) async fn handle_record_attendance(
        &self,
        request: Request<pv1::RecordMeetingAttendanceRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("meeting_id", &message.meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        if message.present_member_ids.is_empty() && message.proxies.is_empty() {
            return Err(invalid(
                "present_member_ids",
                "name members present or proxies",
            ));
        }
        if message.present_member_ids.len() > MAX_ITEMS || message.proxies.len() > MAX_ITEMS {
            return Err(invalid(
                "present_member_ids",
                format!("at most {MAX_ITEMS} members and proxies"),
            ));
        }
        let present = message
            .present_member_ids
            .iter()
            .enumerate()
            .map(|(index, member)| validate::id(&format!("present_member_ids[{index}]"), member))
            .collect::<Result<Vec<_>, _>>()?;
        let mut proxies = Vec::with_capacity(message.proxies.len());
        for (index, proxy) in message.proxies.iter().enumerate() {
            let giver = validate::id(&format!("proxies[{index}].giver_id"), &proxy.giver_id)?;
            let holder = validate::id(&format!("proxies[{index}].holder_id"), &proxy.holder_id)?;
            if giver == holder {
                return Err(invalid(
                    &format!("proxies[{index}].holder_id"),
                    "a member cannot hold its own proxy",
                ));
            }
            proxies.push((giver, holder));
        }
        let meeting = self.meeting_snapshot(&id).await?;
        let consortium = self.consortium_of(&meeting).await?;
        let command = MeetingChange::RecordAttendance {
            consortium,
            present,
            proxies,
            now: self.now(),
        };
        let handled = self
            .on_meeting(&id, message.expected_version, command, &context)
            .await?;
        Ok(Response::new(command_reply(&id, &handled)))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty, resolution_id = Empty))]
    pub(super) async fn handle_table_resolution(
        &self,
        request: Request<pv1::TableResolutionRequest>,
    ) -> Result<Response<pv1::TableResolutionResponse>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("meeting_id", &message.meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        if message.agenda_item == 0 {
            return Err(invalid("agenda_item", "agenda items are numbered from 1"));
        }
        let title = validate::required_text("title", &message.title, MAX_NAME)?;
        let text = validate::required_text("text", &message.text, MAX_TEXT)?;
        let meeting = self.meeting_snapshot(&id).await?;
        let consortium = self.consortium_of(&meeting).await?;
        let resolution_id = derive_id("resolution", &context);
        let command = MeetingChange::TableResolution {
            resolution_id,
            consortium,
            agenda_item: message.agenda_item,
            title,
            text,
            now: self.now(),
        };
        let handled = self
            .on_meeting(&id, message.expected_version, command, &context)
            .await?;
        // A retry is answered from the log: take the id the original recorded.
        let resolution_id = handled
            .events
            .iter()
            .find_map(|event| match event {
                MeetingEvent::ResolutionTabled(tabled) => Some(tabled.resolution_id.clone()),
                _ => None,
            })
            .unwrap_or_else(|| resolution_id.to_string());
        tracing::Span::current().record("resolution_id", resolution_id.as_str());
        Ok(Response::new(pv1::TableResolutionResponse {
            reply: Some(command_reply(&id, &handled)),
            resolution_id,
        }))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty, resolution_id = Empty))]
    pub(super) async fn handle_record_vote(
        &self,
        request: Request<pv1::RecordVoteRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("meeting_id", &message.meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        let resolution_id = validate::id("resolution_id", &message.resolution_id)?;
        tracing::Span::current().record("resolution_id", tracing::field::display(&resolution_id));
        let member_id = validate::id("member_id", &message.member_id)?;
        let Some(choice) = choice_from_proto(message.choice) else {
            return Err(invalid("choice", "must be for, against or abstain"));
        };
        let command = MeetingChange::RecordVote {
            resolution_id,
            member_id,
            choice,
            now: self.now(),
        };
        let handled = self
            .on_meeting(&id, message.expected_version, command, &context)
            .await?;
        Ok(Response::new(command_reply(&id, &handled)))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty, resolution_id = Empty))]
    pub(super) async fn handle_close_vote(
        &self,
        request: Request<pv1::CloseVoteRequest>,
    ) -> Result<Response<pv1::CloseVoteResponse>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("meeting_id", &message.meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        let resolution_id = validate::id("resolution_id", &message.resolution_id)?;
        tracing::Span::current().record("resolution_id", tracing::field::display(&resolution_id));
        let command = MeetingChange::CloseVote {
            resolution_id,
            now: self.now(),
        };
        let handled = self
            .on_meeting(&id, message.expected_version, command, &context)
            .await?;
        let closed = handled.events.iter().find_map(|event| match event {
            MeetingEvent::VoteClosed(closed) => Some(closed.clone()),
            _ => None,
        });
        Ok(Response::new(pv1::CloseVoteResponse {
            reply: Some(command_reply(&id, &handled)),
            outcome: closed.as_ref().map(|c| c.outcome).unwrap_or_default(),
            tally: closed.and_then(|c| c.tally),
        }))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty))]
    pub(super) async fn handle_approve_minutes(
        &self,
        request: Request<pv1::ApproveMeetingMinutesRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("meeting_id", &message.meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        let uri = validate::required_text("minutes_uri", &message.minutes_uri, 2_000)?;
        if !uri.contains(':') || uri.contains(char::is_whitespace) {
            return Err(invalid(
                "minutes_uri",
                "must be a URI (scheme:...) without spaces",
            ));
        }
        let digest = validate::required_text("minutes_digest", &message.minutes_digest, 200)?;
        let command = MeetingChange::ApproveMinutes {
            uri,
            digest,
            now: self.now(),
        };
        let handled = self
            .on_meeting(&id, message.expected_version, command, &context)
            .await?;
        Ok(Response::new(command_reply(&id, &handled)))
    }

    #[tracing::instrument(skip_all, fields(meeting_id = Empty))]
    pub(super) async fn handle_get_meeting(
        &self,
        request: Request<pv1::GetMeetingRequest>,
    ) -> Result<Response<pv1::MeetingView>, Status> {
        authorize_read(&request)?;
        let id = validate::id("meeting_id", &request.get_ref().meeting_id)?;
        tracing::Span::current().record("meeting_id", tracing::field::display(&id));
        let (version, state) = load_existing(
            &self.inner.meetings,
            &stream_id(CATEGORY, &id),
            "meeting",
            &id,
        )?;
        let register = self.register(&request).await?;
        let mut view = view(&id, version, &state);
        view.member_names = member_names(&view, &|member| register.organisation_name(member));
        Ok(Response::new(view))
    }
}

/// The names `name_of` knows of the members `view` names (present, proxies,
/// ballots), each once.
fn member_names(
    view: &pv1::MeetingView,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<pv1::MemberName> {
    let ids: std::collections::BTreeSet<&str> = view
        .present_member_ids
        .iter()
        .map(String::as_str)
        .chain(
            view.proxies
                .iter()
                .flat_map(|proxy| [proxy.giver_id.as_str(), proxy.holder_id.as_str()]),
        )
        .chain(
            view.resolutions
                .iter()
                .flat_map(|resolution| &resolution.votes)
                .flat_map(|vote| [vote.member_id.as_str(), vote.proxy_holder_id.as_str()]),
        )
        .filter(|id| !id.is_empty())
        .collect();
    ids.into_iter()
        .filter_map(|id| {
            name_of(id).map(|display_name| pv1::MemberName {
                member_id: id.to_owned(),
                display_name,
            })
        })
        .collect()
}

/// The meeting as its readers see it (without its members' names).
pub fn view(id: &Uuid, version: u64, state: &MeetingState) -> pv1::MeetingView {
    let convening = state.convening.clone();
    pv1::MeetingView {
        meeting_id: id.to_string(),
        version,
        consortium_id: convening
            .as_ref()
            .map(|c| c.consortium_id.clone())
            .unwrap_or_default(),
        body_code: convening
            .as_ref()
            .map(|c| c.body_code.clone())
            .unwrap_or_default(),
        rules: convening.as_ref().map(|c| c.rules.to_proto()),
        scheduled_at: convening.as_ref().map(|c| c.scheduled_at),
        venue: convening.as_ref().map(|c| c.venue.clone()),
        agenda: convening.map(|c| c.agenda).unwrap_or_default(),
        present_member_ids: state.present.iter().cloned().collect(),
        proxies: state
            .proxies
            .iter()
            .map(|(giver, holder)| pv1::ProxyGrant {
                giver_id: giver.clone(),
                holder_id: holder.clone(),
            })
            .collect(),
        resolutions: state
            .resolutions
            .iter()
            .map(|r| pv1::ResolutionView {
                resolution_id: r.id.clone(),
                agenda_item: r.agenda_item,
                title: r.title.clone(),
                text: r.text.clone(),
                status: r
                    .closed
                    .as_ref()
                    .map_or(pv1::ResolutionStatus::Open as i32, |c| c.outcome),
                votes: r.votes.clone(),
                tally: r.closed.as_ref().and_then(|c| c.tally.clone()),
                running_tally: match (&r.closed, &state.convening) {
                    (None, Some(convening)) => tally(state, &convening.rules, r)
                        .ok()
                        .map(|(_, running)| running),
                    _ => None,
                },
            })
            .collect(),
        minutes_approved: state.minutes.is_some(),
        minutes_uri: state
            .minutes
            .as_ref()
            .map(|m| m.minutes_uri.clone())
            .unwrap_or_default(),
        minutes_digest: state
            .minutes
            .as_ref()
            .map(|m| m.minutes_digest.clone())
            .unwrap_or_default(),
        member_names: Vec::new(),
    }
}
