//! Reads by purpose (issue 11, item 4) through the real engagement service:
//! what each role reads of an interview and of a diagnostic, a survey's
//! free-text answers (facilitators only), and the access journal that
//! records exactly the reads that returned decrypted personal data.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{Client, Role, Server, TestData, OTHER_STAKEHOLDER, STAKEHOLDER};
use maillage_proto::v1::{
    self as pb, interview_subject, survey_answer::Value, survey_question::Kind, survey_respondent,
    EngagementTheme as Theme,
};
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

/// A survey with a choice and a free-text question, opened, and two responses
/// (one leaving the free text out); returns its id.
async fn answered_survey(client: &mut Client) -> Result<String> {
    let survey = client
        .draft_survey(pb::DraftSurveyRequest {
            request_id: "s1".into(),
            title: "Vos attentes".into(),
            questions: vec![
                pb::SurveyQuestion {
                    question_id: "usage".into(),
                    text: "Quel usage ?".into(),
                    required: true,
                    kind: Some(Kind::SingleChoice(pb::SurveySingleChoice {
                        options: vec![
                            pb::SurveyOption {
                                option_id: "cowork".into(),
                                label: "Coworking".into(),
                            },
                            pb::SurveyOption {
                                option_id: "fablab".into(),
                                label: "Fablab".into(),
                            },
                        ],
                    })),
                },
                pb::SurveyQuestion {
                    question_id: "idee".into(),
                    text: "Une idée ?".into(),
                    required: false,
                    kind: Some(Kind::FreeText(pb::SurveyFreeText { max_length: 200 })),
                },
            ],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id;
    client
        .open_survey(pb::OpenSurveyRequest {
            request_id: "s1-open".into(),
            survey_id: survey.clone(),
            ..Default::default()
        })
        .await?;
    for (request_id, idea) in [
        ("r1", Some("Un atelier vélo, dit Mme Martin")),
        ("r2", None),
    ] {
        let mut answers = vec![pb::SurveyAnswer {
            question_id: "usage".into(),
            value: Some(Value::Choice("cowork".into())),
        }];
        if let Some(idea) = idea {
            answers.push(pb::SurveyAnswer {
                question_id: "idee".into(),
                value: Some(Value::Text(idea.into())),
            });
        }
        client
            .submit_survey_response(pb::SubmitSurveyResponseRequest {
                request_id: request_id.into(),
                survey_id: survey.clone(),
                respondent: Some(pb::SurveyRespondent {
                    who: Some(survey_respondent::Who::Anonymous(
                        pb::AnonymousParticipant {
                            audience: pb::EngagementAudience::Population as i32,
                            commune_code: "15014".into(),
                        },
                    )),
                }),
                answers,
                ..Default::default()
            })
            .await?;
    }
    Ok(survey)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_s_free_text_answers_are_read_by_facilitators_only_and_the_read_journalled(
) -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut facilitator = server.client().await?;
    let survey = answered_survey(&mut facilitator).await?;
    let request = || pb::SurveyTextAnswersRequest {
        survey_id: survey.clone(),
    };
    for role in [Role::Analyst, Role::Auditor, Role::Respondent] {
        let refused = server
            .client_with(Some(server.tokens.of(role)))
            .await?
            .list_survey_text_answers(request())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}");
    }
    assert!(
        entries(&server).await?.is_empty(),
        "refused reads read nothing"
    );
    let answers = facilitator
        .list_survey_text_answers(request())
        .await?
        .into_inner()
        .answers;
    assert_eq!(answers.len(), 1, "the response without free text has none");
    assert_eq!(answers[0].question_id, "idee");
    assert_eq!(answers[0].text, "Un atelier vélo, dit Mme Martin");
    assert!(answers[0].submitted_at.is_some());
    assert_eq!(
        entries(&server).await?,
        [(
            "alice".to_owned(),
            "ListSurveyTextAnswers".to_owned(),
            "survey".to_owned(),
            survey.clone(),
        )]
    );
    let unknown = facilitator
        .list_survey_text_answers(pb::SurveyTextAnswersRequest {
            survey_id: "0190a000-0000-7000-8000-00000000dead".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = facilitator
        .list_survey_text_answers(pb::SurveyTextAnswersRequest {
            survey_id: "pas-un-id".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    server.stop().await
}
