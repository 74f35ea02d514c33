//! The programme's plan through the real engagement service (issue 14,
//! item 1): objectives of the axes with their targets and due dates, the
//! missions of the contract and their deliverables; read back by every
//! reader, and bad requests refused with the field named and nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{Client, Role, Server, TestData, STAKEHOLDER};
use maillage_proto::v1 as pb;
use tonic::{Code, Status};

fn ts(at: SystemTime) -> Option<prost_types::Timestamp> {
    Some(at.into())
}

fn in_days(days: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(days * 86_400)
}

/// A due date the same in every request (a retry must be the same request).
fn due() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(4_000_000_000)
}

fn refused<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str, case: &str) {
    let status = result.expect_err(case);
    assert_eq!(status.code(), code, "{case}: {status:?}");
    assert!(
        status.message().starts_with(&format!("{field}: ")) || code != Code::InvalidArgument,
        "{case}: expected field {field}, got {:?}",
        status.message()
    );
}

async fn define_axis(client: &mut Client, name: &str) -> Result<String> {
    Ok(client
        .define_programme_axis(pb::DefineProgrammeAxisRequest {
            request_id: format!("axis-{name}"),
            name: name.into(),
            description: String::new(),
            expected_version: None,
        })
        .await?
        .into_inner()
        .id)
}

/// "Every commune reached by an awareness meeting or stand" by [`due`] on `axis`.
fn every_commune(request_id: &str, axis: &str) -> pb::SetProgrammeObjectiveRequest {
    pb::SetProgrammeObjectiveRequest {
        request_id: request_id.into(),
        expected_version: None,
        objective_id: String::new(),
        axis_id: axis.into(),
        label: "Toutes les communes sensibilisées".into(),
        measure: pb::ObjectiveMeasure::CommunesReached.into(),
        action_kinds: vec![
            pb::ActionKind::AwarenessPublicMeeting.into(),
            pb::ActionKind::AwarenessStand.into(),
        ],
        audiences: vec![],
        target: 0,
        every_commune: true,
        due_at: ts(due()),
    }
}

