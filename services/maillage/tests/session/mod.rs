//! The clients a platform test talks through, on one session (the CLI's
//! connection: the admin token of the data directory, and the log positions
//! its writes were given, so that its reads see them): shared by the erasure
//! tests, in-process and against the real binary.

#![allow(dead_code)]

use std::time::{Duration, SystemTime};

use maillage::cli::client::{Authed, Connection, SeenPositions};
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

/// The stakeholders, engagement and event log clients of one session.
pub struct Clients {
    pub stakeholders: StakeholdersClient<Authed>,
    pub engagement: EngagementClient<Authed>,
    pub logs: EventLogClient<Authed>,
    pub seen: SeenPositions,
}

/// A session on `connection`, its clients ready.
pub async fn clients(connection: &Connection) -> Clients {
    let (channel, seen) = connection.connect_session().await.unwrap();
    Clients {
        stakeholders: StakeholdersClient::new(channel.clone()),
        engagement: EngagementClient::new(channel.clone()),
        logs: EventLogClient::new(channel),
        seen,
    }
}

/// A fresh request id.
pub fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `hours` hours ago, on the wire.
pub fn hours_ago(hours: u64) -> Option<prost_types::Timestamp> {
    Some((SystemTime::now() - Duration::from_secs(hours * 3_600)).into())
}
