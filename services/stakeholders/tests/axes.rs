//! Contacts tagged with the programme's axes, on the real server whose
//! replica of the axes follows a real engagement log on disk: an unknown or
//! retired axis is refused naming `axis_ids[i]` and writes nothing; a
//! defined one is kept (and corrected, and cleared); a `maillage-after`
//! position the replica cannot reach is `UNAVAILABLE` and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use anyhow::Result;
use common::{person, phone_call, rid, Harness};
use maillage_proto::v1 as pb;
use maillage_replica::fixtures::LogFixture;
use maillage_replica::AFTER_HEADER;
use tonic::{Code, Request, Status};
use uuid::Uuid;

/// `message` with `maillage-after: engagement=<position>`.
fn after<T>(message: T, position: u64) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        AFTER_HEADER,
        format!("engagement={position}").parse().unwrap(),
    );
    request
}

fn assert_field(status: &Status, field: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with(&format!("{field}:")),
        "{field}: {status:?}"
    );
}

#[tokio::test]
async fn a_contact_is_tagged_only_with_axes_defined_and_not_retired() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let engagement = LogFixture::open(&dir.path().join("engagement"))?;
    let (inform, retired, unknown) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    engagement.axis(inform, "Sensibiliser et informer").await?;
    engagement.axis(retired, "Ancien axe").await?;
    let position = engagement.retire_axis(retired).await?;

    let harness = Harness::start_following(engagement.store.clone()).await?;
    let mut client = harness.facilitator().await?;
    let elu = client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(person("Camille", "Martin", &[pb::PersonKind::Inhabitant])),
            mandates: vec![],
        })
        .await?
        .into_inner()
        .id;
    let tagged = |axes: &[Uuid]| pb::LogInteractionRequest {
        axis_ids: axes.iter().map(Uuid::to_string).collect(),
        ..phone_call(&[&elu], "")
    };

    let head = harness.head().await?;
    for (axes, field) in [
        (vec![unknown], "axis_ids[0]"),
        (vec![inform, retired], "axis_ids[1]"),
        (vec![inform, inform], "axis_ids[1]"),
    ] {
        let status = client
            .log_interaction(after(tagged(&axes), position))
            .await
            .unwrap_err();
        assert_field(&status, field);
        assert_eq!(harness.head().await?, head, "nothing written");
    }

    let logged = client
        .log_interaction(after(tagged(&[inform]), position))
        .await?
        .into_inner();
    let read = |id: String| pb::GetInteractionRequest { interaction_id: id };
    let contact = client
        .get_interaction(read(logged.id.clone()))
        .await?
        .into_inner();
    assert_eq!(contact.axis_ids, vec![inform.to_string()]);

    // A correction to a retired axis is refused; one that clears the axes is kept.
    let correct = |axes: &[Uuid]| pb::CorrectInteractionRequest {
        request_id: rid(),
        interaction_id: logged.id.clone(),
        reason: "mauvais axe".into(),
        axis_ids: Some(pb::AxisIds {
            axis_ids: axes.iter().map(Uuid::to_string).collect(),
        }),
        ..Default::default()
    };
    let head = harness.head().await?;
    let status = client
        .correct_interaction(after(correct(&[retired]), position))
        .await
        .unwrap_err();
    assert_field(&status, "axis_ids.axis_ids[0]");
    assert_eq!(harness.head().await?, head, "nothing written");
    client.correct_interaction(correct(&[])).await?;
    let contact = client.get_interaction(read(logged.id)).await?.into_inner();
    assert!(contact.axis_ids.is_empty());
    assert_eq!(contact.corrections[0].fields, vec!["axis_ids"]);

    // A position of the engagement log the replica cannot reach (it is not
    // written yet): UNAVAILABLE within the bound, nothing written.
    let head = harness.head().await?;
    let status = client
        .log_interaction(after(tagged(&[inform]), position + 1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(harness.head().await?, head, "nothing written");
    // An untagged contact does not wait for the programme.
    client
        .log_interaction(after(tagged(&[]), position + 1))
        .await?;
    harness.stop().await?;
    Ok(())
}
