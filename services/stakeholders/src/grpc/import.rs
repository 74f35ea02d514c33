//! `ImportStakeholders`: a batch of rows of a contact list, parsed by the
//! client (the CLI's `maillage import stakeholders`), decided one row at a
//! time (role facilitator or admin, as registrations).
//!
//! For each row, in order: validate it as `RegisterPerson` /
//! `RegisterOrganisation` would (a bad field fails the row, named under
//! `person.` or `organisation.`); compute its fingerprint and dedupe tokens
//! with the search index's blind key (`Dedupe`); look them up in the index
//! (which the batch first lets reach the log's head) and in what the batch
//! itself created (the index lags behind the batch's own writes); then either
//! skip it (fingerprint known: imported before), complete the stakeholder
//! found (email, SIREN or identity) with what it lacks, or register a new one.
//! Each write is one `Import` command of the stakeholder decider: one append
//! of every event of the row and its `StakeholderImported` fact, or nothing.
//! A row's request id is derived from its fingerprint, so its ids and event
//! ids are the same on every retry. Batches take turns, so that two imports
//! running at once cannot both register the same new actor (a registration
//! by hand landing in the middle of a batch can still be missed: it is not
//! in the index the batch started from). Nothing personal is logged: spans and
//! results carry line numbers, ids and field names only.

use std::collections::HashMap;

use maillage_es::{stream_id, Decider};
use maillage_proto::v1 as pb;
use maillage_service_kit::{command_error, Refusal, RequestContext, ServiceError};
use prost::Message;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::register::{check_mandate, check_organisation, check_person};
use super::WRITERS;
use super::{StakeholdersService, STAKEHOLDER};
use crate::domain::stakeholder::{
    ImportRegistration, NewAffiliation, Stakeholder, StakeholderCommand, StakeholderEvent,
    StakeholderState,
};
use crate::ids::derived_id;
use crate::search::blind::{identity, Dedupe, Token};
use crate::validate::{self, MAX_LABEL};

/// Most rows in one request.
pub const MAX_ROWS: usize = 1_000;

/// Why a row failed: the row's field at fault (may be empty) and why.
struct RowError {
    field: String,
    reason: String,
}

/// A row's failure, or a failure of the whole batch (storage, shutdown).
enum Failure {
    Row(RowError),
    Batch(Status),
}

impl Failure {
    fn row(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure::Row(RowError {
            field: field.into(),
            reason: reason.into(),
        })
    }

    /// A service error met while deciding the row under `prefix`: a bad
    /// field or a domain refusal fails the row; storage or shutdown the batch.
    fn from_service(prefix: &str, error: ServiceError) -> Self {
        match error {
            ServiceError::InvalidArgument { field, message, .. } => {
                Failure::row(format!("{prefix}.{field}"), message)
            }
            error @ (ServiceError::Internal { .. } | ServiceError::Unavailable { .. }) => {
                Failure::Batch(error.into())
            }
            other => Failure::row("", other.to_string()),
        }
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Failure::Batch(status)
    }
}

/// What a batch remembers of the rows it decided, for the rows after them.
#[derive(Default)]
struct Session {
    /// Tokens (fingerprints, emails, identities, SIRENs) of the rows it
    /// wrote or, on a dry run, would write → their stakeholder.
    tokens: HashMap<Token, Uuid>,
    /// On a dry run, the stakeholders it would have created or changed.
    planned: HashMap<Uuid, StakeholderState>,
}

/// A row, validated, ready to be decided.
struct Decided {
    /// The stakeholder the row matched, and how.
    matched: Option<(Uuid, pb::ImportMatch)>,
    /// Whether the row is a person.
    person: bool,
    /// Its dedupe tokens (the fingerprint first).
    tokens: Vec<Token>,
}

