//! Concertation RPCs: record a meeting with the collectivité's designated
//! officers and its decisions, and list the meetings (by axis or action).
//! The service checks what needs I/O — the actions exist in this log, the
//! other participants are stakeholders of the register replica, not erased —
//! and seals the notes under the concertation's own key (subject
//! `concertation:<id>`, field `notes`: destroyed when a participant is
//! erased); the Programme decider checks the officers were designated at the
//! meeting's date.

use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::v1 as pb;
use maillage_replica::Expected;
use maillage_service_kit::access::Subject;
use maillage_service_kit::{command_error, validate, Disclosure, RequestContext};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    creation_id, disclosed_notes, instant, invalid, load, purposed_reader, references, run,
    seal_notes, vault_error, MAX_ITEMS, MAX_NOTES, MAX_STATEMENT, MAX_TITLE, WRITERS,
};
use crate::category::ACTION;
use crate::domain::concertation::Concertation;
use crate::domain::instant as stored_instant;
use crate::domain::programme::{Command, PROGRAMME_ID};
use crate::EngagementService;

/// The vault subject kind (and creation-id category) of concertations.
const CONCERTATION: &str = "concertation";

/// The vault subject of a concertation's notes.
pub(crate) fn notes_subject(id: &Uuid) -> Result<SubjectId, maillage_privacy::PrivacyError> {
    SubjectId::new(CONCERTATION, id.to_string())
}

/// The actions named by `values` (field `action_ids`): each planned in this
/// log, none twice; INVALID_ARGUMENT naming `action_ids[i]` otherwise.
fn actions(service: &EngagementService, values: &[String]) -> Result<Vec<Uuid>, Status> {
    let ids = validate::ids("action_ids", values, MAX_ITEMS, false)?;
    for (i, id) in ids.iter().enumerate() {
        let planned = service
            .actions
            .inspect(&stream_id(ACTION, id), |_, action| action.planned.is_some())
            .map_err(|error| command_error(error, id))?;
        if !planned {
            return Err(invalid(
                format!("action_ids[{i}]"),
                format!("no such action {id}"),
            ));
        }
    }
    Ok(ids)
}

/// The officers present: principals, at least one, each once.
fn officers(values: &[String]) -> Result<Vec<String>, Status> {
    if values.is_empty() {
        return Err(invalid(
            "officers",
            "at least one designated officer is required",
        ));
    }
    if values.len() > MAX_ITEMS {
        return Err(invalid("officers", format!("at most {MAX_ITEMS}")));
    }
    let mut officers: Vec<String> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let field = format!("officers[{i}]");
        let principal = validate::required_text(&field, value, MAX_TITLE)?;
        if officers.contains(&principal) {
            return Err(invalid(field, "appears twice"));
        }
        officers.push(principal);
    }
    Ok(officers)
}

/// The decisions: each a text, an optional owner and due date.
fn decisions(values: &[pb::ConcertationDecision]) -> Result<Vec<pb::ConcertationDecision>, Status> {
    if values.len() > MAX_ITEMS {
        return Err(invalid("decisions", format!("at most {MAX_ITEMS}")));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, decision)| {
            Ok(pb::ConcertationDecision {
                text: validate::required_text(
                    &format!("decisions[{i}].text"),
                    &decision.text,
                    MAX_STATEMENT,
                )?,
                owner: validate::optional_text(
                    &format!("decisions[{i}].owner"),
                    &decision.owner,
                    MAX_TITLE,
                )?,
                due_at: validate::optional_instant(
                    &format!("decisions[{i}].due_at"),
                    decision.due_at.as_ref(),
                )?,
            })
        })
        .collect()
}

