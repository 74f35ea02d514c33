//! Maillage's projections service: read models built from the three command
//! services' event logs, and the queries and reports over them (DESIGN.md §2,
//! §4 "projections", §5).
//!
//! - [`model`]: the normalised tables and per-context checkpoints (and why
//!   they converge whatever the interleaving of the contexts);
//! - [`projector`] (private): folds one event into the tables, pure;
//! - [`storage`]: the service's sled database (atomic batch + checkpoints), or nothing;
//! - [`projection`]: the live read models, their batches and rebuild;
//! - [`consumer`]: feeds a [`maillage_bus::Feed`] into the live projection;
//! - [`source`], [`replay`]: source logs (local stores or `EventLog` gRPC) and replays `as_of`;
//! - [`queries`], [`export`]: the answers, CSV and JSON;
//! - [`grpc`]: the `maillage.v1.Projections` service;
//! - [`config`]: the separate process's flags.
//!
//! In one process (the all-in-one binary, fed by [`maillage_bus::DirectFeed`]):
//!
//! ```no_run
//! # async fn f(stakeholders: maillage_eventstore::EventStore, engagement: maillage_eventstore::EventStore,
//! #            governance: maillage_eventstore::EventStore) -> anyhow::Result<()> {
//! use std::sync::Arc;
//! let stores = [("stakeholders", stakeholders), ("engagement", engagement), ("governance", governance)];
//! let projections = maillage_projections::Projections::open(
//!     std::path::Path::new("data/projections"),
//!     maillage_projections::local_sources(&stores),
//! )?;
//! let _consumer = projections.spawn_direct(&stores)?;
//! let service = projections.service(Arc::new(maillage_eventstore::SystemClock));
//! // Server::builder(tokens).add_service(service.into_server()) ...
//! # Ok(()) }
//! ```

pub mod config;
pub mod consumer;
pub mod export;
pub mod grpc;
pub mod labels;
pub mod model;
pub mod projection;
mod projector;
pub mod queries;
pub mod replay;
pub mod source;
pub mod storage;
pub mod time;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use maillage_bus::{
    Checkpoints, DirectFeed, DirectSource, Feed, FeedError, JetStreamFeed, JetStreamFeedConfig,
};
use maillage_eventstore::{Clock, EventStore, SystemClock};
use maillage_service_kit::Server;
use maillage_territory::Territory;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{ProjectionsConfig, SourceSpec};
pub use consumer::ConsumerError;
pub use grpc::ProjectionsService;
pub use model::{Applied, ReadModel};
pub use projection::{LiveProjection, ProjectionError};
pub use source::{EventLogSource, EventSource, LocalSource, SharedSource, SourceError};
pub use storage::{MemoryStorage, SledStorage, Storage, StorageError};

/// The service's name: its database lives in `<data-dir>/projections`.
pub const NAME: &str = "projections";

/// The projections service's parts: the live read models and the source logs.
#[derive(Clone)]
pub struct Projections {
    live: Arc<LiveProjection>,
    sources: Vec<SharedSource>,
}

impl Projections {
    /// Opens the read models kept in the sled database in `dir`, replaying
    /// from `sources` for `as_of` queries and rebuilds.
    pub fn open(dir: &Path, sources: Vec<SharedSource>) -> Result<Self, StorageError> {
        Self::with_storage(Arc::new(SledStorage::open(dir)?), sources)
    }

    /// Read models kept in `storage` (e.g. [`MemoryStorage`] for a throw-away projection).
    pub fn with_storage(
        storage: Arc<dyn Storage>,
        sources: Vec<SharedSource>,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            live: Arc::new(LiveProjection::open(storage)?),
            sources,
        })
    }

    /// The live read models.
    pub fn live(&self) -> &Arc<LiveProjection> {
        &self.live
    }

    /// The stored checkpoints, to make a feed from.
    pub fn checkpoints(&self) -> Checkpoints {
        self.live.checkpoints().into_iter().collect()
    }

    /// Consumes `feed` into the live read models, in a task.
    pub fn spawn_consumer<F: Feed + 'static>(
        &self,
        feed: F,
    ) -> JoinHandle<Result<(), ConsumerError>> {
        let live = self.live.clone();
        tokio::spawn(async move {
            match consumer::consume(live, feed).await {
                // The sources closed: the process is stopping, not failing.
                Err(ConsumerError::Feed(FeedError::Closed)) => {
                    tracing::info!("the projections' feed closed; the consumer stops");
                    Ok(())
                }
                Err(error) => {
                    tracing::error!(%error, "projection consumer stopped");
                    Err(error)
                }
                Ok(()) => Ok(()),
            }
        })
    }

    /// Consumes the local logs `stores` (context, store) through a
    /// [`DirectFeed`] from the stored checkpoints, in a task.
    pub fn spawn_direct(
        &self,
        stores: &[(&str, EventStore)],
    ) -> Result<JoinHandle<Result<(), ConsumerError>>, FeedError> {
        let sources = stores
            .iter()
            .map(|(context, store)| DirectSource::new(*context, store.clone()))
            .collect();
        let feed = DirectFeed::new(sources, &self.checkpoints())?;
        Ok(self.spawn_consumer(feed))
    }

    /// The gRPC service over these read models, judging "overdue" by `clock`.
    pub fn service(&self, clock: Arc<dyn Clock>) -> ProjectionsService {
        ProjectionsService::new(
            self.live.clone(),
            self.sources.clone(),
            clock,
            Territory::shared(),
        )
    }
}

/// Replay sources over local stores: (context, store) pairs.
pub fn local_sources(stores: &[(&str, EventStore)]) -> Vec<SharedSource> {
    stores
        .iter()
        .map(|(context, store)| Arc::new(LocalSource::new(*context, store.clone())) as SharedSource)
        .collect()
}

/// Replay sources over the command services' `EventLog`s, read with the
/// token in `config.source_token_file`.
pub fn remote_sources(config: &ProjectionsConfig) -> anyhow::Result<Vec<SharedSource>> {
    if config.sources.is_empty() {
        return Ok(Vec::new());
    }
    let path = config
        .source_token_file
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("--source needs --source-token-file (role tool)"))?;
    let token = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("source token file {}: {error}", path.display()))?;
    config
        .sources
        .iter()
        .map(|spec| {
            Ok(Arc::new(EventLogSource::new(&spec.context, &spec.url, &token)?) as SharedSource)
        })
        .collect()
}

/// The separate process: opens `<data-dir>/projections`, consumes the
/// JetStream feed, serves on `listener` until `shutdown` (or SIGTERM/SIGINT).
pub async fn serve(
    config: &ProjectionsConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let projections =
        Projections::open(&config.service.service_dir(NAME), remote_sources(config)?)?;
    let nats = config.service.nats.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "--nats (MAILLAGE_NATS_URL) is required: the projections consume the JetStream feed"
        )
    })?;
    let feed = JetStreamFeed::new(
        JetStreamFeedConfig::new(nats, config.durable.clone()),
        &projections.checkpoints(),
    )?;
    let consumer = projections.spawn_consumer(feed);
    let result = Server::from_config(&config.service)?
        .add_service(projections.service(Arc::new(SystemClock)).into_server())
        .serve_with_shutdown(listener, Vec::new(), shutdown)
        .await;
    consumer.abort();
    result?;
    Ok(())
}

/// Binds `config.service.listen` and serves until SIGTERM or SIGINT.
pub async fn run(config: ProjectionsConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.service.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "projections service listening");
    serve(&config, listener, std::future::pending()).await
}
