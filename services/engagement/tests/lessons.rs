//! The lessons-learned register through a real gRPC client, on a real sled
//! directory: a lesson recorded from an action, an interview or a
//! diagnostic, read back, withdrawn; bad input (no source, an unknown source,
//! no theme, an unknown axis, no outcome) refused naming the field, the log
//! unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{refused, Role, Server, TestData, OTHER_STAKEHOLDER, STAKEHOLDER};
use maillage_proto::v1::{self as pb, lesson_source::Of, LessonOutcome, Theme};
use tonic::Code;

fn lesson(tag: &str, source: Option<Of>) -> pb::RecordLessonRequest {
    pb::RecordLessonRequest {
        request_id: tag.into(),
        outcome: LessonOutcome::Success as i32,
        title: "Le diagnostic sur place fait venir les bénévoles".into(),
        detail: "Trois bénévoles se sont proposés à la fin de la visite.".into(),
        topics: vec![Theme::ExistingTiersLieux as i32],
        axis_ids: Vec::new(),
        source: source.map(|of| pb::LessonSource { of: Some(of) }),
    }
}

#[tokio::test]
async fn lessons_are_recorded_from_their_source_read_back_and_withdrawn() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let diagnostic = client
        .record_diagnostic(pb::RecordDiagnosticRequest {
            request_id: "d1".into(),
            tiers_lieu_id: OTHER_STAKEHOLDER.into(),
            conducted_at: Some((SystemTime::now() - Duration::from_secs(3_600)).into()),
            findings: Some(pb::DiagnosticFindings {
                needs: vec!["des bénévoles".into()],
                ..Default::default()
            }),
            notes: String::new(),
        })
        .await?
        .into_inner()
        .id;

    // Bad input: refused naming the field, nothing written.
    let head = server.head().await?;
    let unknown = Of::InterviewId(STAKEHOLDER.into());
    refused(
        client.record_lesson(lesson("bad-1", None)).await,
        Code::InvalidArgument,
        "source",
        "a lesson without source",
    );
    refused(
        client.record_lesson(lesson("bad-2", Some(unknown))).await,
        Code::InvalidArgument,
        "source.interview_id",
        "an unknown interview",
    );
    refused(
        client
            .record_lesson(lesson("bad-3", Some(Of::ActionId("action-1".into()))))
            .await,
        Code::InvalidArgument,
        "source.action_id",
        "a malformed action id",
    );
    let source = Some(Of::DiagnosticId(diagnostic.clone()));
    let mut untagged = lesson("bad-4", source.clone());
    untagged.topics.clear();
    refused(
        client.record_lesson(untagged).await,
        Code::InvalidArgument,
        "topics",
        "a lesson without theme",
    );
    let mut off_axis = lesson("bad-5", source.clone());
    off_axis.axis_ids = vec![STAKEHOLDER.into()];
    refused(
        client.record_lesson(off_axis).await,
        Code::InvalidArgument,
        "axis_ids[0]",
        "an unknown axis",
    );
    let mut no_outcome = lesson("bad-6", source.clone());
    no_outcome.outcome = 0;
    refused(
        client.record_lesson(no_outcome).await,
        Code::InvalidArgument,
        "outcome",
        "a lesson neither success nor failure",
    );
    refused(
        server
            .client_with(Some(server.tokens.of(Role::Analyst)))
            .await?
            .record_lesson(lesson("bad-7", source.clone()))
            .await,
        Code::PermissionDenied,
        "",
        "an analyst recording a lesson",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    let id = client
        .record_lesson(lesson("l1", source.clone()))
        .await?
        .into_inner()
        .id;
    let read = |client: &mut common::Client| {
        let request = pb::GetLessonRequest {
            lesson_id: id.clone(),
        };
        let mut client = client.clone();
        async move { client.get_lesson(request).await.map(|r| r.into_inner()) }
    };
    let view = read(&mut client).await?;
    assert_eq!(view.outcome, LessonOutcome::Success as i32);
    assert_eq!(view.topics, vec![Theme::ExistingTiersLieux as i32]);
    assert_eq!(view.source.unwrap().of, source);
    assert!(!view.withdrawn);
    client
        .withdraw_lesson(pb::WithdrawLessonRequest {
            request_id: "w1".into(),
            lesson_id: id.clone(),
            expected_version: Some(1),
            reason: "Un seul cas : trop tôt pour conclure".into(),
        })
        .await?;
    let view = read(&mut client).await?;
    assert!(view.withdrawn);
    assert_eq!(
        view.withdrawal_reason,
        "Un seul cas : trop tôt pour conclure"
    );
    refused(
        client
            .withdraw_lesson(pb::WithdrawLessonRequest {
                request_id: "w2".into(),
                lesson_id: id.clone(),
                expected_version: None,
                reason: "encore".into(),
            })
            .await,
        Code::FailedPrecondition,
        "",
        "a lesson withdrawn twice",
    );
    server.stop().await?;
    Ok(())
}
