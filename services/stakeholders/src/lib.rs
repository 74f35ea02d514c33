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
//! all-in-one binary builds a [`StakeholdersService`] with
//! [`StakeholdersService::open`] and mounts
//! [`StakeholdersService::into_server`] next to the other services.

pub mod domain;
pub mod grpc;
pub mod ids;
pub mod search;
pub mod validate;

use std::future::Future;
use std::sync::Arc;

use maillage_eventstore::SystemClock;
use maillage_replica::follow;
use maillage_service_kit::{ServiceConfig, ServiceDatabase};
use tokio::net::TcpListener;

pub use grpc::StakeholdersService;

/// The context's name: its log is served by `EventLog` under this name, and
/// its data lives in `<data-dir>/stakeholders`.
pub const CONTEXT: &str = "stakeholders";
/// The sled tree of the key vault in the service's database.
pub use maillage_service_kit::database::VAULT_TREE;
/// The sled tree of the erasures started and not yet done here.
pub const PENDING_ERASURES_TREE: &str = "erasure.pending";
/// The sled tree of the checkpoint of the reaction to engagement's erasure facts.
pub const ERASURE_CONFIRMATIONS_TREE: &str = "erasure.confirmations";
/// The JetStream durable consumer of that reaction (services apart).
pub const ERASURE_CONFIRMATIONS_DURABLE: &str = "stakeholders-erasure";

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
    let database =
        ServiceDatabase::open(CONTEXT, &config.service_dir(CONTEXT), Arc::new(SystemClock))?;
    let service = StakeholdersService::open(&database, config.master_key()?)?;
    service.resume_erasures();
    let search = service.follow_search();
    let follower = match engagement_feed {
        Some(feed) => Some(follow::follow(
            service.erasure_confirmations(
                database.tree(ERASURE_CONFIRMATIONS_TREE, "erasure confirmations")?,
            )?,
            feed,
        )),
        None => None,
    };
    let journal = service.journal().clone();
    let served = database
        .serve(
            config,
            listener,
            shutdown,
            service.into_server(),
            Some(&journal),
        )
        .await;
    if let Some(follower) = follower {
        follower.shutdown().await;
    }
    search.shutdown().await;
    served?;
    database.flush().await?;
    Ok(())
}

/// Runs the service as its own process: binds `config.listen` and serves until
/// SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "stakeholders service listening");
    serve(&config, listener, std::future::pending()).await
}
