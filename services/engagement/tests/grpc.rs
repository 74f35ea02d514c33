//! The engagement service through a real gRPC client, on a real sled directory:
//! lifecycles, retries, sealed notes and free-text answers, bad input (each refused with the right
//! status naming the field, the log unchanged), roles, and a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{
    refused, Client, Role, Server, TestData, BUSINESS, ERASED, ORGANISER, OTHER_STAKEHOLDER,
    STAKEHOLDER,
};
use maillage_privacy::{KeyVault, MasterKey, Opened, SubjectId};
use maillage_proto::v1::{
    self as pb, action_venue::Place, interview_subject, survey_answer::Value,
    survey_question::Kind, survey_respondent, EngagementAudience as Audience,
    EngagementTheme as Theme,
};
use prost::Message;
use tonic::Code;

fn ts(at: SystemTime) -> Option<prost_types::Timestamp> {
    Some(at.into())
}

fn hours_ago(hours: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(hours * 3600)
}

fn plan_request(request_id: &str) -> pb::PlanActionRequest {
    pb::PlanActionRequest {
        axis_ids: Vec::new(),
        topics: Default::default(),
        request_id: request_id.into(),
        kind: pb::ActionKind::Roundtable as i32,
        title: "Table ronde : télétravail et tiers-lieux".into(),
        description: "Avec la CCI et la CMA".into(),
        themes: vec![Theme::Telework as i32, Theme::BusinessConvergence as i32],
        audiences: vec![Audience::Businesses as i32, Audience::Chambers as i32],
        venue: Some(pb::ActionVenue {
            place: Some(Place::CommuneCode("15014".into())),
        }),
        organiser_ids: vec![ORGANISER.into()],
        target_territory: None,
    }
}

async fn plan(client: &mut Client, request_id: &str) -> Result<pb::CommandReply> {
    Ok(client
        .plan_action(plan_request(request_id))
        .await?
        .into_inner())
}

/// Plans, schedules in the past, invites STAKEHOLDER and marks held: returns the id.
async fn held_action(client: &mut Client, tag: &str) -> Result<String> {
    let id = plan(client, &format!("{tag}-plan")).await?.id;
    client
        .schedule_action(pb::ScheduleActionRequest {
            request_id: format!("{tag}-schedule"),
            action_id: id.clone(),
            expected_version: Some(1),
            starts_at: ts(hours_ago(3)),
            ends_at: ts(hours_ago(1)),
        })
        .await?;
    client
        .invite_to_action(pb::InviteToActionRequest {
            request_id: format!("{tag}-invite"),
            action_id: id.clone(),
            expected_version: None,
            stakeholder_ids: vec![STAKEHOLDER.into()],
        })
        .await?;
    client
        .mark_action_held(pb::MarkActionHeldRequest {
            request_id: format!("{tag}-held"),
            action_id: id.clone(),
            expected_version: None,
        })
        .await?;
    Ok(id)
}

fn option(id: &str) -> pb::SurveyOption {
    pb::SurveyOption {
        option_id: id.into(),
        label: format!("Option {id}"),
    }
}

fn questions() -> Vec<pb::SurveyQuestion> {
    let question = |id: &str, required, kind| pb::SurveyQuestion {
        question_id: id.into(),
        text: format!("Question {id}"),
        required,
        kind: Some(kind),
    };
    vec![
        question(
            "usage",
            true,
            Kind::SingleChoice(pb::SurveySingleChoice {
                options: vec![option("cowork"), option("fablab"), option("cafe")],
            }),
        ),
        question(
            "services",
            false,
            Kind::MultipleChoice(pb::SurveyMultipleChoice {
                options: vec![option("a"), option("b"), option("c")],
                max_selections: 2,
            }),
        ),
        question(
            "interest",
            true,
            Kind::Scale(pb::SurveyScale {
                min: 1,
                max: 5,
                ..Default::default()
            }),
        ),
        question(
            "comment",
            false,
            Kind::FreeText(pb::SurveyFreeText { max_length: 50 }),
        ),
        question(
            "priorities",
            false,
            Kind::Ranking(pb::SurveyRanking {
                options: vec![option("x"), option("y"), option("z")],
            }),
        ),
    ]
}

async fn open_survey(client: &mut Client, tag: &str) -> Result<String> {
    let id = client
        .draft_survey(pb::DraftSurveyRequest {
            axis_ids: Vec::new(),
            campaign_action_ids: Vec::new(),
            topics: Default::default(),
            request_id: format!("{tag}-draft"),
            title: "Vos attentes d'un tiers-lieu".into(),
            description: String::new(),
            campaign_action_id: String::new(),
            themes: vec![Theme::QuelsTla as i32],
            questions: questions(),
            slug: String::new(),
        })
        .await?
        .into_inner()
        .id;
    client
        .open_survey(pb::OpenSurveyRequest {
            campaign_override: None,
            request_id: format!("{tag}-open"),
            survey_id: id.clone(),
            expected_version: Some(1),
        })
        .await?;
    Ok(id)
}

fn answer(question: &str, value: Value) -> pb::SurveyAnswer {
    pb::SurveyAnswer {
        question_id: question.into(),
        value: Some(value),
    }
}

fn list(ids: &[&str]) -> pb::SurveyOptionList {
    pb::SurveyOptionList {
        option_ids: ids.iter().map(|s| s.to_string()).collect(),
    }
}

fn good_answers() -> Vec<pb::SurveyAnswer> {
    vec![
        answer("usage", Value::Choice("fablab".into())),
        answer("services", Value::Choices(list(&["a", "c"]))),
        answer("interest", Value::Scale(4)),
        answer("comment", Value::Text("Un lieu ouvert le soir".into())),
        answer("priorities", Value::Ranking(list(&["z", "x", "y"]))),
    ]
}

fn response(survey_id: &str, request_id: &str, token: &str) -> pb::SubmitSurveyResponseRequest {
    pb::SubmitSurveyResponseRequest {
        request_id: request_id.into(),
        survey_id: survey_id.into(),
        respondent: Some(pb::SurveyRespondent {
            who: Some(survey_respondent::Who::Anonymous(
                pb::AnonymousParticipant {
                    audience: Audience::Population as i32,
                    commune_code: "15014".into(),
                },
            )),
        }),
        respondent_token: token.into(),
        answers: good_answers(),
    }
}

fn interview_request(request_id: &str, notes: &str) -> pb::RecordInterviewRequest {
    pb::RecordInterviewRequest {
        axis_ids: Vec::new(),
        topics: Default::default(),
        request_id: request_id.into(),
        subject: Some(pb::InterviewSubject {
            who: Some(interview_subject::Who::StakeholderId(STAKEHOLDER.into())),
        }),
        conducted_at: ts(hours_ago(2)),
        themes: vec![Theme::Telework as i32],
        motivations: vec!["éviter une heure de trajet".into()],
        expectations: vec!["une connexion fiable".into()],
        notes: notes.into(),
        ..Default::default()
    }
}

fn diagnostic_request(request_id: &str, notes: &str) -> pb::RecordDiagnosticRequest {
    pb::RecordDiagnosticRequest {
        request_id: request_id.into(),
        tiers_lieu_id: OTHER_STAKEHOLDER.into(),
        conducted_at: ts(hours_ago(5)),
        findings: Some(pb::DiagnosticFindings {
            initial_motivations: vec!["revitaliser le centre-bourg".into()],
            development_priorities: vec!["coworking".into(), "fablab".into()],
            out_of_scope_activities: vec!["hébergement".into()],
            needs: vec!["un poste d'animateur".into()],
            ..Default::default()
        }),
        notes: notes.into(),
    }
}

async fn setup() -> Result<(TestData, Server)> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    Ok((dir, server))
}

