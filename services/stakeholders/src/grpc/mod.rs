//! The `maillage.v1.Stakeholders` gRPC service: request validation, role
//! checks, sealing of personal data, the command loop, and error mapping.
//!
//! Each group of RPCs has its own file: [`register`] (persons and
//! organisations and their profile, mandates, affiliations, consents,
//! archiving), [`interactions`] (the contact log), [`erasure`] (the
//! stakeholders side of the erasure saga), [`privacy`] (subject-access
//! export), [`reads`] (get a stakeholder or an interaction, opening sealed
//! fields), [`search`] (search the register through its index),
//! [`segments`] (saved searches), [`links`] (links between organisations),
//! [`audience`] (purpose-limited audience exports for internal tools) and
//! [`import`] (contact lists, row by row). Every handler checks the caller's role first, then
//! validates the whole request (a bad field is INVALID_ARGUMENT naming it)
//! before anything is written. Spans carry ids only: never a name, an email,
//! a phone number or notes.

mod audience;
mod erasure;
mod french;
mod import;
mod interactions;
mod links;
mod privacy;
mod reads;
mod register;
mod search;
mod segments;

use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use maillage_es::{Aggregates, Decider, HandleError, Handled};
use maillage_eventstore::{Clock, EventStore};
use maillage_privacy::{KeyVault, MasterKey, PrivacyError};
use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_server::{Stakeholders, StakeholdersServer};
use maillage_replica::{ProgrammeAxes, Reactor, ReferenceGuards, Replica};
use maillage_service_kit::access::Subject;
use maillage_service_kit::{
    command_error, command_reply, AccessJournal, FingerprintKey, OpenError, Reader, Refusal,
    RequestContext, Role, ServiceDatabase, ServiceError,
};
use maillage_territory::Territory;
use tonic::{Request, Response, Status};

pub use erasure::ErasureConfirmations;
pub(crate) use register::person_fields;

use crate::domain::audience::Audience;
use crate::domain::interaction::{Interaction, InteractionError};
use crate::domain::segment::Segment;
use crate::domain::stakeholder::{Stakeholder, StakeholderError};
use crate::search::{SearchIndex, SEARCH_TREE};
use maillage_es::CreationIds;
use maillage_replica::follow::{self, Follower};

/// Stream category of persons and organisations.
pub const STAKEHOLDER: &str = "stakeholder";
/// Stream category of interactions.
pub const INTERACTION: &str = "interaction";
/// Stream category of segments (saved searches).
pub const SEGMENT: &str = "segment";
/// Stream category of audience exports (one stream per exported page).
pub const AUDIENCE: &str = "audience";

/// Roles that may change stakeholders and interactions.
pub(crate) const WRITERS: &[Role] = &[Role::Facilitator, Role::Admin];
/// Roles that may read them.
pub(crate) const READERS: &[Role] = &[Role::Facilitator, Role::Analyst, Role::Auditor, Role::Admin];
/// Roles that may erase a person or export their data.
pub(crate) const PRIVACY_OFFICERS: &[Role] = &[Role::Admin];

/// Aggregates kept in memory per kind.
const CACHE: usize = 10_000;

/// The stakeholders service: cheap to clone, shared by every connection.
#[derive(Clone)]
pub struct StakeholdersService {
    inner: Arc<Inner>,
}

struct Inner {
    store: EventStore,
    stakeholders: Aggregates<Stakeholder>,
    interactions: Aggregates<Interaction>,
    segments: Aggregates<Segment>,
    audiences: Aggregates<Audience>,
    /// The register's search index (a read side of the log).
    search: Arc<SearchIndex>,
    vault: Arc<KeyVault>,
    /// Fingerprints commands (derived from the vault's master key).
    fingerprints: FingerprintKey,
    ids: CreationIds,
    /// Erasures started and not yet done here (person id → request), see [`erasure`].
    pending_erasures: sled::Tree,
    /// Keeps `LogInteraction`'s participant check and an erasure from crossing.
    guards: ReferenceGuards,
    /// Whether other contexts' erasure facts are followed (else `ErasePerson`
    /// does not wait for a completion that cannot come).
    follows_confirmations: AtomicBool,
    territory: &'static Territory,
    clock: Arc<dyn Clock>,
    journal: AccessJournal,
    /// Import batches take turns (see [`import`]): two batches never
    /// register the same new actor twice.
    imports: tokio::sync::Mutex<()>,
    /// The programme's axes, replicated from the engagement log: what the
    /// `axis_ids` of a contact are checked against.
    programme: Arc<Replica<ProgrammeAxes>>,
}

