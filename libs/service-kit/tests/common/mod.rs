//! The harness of the kit's end-to-end tests, on its test kit
//! ([`maillage_service_kit::testing`]): a real server on a listener the kit
//! holds, over a sled store in a temp dir, tokens for each role, and requests
//! that carry a bearer token. Each test binary uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;

use anyhow::Result;
use maillage_eventstore::{
    Clock, EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions, SystemClock,
};
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_service_kit::testing::{Spawned, TestData};
use maillage_service_kit::{EventLogService, Role, Server, TokenStore};
use tonic::transport::Channel;
use tonic::Request;

/// A deadlock guard, not a timing assertion.
pub const WAIT: std::time::Duration = maillage_service_kit::testing::WAIT;

/// A running server with one EventLog service, and tokens for each role.
pub struct Harness {
    pub address: std::net::SocketAddr,
    pub store: EventStore,
    pub tokens_path: std::path::PathBuf,
    pub tool: String,
    pub auditor: String,
    pub admin: String,
    pub facilitator: String,
    server: Option<Spawned>,
    _data: TestData,
}

impl Harness {
    pub async fn start() -> Result<Self> {
        Self::start_with(|server| server).await
    }

    /// Starts the server after `configure` has set it up further (limits).
    pub async fn start_with(configure: impl FnOnce(Server) -> Server) -> Result<Self> {
        Self::start_full(Arc::new(SystemClock), configure).await
    }

    /// Starts the server judging token expiry by `clock`.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Result<Self> {
        Self::start_full(clock, |server| server).await
    }

    async fn start_full(
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(Server) -> Server,
    ) -> Result<Self> {
        maillage_service_kit::init_tracing(maillage_service_kit::LogFormat::Human);
        let data = TestData::new()?;
        let tokens = data.tokens();
        let tokens_path = tokens.path().to_path_buf();
        let store = EventStore::open(&data.path().join("log"), StoreOptions::default())?;
        let server = configure(
            Server::builder(TokenStore::open_with_clock(&tokens_path, clock)?)
                .add_service(EventLogService::new("stakeholders", store.clone()).into_server()),
        );
        let stores = vec![store.clone()];
        let server = Spawned::spawn(move |listener, shutdown| {
            server.serve_with_shutdown(listener, stores, shutdown)
        })
        .await?;
        Ok(Self {
            address: server.address(),
            store,
            tool: tokens.of(Role::Tool).to_string(),
            auditor: tokens.of(Role::Auditor).to_string(),
            admin: tokens.of(Role::Admin).to_string(),
            facilitator: tokens.of(Role::Facilitator).to_string(),
            tokens_path,
            server: Some(server),
            _data: data,
        })
    }

    pub async fn channel(&self) -> Result<Channel> {
        maillage_service_kit::testing::connect(self.address).await
    }

    pub async fn client(&self) -> Result<EventLogClient<Channel>> {
        Ok(EventLogClient::new(self.channel().await?))
    }

    pub async fn append(&self, stream: &str, count: usize, event_type: &str) -> Result<()> {
        let events = (0..count)
            .map(|index| EventData {
                event_id: uuid::Uuid::now_v7(),
                event_type: event_type.into(),
                payload: vec![index as u8; 3],
                metadata: EventMetadata {
                    actor: "alice".into(),
                    request_id: "req".into(),
                    correlation_id: "corr".into(),
                    causation_id: "req".into(),
                },
            })
            .collect();
        self.store
            .append(stream, ExpectedVersion::Any, events)
            .await?;
        Ok(())
    }

    /// Stops the server through its shutdown future and waits for it.
    pub async fn stop(&mut self) -> Result<()> {
        match self.server.take() {
            Some(server) => server.stop().await,
            None => Ok(()),
        }
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    maillage_service_kit::testing::authed(token, message)
}
