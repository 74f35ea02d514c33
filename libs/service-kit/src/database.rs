//! A command service's one sled database, `<data-dir>/<context>`: its event
//! log, and beside it, in trees of the same database, what the service keeps
//! with the log — the key vault, the access journal (a log of its own), the
//! creation ids of retried requests, the relay's checkpoint and the replicas.
//! Each service and the all-in-one platform open it the same way, here.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use maillage_es::CreationIds;
use maillage_eventstore::{Clock, Engine, EventStore, SledEngine, SledOptions, StoreOptions};
use maillage_privacy::{KeyVault, MasterKey};

use tokio::net::TcpListener;
use tonic::server::NamedService;

use crate::access::{AccessJournal, AccessJournalService, ACCESS_TREE};
use crate::{EventLogService, Server, ServiceConfig};

/// The sled tree of a service's key vault.
pub const VAULT_TREE: &str = "privacy.keys";

/// Why a service's database could not be opened: the message names the
/// service and its directory, `part` what failed, the source why.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the {context} service in {}", dir.display())]
pub struct OpenError {
    context: String,
    dir: PathBuf,
    /// What failed: the directory, the database, the event log, the key vault...
    pub part: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// A command service's database: its log (`store`) and the sled database
/// holding it (`db`), for the trees beside it.
pub struct ServiceDatabase {
    context: &'static str,
    dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// The service's event log.
    pub store: EventStore,
    /// The sled database the log lives in.
    pub db: sled::Db,
    /// The log's engine, whose flush makes the whole database durable
    /// (the access journal's log shares it).
    engine: SledEngine,
}

impl ServiceDatabase {
    /// Opens (creating it if needed) the database of `context` in its
    /// directory of `config`'s data directory, its log dated by `clock`.
    /// Opening checks the log's hash chain.
    pub fn open(
        context: &'static str,
        config: &ServiceConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OpenError> {
        Self::open_with(context, config, clock, &config.sled_options())
    }

    /// [`ServiceDatabase::open`] with the sled settings `sled` (e.g. a
    /// smaller page cache for the all-in-one platform, which holds three).
    pub fn open_with(
        context: &'static str,
        config: &ServiceConfig,
        clock: Arc<dyn Clock>,
        sled: &SledOptions,
    ) -> Result<Self, OpenError> {
        let dir = &config.service_dir(context);
        let failed = |part: &'static str| {
            let context = context.to_owned();
            let dir = dir.to_owned();
            move |source: Box<dyn std::error::Error + Send + Sync>| OpenError {
                context,
                dir,
                part,
                source,
            }
        };
        std::fs::create_dir_all(dir).map_err(|error| failed("directory")(error.into()))?;
        let engine =
            SledEngine::open(dir, sled).map_err(|error| failed("database")(error.into()))?;
        let db = engine.db().clone();
        let options = StoreOptions {
            clock: clock.clone(),
            ..StoreOptions::default()
        };
        let store = EventStore::with_engine(Arc::new(engine.clone()), options)
            .map_err(|error| failed("event log")(error.into()))?;
        Ok(Self {
            context,
            dir: dir.to_owned(),
            clock,
            store,
            db,
            engine,
        })
    }

    /// The clock the log dates its records with.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The context whose log this is (`stakeholders`, `engagement`, `governance`).
    pub fn context(&self) -> &'static str {
        self.context
    }

    /// Serves `service` as its own process on `listener`, until `shutdown`
    /// completes or SIGTERM/SIGINT: the service writing to this log, the
    /// `EventLog` of the log, the access journal's service if `journal` is
    /// given, health and reflection; with, when `--nats` is set, the relay
    /// publishing the log to JetStream. Then the stores are closed. What
    /// follows other logs is the caller's to stop; then [`Self::flush`].
    pub async fn serve<S>(
        &self,
        config: &ServiceConfig,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
        service: S,
        journal: Option<&AccessJournal>,
    ) -> anyhow::Result<()>
    where
        S: tower_service::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let mut server = Server::from_config(config)?;
        let mut stores = vec![self.store.clone()];
        if let Some(journal) = journal {
            server = server.add_service(
                AccessJournalService::new(self.context, journal.clone()).into_server(),
            );
            stores.push(journal.store().clone());
        }
        let serving = server
            .add_command_service(service, &self.store)
            .add_service(EventLogService::new(self.context, self.store.clone()).into_server())
            .serve_with_shutdown(listener, stores, shutdown);
        tracing::info!(context = self.context, "service listening");
        maillage_bus::with_relay(&self.store, &self.db, self.context, &config.nats, serving)
            .await??;
        Ok(())
    }

    /// Makes everything written to the database durable (the last step of
    /// a shutdown), as the log's own flush does.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || engine.flush()).await??;
        Ok(())
    }

    /// The key vault, in tree [`VAULT_TREE`]; it shares the log's database,
    /// so the log's flush makes new keys durable.
    pub fn vault(&self, master: MasterKey) -> Result<KeyVault, OpenError> {
        let tree = self.tree(VAULT_TREE, "key vault")?;
        KeyVault::new(tree, master)
            .map(KeyVault::sharing_log_database)
            .map_err(|error| self.failed("key vault", error))
    }

    /// The access journal: a log of its own, in tree `access.journal`.
    pub fn journal(&self) -> Result<AccessJournal, OpenError> {
        let engine = self
            .engine
            .other_tree(ACCESS_TREE)
            .map_err(|error| self.failed("access journal", error))?;
        let options = StoreOptions {
            clock: self.clock.clone(),
            ..StoreOptions::default()
        };
        EventStore::with_engine(Arc::new(engine), options)
            .map(AccessJournal::new)
            .map_err(|error| self.failed("access journal", error))
    }

    /// The creation ids of retried requests (the id a request created, kept
    /// for its retries), in tree `tree`.
    pub fn creation_ids(&self, tree: &str) -> Result<CreationIds, OpenError> {
        self.tree(tree, "creation ids").map(CreationIds::new)
    }

    /// A tree of the database, for `what` (named in the error).
    pub fn tree(&self, name: &str, what: &'static str) -> Result<sled::Tree, OpenError> {
        self.db
            .open_tree(name)
            .map_err(|error| self.failed(what, error))
    }

    /// The error of a part of the service that failed to open.
    pub fn failed(
        &self,
        part: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> OpenError {
        OpenError {
            context: self.context.to_owned(),
            dir: self.dir.clone(),
            part,
            source: Box::new(source),
        }
    }
}
