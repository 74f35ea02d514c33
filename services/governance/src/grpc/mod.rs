//! The `maillage.v1.Governance` gRPC service: request validation into
//! commands, role checks, the command loop, and read views.
//!
//! Every handler checks the caller's role first, then validates every field
//! (INVALID_ARGUMENT naming the field, before anything is appended), loads the
//! consortium snapshot a cross-aggregate rule needs, and runs the command
//! through [`Aggregates::handle`]. Writes need the `secretary` role (or admin);
//! reads accept secretary, analyst, auditor and facilitator.

mod commitment;
mod consortium;
mod french;
mod meeting;

use std::num::NonZeroUsize;
use std::sync::Arc;

use maillage_es::{Aggregates, Decider, HandleError};
use maillage_eventstore::{Clock, EventStore};
use maillage_proto::v1 as pv1;
use maillage_proto::v1::governance_server::Governance;
use maillage_replica::{Positions, ProgrammeAxes, Register, Replica, RoundtableOutcomes};
use maillage_service_kit::{
    command_error, validate, FingerprintKey, OpenError, RequestContext, Role, ServiceDatabase,
    ServiceError,
};
use maillage_territory::Territory;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::commitment::{Commitment, CommitmentError};
use crate::domain::consortium::{Consortium, ConsortiumError};
use crate::domain::meeting::{Meeting, MeetingError};
use crate::domain::{timestamp, DomainError, Refusal, Timestamp};

/// Roles that may change governance.
const WRITERS: &[Role] = &[Role::Secretary];
/// Roles that may read governance.
const READERS: &[Role] = &[
    Role::Secretary,
    Role::Analyst,
    Role::Auditor,
    Role::Facilitator,
];
/// Aggregates kept in each cache.
const CACHE_CAPACITY: usize = 1024;
/// Longest name or title, in characters.
const MAX_NAME: usize = 200;
/// Longest free text (purpose, charter, resolution text, note), in characters.
const MAX_TEXT: usize = 20_000;
/// Longest slug (college or body code).
const MAX_SLUG: usize = 40;
/// Largest college weight.
pub const MAX_WEIGHT: i64 = 1_000_000;

/// Namespace of the ids the service derives for new aggregates (UUID v5).
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_696c_6c61_6765_8000_0000_0000_0601);

/// The governance service over one event store.
#[derive(Clone)]
pub struct GovernanceService {
    inner: Arc<Inner>,
}

struct Inner {
    consortia: Aggregates<Consortium>,
    meetings: Aggregates<Meeting>,
    commitments: Aggregates<Commitment>,
    store: EventStore,
    replicas: Replicas,
    /// Fingerprints commands (see [`fingerprint_key`]).
    fingerprints: FingerprintKey,
    territory: &'static Territory,
    clock: Arc<dyn Clock>,
}

/// What governance checks in the other contexts' logs, replicated locally
/// (see `maillage_replica`): the register (founders, members,
/// representatives), roundtable outcomes (commitments born of one) and the
/// programme's axes (commitments' `axis_ids`).
#[derive(Clone)]
pub struct Replicas {
    /// The register, from the stakeholders log.
    pub register: Arc<Replica<Register>>,
    /// Roundtable outcomes, from the engagement log.
    pub outcomes: Arc<Replica<RoundtableOutcomes>>,
    /// The programme's axes, from the engagement log.
    pub programme: Arc<Replica<ProgrammeAxes>>,
}

impl Replicas {
    /// The replicas stored in `db` (the service's own database).
    pub fn open(db: &sled::Db) -> Result<Self, maillage_replica::ReplicaError> {
        Ok(Self {
            register: Arc::new(Replica::open(db.open_tree(REGISTER_TREE)?)?),
            outcomes: Arc::new(Replica::open(db.open_tree(OUTCOMES_TREE)?)?),
            programme: Arc::new(Replica::open(db.open_tree(PROGRAMME_TREE)?)?),
        })
    }
}

/// The sled tree of the register replica.
pub const REGISTER_TREE: &str = "replica.register";
/// The sled tree of the roundtable outcomes replica.
pub const OUTCOMES_TREE: &str = "replica.outcomes";
/// The sled tree of the replica of the programme's axes.
pub const PROGRAMME_TREE: &str = "replica.programme";

/// The sled tree holding governance's command fingerprint key.
pub const FINGERPRINT_KEY_TREE: &str = "command.fingerprint-key";