#[tokio::test]
async fn an_action_goes_from_planned_to_reported_and_reads_back() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let id = held_action(&mut client, "a").await?;
    client
        .record_invitation_answer(pb::RecordInvitationAnswerRequest {
            request_id: "a-answer".into(),
            action_id: id.clone(),
            expected_version: None,
            stakeholder_id: STAKEHOLDER.into(),
            answer: pb::ActionInvitationAnswer::Accepted as i32,
        })
        .await
        .expect_err("no answer once held");
    client
        .record_attendance(pb::RecordAttendanceRequest {
            request_id: "a-attendance".into(),
            action_id: id.clone(),
            expected_version: Some(4),
            attendee_ids: vec![STAKEHOLDER.into()],
            head_counts: vec![pb::AudienceHeadCount {
                audience: Audience::Businesses as i32,
                count: 12,
            }],
        })
        .await?;
    client
        .publish_minutes(pb::PublishMinutesRequest {
            request_id: "a-minutes".into(),
            action_id: id.clone(),
            expected_version: None,
            minutes: Some(pb::ActionMinutes {
                summary: "Forte demande de bureaux partagés".into(),
                key_points: vec!["connexion fibre".into()],
            }),
        })
        .await?;
    let reply = client
        .record_outcomes(pb::RecordOutcomesRequest {
            request_id: "a-outcomes".into(),
            action_id: id.clone(),
            expected_version: None,
            outcomes: vec![pb::ProposedOutcome {
                topic: Default::default(),
                proposal: "Ouvrir un espace de coworking à la gare".into(),
                theme: Theme::Telework as i32,
                suggested_owner_id: STAKEHOLDER.into(),
            }],
        })
        .await?
        .into_inner();
    assert_eq!(reply.version, 7);

    let view = client
        .get_action(pb::GetActionRequest {
            action_id: id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.version, 7);
    assert_eq!(view.status, pb::ActionStatus::Reported as i32);
    assert_eq!(view.planned_by, "alice");
    assert_eq!(view.attendee_ids, vec![STAKEHOLDER.to_string()]);
    assert_eq!(view.head_counts[0].count, 12);
    assert_eq!(view.invitations.len(), 1);
    assert_eq!(view.outcomes.len(), 1);
    assert!(uuid::Uuid::parse_str(&view.outcomes[0].outcome_id).is_ok());
    assert!(view.held_at.is_some());

    // Ids are UUID v7; events carry the actor and the protobuf type names.
    assert_eq!(uuid::Uuid::parse_str(&id)?.get_version_num(), 7);
    // (The log also holds engagement's part of the fixture's erased person.)
    let events: Vec<_> = server
        .all_events()
        .await?
        .into_iter()
        .filter(|event| !event.stream_id.starts_with("erasure-"))
        .collect();
    assert_eq!(events.len(), 7);
    assert!(events.iter().all(|e| e.stream_id == format!("action-{id}")));
    assert_eq!(events[0].event_type, "maillage.v1.ActionPlanned");
    assert_eq!(events[0].metadata.as_ref().unwrap().actor, "alice");
    assert_eq!(events[0].context, "engagement");

    // An analyst may read, not write; the tool may not read the aggregates.
    let mut analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?;
    analyst
        .get_action(pb::GetActionRequest { action_id: id })
        .await?;
    server.stop().await
}

/// The French wording a refusal carries for a person (issue 13).
fn french(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    let localized = status
        .get_details_localized_message()
        .unwrap_or_else(|| panic!("no LocalizedMessage in {status:?}"));
    assert_eq!(localized.locale, "fr-FR");
    localized.message
}

/// Issue 13: a domain refusal, a handler's own and the loop's come with
/// their French wording; the English message is unchanged.
#[tokio::test]
async fn refusals_come_with_their_french_wording() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let planned = plan(&mut client, "fr-plan").await?.id;
    let held = client
        .mark_action_held(pb::MarkActionHeldRequest {
            request_id: "fr-held".into(),
            action_id: planned.clone(),
            expected_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(held.code(), Code::FailedPrecondition);
    assert_eq!(held.message(), "the action is not scheduled yet");
    assert_eq!(
        french(&held),
        "Cette action n'est pas encore programmée : programmez-la d'abord."
    );
    let schedule = |request_id: &str, start, end, expected| pb::ScheduleActionRequest {
        request_id: request_id.into(),
        action_id: planned.clone(),
        expected_version: expected,
        starts_at: ts(start),
        ends_at: ts(end),
    };
    let backwards = client
        .schedule_action(schedule("fr-back", hours_ago(1), hours_ago(2), None))
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), Code::InvalidArgument);
    assert_eq!(backwards.message(), "ends_at: must be after starts_at");
    assert_eq!(french(&backwards), "La fin doit être après le début.");
    let stale = client
        .schedule_action(schedule("fr-stale", hours_ago(2), hours_ago(1), Some(3)))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(stale.message(), "expected version 3, actual 1");
    assert!(
        french(&stale).starts_with("Quelqu'un a modifié cet élément entre-temps"),
        "{stale:?}"
    );
    let missing = client
        .get_action(pb::GetActionRequest {
            action_id: STAKEHOLDER.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        french(&missing),
        format!("Introuvable : action {STAKEHOLDER}.")
    );
    server.stop().await
}

#[tokio::test]
async fn a_retried_creation_lands_on_the_same_stream() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let first = plan(&mut client, "req-1").await?;
    let head = server.head().await?;
    let again = plan(&mut client, "req-1").await?;
    assert_eq!(again, first, "same id, version and position");
    assert_eq!(server.head().await?, head, "nothing appended by the retry");
    // Another request, or the same request id from another principal, creates another.
    let other = plan(&mut client, "req-2").await?;
    assert_ne!(other.id, first.id);
    let bruno = server.tokens.add("bruno", &[Role::Facilitator])?;
    let mut bruno = server.client_with(Some(&bruno)).await?;
    let bruno_s = plan(&mut bruno, "req-1").await?;
    assert_ne!(bruno_s.id, first.id);
    // A retried response is not counted twice.
    let survey = open_survey(&mut client, "s").await?;
    client
        .submit_survey_response(response(&survey, "resp-1", "tok-1"))
        .await?;
    client
        .submit_survey_response(response(&survey, "resp-1", "tok-1"))
        .await?;
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey,
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(view.response_count, 1);
    server.stop().await
}

