//! Reads by purpose (issue 11, item 4) through the real engagement service:
//! what each role reads of an interview and of a diagnostic, and the access
//! journal that records exactly the reads that returned decrypted notes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{Client, Role, Server, TestData, OTHER_STAKEHOLDER, STAKEHOLDER};
use maillage_proto::v1::{self as pb, interview_subject, EngagementTheme as Theme};
use tonic::Code;

fn ts(hours_ago: u64) -> Option<prost_types::Timestamp> {
    Some((SystemTime::now() - Duration::from_secs(hours_ago * 3600)).into())
}

async fn record(client: &mut Client) -> Result<(String, String)> {
    let interview = client
        .record_interview(pb::RecordInterviewRequest {
            axis_ids: Vec::new(),
            topics: Default::default(),
            request_id: "i1".into(),
            subject: Some(pb::InterviewSubject {
                who: Some(interview_subject::Who::StakeholderId(STAKEHOLDER.into())),
            }),
            conducted_at: ts(2),
            themes: vec![Theme::Telework as i32],
            motivations: vec!["transmettre son garage".into()],
            expectations: vec!["une connexion fiable".into()],
            notes: "52 ans, veut transmettre son garage".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .id;
    let diagnostic = client
        .record_diagnostic(pb::RecordDiagnosticRequest {
            request_id: "d1".into(),
            tiers_lieu_id: OTHER_STAKEHOLDER.into(),
            conducted_at: ts(5),
            findings: Some(pb::DiagnosticFindings {
                initial_motivations: vec!["revitaliser le centre-bourg".into()],
                development_priorities: vec!["coworking".into()],
                out_of_scope_activities: vec![],
                needs: vec!["un poste d'animateur".into()],
                ..Default::default()
            }),
            notes: "Le gérant, M. Petit, part en 2027".into(),
        })
        .await?
        .into_inner()
        .id;
    Ok((interview, diagnostic))
}

async fn interview(
    client: &mut Client,
    id: &str,
) -> Result<tonic::Response<pb::InterviewView>, tonic::Status> {
    client
        .get_interview(pb::GetInterviewRequest {
            interview_id: id.into(),
        })
        .await
}

async fn diagnostic(
    client: &mut Client,
    id: &str,
) -> Result<tonic::Response<pb::DiagnosticView>, tonic::Status> {
    client
        .get_diagnostic(pb::GetDiagnosticRequest {
            diagnostic_id: id.into(),
        })
        .await
}

async fn entries(server: &Server) -> Result<Vec<(String, String, String, String)>> {
    let token = server.tokens.of(Role::Auditor).to_string();
    Ok(server
        .access_journal(&token)
        .await?
        .list_access(pb::ListAccessRequest::default())
        .await?
        .into_inner()
        .entries
        .into_iter()
        .map(|entry| {
            assert_eq!(entry.context, "engagement");
            (
                entry.principal,
                entry.rpc,
                entry.subject_kind,
                entry.subject_id,
            )
        })
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_reads_interviews_and_diagnostics_by_purpose_and_the_journal_records_the_decrypted_ones(
) -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut facilitator = server.client().await?;
    let (interview_id, diagnostic_id) = record(&mut facilitator).await?;
    assert!(entries(&server).await?.is_empty(), "writes are not reads");

    // analyst and auditor: who, whom, when and themes; no notes, motivations or expectations.
    for (token, disclosure) in [
        (
            server.tokens.of(Role::Analyst),
            pb::Disclosure::Pseudonymous,
        ),
        (server.tokens.of(Role::Auditor), pb::Disclosure::PublicRoles),
    ] {
        let mut client = server.client_with(Some(token)).await?;
        let view = interview(&mut client, &interview_id).await?.into_inner();
        assert_eq!(view.disclosure, disclosure as i32);
        assert_eq!(view.notes, "");
        assert!(!view.notes_erased, "withheld is not erased");
        assert!(view.motivations.is_empty() && view.expectations.is_empty());
        assert_eq!(view.interviewer, "alice");
        assert!(view.conducted_at.is_some());
        assert!(view.subject.is_some());
        assert_eq!(view.themes, vec![Theme::Telework as i32]);
        let view = diagnostic(&mut client, &diagnostic_id).await?.into_inner();
        assert_eq!(view.disclosure, disclosure as i32);
        assert_eq!(view.notes, "");
        assert!(!view.notes_erased);
        assert_eq!(view.tiers_lieu_id, OTHER_STAKEHOLDER);
        assert_eq!(
            view.findings.expect("findings").development_priorities,
            vec!["coworking".to_string()]
        );
    }
    // tool and secretary read nothing.
    for token in [
        server.tokens.of(Role::Tool),
        server.tokens.of(Role::Secretary),
    ] {
        let mut client = server.client_with(Some(token)).await?;
        let refused = interview(&mut client, &interview_id).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = diagnostic(&mut client, &diagnostic_id).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    assert!(entries(&server).await?.is_empty(), "nothing decrypted yet");

    // facilitator and admin: everything, each read journalled.
    for token in [
        server.tokens.of(Role::Facilitator),
        server.tokens.of(Role::Admin),
    ] {
        let mut client = server.client_with(Some(token)).await?;
        let view = interview(&mut client, &interview_id).await?.into_inner();
        assert_eq!(view.disclosure, pb::Disclosure::Full as i32);
        assert_eq!(view.notes, "52 ans, veut transmettre son garage");
        assert_eq!(view.motivations, vec!["transmettre son garage".to_string()]);
        assert_eq!(view.expectations, vec!["une connexion fiable".to_string()]);
        let view = diagnostic(&mut client, &diagnostic_id).await?.into_inner();
        assert_eq!(view.disclosure, pb::Disclosure::Full as i32);
        assert_eq!(view.notes, "Le gérant, M. Petit, part en 2027");
    }
    let read = |who: &str, rpc: &str, kind: &str, id: &str| {
        (
            who.to_string(),
            rpc.to_string(),
            kind.to_string(),
            id.to_string(),
        )
    };
    assert_eq!(
        entries(&server).await?,
        vec![
            read("alice", "GetInterview", "interview", &interview_id),
            read("alice", "GetDiagnostic", "diagnostic", &diagnostic_id),
            read("adam", "GetInterview", "interview", &interview_id),
            read("adam", "GetDiagnostic", "diagnostic", &diagnostic_id),
        ]
    );
    // Only admin and auditor read the journal.
    for token in [
        server.tokens.of(Role::Analyst),
        server.tokens.of(Role::Facilitator),
    ] {
        let refused = server
            .access_journal(token)
            .await?
            .list_access(pb::ListAccessRequest::default())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    let verified = server
        .access_journal(server.tokens.of(Role::Admin))
        .await?
        .verify_access(pb::VerifyAccessRequest::default())
        .await?
        .into_inner();
    assert!(verified.intact && verified.position == 4, "{verified:?}");
    server.stop().await
}