/// The key of governance's command fingerprints, kept in its database `db`
/// (made, at random, and flushed on first use).
///
/// Governance holds no personal data and has no master key, so the key
/// cannot be derived from one; requiring a master key of governance only for
/// this would give operators a secret to keep for data that is not personal.
/// A hash without a key would do no harm today (every field of a governance
/// command is in its events in clear), but it would start leaking the day a
/// command carries something that is not; a random key in the service's own
/// database, never in the log nor on the feed, costs nothing and keeps the
/// rule of every service: a fingerprint tells nothing to whoever has only
/// the log. Losing the database (a log rebuilt from the feed) loses the key:
/// a retry of a request made before is then refused as a reuse of its
/// request id, and nothing is written twice.
pub fn fingerprint_key(db: &sled::Db) -> Result<FingerprintKey, sled::Error> {
    const KEY: &[u8] = b"v1";
    let tree = db.open_tree(FINGERPRINT_KEY_TREE)?;
    let fresh = FingerprintKey::generate();
    let stored = match tree.compare_and_swap(KEY, None::<&[u8]>, Some(&fresh.as_bytes()[..]))? {
        Ok(()) => {
            tree.flush()?;
            return Ok(fresh);
        }
        Err(existing) => existing.current,
    };
    match stored.as_deref().map(<[u8; 32]>::try_from) {
        Some(Ok(bytes)) => Ok(FingerprintKey::from_bytes(bytes)),
        // Only ever written with 32 bytes, never removed.
        _ => Err(sled::Error::Unsupported(format!(
            "{FINGERPRINT_KEY_TREE}: the stored key is not 32 bytes"
        ))),
    }
}

impl GovernanceService {
    /// The service over its database: its log, the replicas and the
    /// fingerprint key kept beside it, and the shared COG reference.
    pub fn open(database: &ServiceDatabase) -> Result<Self, OpenError> {
        let replicas =
            Replicas::open(&database.db).map_err(|error| database.failed("replicas", error))?;
        let fingerprints = fingerprint_key(&database.db)
            .map_err(|error| database.failed("fingerprint key", error))?;
        Ok(Self::new(
            database.store.clone(),
            replicas,
            fingerprints,
            Territory::shared(),
            database.clock(),
        ))
    }

    /// The replicas of the other contexts' logs, for the tasks that feed them.
    pub fn replicas(&self) -> &Replicas {
        &self.inner.replicas
    }

    /// The service over `store`, checking references against `replicas`,
    /// fingerprinting commands with `fingerprints` (see [`fingerprint_key`]),
    /// territories against `territory`, and taking the time from `clock`.
    pub fn new(
        store: EventStore,
        replicas: Replicas,
        fingerprints: FingerprintKey,
        territory: &'static Territory,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let capacity = NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Arc::new(Inner {
                consortia: Aggregates::new(store.clone(), capacity),
                meetings: Aggregates::new(store.clone(), capacity),
                commitments: Aggregates::new(store.clone(), capacity),
                store,
                replicas,
                fingerprints,
                territory,
                clock,
            }),
        }
    }

    /// The register replica, once it has reached the position the request's
    /// `maillage-after` header asks for.
    async fn register<T>(&self, request: &Request<T>) -> Result<&Replica<Register>, Status> {
        let positions = Positions::from_metadata(request.metadata())?;
        self.inner.replicas.register.reach(&positions).await?;
        Ok(&self.inner.replicas.register)
    }

    /// The roundtable outcomes replica, once it has reached the position the
    /// request's `maillage-after` header asks for.
    async fn outcomes<T>(
        &self,
        request: &Request<T>,
    ) -> Result<&Replica<RoundtableOutcomes>, Status> {
        let positions = Positions::from_metadata(request.metadata())?;
        self.inner.replicas.outcomes.reach(&positions).await?;
        Ok(&self.inner.replicas.outcomes)
    }

    /// The replica of the programme's axes, once it has reached the position
    /// the request's `maillage-after` header asks for.
    async fn programme<T>(&self, request: &Request<T>) -> Result<&Replica<ProgrammeAxes>, Status> {
        let positions = Positions::from_metadata(request.metadata())?;
        self.inner.replicas.programme.reach(&positions).await?;
        Ok(&self.inner.replicas.programme)
    }

    /// The tonic server to mount.
    pub fn into_server(self) -> pv1::governance_server::GovernanceServer<Self> {
        pv1::governance_server::GovernanceServer::new(self)
    }

    fn now(&self) -> Timestamp {
        timestamp(self.inner.clock.now())
    }
}

