//! Maillage's engagement command service: awareness actions, roundtables,
//! thematic and foresight workshops, exchange visits, population surveys,
//! interviews and tiers-lieux diagnostics (DESIGN.md §1, §4), and the
//! programme of the accompaniment (the collectivité's axes, issue 14), and
//! the codebook its interviews and diagnostics are coded with, the outputs
//! of foresight workshops, and the lessons-learned register.
//!
//! - [`domain`]: the eight aggregates as pure deciders;
//! - [`grpc`]: the `maillage.v1.Engagement` service (validation, roles, errors);
//! - [`EngagementService`]: the service over an event store, a key vault, the
//!   territory reference and a clock; [`EngagementService::into_server`] gives
//!   the tonic server to mount (alone, or in the all-in-one binary);
//! - [`run`] / [`serve`]: the standalone server (this service, the `EventLog`
//!   service of its own log, health and reflection).

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;

use maillage_bus::NatsConfig;
use maillage_es::{Aggregates, CreationIds};
use maillage_eventstore::{Clock, EventStore, SystemClock};
use maillage_privacy::{KeyVault, MasterKey};
use maillage_proto::v1::engagement_server::EngagementServer;
use maillage_replica::{follow, Model, Reactor, ReferenceGuards, Register, Replica};
use maillage_service_kit::{
    init_tracing, AccessJournal, FingerprintKey, OpenError, ServiceConfig, ServiceDatabase,
};

use erasure::ErasureReaction;
use maillage_territory::Territory;
use tokio::net::TcpListener;

pub mod domain;
pub mod erasure;
pub mod grpc;

use domain::action::Action;
use domain::codebook::Codebook;
use domain::diagnostic::Diagnostic;
use domain::foresight::Foresight;
use domain::interview::Interview;
use domain::lesson::Lesson;
use domain::programme::Programme;
use domain::survey::Survey;

/// The context name of this service's log (in event envelopes and on the bus).
pub const CONTEXT: &str = "engagement";
/// The sled tree of the key vault in the service's database.
pub use maillage_service_kit::database::VAULT_TREE;
/// The sled tree mapping (principal, request id) to the id of what it created.
pub const CREATION_IDS_TREE: &str = "engagement.creation-ids";
/// The sled tree of the replica of the register (stakeholders checked by commands).
pub const REGISTER_TREE: &str = "replica.register";
/// The JetStream durable consumer feeding the register replica (services apart).
pub const REGISTER_DURABLE: &str = "engagement-register";
/// The sled tree of the checkpoint of the reaction to erasures.
pub const ERASURE_TREE: &str = "erasure.checkpoint";
/// The JetStream durable consumer feeding the reaction to erasures.
pub const ERASURE_DURABLE: &str = "engagement-erasure";
/// Aggregates of each kind whose state stays cached.
const CACHE_CAPACITY: usize = 4_096;

/// Stream categories of the engagement aggregates.
pub mod category {
    /// `action-<uuid>`.
    pub const ACTION: &str = "action";
    /// `survey-<uuid>`.
    pub const SURVEY: &str = "survey";
    /// `interview-<uuid>`.
    pub const INTERVIEW: &str = "interview";
    /// `diagnostic-<uuid>`.
    pub const DIAGNOSTIC: &str = "diagnostic";
    /// `programme-<nil uuid>`: the one programme of the log.
    pub const PROGRAMME: &str = "programme";
    /// `codebook-<nil uuid>`: the one codebook of the log.
    pub const CODEBOOK: &str = "codebook";
    /// `lesson-<uuid>`: a lesson learned.
    pub const LESSON: &str = "lesson";
    /// `foresight-<action uuid>`: a foresight workshop's outputs.
    pub const FORESIGHT: &str = "foresight";
}