impl StakeholdersService {
    /// The service over its database: its log, and beside it the key vault
    /// (sealing personal data with `master`), its creation ids, its
    /// unfinished erasures, its search index and the access journal of the
    /// reads of personal data; with the shared COG reference.
    pub fn open(database: &ServiceDatabase, master: MasterKey) -> Result<Self, OpenError> {
        // Invariant: CACHE is not zero.
        let capacity = NonZeroUsize::new(CACHE).unwrap_or(NonZeroUsize::MIN);
        let vault = Arc::new(database.vault(master)?);
        let search = SearchIndex::open(database.tree(SEARCH_TREE, "search index")?, vault.clone())
            .map_err(|error| database.failed("search index", error))?;
        let store = database.store.clone();
        let programme = Replica::open(database.tree(crate::PROGRAMME_TREE, "programme replica")?)
            .map_err(|error| database.failed("programme replica", error))?;
        Ok(Self {
            inner: Arc::new(Inner {
                stakeholders: Aggregates::new(store.clone(), capacity),
                interactions: Aggregates::new(store.clone(), capacity),
                segments: Aggregates::new(store.clone(), capacity),
                // An export's stream is written once and never read again.
                audiences: Aggregates::new(store.clone(), NonZeroUsize::MIN),
                search: Arc::new(search),
                store,
                fingerprints: FingerprintKey::from_vault(&vault),
                vault,
                ids: database.creation_ids(crate::ids::TREE)?,
                pending_erasures: database
                    .tree(crate::PENDING_ERASURES_TREE, "pending erasures")?,
                guards: ReferenceGuards::default(),
                follows_confirmations: AtomicBool::new(false),
                territory: Territory::shared(),
                clock: database.clock(),
                journal: database.journal()?,
                imports: tokio::sync::Mutex::new(()),
                programme: Arc::new(programme),
            }),
        })
    }

    /// The register's search index.
    pub fn search_index(&self) -> &Arc<SearchIndex> {
        &self.inner.search
    }

    /// Keeps the search index fed from the service's own log (a task, from
    /// the index's checkpoint; stop it at shutdown).
    pub fn follow_search(&self) -> Follower {
        follow::follow(
            self.inner.search.clone(),
            follow::direct(crate::CONTEXT, self.inner.store.clone()),
        )
    }

    /// The access journal of the reads of personal data it served.
    pub fn journal(&self) -> &AccessJournal {
        &self.inner.journal
    }

    /// The event store the service writes to.
    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    /// The key vault the service seals with.
    pub fn vault(&self) -> &Arc<KeyVault> {
        &self.inner.vault
    }

    /// The reaction that records other contexts' erasure facts, with its
    /// checkpoint in `tree`: keep it fed from the engagement log
    /// ([`maillage_replica::follow`]).
    pub fn erasure_confirmations(
        &self,
        tree: sled::Tree,
    ) -> Result<Arc<Reactor<ErasureConfirmations>>, sled::Error> {
        self.inner
            .follows_confirmations
            .store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(Arc::new(Reactor::open(
            tree,
            ErasureConfirmations::new(self.clone()),
        )?))
    }

    /// The replica of the programme's axes: keep it fed from the engagement
    /// log ([`maillage_replica::follow`]); until it is, a contact tagged with
    /// an axis is refused (untagged contacts need nothing of it).
    pub fn programme(&self) -> &Arc<Replica<ProgrammeAxes>> {
        &self.inner.programme
    }

    /// The tonic server to mount (on its own, or next to other services).
    pub fn into_server(self) -> StakeholdersServer<Self> {
        StakeholdersServer::new(self)
    }

    fn now(&self) -> std::time::SystemTime {
        self.inner.clock.now()
    }
}

/// A command reply.
fn reply<E>(id: &uuid::Uuid, handled: &Handled<E>) -> Response<pb::CommandReply> {
    Response::new(command_reply(id, handled))
}