/// The id of a new aggregate of `kind` created by `context`'s request: the same
/// for a retry (same principal, same request id), so the retry lands on the
/// same stream and is answered from the log.
///
/// It is a UUID v5, not the v7 that DESIGN.md asks for entities: a v7 carries
/// the creation time, which a retry cannot reproduce without an extra index.
pub fn derive_id(kind: &str, context: &RequestContext) -> Uuid {
    let name = format!(
        "governance\n{kind}\n{}\n{}",
        context.principal.name, context.request_id
    );
    Uuid::new_v5(&ID_NAMESPACE, name.as_bytes())
}

/// A reader's principal (reads have no request id).
fn authorize_read<T>(request: &Request<T>) -> Result<(), Status> {
    maillage_service_kit::require(request, READERS)?;
    Ok(())
}

fn invalid(field: &str, message: impl Into<String>) -> Status {
    ServiceError::invalid_argument(field, message).into()
}

/// A code: 1 to 40 of `a-z`, `0-9`, `-`, starting with a letter or digit.
fn slug(field: &str, value: &str) -> Result<String, Status> {
    let ok = !value.is_empty()
        && value.len() <= MAX_SLUG
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-');
    if ok {
        Ok(value.to_string())
    } else {
        Err(invalid(
            field,
            "must be 1 to 40 characters of a-z, 0-9 and '-', not starting with '-'",
        ))
    }
}

/// A domain refusal or a loop failure on the aggregate `aggregate_id` as a status.
fn handle_error<E: maillage_service_kit::Refusal>(
    error: HandleError<E>,
    aggregate_id: &Uuid,
) -> Status {
    command_error(error, aggregate_id).into()
}

/// How a governance refusal reads for the caller, from its [`DomainError::refusal`].
fn refusal_error(error: impl DomainError, aggregate_id: &Uuid) -> ServiceError {
    let message = error.to_string();
    match error.refusal() {
        Refusal::InvalidArgument { field } => {
            let prefix = format!("{field}: ");
            let message = message
                .strip_prefix(&prefix)
                .unwrap_or(&message)
                .to_string();
            ServiceError::invalid_argument(field, message)
        }
        Refusal::NotFound { what, id } => ServiceError::not_found(
            what,
            if id.is_empty() {
                aggregate_id.to_string()
            } else {
                id
            },
        ),
        Refusal::AlreadyExists { what, id } => ServiceError::already_exists(what, id),
        Refusal::FailedPrecondition => ServiceError::failed_precondition(message),
    }
}

impl maillage_service_kit::Refusal for ConsortiumError {
    fn service_error(self, aggregate_id: &Uuid) -> ServiceError {
        refusal_error(self, aggregate_id)
    }
}

impl maillage_service_kit::Refusal for MeetingError {
    fn service_error(self, aggregate_id: &Uuid) -> ServiceError {
        refusal_error(self, aggregate_id)
    }
}

impl maillage_service_kit::Refusal for CommitmentError {
    fn service_error(self, aggregate_id: &Uuid) -> ServiceError {
        refusal_error(self, aggregate_id)
    }
}

/// Loads an aggregate's state, NOT_FOUND (`what` `id`) when it has no event.
fn load_existing<D: Decider>(
    aggregates: &Aggregates<D>,
    stream: &str,
    what: &str,
    id: &Uuid,
) -> Result<(u64, D::State), Status>
where
    D::Error: maillage_service_kit::Refusal,
{
    let (version, state) = aggregates
        .load(stream)
        .map_err(|error| handle_error(error, id))?;
    if version == 0 {
        return Err(ServiceError::not_found(what, id.to_string()).into());
    }
    Ok((version, state))
}

#[tonic::async_trait]
impl Governance for GovernanceService {
    async fn found_consortium(
        &self,
        request: Request<pv1::FoundConsortiumRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_found_consortium(request).await
    }

    async fn define_college(
        &self,
        request: Request<pv1::DefineCollegeRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_define_college(request).await
    }

    async fn establish_body(
        &self,
        request: Request<pv1::EstablishBodyRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_establish_body(request).await
    }

    async fn apply_for_membership(
        &self,
        request: Request<pv1::ApplyForMembershipRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_apply_for_membership(request).await
    }

    async fn admit_member(
        &self,
        request: Request<pv1::AdmitMemberRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_admit_member(request).await
    }

    async fn refuse_membership(
        &self,
        request: Request<pv1::RefuseMembershipRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_refuse_membership(request).await
    }

