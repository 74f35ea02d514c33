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
//! - [`snapshot`]: snapshots of the read models, so that `as_of` replays only a tail;
//! - [`queries`], [`export`]: the answers, CSV and JSON;
//! - [`grpc`]: the `maillage.v1.Projections` service;
//! - [`heavy`]: queries off the async workers, and the limit on concurrent replays;
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
pub mod heavy;
pub mod labels;
pub mod model;
pub mod projection;
mod projector;
pub mod queries;
pub mod replay;
pub mod running;
pub mod snapshot;
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
pub use consumer::{ConsumerError, ConsumerState, ConsumerStatus};
pub use grpc::ProjectionsService;
pub use model::{Applied, ReadModel};
pub use projection::{LiveProjection, ProjectionError, RebuildProgress};
pub use snapshot::Snapshots;
pub use source::{EventLogSource, EventSource, LocalSource, SharedSource, SourceError};
pub use storage::{MemoryStorage, SledStorage, Storage, StorageError};

/// The first pause before a failed consumer starts again.
const MIN_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);
/// The longest pause before a failed consumer starts again.
const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(30);
/// A consumer that ran this long before failing starts again after the first pause.
const HEALTHY_RUN: std::time::Duration = std::time::Duration::from_secs(60);

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
    /// from `sources` for `as_of` queries and rebuilds, with snapshots every
    /// [`snapshot::DEFAULT_EVERY`] events in `dir`/[`snapshot::DIR`].
    pub fn open(dir: &Path, sources: Vec<SharedSource>) -> Result<Self, StorageError> {
        Self::open_with_snapshots(dir, sources, snapshot::DEFAULT_EVERY)
    }

    /// [`Projections::open`] with a snapshot every `every` events.
    pub fn open_with_snapshots(
        dir: &Path,
        sources: Vec<SharedSource>,
        every: u64,
    ) -> Result<Self, StorageError> {
        let storage = Arc::new(SledStorage::open(dir)?);
        let snapshots =
            Snapshots::open(&dir.join(snapshot::DIR), every).map_err(sled::Error::Io)?;
        Ok(Self {
            live: Arc::new(LiveProjection::open(storage)?.with_snapshots(Arc::new(snapshots))),
            sources,
        })
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

    /// The stored checkpoints (with the hashes there), to make a feed from.
    pub fn checkpoints(&self) -> Checkpoints {
        self.live.feed_checkpoints()
    }

    /// Consumes into the live read models, in a supervised task, the feed
    /// `make_feed` makes from the stored checkpoints.
    ///
    /// When the feed fails (NATS away, a gap, a lost commit task), the
    /// consumer is started again on a new feed from the checkpoints, after a
    /// back-off (100 ms doubling to 30 s, back to 100 ms after a minute of
    /// running). It stops for good, and the task returns, when the feed
    /// closes (shutdown), when an event cannot be decoded (the projection
    /// stops before it: its checkpoint is the position before, and nothing
    /// is skipped), or when the read models cannot be stored (the memory may
    /// be ahead of the disk: restart the process). Its state is in
    /// [`LiveProjection::consumer_status`] (and `GetProjectionStatus`).
    pub fn spawn_consumer<F, M>(&self, mut make_feed: M) -> JoinHandle<Result<(), ConsumerError>>
    where
        F: Feed + 'static,
        M: FnMut(&Checkpoints) -> Result<F, FeedError> + Send + 'static,
    {
        let live = self.live.clone();
        tokio::spawn(async move {
            let mut backoff = MIN_BACKOFF;
            loop {
                let checkpoints = live.feed_checkpoints();
                let started = tokio::time::Instant::now();
                let outcome = match make_feed(&checkpoints) {
                    Ok(feed) => {
                        live.update_consumer(|status| status.state = ConsumerState::Running);
                        consumer::consume(live.clone(), feed).await
                    }
                    Err(error) => Err(ConsumerError::Feed(error)),
                };
                let error = match outcome {
                    Ok(()) | Err(ConsumerError::Feed(FeedError::Closed)) => {
                        // The sources closed: the process is stopping, not failing.
                        tracing::info!("the projections' feed closed; the consumer stops");
                        live.update_consumer(|status| status.state = ConsumerState::Stopped);
                        return Ok(());
                    }
                    Err(error) => error,
                };
                let message = error.to_string();
                let fatal = match &error {
                    ConsumerError::Projection(ProjectionError::Undecodable {
                        context,
                        position,
                        ..
                    }) => Some(Some((context.clone(), *position))),
                    ConsumerError::Projection(_) => Some(None),
                    ConsumerError::Feed(_) | ConsumerError::Join(_) => None,
                };
                if let Some(stopped_at) = fatal {
                    tracing::error!(%error, "projection consumer stopped; it is not restarted");
                    live.update_consumer(|status| {
                        status.state = ConsumerState::Stopped;
                        status.last_error = message;
                        status.stopped_at = stopped_at;
                    });
                    return Err(error);
                }
                if started.elapsed() >= HEALTHY_RUN {
                    backoff = MIN_BACKOFF;
                }
                tracing::error!(%error, retry_in = ?backoff, "projection consumer failed; restarting");
                live.update_consumer(|status| {
                    status.state = ConsumerState::Restarting;
                    status.last_error = message;
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                live.update_consumer(|status| status.restarts += 1);
            }
        })
    }

    /// Consumes the local logs `stores` (context, store) through a
    /// [`DirectFeed`] from the stored checkpoints, in a supervised task (see
    /// [`Projections::spawn_consumer`]).
    pub fn spawn_direct(
        &self,
        stores: &[(&str, EventStore)],
    ) -> Result<JoinHandle<Result<(), ConsumerError>>, FeedError> {
        let stores: Vec<(String, EventStore)> = stores
            .iter()
            .map(|(context, store)| ((*context).to_owned(), store.clone()))
            .collect();
        let make_feed = move |checkpoints: &Checkpoints| {
            let sources = stores
                .iter()
                .map(|(context, store)| DirectSource::new(context.as_str(), store.clone()))
                .collect();
            DirectFeed::new(sources, checkpoints)
        };
        // The first feed is made here, so that a bad set-up is an error now.
        let mut first = Some(make_feed(&self.checkpoints())?);
        Ok(self.spawn_consumer(move |checkpoints| match first.take() {
            Some(feed) => Ok(feed),
            None => make_feed(checkpoints),
        }))
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
    if config.service.nats.servers().is_none() {
        anyhow::bail!(
            "--nats (MAILLAGE_NATS_URL) is required: the projections consume the JetStream feed"
        );
    }
    let nats = config.service.nats.clone();
    let mut feed_config = JetStreamFeedConfig::new(nats, config.durable.clone());
    feed_config.refusals = projections.live().feed_refusals();
    let consumer = projections
        .spawn_consumer(move |checkpoints| JetStreamFeed::new(feed_config.clone(), checkpoints));
    let result = Server::from_config(&config.service)?
        .request_timeout_of(grpc::SERVICE_NAME, grpc::REQUEST_TIMEOUT)
        .add_service_with_health(
            projections
                .service(Arc::new(SystemClock))
                .max_replays(config.service.max_replays as usize)
                .into_server(),
            projections.live().serving(),
        )
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
