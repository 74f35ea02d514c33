//! An erasure killed (`kill -9`) at each of its steps completes once the
//! platform restarts (issue 11): the real `maillage up` binary, started with
//! `MAILLAGE_CRASH_AT=<step>`, sends itself SIGKILL at that instant of the
//! saga; restarted without it, it finishes the erasure on its own. Then
//! nothing about the person is readable — the contact's notes, the
//! interview's notes, the survey answer —, each service recorded its part
//! exactly once, and every log verifies.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod process;
mod session;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use maillage::cli::client::Connection;
use maillage_proto::v1 as pb;
use process::{start_with, stop};
use session::{hours_ago, rid, Clients};

async fn connect(dir: &Path, port: u16) -> Clients {
    let connection = Connection {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: None,
        data_dir: dir.join("maillage-data"),
        purpose: None,
    };
    session::clients(&connection).await
}

/// `maillage up` in `dir`, dying at `crash_at` (if any); returns it and its port.
fn up(dir: &Path, crash_at: Option<&str>) -> (Child, u16) {
    match crash_at {
        Some(step) => start_with(dir, None, &[("MAILLAGE_CRASH_AT", step)]),
        None => start_with(dir, None, &[]),
    }
}

/// What the platform holds about one person.
struct Holdings {
    person: String,
    interaction: String,
    interview: String,
    survey: String,
}

async fn hold_someone(clients: &mut Clients) -> Holdings {
    let registered = clients
        .stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(pb::PersonProfile {
                given_name: "Odile".into(),
                family_name: "Marchand".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37003".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    clients.seen.note("stakeholders", registered.position);
    let person = registered.id;
    let logged = clients
        .stakeholders
        .log_interaction(pb::LogInteractionRequest {
            request_id: rid(),
            participant_ids: vec![person.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: hours_ago(1),
            subject: "Projet de tiers-lieu".into(),
            notes: "cherche un local pour son atelier de reliure".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let interview = clients
        .engagement
        .record_interview(pb::RecordInterviewRequest {
            request_id: rid(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::StakeholderId(person.clone())),
            }),
            conducted_at: hours_ago(2),
            notes: "61 ans, relieuse, veut transmettre son savoir-faire".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let survey = clients
        .engagement
        .draft_survey(pb::DraftSurveyRequest {
            campaign_action_ids: Vec::new(),
            request_id: rid(),
            title: "Vos attentes".into(),
            questions: vec![pb::SurveyQuestion {
                question_id: "attentes".into(),
                text: "Qu'attendez-vous d'un tiers-lieu ?".into(),
                required: true,
                kind: Some(pb::survey_question::Kind::FreeText(pb::SurveyFreeText {
                    max_length: 500,
                })),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    clients
        .engagement
        .open_survey(pb::OpenSurveyRequest {
            campaign_override: None,
            request_id: rid(),
            survey_id: survey.clone(),
            expected_version: None,
        })
        .await
        .unwrap();
    clients
        .engagement
        .submit_survey_response(pb::SubmitSurveyResponseRequest {
            request_id: rid(),
            survey_id: survey.clone(),
            respondent: Some(pb::SurveyRespondent {
                who: Some(pb::survey_respondent::Who::StakeholderId(person.clone())),
            }),
            respondent_token: String::new(),
            answers: vec![pb::SurveyAnswer {
                question_id: "attentes".into(),
                value: Some(pb::survey_answer::Value::Text(
                    "un atelier partagé près de la gare".into(),
                )),
            }],
        })
        .await
        .unwrap();
    Holdings {
        person,
        interaction: logged.id,
        interview: interview.id,
        survey,
    }
}

/// Waits for `child` to die, at most 60 s; returns the signal that killed it.
fn death(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.signal();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("maillage up did not reach its crash point");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many events of `event_type` the `context` log holds.
async fn count(clients: &mut Clients, context: &str, event_type: &str) -> usize {
    clients
        .logs
        .read_all(pb::ReadAllRequest {
            from_position: 1,
            limit: 10_000,
            context: context.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .events
        .iter()
        .filter(|event| event.event_type == format!("maillage.v1.{event_type}"))
        .count()
}

async fn killed_at(step: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut crashing, port) = up(dir.path(), Some(step));
    let mut clients = connect(dir.path(), port).await;
    let held = hold_someone(&mut clients).await;

    // The erasure: the process dies at `step`, during the call or after it.
    let _ = clients
        .stakeholders
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: held.person.clone(),
            expected_version: None,
            reason: "RGPD art. 17, demande 2026-044".into(),
        })
        .await;
    assert_eq!(death(&mut crashing), Some(libc_sigkill()), "{step}");

    // Restarted: the erasure completes on its own.
    let (restarted, port) = up(dir.path(), None);
    let mut clients = connect(dir.path(), port).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = clients
            .stakeholders
            .get_erasure(pb::GetErasureRequest {
                stakeholder_id: held.person.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if status.state == pb::ErasureState::Completed as i32 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: the erasure did not complete after the restart: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Nothing readable.
    let interaction = clients
        .stakeholders
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: held.interaction.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        interaction.erased && interaction.notes.is_empty() && interaction.subject.is_empty(),
        "{step}: {interaction:?}"
    );
    let interview = clients
        .engagement
        .get_interview(pb::GetInterviewRequest {
            interview_id: held.interview.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        interview.notes_erased && interview.notes.is_empty(),
        "{step}: {interview:?}"
    );
    let export = clients
        .engagement
        .export_person_data(pb::ExportPersonFactsRequest {
            stakeholder_id: held.person.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    // The response stays a fact; its free text and the interview's notes are gone.
    assert_eq!(export.responses.len(), 1, "{step}");
    assert_eq!(export.responses[0].survey_id, held.survey, "{step}");
    let exported = format!("{export:?}");
    assert!(
        !exported.contains("atelier partagé") && !exported.contains("relieuse"),
        "{step}: something still reads: {exported}"
    );

    // Each part recorded exactly once, and every log verifies.
    for (context, event_type) in [
        ("stakeholders", "PersonErasureStarted"),
        ("stakeholders", "PersonErased"),
        ("engagement", "EngagementPersonErased"),
        ("stakeholders", "PersonErasureConfirmed"),
        ("stakeholders", "PersonErasureCompleted"),
    ] {
        assert_eq!(
            count(&mut clients, context, event_type).await,
            1,
            "{step}: {event_type}"
        );
    }
    for context in ["stakeholders", "engagement", "governance"] {
        let verified = clients
            .logs
            .verify(pb::VerifyRequest {
                context: context.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(verified.intact, "{step}, {context}: {verified:?}");
    }
    stop(restarted);
}

/// SIGKILL's number on Linux.
fn libc_sigkill() -> i32 {
    9
}

macro_rules! crash_tests {
    ($($name:ident => $step:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                killed_at($step).await;
            }
        )*
    };
}

crash_tests! {
    killed_once_the_erasure_is_remembered => "erasure:remembered",
    killed_once_the_erasure_started => "erasure:started",
    killed_once_the_persons_keys_are_destroyed => "erasure:keys-destroyed",
    killed_once_the_erasure_is_recorded => "erasure:recorded",
    killed_once_engagement_destroyed_its_keys => "erasure:engagement-keys-destroyed",
    killed_once_engagement_s_part_is_confirmed => "erasure:confirmed",
}
