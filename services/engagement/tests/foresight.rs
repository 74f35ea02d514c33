//! A foresight workshop's outputs through a real gRPC client, on a real sled
//! directory: refused before the workshop is held, for an action of another
//! kind, with a horizon out of range or nothing in them (the log unchanged);
//! recorded once held, read back, revised as a whole.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{refused, Client, Server, TestData, ORGANISER};
use maillage_proto::v1::{self as pb, action_venue::Place, ActionKind, EngagementAudience, Theme};
use tonic::Code;

async fn workshop(client: &mut Client, tag: &str, kind: ActionKind) -> Result<String> {
    Ok(client
        .plan_action(pb::PlanActionRequest {
            request_id: format!("{tag}-plan"),
            kind: kind as i32,
            title: "Atelier prospectif : nos tiers-lieux en 2035".into(),
            topics: vec![Theme::QuelsTla as i32],
            audiences: vec![EngagementAudience::Population as i32],
            venue: Some(pb::ActionVenue {
                place: Some(Place::CommuneCode("15014".into())),
            }),
            organiser_ids: vec![ORGANISER.into()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id)
}

async fn hold(client: &mut Client, tag: &str, id: &str) -> Result<()> {
    let ago = |hours: u64| Some((SystemTime::now() - Duration::from_secs(hours * 3_600)).into());
    client
        .schedule_action(pb::ScheduleActionRequest {
            request_id: format!("{tag}-schedule"),
            action_id: id.into(),
            expected_version: None,
            starts_at: ago(3),
            ends_at: ago(1),
        })
        .await?;
    client
        .mark_action_held(pb::MarkActionHeldRequest {
            request_id: format!("{tag}-held"),
            action_id: id.into(),
            expected_version: None,
        })
        .await?;
    Ok(())
}

fn outputs(tag: &str, action_id: &str, horizon_year: u32) -> pb::RecordForesightOutputsRequest {
    pb::RecordForesightOutputsRequest {
        request_id: tag.into(),
        action_id: action_id.into(),
        expected_version: None,
        scenarios: vec![pb::ForesightScenario {
            title: "Un tiers-lieu par bassin de vie".into(),
            horizon_year,
            narrative: "Trois lieux reliés par le transport à la demande.".into(),
        }],
        signals: vec!["Le télétravail s'installe chez les trentenaires".into()],
        recommendations: vec!["Mutualiser un poste d'animateur".into()],
    }
}

#[tokio::test]
async fn a_held_foresight_workshop_records_its_scenarios_signals_and_recommendations() -> Result<()>
{
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let foresight = workshop(&mut client, "f", ActionKind::ForesightWorkshop).await?;
    let roundtable = workshop(&mut client, "r", ActionKind::Roundtable).await?;

    let head = server.head().await?;
    refused(
        client
            .record_foresight_outputs(outputs("bad-1", &foresight, 2035))
            .await,
        Code::FailedPrecondition,
        "",
        "a workshop not held yet",
    );
    refused(
        client
            .record_foresight_outputs(outputs("bad-2", &roundtable, 2035))
            .await,
        Code::InvalidArgument,
        "action_id",
        "a roundtable",
    );
    refused(
        client
            .record_foresight_outputs(outputs("bad-3", ORGANISER, 2035))
            .await,
        Code::NotFound,
        "",
        "an unknown action",
    );
    refused(
        client
            .record_foresight_outputs(outputs("bad-4", &foresight, 1990))
            .await,
        Code::InvalidArgument,
        "scenarios[0].horizon_year",
        "a horizon out of range",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    hold(&mut client, "f", &foresight).await?;
    let head = server.head().await?;
    let empty = pb::RecordForesightOutputsRequest {
        request_id: "bad-5".into(),
        action_id: foresight.clone(),
        ..Default::default()
    };
    refused(
        client.record_foresight_outputs(empty).await,
        Code::InvalidArgument,
        "scenarios",
        "no output at all",
    );
    assert_eq!(
        server.head().await?,
        head,
        "the empty outputs wrote nothing"
    );

    client
        .record_foresight_outputs(outputs("o1", &foresight, 2035))
        .await?;
    let mut revised = outputs("o2", &foresight, 2040);
    revised.signals.clear();
    client.record_foresight_outputs(revised).await?;
    let view = client
        .get_foresight_outputs(pb::GetForesightOutputsRequest {
            action_id: foresight.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.version, 2);
    assert_eq!(view.scenarios[0].horizon_year, 2040);
    assert!(view.signals.is_empty());
    assert_eq!(view.recommendations, ["Mutualiser un poste d'animateur"]);
    server.stop().await?;
    Ok(())
}