#[tokio::test]
async fn objectives_and_missions_are_set_read_back_and_changed_by_their_rules() -> Result<()> {
    let data = TestData::new()?;
    let server = Server::start(&data).await?;
    let mut client = server.client().await?;
    let axis = define_axis(&mut client, "Sensibiliser").await?;
    let concert = define_axis(&mut client, "Concerter").await?;

    let reached = client
        .set_programme_objective(every_commune("objective-1", &axis))
        .await?
        .into_inner()
        .id;
    // A retry names the same objective.
    let retry = client
        .set_programme_objective(every_commune("objective-1", &axis))
        .await?
        .into_inner()
        .id;
    assert_eq!(retry, reached);
    let roundtables = client
        .set_programme_objective(pb::SetProgrammeObjectiveRequest {
            label: "3 tables rondes avec les entreprises".into(),
            measure: pb::ObjectiveMeasure::ActionsHeld.into(),
            action_kinds: vec![pb::ActionKind::Roundtable.into()],
            audiences: vec![pb::EngagementAudience::Businesses.into()],
            target: 3,
            every_commune: false,
            ..every_commune("objective-2", &concert)
        })
        .await?
        .into_inner()
        .id;
    // Replacing it: a target of 4.
    client
        .set_programme_objective(pb::SetProgrammeObjectiveRequest {
            objective_id: roundtables.clone(),
            label: "4 tables rondes avec les entreprises".into(),
            measure: pb::ObjectiveMeasure::ActionsHeld.into(),
            action_kinds: vec![pb::ActionKind::Roundtable.into()],
            audiences: vec![pb::EngagementAudience::Businesses.into()],
            target: 4,
            every_commune: false,
            ..every_commune("objective-2b", &concert)
        })
        .await?;
    client
        .withdraw_programme_objective(pb::WithdrawProgrammeObjectiveRequest {
            request_id: "withdraw".into(),
            expected_version: None,
            objective_id: reached.clone(),
            reason: "remplacé par un objectif par EPCI".into(),
        })
        .await?;
    let mission = client
        .define_programme_mission(pb::DefineProgrammeMissionRequest {
            request_id: "mission-1".into(),
            expected_version: None,
            name: "Mission 1 : sensibilisation".into(),
            description: "Actions de sensibilisation des acteurs".into(),
        })
        .await?
        .into_inner()
        .id;
    let report = client
        .add_mission_deliverable(pb::AddMissionDeliverableRequest {
            request_id: "deliverable-1".into(),
            expected_version: None,
            mission_id: mission.clone(),
            label: "Bilan des actions de sensibilisation".into(),
            due_at: ts(in_days(90)),
        })
        .await?
        .into_inner()
        .id;
    client
        .deliver_mission_deliverable(pb::DeliverMissionDeliverableRequest {
            request_id: "delivered-1".into(),
            expected_version: None,
            deliverable_id: report.clone(),
            delivered_at: ts(SystemTime::now() - Duration::from_secs(3_600)),
            reference: "bilan-sensibilisation-v1.pdf".into(),
        })
        .await?;

    let analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?
        .get_programme(pb::GetProgrammeRequest {})
        .await?
        .into_inner();
    let objectives: Vec<(&str, u32, bool, bool)> = analyst
        .objectives
        .iter()
        .map(|o| (o.label.as_str(), o.target, o.every_commune, o.withdrawn))
        .collect();
    assert_eq!(
        objectives,
        [
            ("Toutes les communes sensibilisées", 0, true, true),
            ("4 tables rondes avec les entreprises", 4, false, false),
        ]
    );
    assert_eq!(
        analyst.objectives[0].withdrawal_reason,
        "remplacé par un objectif par EPCI"
    );
    assert_eq!(analyst.objectives[1].axis_id, concert);
    assert_eq!(analyst.missions.len(), 1);
    let deliverable = &analyst.missions[0].deliverables[0];
    assert_eq!(deliverable.deliverable_id, report);
    assert!(deliverable.delivered_at.is_some());
    assert_eq!(deliverable.reference, "bilan-sensibilisation-v1.pdf");

    // Bad requests: refused, the field named, nothing written.
    let head = server.head().await?;
    let bad = |request_id: &str| every_commune(request_id, &axis);
    let cases: Vec<(pb::SetProgrammeObjectiveRequest, Code, &str, &str)> = vec![
        (
            pb::SetProgrammeObjectiveRequest {
                axis_id: STAKEHOLDER.into(),
                ..bad("bad-1")
            },
            Code::NotFound,
            "",
            "an unknown axis",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                label: " ".into(),
                ..bad("bad-2")
            },
            Code::InvalidArgument,
            "label",
            "an empty label",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                measure: 0,
                ..bad("bad-3")
            },
            Code::InvalidArgument,
            "measure",
            "no measure",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                target: 5,
                ..bad("bad-4")
            },
            Code::InvalidArgument,
            "target",
            "a count with every commune",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                measure: pb::ObjectiveMeasure::ActionsHeld.into(),
                ..bad("bad-5")
            },
            Code::InvalidArgument,
            "every_commune",
            "every commune on a count of actions",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                every_commune: false,
                ..bad("bad-6")
            },
            Code::InvalidArgument,
            "target",
            "no target",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                action_kinds: vec![6, 6],
                ..bad("bad-7")
            },
            Code::InvalidArgument,
            "action_kinds[1]",
            "a kind twice",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                measure: pb::ObjectiveMeasure::SurveyResponses.into(),
                every_commune: false,
                target: 100,
                action_kinds: Vec::new(),
                audiences: vec![pb::EngagementAudience::Businesses.into()],
                ..bad("bad-11")
            },
            Code::InvalidArgument,
            "audiences",
            "survey responses filtered by the audiences of actions",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                due_at: None,
                ..bad("bad-8")
            },
            Code::InvalidArgument,
            "due_at",
            "no due date",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                objective_id: reached.clone(),
                ..bad("bad-9")
            },
            Code::FailedPrecondition,
            "",
            "changing a withdrawn objective",
        ),
        (
            pb::SetProgrammeObjectiveRequest {
                objective_id: STAKEHOLDER.into(),
                ..bad("bad-10")
            },
            Code::NotFound,
            "",
            "replacing an unknown objective",
        ),
    ];
    for (request, code, field, case) in cases {
        refused(
            client.set_programme_objective(request).await,
            code,
            field,
            case,
        );
    }
    refused(
        client
            .define_programme_mission(pb::DefineProgrammeMissionRequest {
                request_id: "bad-mission".into(),
                expected_version: None,
                name: "MISSION 1 : SENSIBILISATION".into(),
                description: String::new(),
            })
            .await,
        Code::AlreadyExists,
        "",
        "a mission name taken",
    );
    refused(
        client
            .add_mission_deliverable(pb::AddMissionDeliverableRequest {
                request_id: "bad-deliverable".into(),
                expected_version: None,
                mission_id: STAKEHOLDER.into(),
                label: "x".into(),
                due_at: ts(in_days(1)),
            })
            .await,
        Code::NotFound,
        "",
        "a deliverable of an unknown mission",
    );
    let deliver = |request_id: &str, at: SystemTime| pb::DeliverMissionDeliverableRequest {
        request_id: request_id.into(),
        expected_version: None,
        deliverable_id: report.clone(),
        delivered_at: ts(at),
        reference: String::new(),
    };
    refused(
        client
            .deliver_mission_deliverable(deliver("bad-again", SystemTime::now()))
            .await,
        Code::FailedPrecondition,
        "",
        "delivered twice",
    );
    refused(
        client
            .deliver_mission_deliverable(deliver("bad-future", in_days(2)))
            .await,
        Code::InvalidArgument,
        "delivered_at",
        "delivered in the future",
    );
    refused(
        server
            .client_with(Some(server.tokens.of(Role::Analyst)))
            .await?
            .set_programme_objective(bad("bad-analyst"))
            .await,
        Code::PermissionDenied,
        "",
        "an analyst setting an objective",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");
    Ok(())
}
