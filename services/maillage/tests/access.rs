//! The access journal on the whole platform: reads of personal data through
//! the stakeholders and engagement services are journalled with their
//! purpose, and `maillage export access` exports both journals as CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use common::{text, Platform};
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_of_personal_data_are_exported_with_their_purpose() {
    let platform = Platform::start().await;
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let person = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: "p1".into(),
            profile: Some(pb::PersonProfile {
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37063".into(),
                email: "camille.martin@example.fr".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let mut engagement = EngagementClient::new(platform.channel().await);
    let interview = engagement
        .record_interview(pb::RecordInterviewRequest {
            axis_ids: Vec::new(),
            topics: Default::default(),
            request_id: "i1".into(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::Anonymous(
                    pb::AnonymousParticipant {
                        audience: pb::EngagementAudience::Population as i32,
                        commune_code: "37063".into(),
                    },
                )),
            }),
            conducted_at: Some((SystemTime::now() - Duration::from_secs(3600)).into()),
            themes: vec![],
            motivations: vec![],
            expectations: vec![],
            notes: "veut transmettre son garage".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;

    // The CLI sends --purpose with its reads.
    let exported = platform
        .maillage(&[
            "subject-export",
            &person,
            "--purpose",
            "demande d'accès, art. 15",
        ])
        .await;
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert!(text(&exported.stdout).contains("Camille"));
    let read = engagement
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.notes, "veut transmettre son garage");

    let out = platform.dir.path().join("access.csv");
    let csv = platform
        .maillage(&["export", "access", "--out", out.to_str().unwrap()])
        .await;
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "read_at,context,position,principal,rpc,subject_kind,subject_id,purpose,disclosure,request_id,correlation_id"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(&format!(
            ",stakeholders,1,admin,ExportPersonData,person,{person},\"demande d'accès, art. 15\",full,"
        )),
        "{csv}"
    );
    assert!(
        lines[2].contains(&format!(
            ",engagement,1,admin,GetInterview,interview,{interview},,full,"
        )),
        "{csv}"
    );
    for personal in ["Camille", "Martin", "example.fr", "garage"] {
        assert!(!csv.contains(personal), "{personal} in the journal: {csv}");
    }
    platform.stop().await;
}
