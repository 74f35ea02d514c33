//! Tiers-lieu diagnostic RPCs: record, revise, and the read. Notes are sealed
//! under the diagnostic's own vault key (subject `diagnostic:<id>`, field
//! `notes`). Findings are the tiers-lieu's (not personal data), in free
//! text and coded against the codebook.

use std::collections::HashSet;

use maillage_privacy::SubjectId;
use maillage_proto::v1::{self as pb, CodeKind};
use maillage_replica::{Expected, OrganisationType};
use maillage_service_kit::access::Subject;
use maillage_service_kit::{Refusal, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::codebook::codes;
use super::{
    creation_id, disclosed_notes, instant, invalid, load, purposed_reader, references, run,
    seal_notes, statements, traced_uuid, vault_error, Aggregate, MAX_NOTES, WRITERS,
};
use crate::category::DIAGNOSTIC;
use crate::domain::diagnostic::{Command, Diagnostic, Error, Record};
use crate::EngagementService;
use maillage_service_kit::{validate, RequestContext};

/// The vault subject of a diagnostic's notes.
/// (`diagnostic` is a valid kind tag and a UUID a valid id, so this is `Ok`.)
fn notes_subject(id: &Uuid) -> Result<SubjectId, maillage_privacy::PrivacyError> {
    SubjectId::new(DIAGNOSTIC, id.to_string())
}

impl Aggregate for Diagnostic {
    const CATEGORY: &'static str = DIAGNOSTIC;
}

impl Refusal for Error {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            Error::NotFound => ServiceError::not_found("diagnostic", id.to_string()),
            Error::AlreadyExists => ServiceError::already_exists("diagnostic", id.to_string()),
            Error::InTheFuture => {
                ServiceError::invalid_argument("conducted_at", "is in the future")
            }
        }
    }
}

/// The ids of `values` (field `findings.<field>`) coded with codes of `kind`.
fn coded(
    service: &EngagementService,
    field: &str,
    kind: CodeKind,
    values: &[String],
) -> Result<Vec<String>, Status> {
    let ids = codes(service, &format!("findings.{field}"), kind, values)?;
    Ok(ids.iter().map(Uuid::to_string).collect())
}

/// Validated findings: lists of statements; priorities are a ranking, so
/// distinct; codes of the codebook in use, of each list's kind.
fn findings(
    service: &EngagementService,
    findings: &Option<pb::DiagnosticFindings>,
) -> Result<pb::DiagnosticFindings, Status> {
    let Some(f) = findings else {
        return Err(invalid("findings", "is required"));
    };
    let checked = pb::DiagnosticFindings {
        initial_motivations: statements("findings.initial_motivations", &f.initial_motivations)?,
        development_priorities: statements(
            "findings.development_priorities",
            &f.development_priorities,
        )?,
        out_of_scope_activities: statements(
            "findings.out_of_scope_activities",
            &f.out_of_scope_activities,
        )?,
        needs: statements("findings.needs", &f.needs)?,
        initial_motivation_codes: coded(
            service,
            "initial_motivation_codes",
            CodeKind::Motivation,
            &f.initial_motivation_codes,
        )?,
        priority_codes: coded(
            service,
            "priority_codes",
            CodeKind::Priority,
            &f.priority_codes,
        )?,
        refusal_codes: coded(
            service,
            "refusal_codes",
            CodeKind::Refusal,
            &f.refusal_codes,
        )?,
        need_codes: coded(service, "need_codes", CodeKind::Need, &f.need_codes)?,
    };
    let mut seen = HashSet::new();
    for (i, priority) in checked.development_priorities.iter().enumerate() {
        if !seen.insert(priority.trim().to_lowercase()) {
            return Err(invalid(
                format!("findings.development_priorities[{i}]"),
                "appears twice in the ranking",
            ));
        }
    }
    Ok(checked)
}

impl EngagementService {
    #[tracing::instrument(name = "RecordDiagnostic", skip_all, fields(diagnostic_id))]
    pub(super) async fn handle_record_diagnostic(
        &self,
        request: Request<pb::RecordDiagnosticRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let tiers_lieu_id = validate::id("tiers_lieu_id", &r.tiers_lieu_id)?;
        let (_guards, register) = references(self, &request, &[tiers_lieu_id]).await?;
        register.expect(
            "tiers_lieu_id",
            &tiers_lieu_id,
            Expected::OrganisationOf(OrganisationType::TiersLieu),
        )?;
        let conducted_at = instant("conducted_at", &r.conducted_at)?;
        let now = self.clock.now();
        if conducted_at > now {
            return Err(invalid("conducted_at", "is in the future"));
        }
        let findings = findings(self, &r.findings)?;
        let notes = validate::optional_text("notes", &r.notes, MAX_NOTES)?;
        let id = creation_id(self, DIAGNOSTIC, "diagnostic_id", &ctx)?;
        let sealed_notes = seal_notes(self, &notes_subject(&id).map_err(vault_error)?, &notes)?;
        let command = Command::Record(Record {
            diagnostic_id: id,
            tiers_lieu_id,
            conducted_by: ctx.principal.name.clone(),
            conducted_at,
            findings,
            sealed_notes,
            now,
        });
        run(&self.diagnostics, &id, command, None, &ctx).await
    }

    #[tracing::instrument(name = "ReviseDiagnostic", skip_all, fields(diagnostic_id))]
    pub(super) async fn handle_revise_diagnostic(
        &self,
        request: Request<pb::ReviseDiagnosticRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let id = traced_uuid("diagnostic_id", &r.diagnostic_id)?;
        let findings = findings(self, &r.findings)?;
        let notes = validate::optional_text("notes", &r.notes, MAX_NOTES)?;
        let (_, state) = load(&self.diagnostics, &id)?;
        if state.recorded.is_none() {
            return Err(ServiceError::not_found("diagnostic", id.to_string()).into());
        }
        let sealed_notes = seal_notes(self, &notes_subject(&id).map_err(vault_error)?, &notes)?;
        let command = Command::Revise {
            findings,
            sealed_notes,
        };
        run(&self.diagnostics, &id, command, r.expected_version, &ctx).await
    }

    #[tracing::instrument(name = "GetDiagnostic", skip_all, fields(diagnostic_id))]
    pub(super) async fn handle_get_diagnostic(
        &self,
        request: Request<pb::GetDiagnosticRequest>,
    ) -> Result<Response<pb::DiagnosticView>, Status> {
        let reader = purposed_reader(&request)?;
        let id = traced_uuid("diagnostic_id", &request.get_ref().diagnostic_id)?;
        let (version, state) = load(&self.diagnostics, &id)?;
        let Some(recorded) = state.recorded else {
            return Err(ServiceError::not_found("diagnostic", id.to_string()).into());
        };
        let disclosure = reader.disclosure;
        let (notes, notes_erased, opened) = disclosed_notes(
            self,
            disclosure,
            &notes_subject(&id).map_err(vault_error)?,
            &recorded.sealed_notes,
        )?;
        if opened {
            let subject = Subject {
                kind: "diagnostic",
                id: &id,
            };
            self.journal
                .record(&reader, "GetDiagnostic", subject)
                .await?;
        }
        Ok(Response::new(pb::DiagnosticView {
            diagnostic_id: recorded.diagnostic_id,
            version,
            tiers_lieu_id: recorded.tiers_lieu_id,
            conducted_by: recorded.conducted_by,
            conducted_at: recorded.conducted_at,
            findings: recorded.findings,
            notes,
            notes_erased,
            disclosure: disclosure.to_proto() as i32,
        }))
    }
}
