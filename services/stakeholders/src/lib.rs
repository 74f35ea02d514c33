//! Maillage's stakeholders command service: the register of the territory's
//! actors (persons and organisations, mandates, affiliations, consents) and the
//! audited contact log (interactions), over gRPC.
//!
//! - [`domain`]: the pure deciders (`stakeholder-<id>`, `interaction-<id>`
//!   and `segment-<id>` streams);
//! - [`grpc`]: the `maillage.v1.Stakeholders` service: validation, roles,
//!   sealing of personal data, the command loop, error mapping;
//! - [`search`]: the register's search index (a read side of the log, with
//!   a blind index of names), which `SearchStakeholders` reads;
//! - [`validate`]: field checks (names, email, phone, SIREN, COG codes, times);
//! - [`ids`]: server-issued UUID v7 ids that survive retries.
//!
//! [`run`] serves it on its own (the `maillage-stakeholders` binary); the
//! all-in-one binary builds a [`StakeholdersService`] with [`open`] and mounts
//! [`StakeholdersService::into_server`] next to the other services.

pub mod domain;
pub mod grpc;
pub mod ids;
pub mod search;
pub mod validate;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use maillage_eventstore::{Clock, EventStore, SledEngine, SledOptions, StoreOptions, SystemClock};
use maillage_privacy::{KeyVault, MasterKey};
use maillage_replica::follow;
use maillage_service_kit::access::ACCESS_TREE;
use maillage_service_kit::{
    AccessJournal, AccessJournalService, EventLogService, Server, ServiceConfig,
};
use maillage_territory::Territory;
use tokio::net::TcpListener;

pub use grpc::StakeholdersService;

/// The context's name: its log is served by `EventLog` under this name, and
/// its data lives in `<data-dir>/stakeholders`.
pub const CONTEXT: &str = "stakeholders";
/// The sled tree of the key vault in the service's database.
pub const VAULT_TREE: &str = "privacy.keys";
/// The sled tree of the erasures started and not yet done here.
pub const PENDING_ERASURES_TREE: &str = "erasure.pending";
/// The sled tree of the checkpoint of the reaction to engagement's erasure facts.
pub const ERASURE_CONFIRMATIONS_TREE: &str = "erasure.confirmations";
/// The JetStream durable consumer of that reaction (services apart).
pub const ERASURE_CONFIRMATIONS_DURABLE: &str = "stakeholders-erasure";

/// Why the service could not start (the cause is the error's source, which
/// `{:#}` and `{:?}` of an `anyhow::Error` print after the part that failed).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database could not be opened.
    #[error("database")]
    Engine(#[from] maillage_eventstore::EngineError),
    /// A sled tree could not be opened.
    #[error("database")]
    Sled(#[from] sled::Error),
    /// The event store could not start.
    #[error("event store")]
    Store(#[from] maillage_eventstore::StoreError),
    /// The key vault refused the master key or is unreadable.
    #[error("key vault")]
    Vault(#[from] maillage_privacy::PrivacyError),
    /// The search index could not be loaded.
    #[error("search index")]
    Search(#[from] search::IndexError),
}

/// Opens the service's one sled database in `dir` (event log, key vault,
/// request-id index, search index and access journal — a log of its own in
/// tree `access.journal` — share it) and builds the service over it; returns
/// the database too, for the service's other trees (the relay's checkpoint).
/// The service's store is the one to close on shutdown; keep its search index
/// fed with [`StakeholdersService::follow_search`].
pub fn open(
    dir: &Path,
    master: MasterKey,
    clock: Arc<dyn Clock>,
) -> Result<(StakeholdersService, sled::Db), OpenError> {
    let engine = SledEngine::open(dir, &SledOptions::default())?;
    let db = engine.db().clone();
    // The vault shares the log's database: the log's flush makes new keys durable.
    let vault = KeyVault::new(db.open_tree(VAULT_TREE)?, master)?.sharing_log_database();
    let journal = AccessJournal::new(EventStore::with_engine(
        Arc::new(SledEngine::with_tree(db.clone(), ACCESS_TREE)?),
        StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        },
    )?);
    let store = EventStore::with_engine(
        Arc::new(engine),
        StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        },
    )?;
    let service = StakeholdersService::new(
        store,
        Arc::new(vault),
        &db,
        Territory::shared(),
        clock,
        journal,
    )?;
    Ok((service, db))
}

/// Serves the service, its `EventLog`, its `AccessJournal`, health and
/// reflection on `listener` — with, when `--nats` is set, a relay publishing
/// the log to JetStream and the reaction to engagement's erasure facts
/// following JetStream — until `shutdown` completes (or SIGTERM/SIGINT), then
/// drains in-flight requests and closes the store. Without `--nats`, erasures
/// stop at this service's part (a warning says so).
pub async fn serve(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let feed = config.nats.servers().is_some().then(|| {
        follow::jetstream(
            "engagement",
            config.nats.clone(),
            ERASURE_CONFIRMATIONS_DURABLE.to_owned(),
        )
    });
    if feed.is_none() {
        tracing::warn!(
            "no --nats: engagement's erasure facts are not followed, so erasures never complete"
        );
    }
    serve_with(config, listener, shutdown, feed).await
}

/// [`serve`], with the reaction to engagement's erasure facts fed by
/// `engagement_feed` (if any) instead of what the configuration says.
pub async fn serve_with(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    engagement_feed: Option<follow::FeedFactory>,
) -> anyhow::Result<()> {
    let (service, db) = open(
        &config.service_dir(CONTEXT),
        config.master_key()?,
        Arc::new(SystemClock),
    )?;
    service.resume_erasures();
    let search = service.follow_search();
    let follower = match engagement_feed {
        Some(feed) => Some(follow::follow(
            service.erasure_confirmations(db.open_tree(ERASURE_CONFIRMATIONS_TREE)?)?,
            feed,
        )),
        None => None,
    };
    let store = service.store().clone();
    let journal = service.journal().clone();
    let server = Server::from_config(config)?
        .add_service(AccessJournalService::new(CONTEXT, journal.clone()).into_server())
        .add_command_service(service.into_server(), &store)
        .add_service(EventLogService::new(CONTEXT, store.clone()).into_server())
        .serve_with_shutdown(
            listener,
            vec![store.clone(), journal.store().clone()],
            shutdown,
        );
    let served = maillage_bus::with_relay(&store, &db, CONTEXT, &config.nats, server).await;
    if let Some(follower) = follower {
        follower.shutdown().await;
    }
    search.shutdown().await;
    served??;
    db.flush_async().await?;
    Ok(())
}

/// Runs the service as its own process: binds `config.listen` and serves until
/// SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "stakeholders service listening");
    serve(&config, listener, std::future::pending()).await
}
