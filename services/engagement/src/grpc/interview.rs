//! Interview RPCs: record, revise notes, and the read. Notes are sealed under
//! the interview's own vault key (subject `interview:<id>`, field `notes`)
//! before they reach a command, and opened only for a read. An interview may
//! complete a survey of this log (`survey_id`), and its motivations and
//! expectations are coded against the codebook (codes are not personal data:
//! they are read back whatever the disclosure); that coding may be changed
//! later with a reason (`RecodeInterview`).

use maillage_es::stream_id;
use maillage_privacy::{Opened, SubjectId};
use maillage_proto::v1::{self as pb, interview_subject::Who, CodeKind};
use maillage_replica::Expected;
use maillage_service_kit::access::Subject;
use maillage_service_kit::{command_error, Disclosure, Refusal, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::codebook::codes;
use super::{
    anonymous, creation_id, disclosed_notes, instant, invalid, load, purposed_reader, references,
    run, seal_notes, statements, stored_topics, themes, traced_uuid, vault_error, Aggregate,
    MAX_NOTES, MAX_STATEMENT, WRITERS,
};
use crate::category::{INTERVIEW, SURVEY};
use crate::domain::interview::{Coded, Command, Error, Interview, Record};
use crate::EngagementService;
use maillage_service_kit::{validate, RequestContext};

/// The vault subject of an interview's notes.
/// (`interview` is a valid kind tag and a UUID a valid id, so this is `Ok`.)
pub(crate) fn notes_subject(id: &Uuid) -> Result<SubjectId, maillage_privacy::PrivacyError> {
    SubjectId::new(INTERVIEW, id.to_string())
}

impl Aggregate for Interview {
    const CATEGORY: &'static str = INTERVIEW;
}

impl Refusal for Error {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            Error::NotFound => ServiceError::not_found("interview", id.to_string()),
            Error::AlreadyExists => ServiceError::already_exists("interview", id.to_string()),
            Error::InTheFuture => {
                ServiceError::invalid_argument("conducted_at", "is in the future")
            }
        }
    }
}

/// A validated interview subject.
fn interview_subject(
    service: &EngagementService,
    subject: &Option<pb::InterviewSubject>,
) -> Result<pb::InterviewSubject, Status> {
    let who = match subject.as_ref().and_then(|s| s.who.as_ref()) {
        None => {
            return Err(invalid(
                "subject",
                "a stakeholder or anonymous profile is required",
            ))
        }
        Some(Who::StakeholderId(id)) => {
            Who::StakeholderId(validate::id("subject.stakeholder_id", id)?.to_string())
        }
        Some(Who::Anonymous(participant)) => {
            let (audience, commune_code) = anonymous(service, "subject.anonymous", participant)?;
            Who::Anonymous(pb::AnonymousParticipant {
                audience: audience as i32,
                commune_code,
            })
        }
    };
    Ok(pb::InterviewSubject { who: Some(who) })
}

/// The survey an interview completes (`survey_id`): none, or a survey
/// drafted in this log; INVALID_ARGUMENT naming the field otherwise.
fn linked_survey(service: &EngagementService, value: &str) -> Result<Option<Uuid>, Status> {
    let Some(id) = validate::optional_id("survey_id", value)? else {
        return Ok(None);
    };
    let drafted = service
        .surveys
        .inspect(&stream_id(SURVEY, &id), |_, survey| {
            survey.drafted.is_some()
        })
        .map_err(|error| command_error(error, &id))?;
    if !drafted {
        return Err(invalid("survey_id", format!("no such survey {id}")));
    }
    Ok(Some(id))
}

/// A request's `motivation_codes` and `expectation_codes`, checked against
/// the codebook (errors name `motivation_codes[i]` or `expectation_codes[i]`).
fn interview_codes(
    service: &EngagementService,
    motivations: &[String],
    expectations: &[String],
) -> Result<Coded, Status> {
    Ok(Coded {
        motivations: codes(
            service,
            "motivation_codes",
            CodeKind::Motivation,
            motivations,
        )?,
        expectations: codes(
            service,
            "expectation_codes",
            CodeKind::Expectation,
            expectations,
        )?,
    })
}

/// Each statement sealed under `key`, field `<field>.<index>`.
fn seal_statements(
    service: &EngagementService,
    key: &SubjectId,
    field: &str,
    statements: &[String],
) -> Result<Vec<Vec<u8>>, Status> {
    statements
        .iter()
        .enumerate()
        .map(|(index, statement)| {
            service
                .vault
                .seal_str(key, &format!("{field}.{index}"), statement)
                .map_err(vault_error)
        })
        .collect()
}

/// The statements sealed by [`seal_statements`], opened (none once the key is erased).
fn open_statements(
    service: &EngagementService,
    key: &SubjectId,
    field: &str,
    sealed: &[Vec<u8>],
) -> Result<Vec<String>, Status> {
    let mut opened = Vec::with_capacity(sealed.len());
    for (index, statement) in sealed.iter().enumerate() {
        match service
            .vault
            .open_str(key, &format!("{field}.{index}"), statement)
            .map_err(vault_error)?
        {
            Opened::Clear(text) => opened.push(text),
            Opened::Erased => return Ok(Vec::new()),
        }
    }
    Ok(opened)
}