#[tokio::test]
async fn survey_responses_are_checked_and_counted_and_neither_tokens_nor_free_text_stored_in_clear(
) -> Result<()> {
    let (dir, server) = setup().await?;
    let mut client = server.client().await?;
    let survey = open_survey(&mut client, "s").await?;
    for i in 0..3 {
        client
            .submit_survey_response(response(
                &survey,
                &format!("r{i}"),
                &format!("secret-token-{i}"),
            ))
            .await?;
    }
    let mut by_stakeholder = response(&survey, "r-st", "");
    by_stakeholder.respondent = Some(pb::SurveyRespondent {
        who: Some(survey_respondent::Who::StakeholderId(STAKEHOLDER.into())),
    });
    client
        .submit_survey_response(by_stakeholder.clone())
        .await?;
    by_stakeholder.request_id = "r-st-2".into();
    let status = client
        .submit_survey_response(by_stakeholder)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey.clone(),
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(view.response_count, 4);
    assert_eq!(view.status, pb::SurveyStatus::Open as i32);
    assert_eq!(view.questions, questions());
    let close = client
        .close_survey(pb::CloseSurveyRequest {
            request_id: "close".into(),
            survey_id: survey.clone(),
            expected_version: Some(6),
        })
        .await?
        .into_inner();
    assert_eq!(close.version, 7);
    let comment = "Un lieu ouvert le soir";
    let mut sealed_comments = Vec::new();
    for event in server.all_events().await? {
        assert!(
            !event.payload.windows(12).any(|w| w == b"secret-token"),
            "a respondent token reached the log"
        );
        assert!(
            !event
                .payload
                .windows(comment.len())
                .any(|w| w == comment.as_bytes()),
            "a free-text answer reached the log in clear"
        );
        if event.event_type == "maillage.v1.SurveyResponseSubmitted" {
            let submitted = pb::SurveyResponseSubmitted::decode(event.payload.as_slice())?;
            for answer in submitted.answers {
                match answer.value {
                    Some(Value::Text(_)) => panic!("a free-text answer in clear"),
                    Some(Value::SealedText(sealed)) => {
                        sealed_comments.push((submitted.response_id.clone(), sealed))
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!(sealed_comments.len(), 4, "one sealed comment per response");
    server.stop().await?;
    // The service's vault opens each one under the response's own key.
    let db = maillage_eventstore::open_sled(
        &dir.path().join(maillage_engagement::CONTEXT),
        &maillage_eventstore::SledOptions::default(),
    )?;
    let master = MasterKey::from_file(dir.path().join("master.key"))?.key;
    let vault = KeyVault::new(db.open_tree(maillage_engagement::VAULT_TREE)?, master)?;
    let mut response_ids = Vec::new();
    for (response_id, sealed) in sealed_comments {
        let subject = SubjectId::new("survey-response", response_id.clone())?;
        assert_eq!(
            vault.open_str(&subject, "answers.comment", &sealed)?,
            Opened::Clear(comment.to_string())
        );
        response_ids.push(response_id);
    }
    // One key per recorded response: the refused second answer of the
    // stakeholder made none.
    let mut keyed = Vec::new();
    for subject in vault.subjects() {
        let (subject, _) = subject?;
        if subject.kind().as_str() == "survey-response" {
            keyed.push(subject.id().to_string());
        }
    }
    keyed.sort();
    response_ids.sort();
    assert_eq!(keyed, response_ids);
    Ok(())
}

#[tokio::test]
async fn interview_and_diagnostic_notes_are_sealed_in_the_log() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let notes = "Mme Martin craint la fermeture de la poste";
    let interview = client
        .record_interview(interview_request("i1", notes))
        .await?
        .into_inner();
    let diagnostic = client
        .record_diagnostic(diagnostic_request(
            "d1",
            "Le gérant, M. Petit, part en 2027",
        ))
        .await?
        .into_inner();
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.notes, notes);
    assert_eq!(view.interviewer, "alice");
    assert!(!view.notes_erased);
    client
        .revise_interview_notes(pb::ReviseInterviewNotesRequest {
            request_id: "i1-rev".into(),
            interview_id: interview.id.clone(),
            expected_version: Some(1),
            notes: "Mme Martin : revu".into(),
        })
        .await?;
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        (view.notes.as_str(), view.version),
        ("Mme Martin : revu", 2)
    );
    let diag = client
        .get_diagnostic(pb::GetDiagnosticRequest {
            diagnostic_id: diagnostic.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(diag.notes, "Le gérant, M. Petit, part en 2027");
    assert_eq!(
        diag.findings.unwrap().development_priorities,
        vec!["coworking".to_string(), "fablab".into()]
    );
    // What the person said comes back to a facilitator, and is sealed in the log too.
    assert_eq!(
        view.motivations,
        vec!["éviter une heure de trajet".to_owned()]
    );
    assert_eq!(view.expectations, vec!["une connexion fiable".to_owned()]);
    for event in server.all_events().await? {
        for needle in [
            &b"Martin"[..],
            b"Petit",
            b"heure de trajet",
            b"connexion fiable",
        ] {
            assert!(
                !event.payload.windows(needle.len()).any(|w| w == needle),
                "clear notes in {}",
                event.event_type
            );
        }
    }
    server.stop().await
}

/// Checks that `$client.$call($request)` is refused with `$code`, naming `$field`.
macro_rules! case {
    ($client:ident, $call:ident, $request:expr, $code:expr, $field:expr) => {
        refused(
            $client.$call($request).await,
            $code,
            $field,
            concat!(stringify!($call), " ", stringify!($request)),
        );
    };
}

/// What the bad-input tests start from: a planned and a held action, an
/// open survey with a response and a closed one, an interview, and the log's
/// head then.
struct Refusals {
    dir: TestData,
    server: Server,
    client: Client,
    planned: String,
    held: String,
    survey: String,
    closed: String,
    interview: String,
    head: u64,
}

async fn refusals() -> Result<Refusals> {
    let (dir, server) = setup().await?;
    let mut client = server.client().await?;
    let planned = plan(&mut client, "p").await?.id;
    let held = held_action(&mut client, "h").await?;
    let survey = open_survey(&mut client, "s").await?;
    client
        .submit_survey_response(response(&survey, "first", "tok"))
        .await?;
    let closed = open_survey(&mut client, "c").await?;
    client
        .close_survey(pb::CloseSurveyRequest {
            request_id: "c-close".into(),
            survey_id: closed.clone(),
            expected_version: None,
        })
        .await?;
    let interview = client
        .record_interview(interview_request("i", "n"))
        .await?
        .into_inner()
        .id;
    let head = server.head().await?;
    Ok(Refusals {
        dir,
        server,
        client,
        planned,
        held,
        survey,
        closed,
        interview,
        head,
    })
}

/// Actions out of the rules (unknown enums, empty or oversized texts,
/// malformed ids, an unknown commune, a stale version, a step out of the
/// lifecycle) are refused with the right status, and nothing is appended.
#[tokio::test]
async fn bad_action_requests_are_refused_and_append_nothing() -> Result<()> {
    let Refusals {
        dir: _dir,
        server,
        mut client,
        planned,
        held,
        survey: _survey,
        closed: _closed,
        interview: _interview,
        head,
    } = refusals().await?;
    let with = |f: fn(&mut pb::PlanActionRequest)| {
        let mut request = plan_request("bad-plan");
        f(&mut request);
        request
    };
    // Actions: unknown enums, empty or oversized texts, malformed ids, unknown commune.
    case!(
        client,
        plan_action,
        with(|r| r.kind = 99),
        Code::InvalidArgument,
        "kind"
    );
    case!(
        client,
        plan_action,
        with(|r| r.kind = 0),
        Code::InvalidArgument,
        "kind"
    );
    case!(
        client,
        plan_action,
        with(|r| r.themes = vec![0]),
        Code::InvalidArgument,
        "themes[0]"
    );
    case!(
        client,
        plan_action,
        with(|r| r.themes = vec![]),
        Code::InvalidArgument,
        "topics"
    );
    case!(
        client,
        plan_action,
        with(|r| r.audiences = vec![3, 42]),
        Code::InvalidArgument,
        "audiences[1]"
    );
    case!(
        client,
        plan_action,
        with(|r| r.title = "  ".into()),
        Code::InvalidArgument,
        "title"
    );
    case!(
        client,
        plan_action,
        with(|r| r.title = "x".repeat(201)),
        Code::InvalidArgument,
        "title"
    );
    case!(
        client,
        plan_action,
        with(|r| r.venue = Some(pb::ActionVenue {
            place: Some(Place::CommuneCode("99999".into()))
        })),
        Code::InvalidArgument,
        "venue.commune_code"
    );
    case!(
        client,
        plan_action,
        with(|r| r.venue = None),
        Code::InvalidArgument,
        "venue"
    );
    case!(
        client,
        plan_action,
        with(|r| r.organiser_ids = vec!["not-a-uuid".into()]),
        Code::InvalidArgument,
        "organiser_ids[0]"
    );
    let schedule =
        |id: &str, start: SystemTime, end: SystemTime, expected| pb::ScheduleActionRequest {
            request_id: "bad-schedule".into(),
            action_id: id.into(),
            expected_version: expected,
            starts_at: ts(start),
            ends_at: ts(end),
        };
    case!(
        client,
        schedule_action,
        schedule("nope", hours_ago(2), hours_ago(1), None),
        Code::InvalidArgument,
        "action_id"
    );
    case!(
        client,
        schedule_action,
        schedule(&planned, hours_ago(1), hours_ago(2), None),
        Code::InvalidArgument,
        "ends_at"
    );
    case!(
        client,
        schedule_action,
        schedule(STAKEHOLDER, hours_ago(2), hours_ago(1), None),
        Code::NotFound,
        ""
    );
    // A stale expected version: ABORTED with the actual version.
    let status = client
        .schedule_action(schedule(&planned, hours_ago(2), hours_ago(1), Some(3)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    assert!(status.message().contains("actual 1"), "{status:?}");
    // Lifecycle rules.
    case!(
        client,
        reschedule_action,
        pb::RescheduleActionRequest {
            request_id: "bad-resched".into(),
            action_id: held.clone(),
            expected_version: None,
            starts_at: ts(hours_ago(2)),
            ends_at: ts(hours_ago(1)),
            venue: None,
            reason: String::new(),
        },
        Code::FailedPrecondition,
        ""
    );
    let attendance = |id: &str, audience: i32| pb::RecordAttendanceRequest {
        request_id: "bad-attendance".into(),
        action_id: id.into(),
        expected_version: None,
        attendee_ids: vec![],
        head_counts: vec![pb::AudienceHeadCount { audience, count: 3 }],
    };
    case!(
        client,
        record_attendance,
        attendance(&planned, 1),
        Code::FailedPrecondition,
        ""
    );
    case!(
        client,
        record_attendance,
        attendance(&held, 0),
        Code::InvalidArgument,
        "head_counts[0].audience"
    );
    case!(
        client,
        publish_minutes,
        pb::PublishMinutesRequest {
            request_id: "bad-minutes".into(),
            action_id: planned.clone(),
            expected_version: None,
            minutes: Some(pb::ActionMinutes {
                summary: "s".into(),
                key_points: vec![]
            }),
        },
        Code::FailedPrecondition,
        ""
    );
    let answer_request = |id: &str, who: &str, answer: i32| pb::RecordInvitationAnswerRequest {
        request_id: "bad-answer".into(),
        action_id: id.into(),
        expected_version: None,
        stakeholder_id: who.into(),
        answer,
    };
    case!(
        client,
        record_invitation_answer,
        answer_request(&planned, STAKEHOLDER, 1),
        Code::FailedPrecondition,
        ""
    );
    case!(
        client,
        record_invitation_answer,
        answer_request(&planned, STAKEHOLDER, 7),
        Code::InvalidArgument,
        "answer"
    );
    case!(
        client,
        cancel_action,
        pb::CancelActionRequest {
            request_id: "bad-cancel".into(),
            action_id: held.clone(),
            expected_version: None,
            reason: "trop tard".into(),
        },
        Code::FailedPrecondition,
        ""
    );

    assert_eq!(
        server.head().await?,
        head,
        "a refused request appended something"
    );
    server.stop().await
}

/// Survey requests out of the rules (answers that do not fit, a closed
/// survey, a repeated token, frozen questions) are refused, and nothing is appended.
#[tokio::test]
async fn bad_survey_requests_are_refused_and_append_nothing() -> Result<()> {
    let Refusals {
        dir: _dir,
        server,
        mut client,
        planned: _planned,
        held: _held,
        survey,
        closed,
        interview: _interview,
        head,
    } = refusals().await?;
    // Surveys: answers that do not fit, closed survey, repeated token, frozen questions.
    let with_answer = |index: usize, replacement: pb::SurveyAnswer| {
        let mut request = response(&survey, "bad-response", "");
        request.answers[index] = replacement;
        request
    };
    case!(
        client,
        submit_survey_response,
        with_answer(2, answer("interest", Value::Scale(6))),
        Code::InvalidArgument,
        "answers[2].scale"
    );
    case!(
        client,
        submit_survey_response,
        with_answer(0, answer("usage", Value::Choice("piscine".into()))),
        Code::InvalidArgument,
        "answers[0].choice"
    );
    case!(
        client,
        submit_survey_response,
        with_answer(
            4,
            answer("priorities", Value::Ranking(list(&["x", "x", "y"])))
        ),
        Code::InvalidArgument,
        "answers[4].ranking"
    );
    case!(
        client,
        submit_survey_response,
        with_answer(
            1,
            answer("services", Value::Choices(list(&["a", "b", "c"])))
        ),
        Code::InvalidArgument,
        "answers[1].choices"
    );
    case!(
        client,
        submit_survey_response,
        with_answer(3, answer("comment", Value::Text("z".repeat(51)))),
        Code::InvalidArgument,
        "answers[3].text"
    );
    case!(
        client,
        submit_survey_response,
        with_answer(0, answer("usage", Value::Scale(1))),
        Code::InvalidArgument,
        "answers[0].value"
    );
    let mut missing = response(&survey, "bad-missing", "");
    missing.answers.remove(2);
    case!(
        client,
        submit_survey_response,
        missing,
        Code::InvalidArgument,
        "answers"
    );
    let mut bad_commune = response(&survey, "bad-commune", "");
    bad_commune.respondent = Some(pb::SurveyRespondent {
        who: Some(survey_respondent::Who::Anonymous(
            pb::AnonymousParticipant {
                audience: 1,
                commune_code: "7505".into(),
            },
        )),
    });
    case!(
        client,
        submit_survey_response,
        bad_commune,
        Code::InvalidArgument,
        "respondent.anonymous.commune_code"
    );
    case!(
        client,
        submit_survey_response,
        response(&survey, "bad-token", "tok"),
        Code::AlreadyExists,
        ""
    );
    case!(
        client,
        submit_survey_response,
        response(&closed, "bad-closed", ""),
        Code::FailedPrecondition,
        ""
    );
    case!(
        client,
        revise_survey_questions,
        pb::ReviseSurveyQuestionsRequest {
            request_id: "bad-revise".into(),
            survey_id: survey.clone(),
            expected_version: None,
            questions: questions(),
        },
        Code::FailedPrecondition,
        ""
    );
    let mut bad_questions = questions();
    bad_questions[2].kind = Some(Kind::Scale(pb::SurveyScale {
        min: 3,
        max: 1,
        ..Default::default()
    }));
    case!(
        client,
        draft_survey,
        pb::DraftSurveyRequest {
            axis_ids: Vec::new(),
            campaign_action_ids: Vec::new(),
            topics: Default::default(),
            request_id: "bad-draft".into(),
            title: "t".into(),
            description: String::new(),
            campaign_action_id: String::new(),
            themes: vec![],
            questions: bad_questions,
            slug: String::new(),
        },
        Code::InvalidArgument,
        "questions[2].scale.max"
    );

    assert_eq!(
        server.head().await?,
        head,
        "a refused request appended something"
    );
    server.stop().await
}

/// Interviews and diagnostics out of the rules are refused, and nothing is appended.
#[tokio::test]
async fn bad_interviews_and_diagnostics_are_refused_and_append_nothing() -> Result<()> {
    let Refusals {
        dir: _dir,
        server,
        mut client,
        planned: _planned,
        held: _held,
        survey: _survey,
        closed: _closed,
        interview,
        head,
    } = refusals().await?;
    // Interviews and diagnostics.
    let mut future = interview_request("bad-future", "");
    future.conducted_at = ts(SystemTime::now() + Duration::from_secs(86_400));
    case!(
        client,
        record_interview,
        future,
        Code::InvalidArgument,
        "conducted_at"
    );
    let mut bad_subject = interview_request("bad-subject", "");
    bad_subject.subject = Some(pb::InterviewSubject {
        who: Some(interview_subject::Who::StakeholderId("123".into())),
    });
    case!(
        client,
        record_interview,
        bad_subject,
        Code::InvalidArgument,
        "subject.stakeholder_id"
    );
    let mut oversized = interview_request("bad-notes", "");
    oversized.notes = "n".repeat(20_001);
    case!(
        client,
        record_interview,
        oversized,
        Code::InvalidArgument,
        "notes"
    );
    case!(
        client,
        revise_interview_notes,
        pb::ReviseInterviewNotesRequest {
            request_id: "bad-rev".into(),
            interview_id: interview.clone(),
            expected_version: Some(7),
            notes: "x".into(),
        },
        Code::Aborted,
        ""
    );
    let mut ranked_twice = diagnostic_request("bad-diag", "");
    ranked_twice
        .findings
        .as_mut()
        .unwrap()
        .development_priorities = vec!["a".into(), "A".into()];
    case!(
        client,
        record_diagnostic,
        ranked_twice,
        Code::InvalidArgument,
        "findings.development_priorities[1]"
    );

    assert_eq!(
        server.head().await?,
        head,
        "a refused request appended something"
    );
    server.stop().await
}

/// A request without a token, or by a role that may not make it, is refused,
/// and nothing is appended.
#[tokio::test]
async fn callers_without_a_token_or_the_role_are_refused_and_append_nothing() -> Result<()> {
    let Refusals {
        dir: _dir,
        server,
        client: _client,
        planned,
        held: _held,
        survey,
        closed: _closed,
        interview: _interview,
        head,
    } = refusals().await?;
    // Missing token, wrong role.
    let mut anonymous = server.client_with(None).await?;
    refused(
        anonymous.plan_action(plan_request("no-token")).await,
        Code::Unauthenticated,
        "",
        "no token",
    );
    let mut analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?;
    refused(
        analyst.plan_action(plan_request("analyst")).await,
        Code::PermissionDenied,
        "",
        "analyst writes",
    );
    let mut secretary = server
        .client_with(Some(server.tokens.of(Role::Secretary)))
        .await?;
    refused(
        secretary
            .get_action(pb::GetActionRequest {
                action_id: planned.clone(),
            })
            .await,
        Code::PermissionDenied,
        "",
        "secretary reads",
    );
    let mut tool = server
        .client_with(Some(server.tokens.of(Role::Tool)))
        .await?;
    refused(
        tool.get_survey(pb::GetSurveyRequest {
            survey_id: survey.clone(),
            slug: String::new(),
        })
        .await,
        Code::PermissionDenied,
        "",
        "tool reads",
    );

    assert_eq!(
        server.head().await?,
        head,
        "a refused request appended something"
    );
    server.stop().await
}

#[tokio::test]
async fn a_restart_on_the_same_data_reads_everything_back() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let action = held_action(&mut client, "a").await?;
    let survey = open_survey(&mut client, "s").await?;
    for i in 0..5 {
        client
            .submit_survey_response(response(&survey, &format!("r{i}"), &format!("t{i}")))
            .await?;
    }
    // Sent again, unchanged, after the restart (a client's retry resends the same message).
    let interview_message = interview_request("i", "notes privées");
    let interview = client
        .record_interview(interview_message.clone())
        .await?
        .into_inner();
    let diagnostic = client
        .record_diagnostic(diagnostic_request("d", "notes du diagnostic"))
        .await?
        .into_inner();
    let action_view = client
        .get_action(pb::GetActionRequest {
            action_id: action.clone(),
        })
        .await?
        .into_inner();
    let survey_view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey.clone(),
            slug: String::new(),
        })
        .await?
        .into_inner();
    let head = server.head().await?;
    drop(client);
    server.stop().await?;

    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    assert_eq!(server.head().await?, head);
    let again = client
        .get_action(pb::GetActionRequest { action_id: action })
        .await?
        .into_inner();
    assert_eq!(again, action_view);
    let again = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey.clone(),
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(again, survey_view);
    assert_eq!(again.response_count, 5);
    // The state rebuilt from the log still refuses a used token and takes a new one.
    let status = client
        .submit_survey_response(response(&survey, "r-again", "t3"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    client
        .submit_survey_response(response(&survey, "r5", "t5"))
        .await?;
    // Notes open with the persisted vault.
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.notes, "notes privées");
    let view = client
        .get_diagnostic(pb::GetDiagnosticRequest {
            diagnostic_id: diagnostic.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.notes, "notes du diagnostic");
    // A creation retried after the restart still lands on the same aggregate.
    let retried = client
        .record_interview(interview_message)
        .await?
        .into_inner();
    assert_eq!(retried, interview);
    // The hash chain verifies.
    let verify = server
        .event_log()
        .await?
        .verify(pb::VerifyRequest::default())
        .await?
        .into_inner();
    assert!(verify.intact);
    server.stop().await
}

#[tokio::test]
async fn stakeholders_are_checked_against_the_register_replica() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let planned = plan(&mut client, "p").await?.id;
    let held = held_action(&mut client, "h").await?;
    let survey = open_survey(&mut client, "s").await?;
    let head = server.head().await?;
    let unknown = "0190a1b2-0000-7000-8000-0000000000ee";

    let invite = |who: &str| pb::InviteToActionRequest {
        request_id: format!("invite-{who}"),
        action_id: planned.clone(),
        expected_version: None,
        stakeholder_ids: vec![STAKEHOLDER.into(), who.into()],
    };
    refused(
        client.invite_to_action(invite(unknown)).await,
        Code::InvalidArgument,
        "stakeholder_ids[1]",
        "invite an unknown id",
    );
    refused(
        client.invite_to_action(invite(ERASED)).await,
        Code::FailedPrecondition,
        "",
        "invite an erased person",
    );
    let mut request = plan_request("plan-unknown-organiser");
    request.organiser_ids = vec![unknown.into()];
    refused(
        client.plan_action(request).await,
        Code::InvalidArgument,
        "organiser_ids[0]",
        "unknown organiser",
    );
    refused(
        client
            .record_attendance(pb::RecordAttendanceRequest {
                request_id: "attendance-unknown".into(),
                action_id: held.clone(),
                expected_version: None,
                attendee_ids: vec![unknown.into()],
                head_counts: vec![],
            })
            .await,
        Code::InvalidArgument,
        "attendee_ids[0]",
        "unknown attendee",
    );
    let mut request = interview_request("interview-unknown", "n");
    request.subject = Some(pb::InterviewSubject {
        who: Some(interview_subject::Who::StakeholderId(unknown.into())),
    });
    refused(
        client.record_interview(request).await,
        Code::InvalidArgument,
        "subject.stakeholder_id",
        "interview of an unknown id",
    );
    let mut request = diagnostic_request("diagnostic-business", "n");
    request.tiers_lieu_id = BUSINESS.into();
    let status = client.record_diagnostic(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("a business")
            && status.message().contains("a tiers-lieu was expected"),
        "{status:?}"
    );
    let mut request = diagnostic_request("diagnostic-person", "n");
    request.tiers_lieu_id = STAKEHOLDER.into();
    refused(
        client.record_diagnostic(request).await,
        Code::FailedPrecondition,
        "",
        "diagnostic of a person",
    );
    let mut request = response(&survey, "response-erased", "");
    request.respondent = Some(pb::SurveyRespondent {
        who: Some(survey_respondent::Who::StakeholderId(ERASED.into())),
    });
    refused(
        client.submit_survey_response(request).await,
        Code::FailedPrecondition,
        "",
        "response of an erased person",
    );
    assert_eq!(
        server.head().await?,
        head,
        "a refused reference appended something"
    );

    // Read-your-writes: a stakeholder registered now is accepted by a request
    // that names the registration's position; a position the register has not
    // reached is UNAVAILABLE (retryable) and changes nothing.
    let newcomer = uuid::Uuid::now_v7();
    let position = server.register.person(newcomer, "37050").await?;
    let mut invite_newcomer = tonic::Request::new(pb::InviteToActionRequest {
        request_id: "invite-newcomer".into(),
        action_id: planned.clone(),
        expected_version: None,
        stakeholder_ids: vec![newcomer.to_string()],
    });
    invite_newcomer.metadata_mut().insert(
        "maillage-after",
        format!("stakeholders={position}").parse()?,
    );
    client.invite_to_action(invite_newcomer).await?;
    let mut too_far = tonic::Request::new(invite(OTHER_STAKEHOLDER));
    too_far.metadata_mut().insert(
        "maillage-after",
        format!("stakeholders={}", position + 10).parse()?,
    );
    let head = server.head().await?;
    refused(
        client.invite_to_action(too_far).await,
        Code::Unavailable,
        "",
        "a register position not reached",
    );
    assert_eq!(server.head().await?, head);
    server.stop().await
}

#[tokio::test]
async fn an_online_action_names_the_territory_it_is_for() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let online = |request_id: &str, level: pb::TerritoryLevel, code: &str| {
        let mut request = plan_request(request_id);
        request.venue = Some(pb::ActionVenue {
            place: Some(Place::Online(true)),
        });
        request.target_territory = Some(pb::TerritoryRef {
            level: level as i32,
            code: code.into(),
        });
        request
    };
    let head = server.head().await?;
    refused(
        client
            .plan_action(online("bad-code", pb::TerritoryLevel::Epci, "24370049"))
            .await,
        Code::InvalidArgument,
        "target_territory.code",
        "an unknown EPCI",
    );
    refused(
        client
            .plan_action(online(
                "bad-level",
                pb::TerritoryLevel::Unspecified,
                "243700499",
            ))
            .await,
        Code::InvalidArgument,
        "target_territory.level",
        "no level",
    );
    assert_eq!(
        server.head().await?,
        head,
        "a refused plan appended something"
    );
    let planned = client
        .plan_action(online("webinar", pb::TerritoryLevel::Epci, "243700499"))
        .await?
        .into_inner();
    let view = client
        .get_action(pb::GetActionRequest {
            action_id: planned.id,
        })
        .await?
        .into_inner();
    assert_eq!(
        view.target_territory,
        Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: "243700499".into(),
        })
    );
    server.stop().await
}

/// One vocabulary of themes (issue 11, item 5): actions, outcomes, surveys and
/// interviews take `topics` (`pb::Theme`) or, from a client written before
/// them, the older `themes`; they are read back in both; disagreeing lists
/// are refused, naming the field, and change nothing.
#[tokio::test]
async fn actions_surveys_and_interviews_speak_the_shared_vocabulary() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;

    // An older client: read back in the shared vocabulary, value for value.
    let older = plan(&mut client, "older").await?.id;
    let view = client
        .get_action(pb::GetActionRequest { action_id: older })
        .await?
        .into_inner();
    assert_eq!(
        view.topics,
        vec![
            pb::Theme::Telework as i32,
            pb::Theme::BusinessConvergence as i32
        ]
    );

    // A newer client, with a theme the older vocabulary lacks.
    let mut newer = plan_request("newer");
    newer.themes = vec![];
    newer.topics = vec![pb::Theme::Awareness as i32, pb::Theme::Mobility as i32];
    let newer = client.plan_action(newer).await?.into_inner().id;
    let view = client
        .get_action(pb::GetActionRequest { action_id: newer })
        .await?
        .into_inner();
    assert_eq!(
        view.topics,
        vec![pb::Theme::Awareness as i32, pb::Theme::Mobility as i32]
    );
    assert_eq!(view.themes, vec![Theme::Mobility as i32]);

    // Outcomes: `topic` or the older `theme`.
    let held = held_action(&mut client, "themes").await?;
    client
        .record_outcomes(pb::RecordOutcomesRequest {
            request_id: "themes-outcomes".into(),
            action_id: held.clone(),
            expected_version: None,
            outcomes: vec![
                pb::ProposedOutcome {
                    proposal: "Une navette vers le tiers-lieu".into(),
                    topic: pb::Theme::Mobility as i32,
                    ..Default::default()
                },
                pb::ProposedOutcome {
                    proposal: "Un guichet France services".into(),
                    theme: Theme::DigitalInclusion as i32,
                    ..Default::default()
                },
            ],
        })
        .await?;
    let view = client
        .get_action(pb::GetActionRequest { action_id: held })
        .await?
        .into_inner();
    let topics: Vec<i32> = view.outcomes.iter().map(|o| o.topic).collect();
    assert_eq!(
        topics,
        vec![
            pb::Theme::Mobility as i32,
            pb::Theme::DigitalInclusion as i32
        ]
    );

    // Interviews and surveys.
    let mut interview = interview_request("themes-interview", "");
    interview.themes = vec![];
    interview.topics = vec![pb::Theme::Survey as i32];
    let interview = client.record_interview(interview).await?.into_inner().id;
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview,
        })
        .await?
        .into_inner();
    assert_eq!(view.topics, vec![pb::Theme::Survey as i32]);
    assert!(view.themes.is_empty());

    // Refused, naming the field, the log unchanged.
    let head = server.head().await?;
    let mut disagree = plan_request("disagree");
    disagree.topics = vec![pb::Theme::Mobility as i32];
    refused(
        client.plan_action(disagree).await,
        Code::InvalidArgument,
        "topics",
        "topics and themes that disagree",
    );
    let mut none = plan_request("none");
    none.themes = vec![];
    refused(
        client.plan_action(none).await,
        Code::InvalidArgument,
        "topics",
        "an action about nothing",
    );
    let mut twice = plan_request("twice");
    twice.themes = vec![];
    twice.topics = vec![pb::Theme::Mobility as i32, pb::Theme::Mobility as i32];
    refused(
        client.plan_action(twice).await,
        Code::InvalidArgument,
        "topics[1]",
        "a theme given twice",
    );
    assert_eq!(server.head().await?, head);
    Ok(())
}

