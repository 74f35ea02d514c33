//! Maillage's governance command service: the consortium a collectivité
//! creates for its tiers-lieux project — colleges with voting weights, bodies
//! with quorum and majority rules, memberships and representatives — the
//! meetings of its bodies with attendance, proxies, resolutions and weighted
//! votes, and the commitments of its action plan.
//!
//! [`domain`] holds the pure deciders and the exact vote computation;
//! [`grpc`] validates requests into commands and serves `maillage.v1.Governance`.
//! [`run`] is what the `maillage-governance` binary does; an all-in-one binary
//! mounts [`GovernanceService::into_server`] next to the other services.
//!
//! Governance holds no personal data — organisations and persons appear only
//! as stakeholder ids of the stakeholders service, and minutes are referenced,
//! not stored — so, unlike the stakeholders and engagement services, it needs
//! no key vault and no master key.

pub mod domain;
pub mod grpc;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use maillage_eventstore::{Clock, EventStore, SledEngine, SledOptions, StoreOptions, SystemClock};
use maillage_service_kit::{EventLogService, Server, ServiceConfig};
use maillage_territory::Territory;
use tokio::net::TcpListener;

pub use grpc::{derive_id, GovernanceService};

/// The context name of this service's log (in envelopes and the data directory).
pub const CONTEXT: &str = "governance";

/// The tonic server type an all-in-one binary mounts.
pub type GovernanceServer =
    maillage_proto::v1::governance_server::GovernanceServer<GovernanceService>;

/// Opens the service's event store: one sled database in `dir`, returned too
/// for the service's other trees (the relay's checkpoint).
pub fn open_store(dir: &Path, clock: Arc<dyn Clock>) -> anyhow::Result<(EventStore, sled::Db)> {
    std::fs::create_dir_all(dir)?;
    let engine = SledEngine::open(dir, &SledOptions::default())?;
    let db = engine.db().clone();
    let options = StoreOptions {
        clock,
        ..StoreOptions::default()
    };
    Ok((EventStore::with_engine(Arc::new(engine), options)?, db))
}

/// Serves governance, its `EventLog`, health and reflection on `listener` —
/// with, when `--nats` is set, a relay publishing the log to JetStream —
/// until `shutdown` completes (or SIGTERM/SIGINT), then closes the store.
/// The log lives in `<data-dir>/governance`.
pub async fn serve_with_shutdown<F>(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: F,
) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (store, db) = open_store(&config.service_dir(CONTEXT), clock.clone())?;
    let governance = GovernanceService::new(store.clone(), Territory::shared(), clock);
    let server = Server::from_config(config)?
        .add_service(governance.into_server())
        .add_service(EventLogService::new(CONTEXT, store.clone()).into_server())
        .serve_with_shutdown(listener, vec![store.clone()], shutdown);
    maillage_bus::with_relay(&store, &db, CONTEXT, config.nats.as_deref(), server).await??;
    db.flush_async().await?;
    Ok(())
}

/// Binds `config.listen` and serves until SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve_with_shutdown(&config, listener, std::future::pending()).await
}
