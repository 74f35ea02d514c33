//! The harness of the kit's end-to-end tests: a real server on 127.0.0.1:0
//! over a sled store in a temp dir, tokens for each role, and requests that
//! carry a bearer token. Each test binary uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use maillage_eventstore::{
    Clock, EventData, EventMetadata, EventStore, ExpectedVersion, StoreOptions, SystemClock,
};
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_service_kit::{EventLogService, Role, Server, ServerError, TokenFile, TokenStore};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::Request;

/// A deadlock guard, not a timing assertion.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running server with one EventLog service, and tokens for each role.
pub struct Harness {
    pub address: SocketAddr,
    pub store: EventStore,
    pub tokens_path: std::path::PathBuf,
    pub stop: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<Result<(), ServerError>>>,
    pub tool: String,
    pub auditor: String,
    pub admin: String,
    pub facilitator: String,
    _dir: tempfile::TempDir,
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
        let dir = tempfile::tempdir()?;
        let tokens_path = dir.path().join("tokens");
        let tool = TokenFile::add(&tokens_path, "mailing-tool", &[Role::Tool])?;
        let auditor = TokenFile::add(&tokens_path, "audit", &[Role::Auditor])?;
        let admin = TokenFile::add(&tokens_path, "root", &[Role::Admin])?;
        let facilitator = TokenFile::add(&tokens_path, "alice", &[Role::Facilitator])?;
        let store = EventStore::open(&dir.path().join("log"), StoreOptions::default())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let server = configure(
            Server::builder(TokenStore::open_with_clock(&tokens_path, clock)?)
                .add_service(EventLogService::new("stakeholders", store.clone()).into_server()),
        );
        let stores = vec![store.clone()];
        let server = tokio::spawn(server.serve_with_shutdown(listener, stores, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            address,
            store,
            tokens_path,
            stop: Some(stop),
            server: Some(server),
            tool,
            auditor,
            admin,
            facilitator,
            _dir: dir,
        })
    }

    pub async fn channel(&self) -> Result<Channel> {
        Ok(Channel::from_shared(format!("http://{}", self.address))?
            .connect()
            .await?)
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .context("server did not stop")???;
        }
        Ok(())
    }
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    request
}
