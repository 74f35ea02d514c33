//! Read-your-writes across services for the programme's axes, on the real
//! platform in one process: an axis defined in engagement is accepted on a
//! contact by stakeholders right after, when the contact carries the
//! definition's position (`maillage-after: engagement=<position>`), and a
//! contact tagged with it is counted per axis by the projections.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use common::Platform;
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_replica::AFTER_HEADER;
use tonic::Request;

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axis_defined_in_engagement_is_accepted_by_stakeholders_right_after() {
    let platform = Platform::start().await;
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let mut engagement = EngagementClient::new(platform.channel().await);
    let person = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(pb::PersonProfile {
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "37009".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap()
        .into_inner();

    // Several rounds, each with a new axis used at once: the replica may
    // lag, the header makes the service wait for it.
    let mut axes = Vec::new();
    for round in 0..5 {
        let defined = engagement
            .define_programme_axis(pb::DefineProgrammeAxisRequest {
                request_id: rid(),
                name: format!("Axe {round}"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut request = Request::new(pb::LogInteractionRequest {
            request_id: rid(),
            participant_ids: vec![person.id.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some((SystemTime::now() - Duration::from_secs(60)).into()),
            subject: "Le projet de tiers-lieu".into(),
            axis_ids: vec![defined.id.clone()],
            ..Default::default()
        });
        request.metadata_mut().insert(
            AFTER_HEADER,
            format!("engagement={}", defined.position).parse().unwrap(),
        );
        let logged = stakeholders
            .log_interaction(request)
            .await
            .unwrap_or_else(|status| panic!("round {round}: {status:?}"));
        assert!(logged.into_inner().position > 0);
        axes.push(defined.id);
    }

    // Each axis counts its contact (the person lives in Autrèche, of the Castelrenaudais).
    let territory = pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: "243700499".into(),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let report = ProjectionsClient::new(platform.channel().await)
            .get_territory_engagement(pb::TerritoryEngagementRequest {
                territory: Some(territory.clone()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let counted: Vec<(String, u64)> = report
            .by_axis
            .iter()
            .map(|axis| (axis.axis_id.clone(), axis.contacts))
            .collect();
        let mut expected: Vec<(String, u64)> = axes.iter().map(|id| (id.clone(), 1)).collect();
        expected.sort();
        if counted == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{counted:?} != {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    platform.stop().await;
}
