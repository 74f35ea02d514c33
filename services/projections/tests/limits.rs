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
    let dir = tempfile::tempdir().unwrap();
    let logs = Logs::open(&dir.path().join("logs"));
    logs.append(&scenario()).await;
    let (gate, open) = watch::channel(false);
    let reading = Arc::new(Notify::new());
    let mut sources = local_sources(&logs.pairs());
    sources[0] = Arc::new(Gated {
        inner: LocalSource::new("stakeholders", logs.stakeholders.clone()),
        open,
        reading: reading.clone(),
    });
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
    World {
        _dir: dir,
        client,
        analyst: tokens.of(Role::Analyst).to_string(),
        gate,
        reading,
        _server: server,
    }
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