impl StakeholdersService {
    #[tracing::instrument(skip_all, fields(rows, dry_run))]
    pub(super) async fn handle_import(
        &self,
        request: Request<pb::ImportStakeholdersRequest>,
    ) -> Result<Response<pb::ImportStakeholdersResponse>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let span = tracing::Span::current();
        span.record("rows", message.rows.len());
        span.record("dry_run", message.dry_run);
        if message.rows.is_empty() || message.rows.len() > MAX_ROWS {
            return Err(ServiceError::invalid_argument(
                "rows",
                format!("from 1 to {MAX_ROWS} rows per request"),
            )
            .into());
        }
        let source: pb::ImportSource = validate::enum_value("source", message.source)?;
        // One batch at a time, each from the index caught up with the log
        // (which holds the previous batch's rows).
        let _turn = self.inner.imports.lock().await;
        self.catch_up_search().await?;
        let mut session = Session::default();
        let mut results = Vec::with_capacity(message.rows.len());
        let mut position = 0;
        let (mut created, mut updated, mut skipped, mut failed) = (0, 0, 0, 0);
        for row in &message.rows {
            let mut result = pb::ImportRowResult {
                line: row.line,
                ..Default::default()
            };
            match self
                .import_row(row, source, message.dry_run, &context, &mut session)
                .await
            {
                Ok((outcome, at)) => {
                    position = position.max(at);
                    result = pb::ImportRowResult {
                        line: row.line,
                        ..outcome
                    };
                }
                Err(Failure::Row(error)) => {
                    result.outcome = pb::ImportOutcome::Failed as i32;
                    result.field = error.field;
                    result.reason = error.reason;
                }
                Err(Failure::Batch(status)) => return Err(status),
            }
            match pb::ImportOutcome::try_from(result.outcome) {
                Ok(pb::ImportOutcome::Created) => created += 1,
                Ok(pb::ImportOutcome::Updated) => updated += 1,
                Ok(pb::ImportOutcome::Skipped) => skipped += 1,
                _ => failed += 1,
            }
            results.push(result);
        }
        tracing::info!(
            created,
            updated,
            skipped,
            failed,
            dry_run = message.dry_run,
            "import batch decided"
        );
        Ok(Response::new(pb::ImportStakeholdersResponse {
            results,
            position,
        }))
    }

    /// The stakeholder a token stands for: one this batch wrote, else the
    /// first the index holds.
    fn find(&self, session: &Session, token: &Token) -> Result<Option<Uuid>, Failure> {
        if let Some(id) = session.tokens.get(token) {
            return Ok(Some(*id));
        }
        let found =
            self.inner.search.find_token(token).map_err(|error| {
                Failure::Batch(ServiceError::internal(error.to_string()).into())
            })?;
        Ok(found.first().copied())
    }

    /// The state of stakeholder `id` (on a dry run, as the batch would have left it).
    fn state_of(&self, session: &Session, id: &Uuid) -> Result<StakeholderState, Failure> {
        if let Some(state) = session.planned.get(id) {
            return Ok(state.clone());
        }
        let (_, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, id))
            .map_err(|error| Failure::Batch(command_error(error, id).into()))?;
        Ok(state)
    }

    /// Decides one row and, unless `dry_run`, writes it; returns its result
    /// (without its line) and the log position it reached (0: none).
    async fn import_row(
        &self,
        row: &pb::ImportRow,
        source: pb::ImportSource,
        dry_run: bool,
        context: &RequestContext,
        session: &mut Session,
    ) -> Result<(pb::ImportRowResult, u64), Failure> {
        use pb::import_row::Stakeholder as Kind;
        let key = self.inner.search.blind_key();
        let canonical = pb::ImportRow {
            line: 0,
            ..row.clone()
        };
        let fingerprint = key.dedupe_token(Dedupe::Fingerprint, &canonical.encode_to_vec());
        if let Some(id) = self.find(session, &fingerprint)? {
            return Ok((skipped(id, pb::ImportMatch::Fingerprint), 0));
        }
        let row_request = format!("import-{}", hex::encode(fingerprint));
        let mut row_context = context.clone();
        row_context.request_id = row_request.clone();
        row_context.causation_id = self.inner.fingerprints.fingerprint(&canonical);
        let territory = self.inner.territory;
        let now = self.now();
        let actor = context.principal.name.clone();
        let imported = pb::StakeholderImported {
            source: source as i32,
            ..Default::default()
        };
        match &row.stakeholder {
            None => Err(Failure::row(
                "stakeholder",
                "a row is a person or an organisation",
            )),
            Some(Kind::Organisation(profile)) => {
                let profile = check_organisation(territory, Some(profile))
                    .map_err(|error| Failure::from_service("organisation", error))?;
                let mut decided = Decided {
                    matched: None,
                    person: false,
                    tokens: vec![fingerprint],
                };
                if !profile.siren.is_empty() {
                    let siren = key.dedupe_token(Dedupe::Siren, profile.siren.as_bytes());
                    decided.tokens.push(siren);
                    if let Some(id) = self.find(session, &siren)? {
                        // The same organisation: nothing an organisation row adds.
                        return Ok((skipped(id, pb::ImportMatch::Siren), 0));
                    }
                }
                let registration = ImportRegistration::Organisation(profile);
                self.write_row(
                    decided,
                    Some(registration),
                    Vec::new(),
                    Vec::new(),
                    imported,
                    (dry_run, &row_context, &actor, now),
                    session,
                )
                .await
            }
            Some(Kind::Person(person)) => {
                let fields = check_person(territory, person.profile.as_ref())
                    .map_err(|error| Failure::from_service("person", error))?;
                let mut mandates = Vec::with_capacity(person.mandates.len());
                for (index, mandate) in person.mandates.iter().enumerate() {
                    mandates.push(
                        check_mandate(territory, &format!("mandates[{index}]"), Some(mandate))
                            .map_err(|error| Failure::from_service("person", error))?,
                    );
                }
                let mut affiliations = Vec::with_capacity(person.affiliations.len());
                for (index, affiliation) in person.affiliations.iter().enumerate() {
                    let field = format!("person.affiliations[{index}]");
                    let row_error = |error: ServiceError| Failure::from_service("person", error);
                    let siren = validate::siren(
                        &format!("affiliations[{index}].organisation_siren"),
                        &affiliation.organisation_siren,
                    )
                    .map_err(row_error)?;
                    if siren.is_empty() {
                        return Err(Failure::row(
                            format!("{field}.organisation_siren"),
                            "is required",
                        ));
                    }
                    let role = validate::required_line(
                        &format!("affiliations[{index}].role"),
                        &affiliation.role,
                        MAX_LABEL,
                    )
                    .map_err(row_error)?;
                    let started_at = validate::instant(
                        &format!("affiliations[{index}].started_at"),
                        affiliation.started_at.as_ref(),
                    )
                    .map_err(row_error)?;
                    let token = key.dedupe_token(Dedupe::Siren, siren.as_bytes());
                    let Some(organisation) = self.find(session, &token)? else {
                        return Err(Failure::row(
                            format!("{field}.organisation_siren"),
                            "no organisation with this SIREN in the register",
                        ));
                    };
                    affiliations.push(NewAffiliation {
                        affiliation_id: String::new(),
                        organisation_id: organisation.to_string(),
                        role,
                        started_at,
                    });
                }
                let mut decided = Decided {
                    matched: None,
                    person: true,
                    tokens: vec![fingerprint],
                };
                if !fields.email.is_empty() {
                    let email = fields.email.to_lowercase();
                    let token = key.dedupe_token(Dedupe::Email, email.as_bytes());
                    decided.tokens.push(token);
                    if let Some(id) = self.find(session, &token)? {
                        decided.matched = Some((id, pb::ImportMatch::Email));
                    }
                }
                if let Some(identity) = identity(
                    &fields.given_name,
                    &fields.family_name,
                    &fields.commune_code,
                    &fields.birth_date,
                ) {
                    let token = key.dedupe_token(Dedupe::Identity, identity.as_bytes());
                    decided.tokens.push(token);
                    if decided.matched.is_none() {
                        if let Some(id) = self.find(session, &token)? {
                            decided.matched = Some((id, pb::ImportMatch::Identity));
                        }
                    }
                }
                let registration = match decided.matched {
                    Some(_) => None,
                    None if dry_run => Some(ImportRegistration::Person(pb::SealedPersonProfile {
                        kinds: fields.kinds.clone(),
                        commune_code: fields.commune_code.clone(),
                        ..Default::default()
                    })),
                    None => None,
                };
                let fields = (decided.matched.is_none() && !dry_run).then_some(fields);
                self.write_person(
                    decided,
                    registration,
                    fields,
                    mandates,
                    affiliations,
                    imported,
                    (dry_run, &row_context, &actor, now),
                    session,
                )
                .await
            }
        }
    }

    /// A person row: seals what must be sealed (a new person's profile, the
    /// fingerprint under the person's key), then [`Self::write_row`].
    #[allow(clippy::too_many_arguments)]
    async fn write_person(
        &self,
        decided: Decided,
        registration: Option<ImportRegistration>,
        fields: Option<super::register::PersonFields>,
        mandates: Vec<crate::domain::stakeholder::NewMandate>,
        affiliations: Vec<NewAffiliation>,
        mut imported: pb::StakeholderImported,
        how: (bool, &RequestContext, &str, std::time::SystemTime),
        session: &mut Session,
    ) -> Result<(pb::ImportRowResult, u64), Failure> {
        let (dry_run, row_context, _, _) = how;
        let mut registration = registration;
        if !dry_run {
            let id = match decided.matched {
                Some((id, _)) => id,
                None => self.allocate(STAKEHOLDER, row_context)?,
            };
            if let Some(fields) = fields {
                registration = Some(ImportRegistration::Person(
                    self.seal_person(id, fields).await?,
                ));
            }
            let vault = self.inner.vault.clone();
            let fingerprint = hex::encode(decided.tokens[0]);
            imported.sealed_fingerprint = super::blocking(move || {
                vault
                    .seal_str(
                        &maillage_privacy::SubjectId::person(id.to_string()),
                        super::person_fields::IMPORT_FINGERPRINT,
                        &fingerprint,
                    )
                    .map_err(super::privacy_error)
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::FailedPrecondition => Failure::row("", "the person was erased"),
                _ => Failure::Batch(status),
            })?;
        }
        self.write_row(
            decided,
            registration,
            mandates,
            affiliations,
            imported,
            how,
            session,
        )
        .await
    }

    /// Decides the row with the stakeholder decider (on a dry run, against
    /// the state as the batch would have left it) and, unless a dry run,
    /// appends its events in one append.
    #[allow(clippy::too_many_arguments)]
    async fn write_row(
        &self,
        decided: Decided,
        registration: Option<ImportRegistration>,
        mut mandates: Vec<crate::domain::stakeholder::NewMandate>,
        mut affiliations: Vec<NewAffiliation>,
        mut imported: pb::StakeholderImported,
        (dry_run, row_context, actor, now): (bool, &RequestContext, &str, std::time::SystemTime),
        session: &mut Session,
    ) -> Result<(pb::ImportRowResult, u64), Failure> {
        let prefix = if decided.person {
            "person"
        } else {
            "organisation"
        };
        let id = match decided.matched {
            Some((id, _)) => id,
            None if dry_run => Uuid::new_v4(),
            None => self.allocate(STAKEHOLDER, row_context)?,
        };
        let stream = stream_id(STAKEHOLDER, &id);
        for (index, mandate) in mandates.iter_mut().enumerate() {
            mandate.mandate_id = derived_id(&stream, &row_context.request_id, "mandate", index);
        }
        for (index, affiliation) in affiliations.iter_mut().enumerate() {
            affiliation.affiliation_id =
                derived_id(&stream, &row_context.request_id, "affiliation", index);
        }
        imported.stakeholder_id = id.to_string();
        if !decided.person {
            imported.fingerprint = decided.tokens[0].to_vec();
        }
        let created = registration.is_some();
        let command = StakeholderCommand::Import {
            registration,
            mandates,
            affiliations,
            imported,
            actor: actor.to_owned(),
            now,
        };
        let (events, position) = if dry_run {
            let mut state = match decided.matched {
                Some(_) => self.state_of(session, &id)?,
                None => StakeholderState::default(),
            };
            let events = Stakeholder::decide(&command, &state)
                .map_err(|error| Failure::from_service(prefix, error.refused(&id)))?;
            for event in &events {
                Stakeholder::evolve(&mut state, event);
            }
            if !events.is_empty() {
                session.planned.insert(id, state);
            }
            (events, 0)
        } else {
            let handled = self
                .inner
                .stakeholders
                .handle(&stream, &command, None, &row_context.metadata())
                .await
                .map_err(|error| Failure::from_service(prefix, command_error(error, &id)))?;
            (handled.events, handled.position)
        };
        if events.is_empty() {
            let how = decided
                .matched
                .map_or(pb::ImportMatch::Unspecified, |(_, how)| how);
            return Ok((skipped(id, how), 0));
        }
        for token in &decided.tokens {
            session.tokens.insert(*token, id);
        }
        let added = events
            .iter()
            .filter_map(|event| match event {
                StakeholderEvent::MandateStarted(_) => Some("mandate".to_owned()),
                StakeholderEvent::AffiliationAdded(_) => Some("affiliation".to_owned()),
                _ => None,
            })
            .collect();
        let result = pb::ImportRowResult {
            outcome: if created {
                pb::ImportOutcome::Created
            } else {
                pb::ImportOutcome::Updated
            } as i32,
            stakeholder_id: if dry_run && created {
                String::new()
            } else {
                id.to_string()
            },
            matched_by: decided
                .matched
                .map_or(pb::ImportMatch::Unspecified, |(_, how)| how)
                as i32,
            added,
            ..Default::default()
        };
        Ok((result, position))
    }
}

/// A row that changes nothing: `id` already holds it.
fn skipped(id: Uuid, how: pb::ImportMatch) -> pb::ImportRowResult {
    pb::ImportRowResult {
        outcome: pb::ImportOutcome::Skipped as i32,
        stakeholder_id: id.to_string(),
        matched_by: how as i32,
        ..Default::default()
    }
}