/// Plans an awareness public meeting and, when `held`, schedules it in the
/// past and marks it held: returns its id.
async fn awareness_action(client: &mut Client, tag: &str, held: bool) -> Result<String> {
    let mut request = plan_request(&format!("{tag}-plan"));
    request.kind = pb::ActionKind::AwarenessPublicMeeting as i32;
    request.title = "Réunion publique : un tiers-lieu, pour quoi faire ?".into();
    request.audiences = vec![Audience::Population as i32];
    let id = client.plan_action(request).await?.into_inner().id;
    if held {
        hold(client, tag, &id).await?;
    }
    Ok(id)
}

/// Schedules the action `id` in the past and marks it held.
async fn hold(client: &mut Client, tag: &str, id: &str) -> Result<()> {
    client
        .schedule_action(pb::ScheduleActionRequest {
            request_id: format!("{tag}-schedule"),
            action_id: id.into(),
            expected_version: None,
            starts_at: ts(hours_ago(3)),
            ends_at: ts(hours_ago(1)),
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

/// A draft naming `first` and `others` as its information campaign.
fn campaign_draft(request_id: &str, first: &str, others: &[&str]) -> pb::DraftSurveyRequest {
    pb::DraftSurveyRequest {
        axis_ids: Vec::new(),
        request_id: request_id.into(),
        title: "Vos attentes d'un tiers-lieu".into(),
        description: String::new(),
        campaign_action_id: first.into(),
        campaign_action_ids: others.iter().map(|id| id.to_string()).collect(),
        themes: Vec::new(),
        topics: vec![pb::Theme::QuelsTla as i32],
        questions: questions(),
        slug: String::new(),
    }
}

fn opening(request_id: &str, survey_id: &str, reason: Option<&str>) -> pb::OpenSurveyRequest {
    pb::OpenSurveyRequest {
        request_id: request_id.into(),
        survey_id: survey_id.into(),
        expected_version: None,
        campaign_override: reason.map(|reason| pb::SurveyCampaignOverride {
            reason: reason.into(),
        }),
    }
}

#[tokio::test]
async fn a_survey_opens_after_its_information_campaign_or_with_a_recorded_override() -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let roundtable = plan(&mut client, "roundtable").await?.id;
    let meeting = awareness_action(&mut client, "meeting", false).await?;
    let stand = awareness_action(&mut client, "stand", false).await?;
    let cancelled = awareness_action(&mut client, "cancelled", false).await?;
    client
        .cancel_action(pb::CancelActionRequest {
            request_id: "cancel".into(),
            action_id: cancelled.clone(),
            expected_version: None,
            reason: "salle indisponible".into(),
        })
        .await?;
    let head = server.head().await?;

    // A campaign of unknown actions, of actions that do not inform the
    // public, of a cancelled action, or naming one twice: refused, nothing written.
    let unknown = "6f1c0f5e-1d2b-4c3a-9e8f-000000000001";
    let cases = [
        (
            campaign_draft("d1", unknown, &[]),
            Code::InvalidArgument,
            "campaign_action_id",
        ),
        (
            campaign_draft("d2", &meeting, &[&roundtable]),
            Code::InvalidArgument,
            "campaign_action_ids[0]",
        ),
        (
            campaign_draft("d3", &meeting, &[&stand, &meeting]),
            Code::InvalidArgument,
            "campaign_action_ids[1]",
        ),
        (
            campaign_draft("d4", &meeting, &["nope"]),
            Code::InvalidArgument,
            "campaign_action_ids[0]",
        ),
        (
            campaign_draft("d5", "", &[&cancelled]),
            Code::FailedPrecondition,
            "",
        ),
    ];
    for (request, code, field) in cases {
        let case = format!("{request:?}");
        refused(client.draft_survey(request).await, code, field, &case);
    }
    assert_eq!(server.head().await?, head, "a refused draft wrote nothing");

    let survey = client
        .draft_survey(campaign_draft("draft", &meeting, &[&stand]))
        .await?
        .into_inner()
        .id;
    let early = client
        .draft_survey(campaign_draft("early-draft", &meeting, &[]))
        .await?
        .into_inner()
        .id;
    let head = server.head().await?;
    // Before any campaign action is held: refused, naming the field; an
    // override needs a reason.
    let status = client
        .open_survey(opening("open-1", &survey, None))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().starts_with("campaign_action_ids: "),
        "{status:?}"
    );
    refused(
        client
            .open_survey(opening("open-2", &survey, Some("  ")))
            .await,
        Code::InvalidArgument,
        "campaign_override.reason",
        "override without a reason",
    );
    assert_eq!(
        server.head().await?,
        head,
        "a refused opening wrote nothing"
    );

    // A facilitator overrides, with a reason: recorded, with who.
    client
        .open_survey(opening(
            "open-early",
            &early,
            Some("le lien circule déjà en mairie"),
        ))
        .await?;
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: early,
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(view.status, pb::SurveyStatus::Open as i32);
    assert_eq!(
        view.campaign_override_reason,
        "le lien circule déjà en mairie"
    );
    assert!(!view.campaign_overridden_by.is_empty());
    assert!(view.campaign_held_action_ids.is_empty());

    // Once one action of the campaign is held (the second), it opens.
    hold(&mut client, "stand", &stand).await?;
    client.open_survey(opening("open-3", &survey, None)).await?;
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey,
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(view.status, pb::SurveyStatus::Open as i32);
    assert_eq!(view.campaign_action_id, meeting);
    assert_eq!(view.campaign_action_ids, vec![stand.clone()]);
    assert_eq!(view.campaign_held_action_ids, vec![stand]);
    assert!(view.campaign_override_reason.is_empty());
    Ok(())
}

fn define_axis(request_id: &str, name: &str) -> pb::DefineProgrammeAxisRequest {
    pb::DefineProgrammeAxisRequest {
        request_id: request_id.into(),
        name: name.into(),
        description: format!("L'axe « {name} » du programme"),
        expected_version: None,
    }
}

#[tokio::test]
async fn the_programme_axes_are_defined_renamed_reordered_retired_and_tag_what_is_done(
) -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut client = server.client().await?;
    let empty = client
        .get_programme(pb::GetProgrammeRequest {})
        .await?
        .into_inner();
    assert_eq!((empty.version, empty.axes.len()), (0, 0));

    let mut axes = Vec::new();
    for (n, name) in ["Sensibiliser", "Concerter", "Outiller"].iter().enumerate() {
        axes.push(
            client
                .define_programme_axis(define_axis(&format!("axis-{n}"), name))
                .await?
                .into_inner()
                .id,
        );
    }
    // A retry names the same axis and records nothing more.
    let retry = client
        .define_programme_axis(define_axis("axis-1", "Concerter"))
        .await?
        .into_inner();
    assert_eq!(retry.id, axes[1]);
    client
        .rename_programme_axis(pb::RenameProgrammeAxisRequest {
            request_id: "rename".into(),
            axis_id: axes[2].clone(),
            expected_version: Some(3),
            name: "Outiller les tiers-lieux".into(),
            description: "Modèles économiques, financements".into(),
        })
        .await?;
    client
        .reorder_programme_axes(pb::ReorderProgrammeAxesRequest {
            request_id: "reorder".into(),
            expected_version: None,
            axis_ids: vec![axes[2].clone(), axes[0].clone(), axes[1].clone()],
        })
        .await?;
    let retired = client
        .define_programme_axis(define_axis("axis-old", "Ancien axe"))
        .await?
        .into_inner()
        .id;
    client
        .retire_programme_axis(pb::RetireProgrammeAxisRequest {
            request_id: "retire".into(),
            axis_id: retired.clone(),
            expected_version: None,
            reason: "fusionné avec Concerter".into(),
        })
        .await?;
    let analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?
        .get_programme(pb::GetProgrammeRequest {})
        .await?
        .into_inner();
    assert_eq!(analyst.version, 7);
    let seen: Vec<(&str, u32, bool)> = analyst
        .axes
        .iter()
        .map(|axis| (axis.name.as_str(), axis.order, axis.retired))
        .collect();
    assert_eq!(
        seen,
        [
            ("Outiller les tiers-lieux", 1, false),
            ("Sensibiliser", 2, false),
            ("Concerter", 3, false),
            ("Ancien axe", 0, true),
        ]
    );
    assert_eq!(analyst.axes[3].retirement_reason, "fusionné avec Concerter");

    // Bad input: refused naming the field, nothing written.
    let head = server.head().await?;
    refused(
        client
            .define_programme_axis(define_axis("bad-1", " "))
            .await,
        Code::InvalidArgument,
        "name",
        "an empty name",
    );
    refused(
        client
            .define_programme_axis(define_axis("bad-2", "sensibiliser"))
            .await,
        Code::AlreadyExists,
        "",
        "a name taken",
    );
    refused(
        client
            .reorder_programme_axes(pb::ReorderProgrammeAxesRequest {
                request_id: "bad-3".into(),
                expected_version: None,
                axis_ids: vec![axes[0].clone(), axes[1].clone()],
            })
            .await,
        Code::InvalidArgument,
        "axis_ids",
        "a reorder missing an axis",
    );
    refused(
        client
            .retire_programme_axis(pb::RetireProgrammeAxisRequest {
                request_id: "bad-4".into(),
                axis_id: axes[0].clone(),
                expected_version: None,
                reason: String::new(),
            })
            .await,
        Code::InvalidArgument,
        "reason",
        "a retirement without reason",
    );
    refused(
        client
            .rename_programme_axis(pb::RenameProgrammeAxisRequest {
                request_id: "bad-5".into(),
                axis_id: STAKEHOLDER.into(),
                expected_version: None,
                name: "x".into(),
                description: String::new(),
            })
            .await,
        Code::NotFound,
        "",
        "renaming an unknown axis",
    );
    refused(
        server
            .client_with(Some(server.tokens.of(Role::Analyst)))
            .await?
            .define_programme_axis(define_axis("bad-6", "Évaluer"))
            .await,
        Code::PermissionDenied,
        "",
        "an analyst defining an axis",
    );
    // Tagging with an unknown or retired axis, or a malformed id.
    let mut action = plan_request("bad-plan");
    action.axis_ids = vec![axes[0].clone(), STAKEHOLDER.into()];
    refused(
        client.plan_action(action).await,
        Code::InvalidArgument,
        "axis_ids[1]",
        "an action tagged with an unknown axis",
    );
    let mut survey = campaign_draft("bad-survey", "", &[]);
    survey.axis_ids = vec![retired.clone()];
    refused(
        client.draft_survey(survey).await,
        Code::InvalidArgument,
        "axis_ids[0]",
        "a survey tagged with a retired axis",
    );
    let mut interview = interview_request("bad-interview", "");
    interview.axis_ids = vec!["axe-1".into()];
    refused(
        client.record_interview(interview).await,
        Code::InvalidArgument,
        "axis_ids[0]",
        "an interview tagged with a malformed id",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    // Tagged with axes in use: recorded and read back.
    let mut action = plan_request("tagged-plan");
    action.axis_ids = vec![axes[1].clone(), axes[0].clone()];
    let action = client.plan_action(action).await?.into_inner().id;
    let view = client
        .get_action(pb::GetActionRequest { action_id: action })
        .await?
        .into_inner();
    assert_eq!(view.axis_ids, vec![axes[1].clone(), axes[0].clone()]);
    let mut survey = campaign_draft("tagged-survey", "", &[]);
    survey.axis_ids = vec![axes[2].clone()];
    let survey = client.draft_survey(survey).await?.into_inner().id;
    let view = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey,
            slug: String::new(),
        })
        .await?
        .into_inner();
    assert_eq!(view.axis_ids, vec![axes[2].clone()]);
    let mut interview = interview_request("tagged-interview", "");
    interview.axis_ids = vec![axes[0].clone()];
    let interview = client.record_interview(interview).await?.into_inner().id;
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview,
        })
        .await?
        .into_inner();
    assert_eq!(view.axis_ids, vec![axes[0].clone()]);
    Ok(())
}

