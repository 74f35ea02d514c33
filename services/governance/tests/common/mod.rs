//! The test harness: the real governance server on 127.0.0.1:0 over a real sled
//! directory and tokens file in a temp dir, and tonic clients with bearer tokens.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use maillage_governance::ReplicaFeeds;
use maillage_proto::v1 as pv1;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_replica::fixtures::LogFixture;
use maillage_replica::{OrganisationType, AFTER_HEADER};
use maillage_service_kit::{Role, ServiceConfig, TokenFile};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::Request;
use uuid::Uuid;

/// Tokens of the test principals.
pub struct Tokens {
    pub secretary: String,
    pub analyst: String,
    pub tool: String,
}

/// A running server.
pub struct Running {
    pub address: SocketAddr,
    /// The stakeholders log its register replica follows.
    pub register: LogFixture,
    /// The engagement log its roundtable outcomes replica follows.
    pub engagement: LogFixture,
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

    /// Starts the server over this directory, its replicas following the
    /// fixture logs `<dir>/stakeholders-log` and `<dir>/engagement-log`.
    pub async fn start(&self) -> Running {
        let config = ServiceConfig::for_dir(self.data_dir());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let register = LogFixture::open(&self.data_dir().join("stakeholders-log")).unwrap();
        let engagement = LogFixture::open(&self.data_dir().join("engagement-log")).unwrap();
        let feeds = ReplicaFeeds::direct(register.store.clone(), engagement.store.clone());
        let task = tokio::spawn(async move {
            maillage_governance::serve_with(
                &config,
                listener,
                async {
                    let _ = stopped.await;
                },
                Some(feeds),
            )
            .await
        });
        Running {
            address,
            register,
            engagement,
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

/// A client of the governance service, and the fixture logs of the
/// stakeholders and outcomes it names.
pub struct Client {
    pub governance: GovernanceClient<Channel>,
    pub log: EventLogClient<Channel>,
    pub token: String,
    pub tool_token: String,
    pub register: LogFixture,
    pub engagement: LogFixture,
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
            register: running.register.clone(),
            engagement: running.engagement.clone(),
        }
    }

    /// A request as the secretary, asking the server's replicas to have seen
    /// everything the fixture logs hold now (`maillage-after`).
    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut request = with_token(&self.token, message);
        let after = format!(
            "stakeholders={},engagement={}",
            self.register.store.head().position,
            self.engagement.store.head().position
        );
        request
            .metadata_mut()
            .insert(AFTER_HEADER, after.parse().unwrap());
        request
    }

    /// A new organisation of type `kind` in the register; its id.
    pub async fn organisation(&self, kind: OrganisationType) -> String {
        let id = Uuid::now_v7();
        self.register
            .organisation(id, kind, "11069")
            .await
            .expect("register an organisation");
        id.to_string()
    }

    /// A new person in the register; their id.
    pub async fn person(&self) -> String {
        let id = Uuid::now_v7();
        self.register
            .person(id, "11069")
            .await
            .expect("register a person");
        id.to_string()
    }

    /// A new outcome of a held action of `kind` in the engagement log; its id.
    pub async fn outcome(&self, kind: pv1::ActionKind) -> String {
        let id = Uuid::now_v7();
        self.engagement
            .action_with_outcomes(Uuid::now_v7(), kind, &[id])
            .await
            .expect("record an outcome");
        id.to_string()
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