/// The engagement service: the eight aggregates' command loops over one event
/// store, the key vault sealing notes, the COG reference and the clock.
pub struct EngagementService {
    pub(crate) actions: Aggregates<Action>,
    pub(crate) surveys: Aggregates<Survey>,
    pub(crate) interviews: Aggregates<Interview>,
    pub(crate) diagnostics: Aggregates<Diagnostic>,
    pub(crate) programme: Aggregates<Programme>,
    pub(crate) codebook: Aggregates<Codebook>,
    pub(crate) lessons: Aggregates<Lesson>,
    pub(crate) foresight: Aggregates<Foresight>,
    pub(crate) vault: Arc<KeyVault>,
    /// Fingerprints commands (derived from the vault's master key).
    pub(crate) fingerprints: FingerprintKey,
    pub(crate) territory: &'static Territory,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: CreationIds,
    pub(crate) register: Arc<Replica<Register>>,
    /// Keep reference checks and erasures from crossing (see [`erasure`]).
    pub(crate) guards: Arc<ReferenceGuards>,
    pub(crate) store: EventStore,
    pub(crate) journal: AccessJournal,
    /// The survey slugs in use (see `grpc::Slugs`).
    pub(crate) slugs: grpc::Slugs,
}

impl EngagementService {
    /// A service over `store`, sealing notes with `vault`, remembering creation
    /// ids in `ids`, checking stakeholders against `register` and communes
    /// against `territory`, dating with `clock`, recording the reads of
    /// personal data (interview and diagnostic notes) in `journal`.
    pub fn new(
        store: EventStore,
        vault: Arc<KeyVault>,
        ids: CreationIds,
        register: Arc<Replica<Register>>,
        territory: &'static Territory,
        clock: Arc<dyn Clock>,
        journal: AccessJournal,
    ) -> Self {
        // Invariant: the capacity is a non-zero constant.
        let capacity = NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Self {
            actions: Aggregates::new(store.clone(), capacity),
            surveys: Aggregates::new(store.clone(), capacity),
            interviews: Aggregates::new(store.clone(), capacity),
            diagnostics: Aggregates::new(store.clone(), capacity),
            programme: Aggregates::new(store.clone(), NonZeroUsize::MIN),
            codebook: Aggregates::new(store.clone(), NonZeroUsize::MIN),
            lessons: Aggregates::new(store.clone(), capacity),
            foresight: Aggregates::new(store.clone(), capacity),
            guards: Arc::new(ReferenceGuards::default()),
            store,
            fingerprints: FingerprintKey::from_vault(&vault),
            vault,
            territory,
            clock,
            ids,
            register,
            journal,
            slugs: grpc::Slugs::default(),
        }
    }

    /// The service over its database: its log, and the vault, creation ids,
    /// register replica and access journal kept beside it, with the shared
    /// COG reference. Feed its [`EngagementService::register`] (see [`serve_with`]).
    pub fn open(database: &ServiceDatabase, master: MasterKey) -> Result<Self, OpenError> {
        let register = Replica::open(database.tree(REGISTER_TREE, "register replica")?)
            .map_err(|error| database.failed("register replica", error))?;
        Ok(Self::new(
            database.store.clone(),
            Arc::new(database.vault(master)?),
            database.creation_ids(CREATION_IDS_TREE)?,
            Arc::new(register),
            Territory::shared(),
            database.clock(),
            database.journal()?,
        ))
    }

    /// The access journal of the reads of personal data it served.
    pub fn journal(&self) -> &AccessJournal {
        &self.journal
    }

    /// The replica of the register its commands check, to be kept fed with
    /// [`maillage_replica::follow`] from the stakeholders log.
    pub fn register(&self) -> Arc<Replica<Register>> {
        self.register.clone()
    }

    /// Engagement's part of erasures, with its checkpoint in `tree`, to be
    /// kept fed from the stakeholders log.
    pub fn erasure_reaction(
        &self,
        tree: sled::Tree,
    ) -> Result<Arc<Reactor<ErasureReaction>>, sled::Error> {
        let reaction = ErasureReaction::new(
            self.store.clone(),
            self.vault.clone(),
            self.register.clone(),
            self.guards.clone(),
            self.clock.clone(),
        );
        Ok(Arc::new(Reactor::open(tree, reaction)?))
    }

