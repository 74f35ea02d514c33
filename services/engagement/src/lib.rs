//! Maillage's engagement command service: awareness actions, roundtables,
//! thematic and foresight workshops, exchange visits, population surveys,
//! interviews and tiers-lieux diagnostics (DESIGN.md §1, §4).
//!
//! - [`domain`]: the four aggregates as pure deciders;
//! - [`grpc`]: the `maillage.v1.Engagement` service (validation, roles, errors);
//! - [`EngagementService`]: the service over an event store, a key vault, the
//!   territory reference and a clock; [`EngagementService::into_server`] gives
//!   the tonic server to mount (alone, or in the all-in-one binary);
//! - [`run`] / [`serve`]: the standalone server (this service, the `EventLog`
//!   service of its own log, health and reflection).

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;

use maillage_es::Aggregates;
use maillage_eventstore::{Clock, EventStore, SledEngine, SledOptions, StoreOptions, SystemClock};
use maillage_privacy::{KeyVault, MasterKey};
use maillage_proto::v1::engagement_server::EngagementServer;
use maillage_service_kit::{init_tracing, EventLogService, Server, ServiceConfig};
use maillage_territory::Territory;
use tokio::net::TcpListener;
use uuid::Uuid;

pub mod domain;
pub mod grpc;

use domain::action::Action;
use domain::diagnostic::Diagnostic;
use domain::interview::Interview;
use domain::survey::Survey;

/// The context name of this service's log (in event envelopes and on the bus).
pub const CONTEXT: &str = "engagement";
/// The sled tree of the key vault, in the service's database.
pub const VAULT_TREE: &str = "privacy.keys";
/// The sled tree mapping (principal, request id) to the id of what it created.
pub const CREATION_IDS_TREE: &str = "engagement.creation-ids";
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
}

/// The ids of created aggregates, remembered per (principal, request id):
/// a creation retried with the same request id gets the same UUID v7, so it
/// lands on the same stream and the store answers it with the original outcome.
///
/// The mapping lives in the service's own sled database; it is written before
/// the creation's events, and the store's flush makes both durable.
#[derive(Clone)]
pub struct CreationIds {
    tree: sled::Tree,
}

impl CreationIds {
    /// The mapping kept in `tree`.
    pub fn new(tree: sled::Tree) -> Self {
        Self { tree }
    }

    /// The id of the `category` aggregate created by `principal`'s request
    /// `request_id`: a new UUID v7 the first time, the same one afterwards.
    pub fn id_for(
        &self,
        category: &str,
        principal: &str,
        request_id: &str,
    ) -> Result<Uuid, sled::Error> {
        let key = format!("{category}\n{principal}\n{request_id}");
        let fresh = Uuid::now_v7();
        match self.tree.compare_and_swap(
            key.as_bytes(),
            None as Option<&[u8]>,
            Some(fresh.as_bytes()),
        )? {
            Ok(()) => Ok(fresh),
            Err(existing) => Ok(existing
                .current
                .and_then(|bytes| Uuid::from_slice(&bytes).ok())
                // A key is only ever written with 16 bytes, and never removed.
                .unwrap_or(fresh)),
        }
    }
}

/// The engagement service: the four aggregates' command loops over one event
/// store, the key vault sealing notes, the COG reference and the clock.
pub struct EngagementService {
    pub(crate) actions: Aggregates<Action>,
    pub(crate) surveys: Aggregates<Survey>,
    pub(crate) interviews: Aggregates<Interview>,
    pub(crate) diagnostics: Aggregates<Diagnostic>,
    pub(crate) vault: Arc<KeyVault>,
    pub(crate) territory: &'static Territory,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: CreationIds,
}

impl EngagementService {
    /// A service over `store`, sealing notes with `vault`, remembering creation
    /// ids in `ids`, checking communes against `territory`, dating with `clock`.
    pub fn new(
        store: EventStore,
        vault: Arc<KeyVault>,
        ids: CreationIds,
        territory: &'static Territory,
        clock: Arc<dyn Clock>,
    ) -> Self {
        // Invariant: the capacity is a non-zero constant.
        let capacity = NonZeroUsize::new(CACHE_CAPACITY).unwrap_or(NonZeroUsize::MIN);
        Self {
            actions: Aggregates::new(store.clone(), capacity),
            surveys: Aggregates::new(store.clone(), capacity),
            interviews: Aggregates::new(store.clone(), capacity),
            diagnostics: Aggregates::new(store, capacity),
            vault,
            territory,
            clock,
            ids,
        }
    }

    /// A service whose vault and creation ids live in `db` (the database that
    /// also holds `store`'s log), with the shared COG reference.
    pub fn open(
        db: &sled::Db,
        store: EventStore,
        master: MasterKey,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let vault = KeyVault::new(db.open_tree(VAULT_TREE)?, master)?;
        let ids = CreationIds::new(db.open_tree(CREATION_IDS_TREE)?);
        Ok(Self::new(
            store,
            Arc::new(vault),
            ids,
            Territory::shared(),
            clock,
        ))
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
/// "engagement"), health and reflection, then drains, closes the store and
/// flushes the vault.
pub async fn serve(
    config: ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let dir = config.service_dir(CONTEXT);
    std::fs::create_dir_all(&dir)?;
    let engine = SledEngine::open(&dir, &SledOptions::default())?;
    let db = engine.db().clone();
    let store = EventStore::with_engine(Arc::new(engine), StoreOptions::default())?;
    let service = EngagementService::open(
        &db,
        store.clone(),
        config.master_key()?,
        Arc::new(SystemClock),
    )?;
    let vault = service.vault.clone();
    Server::from_config(&config)?
        .add_service(service.into_server())
        .add_service(EventLogService::new(CONTEXT, store.clone()).into_server())
        .serve_with_shutdown(listener, vec![store], shutdown)
        .await?;
    vault.flush()?;
    db.flush_async().await?;
    Ok(())
}
