//! Health follows the event store behind a command service: once a write or
//! a flush has failed, the store refuses every append until it is reopened,
//! and health says NOT_SERVING — for that service and for the whole server —
//! until the process is restarted (by the orchestrator whose probe sees it).
//! The store is real (sled), with the fault-injecting engine of the store's
//! own tests around it to make one write fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

#[allow(dead_code)]
#[path = "../../eventstore/tests/common/faulty.rs"]
mod faulty;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use faulty::FaultyEngine;
use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, StoreError, StoreOptions,
};
use maillage_service_kit::testing::{connect, Spawned};
use maillage_service_kit::{EventLogService, Role, Server, TokenFile, TokenStore};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// A deadlock guard, not a timing assertion.
const GUARD: Duration = Duration::from_secs(20);
const STREAM: &str = "consent-0190f3c2-7b1e-7cc0-9a8e-2f1d6b1c9a10";
/// The command service of the test: its health follows the store.
const SERVICE: &str = "maillage.v1.EventLog";

struct Running {
    store: EventStore,
    engine: Arc<FaultyEngine>,
    server: Spawned,
}

/// Opens the store in `dir` (a fresh process would) and serves it.
async fn start(dir: &Path) -> Result<Running> {
    let engine = Arc::new(FaultyEngine::open(&dir.join("log")));
    let store = EventStore::with_engine(engine.clone(), StoreOptions::default())?;
    let server = Server::builder(TokenStore::open(dir.join("tokens"))?).add_command_service(
        EventLogService::new("stakeholders", store.clone()).into_server(),
        &store,
    );
    let stores = vec![store.clone()];
    let server = Spawned::spawn(move |listener, shutdown| {
        server.serve_with_shutdown(listener, stores, shutdown)
    })
    .await?;
    Ok(Running {
        store,
        engine,
        server,
    })
}

impl Running {
    async fn health(&self) -> Result<HealthClient<Channel>> {
        Ok(HealthClient::new(connect(self.server.address()).await?))
    }

    /// The status of `service` ("" for the whole server).
    async fn status(&self, service: &str) -> Result<ServingStatus> {
        let reply = self
            .health()
            .await?
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?
            .into_inner();
        Ok(reply.status())
    }

    /// Waits until every one of `services` reports `wanted`.
    async fn wait_for(&self, services: &[&str], wanted: ServingStatus) -> Result<()> {
        let deadline = tokio::time::Instant::now() + GUARD;
        for service in services {
            while self.status(service).await? != wanted {
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "{service:?} never became {wanted:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    async fn append(&self, payload: &[u8]) -> Result<u64, StoreError> {
        let event = EventData {
            event_id: uuid::Uuid::now_v7(),
            event_type: "t.ConsentRecorded".into(),
            payload: payload.to_vec(),
            metadata: EventMetadata {
                actor: "alice".into(),
                request_id: "r".into(),
                correlation_id: "r".into(),
                causation_id: "r".into(),
            },
        };
        let result = self
            .store
            .append(STREAM, ExpectedVersion::Any, vec![event])
            .await?;
        Ok(result.last_position)
    }

    /// Stops the server (graceful), as the orchestrator's restart does.
    async fn stop(self) -> Result<()> {
        self.server.stop().await.context("shutdown")?;
        drop(self.store);
        drop(self.engine);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_store_turns_health_not_serving_until_the_process_reopens_it() -> Result<()> {
    let dir = tempfile::tempdir()?;
    TokenFile::add(dir.path().join("tokens"), "alice", &[Role::Facilitator])?;
    let running = start(dir.path()).await?;
    running
        .wait_for(&["", SERVICE], ServingStatus::Serving)
        .await?;
    let acknowledged = running.append(b"kept").await?;

    // One write fails (a full disk); the next ones would succeed on the disk.
    running.engine.fail_next_apply();
    let failed = running.append(b"lost").await;
    assert!(matches!(failed, Err(StoreError::Storage(_))), "{failed:?}");
    running
        .wait_for(&[SERVICE, ""], ServingStatus::NotServing)
        .await?;
    // The cause is gone, but the store does not recover by itself: appends
    // are still refused and health still says so.
    let after = running.append(b"after").await;
    assert!(matches!(after, Err(StoreError::Storage(_))), "{after:?}");
    assert_eq!(running.status(SERVICE).await?, ServingStatus::NotServing);
    assert_eq!(running.status("").await?, ServingStatus::NotServing);
    running.stop().await?;

    // The orchestrator restarts the process: the store is reopened, serves,
    // and holds every acknowledged event.
    let restarted = start(dir.path()).await?;
    restarted
        .wait_for(&["", SERVICE], ServingStatus::Serving)
        .await?;
    assert_eq!(restarted.store.head().position, acknowledged);
    assert_eq!(restarted.append(b"new").await?, acknowledged + 1);
    assert_eq!(restarted.status("").await?, ServingStatus::Serving);
    restarted.stop().await?;
    Ok(())
}
