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
use std::sync::Arc;

use maillage_bus::NatsConfig;
use maillage_eventstore::{EventStore, SystemClock};
use maillage_replica::{follow, Model, ProgrammeAxes, Register, RoundtableOutcomes};
use maillage_service_kit::{ServiceConfig, ServiceDatabase};
use tokio::net::TcpListener;

pub use grpc::{derive_id, fingerprint_key, GovernanceService, Replicas};

/// The context name of this service's log (in envelopes and the data directory).
pub const CONTEXT: &str = "governance";

/// The tonic server type an all-in-one binary mounts.
pub type GovernanceServer =
    maillage_proto::v1::governance_server::GovernanceServer<GovernanceService>;

/// The JetStream durable consumers feeding the replicas (services apart).
pub const REGISTER_DURABLE: &str = "governance-register";
/// See [`REGISTER_DURABLE`].
pub const OUTCOMES_DURABLE: &str = "governance-outcomes";
/// See [`REGISTER_DURABLE`].
pub const PROGRAMME_DURABLE: &str = "governance-programme";

/// The feeds of governance's replicas: the stakeholders log for the
/// register, the engagement log for roundtable outcomes and the programme's axes.
pub struct ReplicaFeeds {
    /// Feeds the register replica.
    pub register: follow::FeedFactory,
    /// Feeds the roundtable outcomes replica.
    pub outcomes: follow::FeedFactory,
    /// Feeds the replica of the programme's axes.
    pub programme: follow::FeedFactory,
}

impl ReplicaFeeds {
    /// Both from JetStream on the servers of `nats`.
    pub fn jetstream(nats: &NatsConfig) -> Self {
        Self {
            register: follow::jetstream(
                <Register as Model>::CONTEXT,
                nats.clone(),
                REGISTER_DURABLE.to_owned(),
            ),
            outcomes: follow::jetstream(
                <RoundtableOutcomes as Model>::CONTEXT,
                nats.clone(),
                OUTCOMES_DURABLE.to_owned(),
            ),
            programme: follow::jetstream(
                <ProgrammeAxes as Model>::CONTEXT,
                nats.clone(),
                PROGRAMME_DURABLE.to_owned(),
            ),
        }
    }

    /// Both from local logs (one process).
    pub fn direct(stakeholders: EventStore, engagement: EventStore) -> Self {
        Self {
            register: follow::direct(<Register as Model>::CONTEXT, stakeholders),
            outcomes: follow::direct(<RoundtableOutcomes as Model>::CONTEXT, engagement.clone()),
            programme: follow::direct(<ProgrammeAxes as Model>::CONTEXT, engagement),
        }
    }

    /// Spawns the tasks that keep `replicas` fed.
    pub fn follow(self, replicas: &Replicas) -> [follow::Follower; 3] {
        [
            follow::follow(replicas.register.clone(), self.register),
            follow::follow(replicas.outcomes.clone(), self.outcomes),
            follow::follow(replicas.programme.clone(), self.programme),
        ]
    }
}

/// Serves until `shutdown` completes: opens the store and replicas under
/// `<data-dir>/governance`, serves the Governance and EventLog services with
/// health and reflection — with, when `--nats` is set, a relay publishing the
/// log and the replicas following JetStream — then drains and closes the
/// store. Without `--nats` nothing feeds the replicas, so commands naming a
/// stakeholder, a roundtable outcome or an axis are refused (a warning says so).
pub async fn serve_with_shutdown<F>(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: F,
) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let feeds = config
        .nats
        .servers()
        .is_some()
        .then(|| ReplicaFeeds::jetstream(&config.nats));
    if feeds.is_none() {
        tracing::warn!(
            "no --nats: the replicas follow no log, so commands naming a stakeholder, a roundtable outcome or an axis are refused"
        );
    }
    serve_with(config, listener, shutdown, feeds).await
}

/// [`serve_with_shutdown`], with the replicas fed by `feeds` (if any)
/// instead of what the configuration says.
pub async fn serve_with<F>(
    config: &ServiceConfig,
    listener: TcpListener,
    shutdown: F,
    feeds: Option<ReplicaFeeds>,
) -> anyhow::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let database = ServiceDatabase::open(CONTEXT, config, Arc::new(SystemClock))?;
    let governance = GovernanceService::open(&database)?;
    let followers = feeds.map(|feeds| feeds.follow(governance.replicas()));
    let served = database
        .serve(config, listener, shutdown, governance.into_server(), None)
        .await;
    for follower in followers.into_iter().flatten() {
        follower.shutdown().await;
    }
    served?;
    database.flush().await?;
    Ok(())
}

/// Binds `config.listen` and serves until SIGTERM or SIGINT.
pub async fn run(config: ServiceConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    serve_with_shutdown(&config, listener, std::future::pending()).await
}
