//! The whole platform in one process: every service on one gRPC port, each
//! with its own sled database under the data directory.

use std::future::Future;
use std::sync::Arc;

use maillage_engagement::EngagementService;
use maillage_eventstore::{Clock, EventStore, SledEngine, SledOptions, StoreOptions, SystemClock};
use maillage_governance::GovernanceService;
use maillage_service_kit::{EventLogService, Server, ServiceConfig};
use maillage_territory::Territory;
use tokio::net::TcpListener;

use crate::admin::AdminService;
use crate::bootstrap;

/// Opens a command service's event store in `<data-dir>/<context>`; returns its sled database too.
fn open_log(
    config: &ServiceConfig,
    context: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(EventStore, sled::Db)> {
    let dir = config.service_dir(context);
    std::fs::create_dir_all(&dir)?;
    let engine = SledEngine::open(&dir, &SledOptions::default())?;
    let db = engine.db().clone();
    let options = StoreOptions {
        clock,
        ..StoreOptions::default()
    };
    Ok((EventStore::with_engine(Arc::new(engine), options)?, db))
}

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

    let (stakeholders, stakeholders_db) = maillage_stakeholders::open(
        &config.service_dir(maillage_stakeholders::CONTEXT),
        master.clone(),
        clock.clone(),
    )?;
    let stakeholders_log = stakeholders.store().clone();
    let (engagement_log, engagement_db) =
        open_log(config, maillage_engagement::CONTEXT, clock.clone())?;
    let engagement = EngagementService::open(
        &engagement_db,
        engagement_log.clone(),
        master,
        clock.clone(),
    )?;
    let (governance_log, _) = open_log(config, maillage_governance::CONTEXT, clock.clone())?;
    let governance = GovernanceService::new(governance_log.clone(), Territory::shared(), clock);

    let logs = EventLogService::new(maillage_stakeholders::CONTEXT, stakeholders_log.clone())
        .add(maillage_engagement::CONTEXT, engagement_log.clone())
        .add(maillage_governance::CONTEXT, governance_log.clone());
    let stores = vec![stakeholders_log, engagement_log, governance_log];
    tracing::info!(address = %listener.local_addr()?, data_dir = %config.data_dir.display(), "maillage is up");
    Server::from_config(config)?
        .add_service(stakeholders.into_server())
        .add_service(engagement.into_server())
        .add_service(governance.into_server())
        .add_service(logs.into_server())
        .add_service(AdminService::new(config.tokens_path()).into_server())
        .serve_with_shutdown(listener, stores, shutdown)
        .await?;
    stakeholders_db.flush_async().await?;
    engagement_db.flush_async().await?;
    Ok(())
}