impl EngagementService {
    #[tracing::instrument(name = "RecordConcertation", skip_all, fields(concertation_id))]
    pub(super) async fn handle_record_concertation(
        &self,
        request: Request<pb::RecordConcertationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let held_at = instant("held_at", &r.held_at)?;
        let now = self.clock.now();
        if held_at > now {
            return Err(invalid("held_at", "is in the future"));
        }
        let axis = validate::optional_id("axis_id", &r.axis_id)?;
        let action_ids = actions(self, &r.action_ids)?;
        let officers = officers(&r.officers)?;
        let participants = validate::ids("participant_ids", &r.participant_ids, MAX_ITEMS, false)?;
        let subject = validate::required_text("subject", &r.subject, MAX_TITLE)?;
        let decisions = decisions(&r.decisions)?;
        let notes = validate::optional_text("notes", &r.notes, MAX_NOTES)?;
        let (_guards, register) = references(self, &request, &participants).await?;
        register.expect_all("participant_ids", &participants, Expected::Any)?;
        let id = creation_id(self, CONCERTATION, "concertation_id", &ctx)?;
        let sealed_notes = seal_notes(self, &notes_subject(&id).map_err(vault_error)?, &notes)?;
        let command = Command::RecordConcertation(Box::new(Concertation {
            id,
            held_at,
            axis,
            action_ids,
            officers,
            participants,
            subject,
            decisions,
            sealed_notes,
            recorded_by: ctx.principal.name.clone(),
            now,
        }));
        let mut reply = run(
            &self.programme,
            &PROGRAMME_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names what was created: the concertation.
        reply.get_mut().id = id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(name = "ListConcertations", skip_all)]
    pub(super) async fn handle_list_concertations(
        &self,
        request: Request<pb::ListConcertationsRequest>,
    ) -> Result<Response<pb::ConcertationList>, Status> {
        let reader = purposed_reader(&request)?;
        let r = request.get_ref();
        let axis = validate::optional_id("axis_id", &r.axis_id)?.map(|id| id.to_string());
        let action = validate::optional_id("action_id", &r.action_id)?.map(|id| id.to_string());
        let (_, state) = load(&self.programme, &PROGRAMME_ID)?;
        let mut concertations = Vec::new();
        let mut opened = Vec::new();
        let mut recorded: Vec<_> = state
            .concertations
            .into_iter()
            .filter(|c| {
                axis.as_ref()
                    .is_none_or(|axis| c.axis_id.is_empty() || c.axis_id == *axis)
                    && action
                        .as_ref()
                        .is_none_or(|action| c.action_ids.contains(action))
            })
            .collect();
        recorded.sort_by_key(|c| stored_instant(&c.held_at));
        for c in recorded {
            let id = c.concertation_id.parse::<Uuid>().unwrap_or_default();
            let (view, disclosed) = view(self, &id, c, reader.disclosure)?;
            if disclosed {
                opened.push(id);
            }
            concertations.push(view);
        }
        for id in &opened {
            let subject = Subject {
                kind: CONCERTATION,
                id,
            };
            self.journal
                .record(&reader, "ListConcertations", subject)
                .await?;
        }
        Ok(Response::new(pb::ConcertationList { concertations }))
    }
}

/// The concertations `person` took part in — as a participant, or as the
/// person an officer present is linked to (a designation of the programme
/// now) — notes opened: for subject access.
pub(super) fn attended_by(
    service: &EngagementService,
    person: &Uuid,
) -> Result<Vec<pb::ConcertationView>, Status> {
    let (_, state) = load(&service.programme, &PROGRAMME_ID)?;
    let id = person.to_string();
    let principals: Vec<&str> = state
        .officers
        .iter()
        .filter(|officer| officer.stakeholder == Some(*person))
        .map(|officer| officer.principal.as_str())
        .collect();
    let mut attended = Vec::new();
    for c in state.concertations.iter().filter(|c| {
        c.participant_ids.contains(&id)
            || c.officers.iter().any(|o| principals.contains(&o.as_str()))
    }) {
        let concertation = c.concertation_id.parse::<Uuid>().unwrap_or_default();
        attended.push(view(service, &concertation, c.clone(), Disclosure::Full)?.0);
    }
    Ok(attended)
}

/// A concertation as `disclosure` allows, and whether its notes were opened.
fn view(
    service: &EngagementService,
    id: &Uuid,
    recorded: pb::ProgrammeConcertationRecorded,
    disclosure: Disclosure,
) -> Result<(pb::ConcertationView, bool), Status> {
    let key = notes_subject(id).map_err(vault_error)?;
    let (notes, notes_erased, opened) =
        disclosed_notes(service, disclosure, &key, &recorded.sealed_notes)?;
    Ok((
        pb::ConcertationView {
            concertation_id: recorded.concertation_id,
            held_at: recorded.held_at,
            axis_id: recorded.axis_id,
            action_ids: recorded.action_ids,
            officers: recorded.officers,
            participant_ids: recorded.participant_ids,
            subject: recorded.subject,
            decisions: recorded.decisions,
            recorded_by: recorded.recorded_by,
            notes,
            notes_erased,
            disclosure: disclosure.to_proto() as i32,
        },
        opened,
    ))
}