/// A thematic workshop tagged with `axes`.
fn workshop(request_id: &str, axes: &[&String]) -> pb::PlanActionRequest {
    let mut request = plan_request(request_id);
    request.kind = pb::ActionKind::ThematicWorkshop as i32;
    request.axis_ids = axes.iter().map(|axis| axis.to_string()).collect();
    request
}

fn schedule_soon(request_id: &str, action_id: &str) -> pb::ScheduleActionRequest {
    pb::ScheduleActionRequest {
        request_id: request_id.into(),
        action_id: action_id.into(),
        expected_version: None,
        starts_at: ts(SystemTime::now() + Duration::from_secs(86_400)),
        ends_at: ts(SystemTime::now() + Duration::from_secs(90_000)),
    }
}

#[tokio::test]
async fn a_thematic_action_waits_for_a_designated_officer_s_approval_before_it_is_scheduled(
) -> Result<()> {
    let (_dir, server) = setup().await?;
    let mut facilitator = server.client().await?;
    // The officer: the kit's admin principal, "adam".
    let mut officer = server
        .client_with(Some(server.tokens.of(Role::Admin)))
        .await?;
    let mut axes = Vec::new();
    for name in ["Concerter", "Outiller"] {
        axes.push(
            facilitator
                .define_programme_axis(define_axis(name, name))
                .await?
                .into_inner()
                .id,
        );
    }
    let designate = |request_id: &str, axis: &str| pb::DesignateProgrammeOfficerRequest {
        request_id: request_id.into(),
        expected_version: None,
        principal: "adam".into(),
        axis_id: axis.into(),
        title: "Directeur général des services".into(),
        ..Default::default()
    };
    facilitator
        .designate_programme_officer(designate("designate", &axes[0]))
        .await?;
    let programme = facilitator
        .get_programme(pb::GetProgrammeRequest {})
        .await?
        .into_inner();
    assert_eq!(programme.officers.len(), 1);
    assert_eq!(programme.officers[0].axis_id, axes[0]);

    // No officer for the second axis: scheduled as before.
    let free = facilitator
        .plan_action(workshop("free", &[&axes[1]]))
        .await?
        .into_inner()
        .id;
    facilitator
        .schedule_action(schedule_soon("free-schedule", &free))
        .await?;

    let proposed = facilitator
        .plan_action(workshop("proposed", &[&axes[0]]))
        .await?
        .into_inner()
        .id;
    let head = server.head().await?;
    refused(
        facilitator
            .schedule_action(schedule_soon("too-early", &proposed))
            .await,
        Code::FailedPrecondition,
        "",
        "scheduling before approval",
    );
    let approve = |request_id: &str| pb::ApproveActionRequest {
        request_id: request_id.into(),
        action_id: proposed.clone(),
        expected_version: None,
        note: "validé au comité de pilotage du 12 mai".into(),
    };
    refused(
        facilitator.approve_action(approve("not-designated")).await,
        Code::PermissionDenied,
        "",
        "approval by a principal not designated",
    );
    let send_back = |request_id: &str, reason: &str| pb::SendBackActionRequest {
        request_id: request_id.into(),
        action_id: proposed.clone(),
        expected_version: None,
        reason: reason.into(),
    };
    refused(
        officer.send_back_action(send_back("no-reason", "")).await,
        Code::InvalidArgument,
        "reason",
        "sending back without a reason",
    );
    refused(
        facilitator
            .designate_programme_officer(designate("unknown-axis", STAKEHOLDER))
            .await,
        Code::NotFound,
        "",
        "designation for an unknown axis",
    );
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    officer
        .send_back_action(send_back("send-back", "préciser le public visé"))
        .await?;
    let view = facilitator
        .get_action(pb::GetActionRequest {
            action_id: proposed.clone(),
        })
        .await?
        .into_inner();
    assert!(view.approval_required);
    assert_eq!(view.sent_back_reason, "préciser le public visé");
    officer.approve_action(approve("approve")).await?;
    let view = facilitator
        .get_action(pb::GetActionRequest {
            action_id: proposed.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(view.approved_by, "adam");
    assert!(view.approved_at.is_some());
    assert!(view.sent_back_reason.is_empty());
    facilitator
        .schedule_action(schedule_soon("scheduled", &proposed))
        .await?;

    // Once the designation is revoked, nobody approves that axis's actions.
    facilitator
        .revoke_programme_officer(pb::RevokeProgrammeOfficerRequest {
            request_id: "revoke".into(),
            expected_version: None,
            principal: "adam".into(),
            axis_id: axes[0].clone(),
        })
        .await?;
    let after = facilitator
        .plan_action(workshop("after", &[&axes[0]]))
        .await?
        .into_inner()
        .id;
    let view = facilitator
        .get_action(pb::GetActionRequest { action_id: after })
        .await?
        .into_inner();
    assert!(!view.approval_required);
    Ok(())
}

/// A draft with `slug`, request `request_id`.
fn slugged(request_id: &str, slug: &str) -> pb::DraftSurveyRequest {
    pb::DraftSurveyRequest {
        request_id: request_id.into(),
        title: "Vos attentes".into(),
        topics: vec![pb::Theme::QuelsTla as i32],
        questions: questions(),
        slug: slug.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_survey_slug_is_checked_unique_and_finds_the_survey_even_after_a_restart() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let head = server.head().await?;
    for bad in ["Tiers Lieu", "ab", "0190d3a0-0000-7000-8000-000000000000"] {
        refused(
            client.draft_survey(slugged("bad", bad)).await,
            Code::InvalidArgument,
            "slug",
            bad,
        );
    }
    assert_eq!(
        server.head().await?,
        head,
        "a refused draft appended something"
    );
    let survey = client
        .draft_survey(slugged("s1", "tiers-lieu-2027"))
        .await?
        .into_inner()
        .id;
    // A retry is the same draft, not a second claim of the slug.
    let retried = client
        .draft_survey(slugged("s1", "tiers-lieu-2027"))
        .await?
        .into_inner()
        .id;
    assert_eq!(retried, survey);
    let head = server.head().await?;
    let taken = client
        .draft_survey(slugged("s2", "tiers-lieu-2027"))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert!(taken.message().contains("slug"), "{taken:?}");
    assert_eq!(
        server.head().await?,
        head,
        "the refused draft appended nothing"
    );
    let by_slug = |slug: &str| pb::GetSurveyRequest {
        survey_id: String::new(),
        slug: slug.into(),
    };
    let view = client
        .get_survey(by_slug("tiers-lieu-2027"))
        .await?
        .into_inner();
    assert_eq!(
        (view.survey_id.as_str(), view.slug.as_str()),
        (survey.as_str(), "tiers-lieu-2027")
    );
    let unknown = client
        .get_survey(by_slug("autre-enquete"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    refused(
        client.get_survey(by_slug("Pas Un Slug")).await,
        Code::InvalidArgument,
        "slug",
        "a malformed slug",
    );
    // The respondent finds it by its slug once open only.
    let mut respondent = server
        .client_with(Some(server.tokens.of(Role::Respondent)))
        .await?;
    let hidden = respondent
        .get_survey(by_slug("tiers-lieu-2027"))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    client
        .open_survey(pb::OpenSurveyRequest {
            request_id: "s1-open".into(),
            survey_id: survey.clone(),
            ..Default::default()
        })
        .await?;
    assert_eq!(
        respondent
            .get_survey(by_slug("tiers-lieu-2027"))
            .await?
            .into_inner()
            .survey_id,
        survey
    );
    server.stop().await?;
    // After a restart the index is rebuilt from the log.
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let taken = client
        .draft_survey(slugged("s3", "tiers-lieu-2027"))
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::AlreadyExists);
    assert_eq!(
        client
            .get_survey(by_slug("tiers-lieu-2027"))
            .await?
            .into_inner()
            .survey_id,
        survey
    );
    server.stop().await
}