impl EngagementService {
    #[tracing::instrument(name = "RecordInterview", skip_all, fields(interview_id))]
    pub(super) async fn handle_record_interview(
        &self,
        request: Request<pb::RecordInterviewRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let subject = interview_subject(self, &r.subject)?;
        let named = match &subject.who {
            Some(Who::StakeholderId(id)) => vec![validate::id("subject.stakeholder_id", id)?],
            _ => Vec::new(),
        };
        let (_guards, register) = references(self, &request, &named).await?;
        if let Some(id) = named.first() {
            register.expect("subject.stakeholder_id", id, Expected::Any)?;
        }
        let conducted_at = instant("conducted_at", &r.conducted_at)?;
        let now = self.clock.now();
        if conducted_at > now {
            return Err(invalid("conducted_at", "is in the future"));
        }
        let themes = themes("topics", &r.topics, "themes", &r.themes, false)?;
        let axes = super::programme::axes(self, "axis_ids", &r.axis_ids)?;
        let motivations = statements("motivations", &r.motivations)?;
        let expectations = statements("expectations", &r.expectations)?;
        let notes = validate::optional_text("notes", &r.notes, MAX_NOTES)?;
        let survey = linked_survey(self, &r.survey_id)?;
        let codes = interview_codes(self, &r.motivation_codes, &r.expectation_codes)?;
        let id = creation_id(self, INTERVIEW, "interview_id", &ctx)?;
        let key = notes_subject(&id).map_err(vault_error)?;
        let sealed_notes = seal_notes(self, &key, &notes)?;
        let sealed_motivations = seal_statements(self, &key, "motivations", &motivations)?;
        let sealed_expectations = seal_statements(self, &key, "expectations", &expectations)?;
        let command = Command::Record(Box::new(Record {
            interview_id: id,
            subject,
            interviewer: ctx.principal.name.clone(),
            conducted_at,
            themes,
            axes,
            sealed_motivations,
            sealed_expectations,
            sealed_notes,
            survey,
            codes,
            now,
        }));
        run(&self.interviews, &id, command, None, &ctx).await
    }

    #[tracing::instrument(name = "ReviseInterviewNotes", skip_all, fields(interview_id))]
    pub(super) async fn handle_revise_interview_notes(
        &self,
        request: Request<pb::ReviseInterviewNotesRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("interview_id", &r.interview_id)?;
        let notes = validate::optional_text("notes", &r.notes, MAX_NOTES)?;
        // Check the interview exists before making a key for it.
        let (_, state) = load(&self.interviews, &id)?;
        if state.recorded.is_none() {
            return Err(ServiceError::not_found("interview", id.to_string()).into());
        }
        let sealed_notes = seal_notes(self, &notes_subject(&id).map_err(vault_error)?, &notes)?;
        let command = Command::ReviseNotes { sealed_notes };
        run(&self.interviews, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "RecodeInterview", skip_all, fields(interview_id))]
    pub(super) async fn handle_recode_interview(
        &self,
        request: Request<pb::RecodeInterviewRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("interview_id", &r.interview_id)?;
        let codes = interview_codes(self, &r.motivation_codes, &r.expectation_codes)?;
        let survey = linked_survey(self, &r.survey_id)?;
        let reason = validate::required_text("reason", &r.reason, MAX_STATEMENT)?;
        let command = Command::Recode {
            codes,
            survey,
            reason,
            by: ctx.principal.name.clone(),
            now: self.clock.now(),
        };
        run(&self.interviews, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "GetInterview", skip_all, fields(interview_id))]
    pub(super) async fn handle_get_interview(
        &self,
        request: Request<pb::GetInterviewRequest>,
    ) -> Result<Response<pb::InterviewView>, Status> {
        let reader = purposed_reader(&request)?;
        let id = traced_uuid("interview_id", &request.get_ref().interview_id)?;
        let (view, disclosed) = view(self, &id, reader.disclosure)?;
        if disclosed {
            let subject = Subject {
                kind: "interview",
                id: &id,
            };
            self.journal
                .record(&reader, "GetInterview", subject)
                .await?;
        }
        Ok(Response::new(view))
    }
}

/// Interview `id` as `disclosure` allows, and whether personal data was
/// disclosed (the caller journals the read).
pub(super) fn view(
    service: &EngagementService,
    id: &Uuid,
    disclosure: Disclosure,
) -> Result<(pb::InterviewView, bool), Status> {
    let (version, state) = load(&service.interviews, id)?;
    let Some(recorded) = state.recorded else {
        return Err(ServiceError::not_found("interview", id.to_string()).into());
    };
    let key = notes_subject(id).map_err(vault_error)?;
    let (notes, notes_erased, opened) =
        disclosed_notes(service, disclosure, &key, &recorded.sealed_notes)?;
    // Motivations and expectations are what the person said: personal free
    // text, shown with the notes only (sealed since; in clear in older events).
    let (motivations, expectations) = if disclosure.is_full() && !notes_erased {
        let mut motivations = recorded.motivations;
        motivations.extend(open_statements(
            service,
            &key,
            "motivations",
            &recorded.sealed_motivations,
        )?);
        let mut expectations = recorded.expectations;
        expectations.extend(open_statements(
            service,
            &key,
            "expectations",
            &recorded.sealed_expectations,
        )?);
        (motivations, expectations)
    } else {
        (Vec::new(), Vec::new())
    };
    let said = !motivations.is_empty() || !expectations.is_empty();
    let view = pb::InterviewView {
        interview_id: recorded.interview_id,
        version,
        subject: recorded.subject,
        interviewer: recorded.interviewer,
        conducted_at: recorded.conducted_at,
        topics: stored_topics(&recorded.topics, &recorded.themes),
        axis_ids: recorded.axis_ids,
        survey_id: recorded.survey_id,
        motivation_codes: recorded.motivation_codes,
        expectation_codes: recorded.expectation_codes,
        recodings: state.recodings,
        themes: recorded.themes,
        motivations,
        expectations,
        notes,
        notes_erased,
        disclosure: disclosure.to_proto() as i32,
    };
    Ok((view, opened || said))
}
