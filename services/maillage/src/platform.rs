//! The whole platform in one process: every service on one gRPC port, each
//! with its own sled database under the data directory.
//!
//! By default the projections follow the three logs directly (no broker).
//! With `--nats`, each log gets a relay to JetStream and the projections
//! consume the JetStream feed instead, as separate processes would.

use std::future::Future;
use std::sync::Arc;

use maillage_engagement::{EngagementService, StakeholdersFeeds};
use maillage_eventstore::{Clock, EventStore, SledOptions, SystemClock};
use maillage_governance::{GovernanceService, ReplicaFeeds};
use maillage_replica::follow;
use maillage_service_kit::{
    AccessJournalService, EventLogService, Server, ServiceConfig, ServiceDatabase,
};
use maillage_stakeholders::StakeholdersService;
use tokio::net::TcpListener;

use maillage_bus::{JetStreamFeed, JetStreamFeedConfig, Relay, RelayConfig};
use maillage_projections::{local_sources, Projections};
use tokio_util::sync::CancellationToken;

use crate::admin::AdminService;
use crate::bootstrap;

/// The JetStream durable consumer of the in-process projections.
const PROJECTIONS_DURABLE: &str = "maillage-projections";

/// The page cache of each log's sled database here, in bytes: a quarter of
/// the store's default (64 MiB), since one process holds the three (and the
/// read models' own). A log is read from position 1 at start (its hash
/// chain, then the projections following it) and then at its head, which
/// a small cache holds; the standalone services keep the default
/// (docs/benchmarks.md, "Contacts on disk").
const STORE_CACHE: u64 = 16 * 1024 * 1024;

/// Serves every service on `listener` until `shutdown` completes (or
/// SIGTERM/SIGINT), then drains the requests in flight and closes every log.
pub async fn serve(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    bootstrap::prepare(config)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master = bootstrap::master_key(config)?;

    let sled = SledOptions {
        cache_capacity: STORE_CACHE,
        ..config.sled_options()
    };
    let open =
        |context: &'static str| ServiceDatabase::open_with(context, config, clock.clone(), &sled);
    let stakeholders_database = open(maillage_stakeholders::CONTEXT)?;
    let engagement_database = open(maillage_engagement::CONTEXT)?;
    let governance_database = open(maillage_governance::CONTEXT)?;
    let stakeholders = StakeholdersService::open(&stakeholders_database, master.clone())?;
    let engagement = EngagementService::open(&engagement_database, master)?;
    let governance = GovernanceService::open(&governance_database)?;
    let (stakeholders_log, stakeholders_db) = (
        stakeholders_database.store.clone(),
        stakeholders_database.db.clone(),
    );
    let (engagement_log, engagement_db) = (
        engagement_database.store.clone(),
        engagement_database.db.clone(),
    );
    let (governance_log, governance_db) = (
        governance_database.store.clone(),
        governance_database.db.clone(),
    );
    // What a context follows of another (replicas, the erasure saga) follows
    // the local logs directly.
    let mut followers = Vec::from(engagement.follow(
        &engagement_db,
        StakeholdersFeeds::direct(stakeholders_log.clone()),
    )?);
    followers.extend(
        ReplicaFeeds::direct(stakeholders_log.clone(), engagement_log.clone())
            .follow(governance.replicas()),
    );
    let from_engagement = maillage_stakeholders::EngagementFeeds::direct(engagement_log.clone());
    followers.push(follow::follow(
        stakeholders.erasure_confirmations(
            stakeholders_db.open_tree(maillage_stakeholders::ERASURE_CONFIRMATIONS_TREE)?,
        )?,
        from_engagement.erasure_confirmations,
    ));
    followers.push(follow::follow(
        stakeholders.programme().clone(),
        from_engagement.programme,
    ));
    stakeholders.resume_erasures();
    followers.push(stakeholders.follow_search());

    let contexts = [
        (
            maillage_stakeholders::CONTEXT,
            stakeholders_log.clone(),
            stakeholders_db.clone(),
        ),
        (
            maillage_engagement::CONTEXT,
            engagement_log.clone(),
            engagement_db.clone(),
        ),
        (
            maillage_governance::CONTEXT,
            governance_log.clone(),
            governance_db,
        ),
    ];
    let logs_by_context: Vec<(&str, EventStore)> = contexts
        .iter()
        .map(|(context, store, _)| (*context, store.clone()))
        .collect();
    let projections = Projections::open(
        &config.service_dir(maillage_projections::NAME),
        local_sources(&logs_by_context),
    )?;
    let mut relays = Vec::new();
    let consumer = match config.nats.servers() {
        None => projections.spawn_direct(&logs_by_context)?,
        Some(_) => {
            let nats = &config.nats;
            for (context, store, db) in &contexts {
                let relay_config = RelayConfig::new(*context, nats.clone());
                relays.push(Relay::spawn(
                    store.clone(),
                    db,
                    relay_config,
                    CancellationToken::new(),
                )?);
            }
            let mut feed_config = JetStreamFeedConfig::new(nats.clone(), PROJECTIONS_DURABLE);
            feed_config.refusals = projections.live().feed_refusals();
            // Made once here, so that a bad set-up is an error at start.
            let mut first = Some(JetStreamFeed::new(
                feed_config.clone(),
                &projections.checkpoints(),
            )?);
            projections.spawn_consumer(move |checkpoints| match first.take() {
                Some(feed) => Ok(feed),
                None => JetStreamFeed::new(feed_config.clone(), checkpoints),
            })
        }
    };

    let mut logs = EventLogService::new(maillage_stakeholders::CONTEXT, stakeholders_log.clone());
    for (context, store) in &logs_by_context[1..] {
        logs = logs.add(*context, store.clone());
    }
    let journals = AccessJournalService::new(
        maillage_stakeholders::CONTEXT,
        stakeholders.journal().clone(),
    )
    .add(maillage_engagement::CONTEXT, engagement.journal().clone());
    let mut stores: Vec<EventStore> = logs_by_context
        .iter()
        .map(|(_, store)| store.clone())
        .collect();
    // The access journals close with the logs.
    stores.push(stakeholders.journal().store().clone());
    stores.push(engagement.journal().store().clone());
    tracing::info!(address = %listener.local_addr()?, data_dir = %config.data_dir.display(), broker = config.nats.servers().is_some(), "maillage is up");
    let served = Server::from_config(config)?
        .request_timeout_of(
            maillage_projections::grpc::SERVICE_NAME,
            maillage_projections::grpc::REQUEST_TIMEOUT,
        )
        .add_command_service(stakeholders.into_server(), &stakeholders_log)
        .add_command_service(engagement.into_server(), &engagement_log)
        .add_command_service(governance.into_server(), &governance_log)
        .add_service_with_health(
            projections
                .service(Arc::new(SystemClock))
                .max_replays(config.max_replays as usize)
                .into_server(),
            projections.live().serving(),
        )
        .add_service(logs.into_server())
        .add_service(journals.into_server())
        .add_service(AdminService::new(config.tokens_path()).into_server())
        .serve_with_shutdown(listener, stores, shutdown)
        .await;
    consumer.abort();
    for follower in followers {
        follower.shutdown().await;
    }
    for relay in relays {
        relay.shutdown().await?;
    }
    served?;
    stakeholders_db.flush_async().await?;
    engagement_db.flush_async().await?;
    Ok(())
}
