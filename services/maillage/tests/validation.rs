//! The three command services answer the same input the same way: one set of
//! rules for ids and text (`maillage_service_kit::validate`), seen through
//! their gRPC APIs on the whole platform.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::Platform;
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use tonic::Code;

/// The codes of a read by id in each service: stakeholders, engagement, governance.
async fn read_by_id(platform: &Platform, id: &str) -> [Code; 3] {
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let mut engagement = EngagementClient::new(platform.channel().await);
    let mut governance = GovernanceClient::new(platform.channel().await);
    let code = |result: Result<_, tonic::Status>| match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    };
    [
        code(
            stakeholders
                .get_stakeholder(pb::GetStakeholderRequest {
                    stakeholder_id: id.into(),
                })
                .await
                .map(drop),
        ),
        code(
            engagement
                .get_action(pb::GetActionRequest {
                    action_id: id.into(),
                })
                .await
                .map(drop),
        ),
        code(
            governance
                .get_consortium(pb::GetConsortiumRequest {
                    consortium_id: id.into(),
                })
                .await
                .map(drop),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_takes_the_same_ids() {
    let platform = Platform::start().await;
    let id = uuid::Uuid::now_v7().to_string();
    // Unknown but well-formed, in either case: not found everywhere.
    assert_eq!(read_by_id(&platform, &id).await, [Code::NotFound; 3]);
    assert_eq!(
        read_by_id(&platform, &id.to_uppercase()).await,
        [Code::NotFound; 3]
    );
    // Before, stakeholders took all of these, and governance the padded one.
    for malformed in [
        "00000000-0000-0000-0000-000000000000".to_string(),
        format!(" {id} "),
        format!("{{{id}}}"),
        id.replace('-', ""),
        format!("urn:uuid:{id}"),
        String::new(),
    ] {
        assert_eq!(
            read_by_id(&platform, &malformed).await,
            [Code::InvalidArgument; 3],
            "{malformed:?}"
        );
    }
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_takes_the_same_text() {
    let platform = Platform::start().await;
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let mut engagement = EngagementClient::new(platform.channel().await);

    // A carriage return alone is a control character in every service (before,
    // stakeholders kept it and engagement kept any control character).
    let organisation = |request_id: &str, name: &str| pb::RegisterOrganisationRequest {
        request_id: request_id.into(),
        profile: Some(pb::OrganisationProfile {
            name: name.into(),
            details: Some(pb::organisation_profile::Details::Association(
                pb::AssociationDetails {},
            )),
            commune_code: "37063".into(),
            ..Default::default()
        }),
    };
    let action = |request_id: &str, title: &str| pb::PlanActionRequest {
        request_id: request_id.into(),
        kind: pb::ActionKind::AwarenessPublicMeeting as i32,
        title: title.into(),
        topics: vec![pb::Theme::Awareness as i32],
        audiences: vec![pb::EngagementAudience::Population as i32],
        venue: Some(pb::ActionVenue {
            place: Some(pb::action_venue::Place::CommuneCode("37063".into())),
        }),
        ..Default::default()
    };
    let refused = stakeholders
        .register_organisation(organisation("o1", "La Ruche\rde Tours"))
        .await
        .expect_err("a lone carriage return");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("profile.name"), "{refused:?}");
    let refused = engagement
        .plan_action(action("a1", "Atelier\rmobilité"))
        .await
        .expect_err("a lone carriage return");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("title"), "{refused:?}");

    // Surrounding blanks are trimmed everywhere (engagement kept them before).
    let planned = engagement
        .plan_action(action("a2", "  Atelier mobilité \n"))
        .await
        .expect("planned")
        .into_inner();
    let read = engagement
        .get_action(pb::GetActionRequest {
            action_id: planned.id,
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.title, "Atelier mobilité");
    platform.stop().await;
}
