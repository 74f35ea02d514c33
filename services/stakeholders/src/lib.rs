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

use maillage_bus::NatsConfig;
use maillage_eventstore::{EventStore, SystemClock};
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
/// The sled tree of the replica of the programme's axes (from engagement).
pub const PROGRAMME_TREE: &str = "replica.programme";
/// The JetStream durable consumer feeding it (services apart).
pub const PROGRAMME_DURABLE: &str = "stakeholders-programme";

/// What the service follows of the engagement log: its erasure facts (the
/// saga's confirmations) and the programme's axes (the replica contacts'
/// `axis_ids` are checked against).
pub struct EngagementFeeds {
    /// Feeds the reaction to engagement's erasure facts.
    pub erasure_confirmations: follow::FeedFactory,
    /// Feeds the replica of the programme's axes.
    pub programme: follow::FeedFactory,
}

impl EngagementFeeds {
    /// Both from JetStream on the servers of `nats` (services apart).
    pub fn jetstream(nats: &NatsConfig) -> Self {
        Self {
            erasure_confirmations: follow::jetstream(
                "engagement",
                nats.clone(),
                ERASURE_CONFIRMATIONS_DURABLE.to_owned(),
            ),
            programme: follow::jetstream("engagement", nats.clone(), PROGRAMME_DURABLE.to_owned()),
        }
    }

    /// Both from the local engagement log (one process).
    pub fn direct(engagement: EventStore) -> Self {
        Self {
            erasure_confirmations: follow::direct("engagement", engagement.clone()),
            programme: follow::direct("engagement", engagement),
        }
    }
}

/// Serves the service, its `EventLog`, its `AccessJournal`, health and
/// reflection on `listener` — with, when `--nats` is set, a relay publishing
/// the log to JetStream, and the reaction to engagement's erasure facts and
/// the replica of the programme's axes following JetStream — until
/// `shutdown` completes (or SIGTERM/SIGINT), then drains in-flight requests
/// and closes the store. Without `--nats`, erasures stop at this service's
/// part and contacts tagged with an axis are refused (a warning says so).
pub async fn serve(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let feeds = config
        .nats
        .servers()
        .is_some()
        .then(|| EngagementFeeds::jetstream(&config.nats));
    if feeds.is_none() {
        tracing::warn!(
            "no --nats: the engagement log is not followed, so erasures never complete and contacts tagged with an axis are refused"
        );
    }
    serve_with(config, listener, shutdown, feeds).await
}

/// [`serve`], with the reaction to engagement's erasure facts and the
/// programme replica fed by `engagement_feeds` (if any) instead of what the
/// configuration says.
pub async fn serve_with(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
    engagement_feeds: Option<EngagementFeeds>,
) -> anyhow::Result<()> {
    let database = ServiceDatabase::open(CONTEXT, config, Arc::new(SystemClock))?;
    let service = StakeholdersService::open(&database, config.master_key()?)?;
    service.resume_erasures();
    let search = service.follow_search();
    let mut followers = Vec::new();
    if let Some(feeds) = engagement_feeds {
        followers.push(follow::follow(
            service.erasure_confirmations(
                database.tree(ERASURE_CONFIRMATIONS_TREE, "erasure confirmations")?,
            )?,
            feeds.erasure_confirmations,
        ));
        followers.push(follow::follow(service.programme().clone(), feeds.programme));
    }
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
    for follower in followers {
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
