//! Cheap requests must not cost a lot (issue 15, defect 7): `as_of` replays
//! beyond the limit are refused at once, and a territory code of any size is
//! refused before any search. Real stores, a real sled read model, real gRPC.
//! One source log is read through a gate the test opens, so that a replay is
//! known to be running (holding its slot) while the next request arrives.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures::future::BoxFuture;
use maillage_eventstore::SystemClock;
use maillage_projections::time::timestamp;
use maillage_projections::{local_sources, EventSource, LocalSource, Projections, SourceError};
use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_service_kit::auth::{Role, TokenStore};
use maillage_service_kit::testing::{Spawned, Tokens};
use maillage_service_kit::Server;
use tokio::sync::{watch, Notify};
use tonic::transport::Channel;
use tonic::{Code, Request};

/// A deadlock guard, not a timing assertion.
const GUARD: Duration = Duration::from_secs(30);

/// A real local source whose reads wait until the test opens the gate; each
/// read first says it has begun.
struct Gated {
    inner: LocalSource,
    open: watch::Receiver<bool>,
    reading: Arc<Notify>,
}

impl EventSource for Gated {
    fn context(&self) -> &str {
        self.inner.context()
    }

    fn read(
        &self,
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<pb::EventEnvelope>, SourceError>> {
        Box::pin(async move {
            self.reading.notify_one();
            let mut open = self.open.clone();
            // An error means the test is over: read on.
            let _ = open.wait_for(|open| *open).await;
            self.inner.read(from, limit).await
        })
    }
}

struct World {
    /// Dropped first, it stops the server.
    _server: Spawned,
    _dir: tempfile::TempDir,
    client: ProjectionsClient<Channel>,
    analyst: String,
    gate: watch::Sender<bool>,
    reading: Arc<Notify>,
}

/// The scenario's logs, the live projection caught up, and a server allowing
/// one replay at once whose stakeholders source is gated (closed).
async fn world() -> World {
    world_gating(0).await.0
}

/// As [`world`], with the source at `gated` (0 stakeholders, 1 engagement, 2
/// governance) gated instead; also the head of each log, in source order.
async fn world_gating(gated: usize) -> (World, Vec<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    logs.append(&scenario()).await;
    let (gate, open) = watch::channel(false);
    let reading = Arc::new(Notify::new());
    let pairs = logs.pairs();
    let mut sources = local_sources(&pairs);
    let (context, store) = &pairs[gated];
    sources[gated] = Arc::new(Gated {
        inner: LocalSource::new(*context, store.clone()),
        open,
        reading: reading.clone(),
    });
    let heads = pairs
        .iter()
        .map(|(_, store)| store.head().position)
        .collect();
    let projections = Projections::open(&dir.path().join("projections"), sources).unwrap();
    projections.spawn_direct(&logs.pairs()).unwrap();
    for (context, head) in logs.heads() {
        projections.live().wait_for(context, head).await;
    }
    let tokens = Tokens::create(dir.path().join("tokens")).unwrap();
    let server = Server::builder(TokenStore::open(tokens.path()).unwrap()).add_service(
        projections
            .service(Arc::new(SystemClock))
            .max_replays(1)
            .into_server(),
    );
    let server = Spawned::spawn(move |listener, shutdown| {
        server.serve_with_shutdown(listener, Vec::new(), shutdown)
    })
    .await
    .unwrap();
    let client = ProjectionsClient::new(server.channel().await.unwrap());
    let world = World {
        _dir: dir,
        client,
        analyst: tokens.of(Role::Analyst).to_string(),
        gate,
        reading,
        _server: server,
    };
    (world, heads)
}

fn req<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn report(code: &str, as_of: Option<i64>) -> pb::TerritoryEngagementRequest {
    pb::TerritoryEngagementRequest {
        territory: Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: code.into(),
        }),
        as_of: as_of.map(timestamp),
        page: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_as_of_replay_beyond_the_limit_is_resource_exhausted() {
    let w = world().await;
    let everything = Some(day(400));
    let first = {
        let (mut client, token) = (w.client.clone(), w.analyst.clone());
        tokio::spawn(async move {
            client
                .get_territory_engagement(req(report(EPCI, everything), &token))
                .await
        })
    };
    // The first replay is reading: it holds the only slot.
    tokio::time::timeout(GUARD, w.reading.notified())
        .await
        .expect("the first replay started");

    let mut client = w.client.clone();
    let refused = tokio::time::timeout(
        GUARD,
        client.get_territory_engagement(req(report(EPCI, everything), &w.analyst)),
    )
    .await
    .expect("refused at once, not queued")
    .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(
        refused.message(),
        "1 as_of replays or rebuilds are already running (the limit, --max-replays); retry later"
    );
    // Queries of the live read models need no slot.
    let live = client
        .get_territory_engagement(req(report(EPCI, None), &w.analyst))
        .await
        .unwrap()
        .into_inner();

    w.gate.send_replace(true);
    let replayed = tokio::time::timeout(GUARD, first)
        .await
        .unwrap()
        .unwrap()
        .unwrap()
        .into_inner();
    assert_eq!(replayed.stakeholders_by_kind, live.stakeholders_by_kind);
    // The slot was given back.
    client
        .get_territory_engagement(req(report(EPCI, everything), &w.analyst))
        .await
        .unwrap();
}

/// A replay running is listed by `GetProjectionStatus` with the events it has
/// read, and no longer once its query is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_replay_reports_its_progress() {
    let (w, heads) = world_gating(2).await;
    let everything = Some(day(400));
    let first = {
        let (mut client, token) = (w.client.clone(), w.analyst.clone());
        tokio::spawn(async move {
            client
                .get_territory_engagement(req(report(EPCI, everything), &token))
                .await
        })
    };
    // The replay read the stakeholders and engagement logs whole, and waits
    // at the governance log.
    tokio::time::timeout(GUARD, w.reading.notified())
        .await
        .expect("the replay reached the governance log");
    let mut client = w.client.clone();
    let status = |mut client: ProjectionsClient<Channel>, token: String| async move {
        client
            .get_projection_status(req(pb::ProjectionStatusRequest {}, &token))
            .await
            .unwrap()
            .into_inner()
    };
    let running = status(client.clone(), w.analyst.clone()).await;
    assert_eq!(running.replays.len(), 1, "{running:?}");
    let replay = &running.replays[0];
    assert_eq!(replay.as_of, everything.map(timestamp));
    assert!(replay.started_at.is_some());
    assert_eq!(replay.events_read, heads[0] + heads[1]);

    w.gate.send_replace(true);
    tokio::time::timeout(GUARD, first)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let done = status(client.clone(), w.analyst.clone()).await;
    assert!(done.replays.is_empty(), "{done:?}");
    // A live query is no replay.
    client
        .get_territory_engagement(req(report(EPCI, None), &w.analyst))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_territory_code_is_refused_before_any_search() {
    let w = world().await;
    let mut client = w.client.clone();
    for as_of in [None, Some(day(400))] {
        let refused = client
            .get_territory_engagement(req(report(&"7".repeat(1 << 20), as_of), &w.analyst))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert_eq!(
            refused.message(),
            "territory.code: 1048576 bytes, a territory code has at most 16"
        );
    }
    // A short unknown code still gets the closest names.
    let unknown = client
        .get_territory_engagement(req(report("Liepvre", None), &w.analyst))
        .await
        .unwrap_err();
    assert!(unknown.message().contains("closest names:"), "{unknown:?}");
}