    /// Starts the tasks that feed the register replica and the erasure
    /// reaction (the latter's checkpoint in `db`) from `feeds`.
    pub fn follow(
        &self,
        db: &sled::Db,
        feeds: StakeholdersFeeds,
    ) -> anyhow::Result<[follow::Follower; 2]> {
        let reaction = self.erasure_reaction(db.open_tree(ERASURE_TREE)?)?;
        Ok([
            follow::follow(self.register(), feeds.register),
            follow::follow(reaction, feeds.erasure),
        ])
    }

    /// The tonic server to mount (`maillage.v1.Engagement`).
    pub fn into_server(self) -> EngagementServer<Self> {
        EngagementServer::new(self)
    }
}

/// The standalone server: reads `config`, binds its address, serves until
/// SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    init_tracing(config.log_format);
    let listener = TcpListener::bind(config.listen).await?;
    serve(config, listener, std::future::pending()).await
}

/// Serves on `listener` until `shutdown` completes (or a termination signal):
/// opens the service's sled database in `<data-dir>/engagement`, serves the
/// Engagement service, the EventLog service of its log (context
/// "engagement"), health and reflection — with, when `--nats` is set, a relay
/// publishing the log to JetStream and the register replica following the
/// stakeholders events on JetStream — then drains, closes the store and
/// flushes the vault. Without `--nats` nothing feeds the register replica, so
/// commands naming a stakeholder are refused (a warning says so at start).
pub async fn serve(
    config: ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let feeds = config
        .nats
        .servers()
        .is_some()
        .then(|| StakeholdersFeeds::jetstream(&config.nats));
    if feeds.is_none() {
        tracing::warn!(
            "no --nats: nothing follows the stakeholders log, so commands naming a stakeholder are refused and erasures are not applied here"
        );
    }
    serve_with(config, listener, shutdown, feeds).await
}

/// The feeds of the stakeholders log engagement follows: one for the
/// register replica, one for the erasure reaction.
pub struct StakeholdersFeeds {
    /// Feeds the register replica.
    pub register: follow::FeedFactory,
    /// Feeds the erasure reaction.
    pub erasure: follow::FeedFactory,
}

impl StakeholdersFeeds {
    /// Both from JetStream on the servers of `nats` (services apart).
    pub fn jetstream(nats: &NatsConfig) -> Self {
        Self {
            register: follow::jetstream(
                <Register as Model>::CONTEXT,
                nats.clone(),
                REGISTER_DURABLE.to_owned(),
            ),
            erasure: follow::jetstream(
                <Register as Model>::CONTEXT,
                nats.clone(),
                ERASURE_DURABLE.to_owned(),
            ),
        }
    }

    /// Both from the local stakeholders log (one process).
    pub fn direct(stakeholders: EventStore) -> Self {
        Self {
            register: follow::direct(<Register as Model>::CONTEXT, stakeholders.clone()),
            erasure: follow::direct(<Register as Model>::CONTEXT, stakeholders),
        }
    }
}

/// [`serve`], with the stakeholders log followed through `feeds` (if any)
/// instead of what the configuration says.
pub async fn serve_with(
    config: ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    feeds: Option<StakeholdersFeeds>,
) -> anyhow::Result<()> {
    let database = ServiceDatabase::open(CONTEXT, &config, Arc::new(SystemClock))?;
    let service = EngagementService::open(&database, config.master_key()?)?;
    let followers = match feeds {
        Some(feeds) => Some(service.follow(&database.db, feeds)?),
        None => None,
    };
    let journal = service.journal().clone();
    let served = database
        .serve(
            &config,
            listener,
            shutdown,
            service.into_server(),
            Some(&journal),
        )
        .await;
    for follower in followers.into_iter().flatten() {
        follower.shutdown().await;
    }
    served?;
    database.flush().await?;
    Ok(())
}