    async fn record_withdrawal(
        &self,
        request: Request<pv1::RecordWithdrawalRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_record_withdrawal(request).await
    }

    async fn appoint_representative(
        &self,
        request: Request<pv1::AppointRepresentativeRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_appoint_representative(request).await
    }

    async fn get_consortium(
        &self,
        request: Request<pv1::GetConsortiumRequest>,
    ) -> Result<Response<pv1::ConsortiumView>, Status> {
        self.handle_get_consortium(request).await
    }

    async fn list_consortia(
        &self,
        request: Request<pv1::ListConsortiaRequest>,
    ) -> Result<Response<pv1::ConsortiumList>, Status> {
        self.handle_list_consortia(request).await
    }

    async fn convene_meeting(
        &self,
        request: Request<pv1::ConveneMeetingRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_convene_meeting(request).await
    }

    async fn record_meeting_attendance(
        &self,
        request: Request<pv1::RecordMeetingAttendanceRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_record_attendance(request).await
    }

    async fn table_resolution(
        &self,
        request: Request<pv1::TableResolutionRequest>,
    ) -> Result<Response<pv1::TableResolutionResponse>, Status> {
        self.handle_table_resolution(request).await
    }

    async fn record_vote(
        &self,
        request: Request<pv1::RecordVoteRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_record_vote(request).await
    }

    async fn close_vote(
        &self,
        request: Request<pv1::CloseVoteRequest>,
    ) -> Result<Response<pv1::CloseVoteResponse>, Status> {
        self.handle_close_vote(request).await
    }

    async fn approve_meeting_minutes(
        &self,
        request: Request<pv1::ApproveMeetingMinutesRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_approve_minutes(request).await
    }

    async fn get_meeting(
        &self,
        request: Request<pv1::GetMeetingRequest>,
    ) -> Result<Response<pv1::MeetingView>, Status> {
        self.handle_get_meeting(request).await
    }

    /// Subject access (admin): the facts of this log that name the person.
    /// Governance holds no personal data beyond the id, so the read is not
    /// journalled.
    async fn export_person_data(
        &self,
        request: Request<pv1::ExportPersonFactsRequest>,
    ) -> Result<Response<pv1::PersonFacts>, Status> {
        maillage_service_kit::require(&request, &[Role::Admin])?;
        let person = validate::id("stakeholder_id", &request.get_ref().stakeholder_id)?;
        let store = self.inner.store.clone();
        let (facts, _) = tokio::task::spawn_blocking(move || {
            maillage_service_kit::subject_access::facts_naming(&store, crate::CONTEXT, &person)
        })
        .await
        .map_err(|error| Status::internal(format!("scan task: {error}")))??;
        Ok(Response::new(facts))
    }

    async fn make_commitment(
        &self,
        request: Request<pv1::MakeCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_make_commitment(request).await
    }

    async fn report_commitment_progress(
        &self,
        request: Request<pv1::ReportCommitmentProgressRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_report_progress(request).await
    }

    async fn complete_commitment(
        &self,
        request: Request<pv1::CompleteCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_complete_commitment(request).await
    }

    async fn drop_commitment(
        &self,
        request: Request<pv1::DropCommitmentRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        self.handle_drop_commitment(request).await
    }

    async fn get_commitment(
        &self,
        request: Request<pv1::GetCommitmentRequest>,
    ) -> Result<Response<pv1::CommitmentView>, Status> {
        self.handle_get_commitment(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_service_kit::Principal;

    fn context(principal: &str, request_id: &str) -> RequestContext {
        RequestContext::new(
            Principal {
                name: principal.into(),
                roles: vec![Role::Secretary],
            },
            request_id,
        )
    }

    #[test]
    fn derived_ids_are_stable_per_principal_request_and_kind() {
        let id = derive_id("consortium", &context("alice", "r1"));
        assert_eq!(id, derive_id("consortium", &context("alice", "r1")));
        assert_ne!(id, derive_id("consortium", &context("bob", "r1")));
        assert_ne!(id, derive_id("consortium", &context("alice", "r2")));
        assert_ne!(id, derive_id("meeting", &context("alice", "r1")));
    }

    #[test]
    fn codes_are_lowercase_slugs() {
        assert!(slug("college_code", "Entreprises").is_err());
        assert!(slug("college_code", "-x").is_err());
        assert_eq!(slug("college_code", "tiers-lieux").unwrap(), "tiers-lieux");
    }
}
