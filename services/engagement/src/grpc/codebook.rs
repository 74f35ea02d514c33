//! Codebook RPCs: define, relabel and retire the codes of the team's coding
//! grid, read the codebook; and [`codes`], the check of the code ids that
//! interviews and diagnostics are coded with (each a code of the codebook in
//! use, of the kind the field holds, read from the codebook's command loop
//! before the coded command runs).

use maillage_es::stream_id;
use maillage_proto::v1::{self as pb, CodeKind, Theme};
use maillage_service_kit::{command_error, validate, Refusal, RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    creation_id, invalid, load, reader, run, traced_uuid, Aggregate, MAX_DESCRIPTION,
    MAX_STATEMENT, MAX_TITLE, WRITERS,
};
use crate::category::CODEBOOK;
use crate::domain::codebook::{Codebook, Command, Error, CODEBOOK_ID, MAX_CODES};
use crate::EngagementService;

/// The category of new codes' creation ids.
const CODE: &str = "code";

impl Aggregate for Codebook {
    const CATEGORY: &'static str = CODEBOOK;
}

impl Refusal for Error {
    fn service_error(self, _id: &Uuid) -> ServiceError {
        match self {
            Error::UnknownCode(code) => ServiceError::not_found("code", code.to_string()),
            Error::CodeExists(code) => ServiceError::already_exists("code", code.to_string()),
            Error::LabelTaken(label) => ServiceError::already_exists("code labelled", label),
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

/// The codes named by `values` (field `field`) for findings of `kind`: each
/// the id of a code of the codebook in use, of that kind, none twice;
/// INVALID_ARGUMENT naming `field[i]` otherwise.
pub(crate) fn codes(
    service: &EngagementService,
    field: &str,
    kind: CodeKind,
    values: &[String],
) -> Result<Vec<Uuid>, Status> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let ids = validate::ids(field, values, MAX_CODES, false)?;
    let checked = service
        .codebook
        .inspect(&stream_id(CODEBOOK, &CODEBOOK_ID), |_, codebook| {
            codebook.check(kind, &ids)
        })
        .map_err(|error| command_error(error, &CODEBOOK_ID))?;
    match checked {
        Ok(()) => Ok(ids),
        Err(miscoded) => Err(invalid(
            format!("{field}[{}]", miscoded.index),
            miscoded.reason,
        )),
    }
}

/// A request's optional `topic`: none, or a known theme.
fn topic(value: i32) -> Result<Option<Theme>, Status> {
    if value == 0 {
        return Ok(None);
    }
    Ok(Some(validate::enum_value("topic", value)?))
}

impl EngagementService {
    #[tracing::instrument(name = "DefineCode", skip_all, fields(code_id))]
    pub(super) async fn handle_define_code(
        &self,
        request: Request<pb::DefineCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let kind = validate::enum_value("kind", r.kind)?;
        let label = validate::required_text("label", &r.label, MAX_TITLE)?;
        let description = validate::optional_text("description", &r.description, MAX_DESCRIPTION)?;
        let topic = topic(r.topic)?;
        let code_id = creation_id(self, CODE, "code_id", &ctx)?;
        let command = Command::Define {
            code_id,
            kind,
            label,
            description,
            topic,
            actor: ctx.principal.name.clone(),
        };
        let mut reply = run(
            &self.codebook,
            &CODEBOOK_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await?;
        // The reply names what was created: the code.
        reply.get_mut().id = code_id.to_string();
        Ok(reply)
    }

    #[tracing::instrument(name = "RelabelCode", skip_all, fields(code_id))]
    pub(super) async fn handle_relabel_code(
        &self,
        request: Request<pb::RelabelCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let command = Command::Relabel {
            code_id: traced_uuid("code_id", &r.code_id)?,
            label: validate::required_text("label", &r.label, MAX_TITLE)?,
            description: validate::optional_text("description", &r.description, MAX_DESCRIPTION)?,
        };
        run(
            &self.codebook,
            &CODEBOOK_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "RetireCode", skip_all, fields(code_id))]
    pub(super) async fn handle_retire_code(
        &self,
        request: Request<pb::RetireCodeRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let ctx = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.fingerprints,
            WRITERS,
        )?;
        let r = request.get_ref();
        let command = Command::Retire {
            code_id: traced_uuid("code_id", &r.code_id)?,
            reason: validate::required_text("reason", &r.reason, MAX_STATEMENT)?,
        };
        run(
            &self.codebook,
            &CODEBOOK_ID,
            command,
            r.expected_version,
            &ctx,
        )
        .await
    }

    #[tracing::instrument(name = "GetCodebook", skip_all)]
    pub(super) async fn handle_get_codebook(
        &self,
        request: Request<pb::GetCodebookRequest>,
    ) -> Result<Response<pb::CodebookView>, Status> {
        reader(&request)?;
        let (version, state) = load(&self.codebook, &CODEBOOK_ID)?;
        let codes = state
            .codes
            .into_iter()
            .map(|code| pb::CodebookCode {
                code_id: code.id.to_string(),
                kind: code.kind as i32,
                label: code.label,
                description: code.description,
                topic: code.topic.map_or(0, |topic| topic as i32),
                retired: code.retired.is_some(),
                retirement_reason: code.retired.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::CodebookView { version, codes }))
    }
}