/// Runs `command` on the aggregate `id` (stream `stream`) for `context`'s
/// request and replies.
async fn run<D: Decider>(
    aggregates: &Aggregates<D>,
    stream: &str,
    id: &uuid::Uuid,
    command: &D::Command,
    expected: Option<u64>,
    context: &RequestContext,
) -> Result<Response<pb::CommandReply>, Status>
where
    D::Error: Refusal,
{
    let handled = aggregates
        .handle(stream, command, expected, &context.metadata())
        .await
        .map_err(|error| handle_error(error, id))?;
    Ok(reply(id, &handled))
}

/// The status of a command the loop did not apply on the aggregate `id`.
fn handle_error<E: Refusal>(error: HandleError<E>, id: &uuid::Uuid) -> Status {
    command_error(error, id).into()
}

/// How a stakeholder's domain refusal reads for the caller.
impl Refusal for StakeholderError {
    fn service_error(self, id: &uuid::Uuid) -> ServiceError {
        use StakeholderError as E;
        match self {
            E::AlreadyRegistered => ServiceError::already_exists("stakeholder", id.to_string()),
            E::NotFound => ServiceError::not_found("stakeholder", id.to_string()),
            E::MandateNotFound(mandate) => ServiceError::not_found("mandate", mandate),
            E::AffiliationNotFound(affiliation) => {
                ServiceError::not_found("affiliation", affiliation)
            }
            E::LinkNotFound(link) => ServiceError::not_found("organisation link", link),
            E::LinkToItself => ServiceError::invalid_argument(
                "linked_organisation_id",
                "an organisation cannot be linked to itself",
            ),
            E::EndBeforeStart { field } => {
                ServiceError::invalid_argument(field, "the end is before the start")
            }
            other => ServiceError::failed_precondition(other.to_string()),
        }
    }
}

/// How an interaction's domain refusal reads for the caller.
impl Refusal for InteractionError {
    fn service_error(self, id: &uuid::Uuid) -> ServiceError {
        use InteractionError as E;
        match self {
            E::AlreadyLogged => ServiceError::already_exists("interaction", id.to_string()),
            E::NotFound => ServiceError::not_found("interaction", id.to_string()),
            E::FollowUpNotFound(follow_up) => ServiceError::not_found("follow-up", follow_up),
            E::FollowUpDone(follow_up) => {
                ServiceError::failed_precondition(format!("follow-up {follow_up} is already done"))
            }
            E::InFuture { field } => {
                ServiceError::invalid_argument(field, "more than 5 minutes in the future")
            }
            E::NoParticipants { field } => {
                ServiceError::invalid_argument(field, "at least one participant is needed")
            }
            E::NothingToCorrect => ServiceError::invalid_argument(
                "correction",
                "a correction must set at least one field",
            ),
        }
    }
}

/// A vault failure as a service error (never with personal data: vault errors carry none).
fn privacy_error(error: PrivacyError) -> ServiceError {
    match error {
        PrivacyError::Erased { subject, .. } => {
            ServiceError::failed_precondition(format!("{subject} was erased"))
        }
        other => ServiceError::internal(format!("key vault: {other}")),
    }
}

/// Parses an entity id field and records it on the RPC's span (ids only ever
/// reach the log after they parsed as UUIDs, so no free text can).
fn traced_id(field: &'static str, raw: &str) -> Result<uuid::Uuid, ServiceError> {
    let id = crate::validate::id(field, raw)?;
    tracing::Span::current().record(field, tracing::field::display(&id));
    Ok(id)
}

/// Runs blocking vault or log-scan work off the async workers.
async fn blocking<T, F>(work: F) -> Result<T, Status>
where
    F: FnOnce() -> Result<T, ServiceError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| Status::from(ServiceError::internal(format!("blocking task: {error}"))))?
        .map_err(Status::from)
}

#[tonic::async_trait]
impl Stakeholders for StakeholdersService {
    async fn register_person(
        &self,
        request: Request<pb::RegisterPersonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_register_person(request).await
    }

    async fn register_organisation(
        &self,
        request: Request<pb::RegisterOrganisationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_register_organisation(request).await
    }

    async fn update_person_profile(
        &self,
        request: Request<pb::UpdatePersonProfileRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_update_person_profile(request).await
    }

    async fn update_organisation_profile(
        &self,
        request: Request<pb::UpdateOrganisationProfileRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_update_organisation_profile(request).await
    }

