//! The test harness: the real governance server on 127.0.0.1:0 over a real sled
//! directory and tokens file in a temp dir, and tonic clients with bearer tokens.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use maillage_proto::v1 as pv1;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::Request;

/// Tokens of the test principals.
pub struct Tokens {
    pub secretary: String,
    pub analyst: String,
    pub tool: String,
}

/// A running server.
pub struct Running {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// Stops the server and waits until its store is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

/// A data directory with its tokens.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub tokens: Tokens,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tokens");
        let tokens = Tokens {
            secretary: TokenFile::add(&path, "secretaire", &[Role::Secretary]).unwrap(),
            analyst: TokenFile::add(&path, "analyste", &[Role::Analyst]).unwrap(),
            tool: TokenFile::add(&path, "outil", &[Role::Tool]).unwrap(),
        };
        Self { dir, tokens }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Starts the server over this directory.
    pub async fn start(&self) -> Running {
        let config = ServiceConfig::for_dir(self.data_dir());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            maillage_governance::serve_with_shutdown(&config, listener, async {
                let _ = stopped.await;
            })
            .await
        });
        Running {
            address,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

pub async fn channel(address: SocketAddr) -> Channel {
    let endpoint = format!("http://{address}");
    for _ in 0..50 {
        if let Ok(channel) = Channel::from_shared(endpoint.clone())
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

/// A client of the governance service.
pub struct Client {
    pub governance: GovernanceClient<Channel>,
    pub log: EventLogClient<Channel>,
    pub token: String,
    pub tool_token: String,
}

/// A request carrying `token` (none when empty).
pub fn with_token<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if !token.is_empty() {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

impl Client {
    pub async fn new(running: &Running, tokens: &Tokens) -> Self {
        let channel = channel(running.address).await;
        Self {
            governance: GovernanceClient::new(channel.clone()),
            log: EventLogClient::new(channel),
            token: tokens.secretary.clone(),
            tool_token: tokens.tool.clone(),
        }
    }

    pub fn req<T>(&self, message: T) -> Request<T> {
        with_token(&self.token, message)
    }

    /// The log's head position (read through the EventLog service).
    pub async fn head(&mut self) -> u64 {
        self.log
            .read_all(with_token(
                &self.tool_token,
                pv1::ReadAllRequest {
                    from_position: 0,
                    limit: 1,
                    ..Default::default()
                },
            ))
            .await
            .expect("read_all")
            .into_inner()
            .head_position
    }
}
