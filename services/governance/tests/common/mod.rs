//! The governance tests' harness, on the workspace's test kit
//! (`maillage_service_kit::testing`): the real server on a listener the kit
//! holds, over a real sled directory with a tokens file (one principal per
//! role), its replicas following fixture logs; tonic clients with bearer tokens.

#![allow(dead_code)]

use maillage_governance::ReplicaFeeds;
use maillage_proto::v1 as pv1;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_replica::fixtures::LogFixture;
use maillage_replica::{OrganisationType, AFTER_HEADER};
pub use maillage_service_kit::testing::authed as with_token;
use maillage_service_kit::testing::{Spawned, TestData, Tokens};
pub use maillage_service_kit::Role;
use tonic::transport::Channel;
use tonic::Request;
use uuid::Uuid;

/// A running server.
pub struct Running {
    server: Spawned,
    /// The stakeholders log its register replica follows.
    pub register: LogFixture,
    /// The engagement log its roundtable outcomes replica follows.
    pub engagement: LogFixture,
}

impl Running {
    /// Stops the server and waits until its store is closed.
    pub async fn stop(self) {
        self.server.stop().await.expect("server stopped cleanly");
    }
}

/// A data directory with its tokens.
pub struct Harness {
    pub data: TestData,
    pub tokens: Tokens,
}

impl Harness {
    pub fn new() -> Self {
        let data = TestData::new().expect("a data directory");
        let tokens = data.tokens().clone();
        Self { data, tokens }
    }

    /// Starts the server over this directory, its replicas following the
    /// fixture logs `<dir>/stakeholders-log` and `<dir>/engagement-log`.
    pub async fn start(&self) -> Running {
        let config = self.data.config();
        let register = LogFixture::open(&self.data.path().join("stakeholders-log")).unwrap();
        let engagement = LogFixture::open(&self.data.path().join("engagement-log")).unwrap();
        let feeds = ReplicaFeeds::direct(register.store.clone(), engagement.store.clone());
        let server = Spawned::spawn(move |listener, shutdown| async move {
            maillage_governance::serve_with(&config, listener, shutdown, Some(feeds)).await
        })
        .await
        .expect("the server starts");
        Running {
            server,
            register,
            engagement,
        }
    }
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

impl Client {
    pub async fn new(running: &Running, tokens: &Tokens) -> Self {
        let channel = running.server.channel().await.expect("a channel");
        Self {
            governance: GovernanceClient::new(channel.clone()),
            log: EventLogClient::new(channel),
            token: tokens.of(Role::Secretary).to_string(),
            tool_token: tokens.of(Role::Tool).to_string(),
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