    async fn start_mandate(
        &self,
        request: Request<pb::StartMandateRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_start_mandate(request).await
    }

    async fn end_mandate(
        &self,
        request: Request<pb::EndMandateRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_end_mandate(request).await
    }

    async fn add_affiliation(
        &self,
        request: Request<pb::AddAffiliationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_add_affiliation(request).await
    }

    async fn end_affiliation(
        &self,
        request: Request<pb::EndAffiliationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_end_affiliation(request).await
    }

    async fn record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_record_consent(request).await
    }

    async fn withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_withdraw_consent(request).await
    }

    async fn archive_stakeholder(
        &self,
        request: Request<pb::ArchiveStakeholderRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_archive(request).await
    }

    async fn assess_stakeholder(
        &self,
        request: Request<pb::AssessStakeholderRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_assess(request).await
    }

    async fn erase_person(
        &self,
        request: Request<pb::ErasePersonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_erase_person(request).await
    }

    async fn get_erasure(
        &self,
        request: Request<pb::GetErasureRequest>,
    ) -> Result<Response<pb::ErasureStatus>, Status> {
        self.handle_get_erasure(request).await
    }

    async fn search_stakeholders(
        &self,
        request: Request<pb::SearchStakeholdersRequest>,
    ) -> Result<Response<pb::SearchStakeholdersResponse>, Status> {
        self.handle_search(request).await
    }

    async fn define_segment(
        &self,
        request: Request<pb::DefineSegmentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_define_segment(request).await
    }

    async fn get_segment(
        &self,
        request: Request<pb::GetSegmentRequest>,
    ) -> Result<Response<pb::Segment>, Status> {
        self.handle_get_segment(request).await
    }

    async fn list_segments(
        &self,
        request: Request<pb::ListSegmentsRequest>,
    ) -> Result<Response<pb::ListSegmentsResponse>, Status> {
        self.handle_list_segments(request).await
    }

    async fn link_organisations(
        &self,
        request: Request<pb::LinkOrganisationsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_link_organisations(request).await
    }

    async fn end_organisation_link(
        &self,
        request: Request<pb::EndOrganisationLinkRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_end_organisation_link(request).await
    }

    async fn export_audience(
        &self,
        request: Request<pb::ExportAudienceRequest>,
    ) -> Result<Response<pb::ExportAudienceResponse>, Status> {
        self.handle_export_audience(request).await
    }

    async fn import_stakeholders(
        &self,
        request: Request<pb::ImportStakeholdersRequest>,
    ) -> Result<Response<pb::ImportStakeholdersResponse>, Status> {
        self.handle_import(request).await
    }

    async fn export_person_data(
        &self,
        request: Request<pb::ExportPersonDataRequest>,
    ) -> Result<Response<pb::PersonDataExport>, Status> {
        // The export holds the person's data decrypted: it is journalled, durably,
        // before it is returned (an erased person's export holds none).
        let reader = Reader::admit(&request, PRIVACY_OFFICERS)?;
        let export = self.handle_export_person_data(request).await?;
        if !export.get_ref().erased {
            let id = crate::validate::id("stakeholder_id", &export.get_ref().stakeholder_id)?;
            let subject = Subject {
                kind: "person",
                id: &id,
            };
            self.inner
                .journal
                .record(&reader, "ExportPersonData", subject)
                .await?;
        }
        Ok(export)
    }

    async fn get_stakeholder(
        &self,
        request: Request<pb::GetStakeholderRequest>,
    ) -> Result<Response<pb::Stakeholder>, Status> {
        self.handle_get_stakeholder(request).await
    }

    async fn log_interaction(
        &self,
        request: Request<pb::LogInteractionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_log_interaction(request).await
    }

    async fn correct_interaction(
        &self,
        request: Request<pb::CorrectInteractionRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_correct_interaction(request).await
    }

    async fn complete_follow_up(
        &self,
        request: Request<pb::CompleteFollowUpRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_complete_follow_up(request).await
    }

    async fn reassign_follow_up(
        &self,
        request: Request<pb::ReassignFollowUpRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        self.handle_reassign_follow_up(request).await
    }

    async fn get_interaction(
        &self,
        request: Request<pb::GetInteractionRequest>,
    ) -> Result<Response<pb::Interaction>, Status> {
        self.handle_get_interaction(request).await
    }
}
