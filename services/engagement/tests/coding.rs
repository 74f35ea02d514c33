//! The codebook and coded findings through a real gRPC client, on a real sled
//! directory: codes defined, relabelled and retired; interviews linked to a
//! survey and coded, diagnostics coded; bad input (a code not in the
//! codebook, a retired code, a code of another kind, an unknown survey)
//! refused with the right status naming the field, the log unchanged; codes
//! in the log beside the sealed free text.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{refused, Client, Role, Server, TestData, OTHER_STAKEHOLDER, STAKEHOLDER};
use maillage_proto::v1::{self as pb, interview_subject, CodeKind, Theme};
use prost::Message;
use tonic::Code;
fn ts(at: SystemTime) -> Option<prost_types::Timestamp> {
    Some((at - Duration::from_secs(7_200)).into())
}

async fn define(client: &mut Client, tag: &str, kind: CodeKind, label: &str) -> Result<String> {
    Ok(client
        .define_code(pb::DefineCodeRequest {
            request_id: tag.into(),
            expected_version: None,
            kind: kind as i32,
            label: label.into(),
            description: String::new(),
            topic: Theme::Telework as i32,
        })
        .await?
        .into_inner()
        .id)
}

async fn survey(client: &mut Client) -> Result<String> {
    let question = pb::SurveyQuestion {
        question_id: "attentes".into(),
        text: "Qu'attendez-vous d'un tiers-lieu ?".into(),
        required: false,
        kind: Some(pb::survey_question::Kind::FreeText(pb::SurveyFreeText {
            max_length: 500,
        })),
    };
    Ok(client
        .draft_survey(pb::DraftSurveyRequest {
            request_id: "survey".into(),
            title: "Vos attentes d'un tiers-lieu".into(),
            topics: vec![Theme::QuelsTla as i32],
            questions: vec![question],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id)
}

fn interview(tag: &str, survey: &str, motivations: &[&String]) -> pb::RecordInterviewRequest {
    pb::RecordInterviewRequest {
        request_id: tag.into(),
        subject: Some(pb::InterviewSubject {
            who: Some(interview_subject::Who::StakeholderId(STAKEHOLDER.into())),
        }),
        conducted_at: ts(SystemTime::now()),
        topics: vec![Theme::Telework as i32],
        motivations: vec!["ne plus faire une heure de route".into()],
        notes: "Entretien d'une heure".into(),
        survey_id: survey.into(),
        motivation_codes: motivations.iter().map(|id| id.to_string()).collect(),
        ..Default::default()
    }
}

fn diagnostic(tag: &str, findings: pb::DiagnosticFindings) -> pb::RecordDiagnosticRequest {
    pb::RecordDiagnosticRequest {
        request_id: tag.into(),
        tiers_lieu_id: OTHER_STAKEHOLDER.into(),
        conducted_at: ts(SystemTime::now()),
        findings: Some(findings),
        notes: String::new(),
    }
}

#[tokio::test]
async fn interviews_and_diagnostics_are_coded_against_the_codebook_the_team_keeps() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let empty = client.get_codebook(pb::GetCodebookRequest {}).await?;
    assert_eq!(empty.into_inner().version, 0);

    let isolement = define(
        &mut client,
        "c1",
        CodeKind::Motivation,
        "Rompre l'isolement",
    )
    .await?;
    let debit = define(&mut client, "c2", CodeKind::Expectation, "Haut débit").await?;
    let restauration = define(&mut client, "c3", CodeKind::Refusal, "Restauration").await?;
    let animateur = define(&mut client, "c4", CodeKind::Need, "Un animateur").await?;
    let old = define(&mut client, "c5", CodeKind::Motivation, "Ancien code").await?;
    // A retry names the same code and records nothing more.
    let head = server.head().await?;
    assert_eq!(
        define(
            &mut client,
            "c1",
            CodeKind::Motivation,
            "Rompre l'isolement"
        )
        .await?,
        isolement
    );
    assert_eq!(server.head().await?, head);
    client
        .relabel_code(pb::RelabelCodeRequest {
            request_id: "r1".into(),
            code_id: debit.clone(),
            expected_version: None,
            label: "Très haut débit".into(),
            description: "Fibre ou 4G fiable".into(),
        })
        .await?;
    client
        .retire_code(pb::RetireCodeRequest {
            request_id: "x1".into(),
            code_id: old.clone(),
            expected_version: None,
            reason: "Fusionné avec « Rompre l'isolement »".into(),
        })
        .await?;
    let analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?
        .get_codebook(pb::GetCodebookRequest {})
        .await?
        .into_inner();
    assert_eq!(analyst.version, 7);
    let labels: Vec<(&str, bool)> = analyst
        .codes
        .iter()
        .map(|code| (code.label.as_str(), code.retired))
        .collect();
    assert_eq!(
        labels,
        [
            ("Rompre l'isolement", false),
            ("Très haut débit", false),
            ("Restauration", false),
            ("Un animateur", false),
            ("Ancien code", true),
        ]
    );
    assert_eq!(analyst.codes[0].topic, Theme::Telework as i32);
    let survey_id = survey(&mut client).await?;

    // Bad input: refused naming the field, nothing written.
    let head = server.head().await?;
    refused(
        client
            .define_code(pb::DefineCodeRequest {
                request_id: "bad-kind".into(),
                label: "Sans type".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "kind",
        "a code without kind",
    );
    refused(
        client
            .define_code(pb::DefineCodeRequest {
                request_id: "bad-label".into(),
                kind: CodeKind::Motivation as i32,
                label: "ROMPRE L'ISOLEMENT".into(),
                ..Default::default()
            })
            .await,
        Code::AlreadyExists,
        "",
        "a label taken in its kind",
    );
    refused(
        client
            .retire_code(pb::RetireCodeRequest {
                request_id: "bad-retire".into(),
                code_id: old.clone(),
                expected_version: None,
                reason: "encore".into(),
            })
            .await,
        Code::FailedPrecondition,
        "",
        "a code retired twice",
    );
    refused(
        server
            .client_with(Some(server.tokens.of(Role::Analyst)))
            .await?
            .define_code(pb::DefineCodeRequest {
                request_id: "bad-role".into(),
                kind: CodeKind::Need as i32,
                label: "Un local".into(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
        "",
        "an analyst defining a code",
    );
    let unknown = STAKEHOLDER.to_owned();
    for (tag, codes, field, case) in [
        (
            "bad-i1",
            vec![&isolement, &unknown],
            "motivation_codes[1]",
            "a code not in the codebook",
        ),
        (
            "bad-i2",
            vec![&old],
            "motivation_codes[0]",
            "a retired code",
        ),
        (
            "bad-i3",
            vec![&debit],
            "motivation_codes[0]",
            "an expectation coding a motivation",
        ),
        (
            "bad-i4",
            vec![&isolement, &isolement],
            "motivation_codes[1]",
            "a code twice",
        ),
    ] {
        refused(
            client
                .record_interview(interview(tag, &survey_id, &codes))
                .await,
            Code::InvalidArgument,
            field,
            case,
        );
    }
    refused(
        client
            .record_interview(interview("bad-i5", STAKEHOLDER, &[&isolement]))
            .await,
        Code::InvalidArgument,
        "survey_id",
        "an unknown survey",
    );
    refused(
        client
            .record_interview(interview("bad-i6", "enquête-1", &[]))
            .await,
        Code::InvalidArgument,
        "survey_id",
        "a malformed survey id",
    );
    refused(
        client
            .record_diagnostic(diagnostic(
                "bad-d1",
                pb::DiagnosticFindings {
                    refusal_codes: vec![animateur.clone()],
                    ..Default::default()
                },
            ))
            .await,
        Code::InvalidArgument,
        "findings.refusal_codes[0]",
        "a need coding a refusal",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    // Coded: recorded and read back, codes at any disclosure.
    let mut request = interview("i1", &survey_id, &[&isolement]);
    request.expectation_codes = vec![debit.clone()];
    let interview_id = client.record_interview(request).await?.into_inner().id;
    let view = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.survey_id, survey_id);
    assert_eq!(view.motivation_codes, vec![isolement.clone()]);
    assert_eq!(view.expectation_codes, vec![debit.clone()]);
    assert!(view.motivations.is_empty(), "the statements stay sealed");
    let findings = pb::DiagnosticFindings {
        needs: vec!["un poste d'animateur".into()],
        initial_motivation_codes: vec![isolement.clone()],
        refusal_codes: vec![restauration.clone()],
        need_codes: vec![animateur.clone()],
        ..Default::default()
    };
    let diagnostic_id = client
        .record_diagnostic(diagnostic("d1", findings.clone()))
        .await?
        .into_inner()
        .id;
    let view = client
        .get_diagnostic(pb::GetDiagnosticRequest { diagnostic_id })
        .await?
        .into_inner();
    assert_eq!(view.findings, Some(findings));

    // In the log: the codes in clear, the statements sealed.
    let recorded = server
        .all_events()
        .await?
        .into_iter()
        .find(|event| event.event_type == "maillage.v1.InterviewRecorded")
        .unwrap();
    let recorded = pb::InterviewRecorded::decode(recorded.payload.as_slice())?;
    assert_eq!(recorded.motivation_codes, vec![isolement]);
    assert!(recorded.motivations.is_empty());
    assert_eq!(recorded.sealed_motivations.len(), 1);
    let clear = "ne plus faire une heure de route";
    assert!(!String::from_utf8_lossy(&recorded.sealed_motivations[0]).contains(clear));
    server.stop().await?;
    Ok(())
}
