//! The rest of the accompaniment through a real gRPC client on a real sled
//! directory (issue 14): concertation meetings with the designated officers
//! and their decisions, checked against the designations at the meeting's
//! date, their notes sealed and listed by axis or action; officers linked to
//! the person they are in the register, the link neutralised once that
//! person is erased; interviews recoded later against the codebook. Bad
//! input is refused with the right status naming the field, and nothing is
//! written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use anyhow::Result;
use common::{refused, Client, Role, Server, TestData, BUSINESS, ERASED, ORGANISER, STAKEHOLDER};
use maillage_proto::v1::{self as pb, interview_subject, CodeKind, Theme};
use prost::Message;
use tonic::Code;

fn days_ago(days: u64) -> Option<prost_types::Timestamp> {
    Some((SystemTime::now() - Duration::from_secs(days * 86_400)).into())
}

async fn axis(client: &mut Client, name: &str) -> Result<String> {
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

fn designate(
    tag: &str,
    principal: &str,
    axis: &str,
    from_days_ago: u64,
) -> pb::DesignateProgrammeOfficerRequest {
    pb::DesignateProgrammeOfficerRequest {
        request_id: tag.into(),
        principal: principal.into(),
        axis_id: axis.into(),
        title: "DGS".into(),
        designated_from: days_ago(from_days_ago),
        ..Default::default()
    }
}

async fn action(client: &mut Client) -> Result<String> {
    Ok(client
        .plan_action(pb::PlanActionRequest {
            request_id: "action".into(),
            kind: pb::ActionKind::Roundtable as i32,
            title: "Table ronde".into(),
            topics: vec![Theme::Telework as i32],
            audiences: vec![pb::EngagementAudience::Businesses as i32],
            venue: Some(pb::ActionVenue {
                place: Some(pb::action_venue::Place::CommuneCode("15014".into())),
            }),
            organiser_ids: vec![ORGANISER.into()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id)
}

fn meeting(
    tag: &str,
    axis: &str,
    officers: &[&str],
    held_days_ago: u64,
) -> pb::RecordConcertationRequest {
    pb::RecordConcertationRequest {
        request_id: tag.into(),
        expected_version: None,
        held_at: days_ago(held_days_ago),
        axis_id: axis.into(),
        action_ids: Vec::new(),
        officers: officers.iter().map(|o| o.to_string()).collect(),
        participant_ids: vec![STAKEHOLDER.into()],
        subject: "Calendrier des tables rondes".into(),
        decisions: vec![
            pb::ConcertationDecision {
                text: "Deux tables rondes au printemps".into(),
                owner: "Service développement".into(),
                due_at: days_ago(0),
            },
            pb::ConcertationDecision {
                text: "Inviter la CCI".into(),
                owner: String::new(),
                due_at: None,
            },
        ],
        notes: "M. Martin souhaite animer la première.".into(),
    }
}

#[tokio::test]
async fn concertations_are_checked_against_the_designations_at_their_date() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let concert = axis(&mut client, "Concerter").await?;
    let other = axis(&mut client, "Outiller").await?;
    let action = action(&mut client).await?;
    // "elue" for the axis since 30 days; "dgs" for the whole programme since 10.
    client
        .designate_programme_officer(designate("d-elue", "elue", &concert, 30))
        .await?;
    client
        .designate_programme_officer(designate("d-dgs", "dgs", "", 10))
        .await?;
    let head = server.head().await?;

    let mut unknown_action = meeting("bad-1", &concert, &["elue"], 5);
    unknown_action.action_ids = vec![action.clone(), STAKEHOLDER.into()];
    let mut erased = meeting("bad-2", &concert, &["elue"], 5);
    erased.participant_ids = vec![STAKEHOLDER.into(), ERASED.into()];
    let mut future = meeting("bad-3", &concert, &["elue"], 0);
    future.held_at = Some((SystemTime::now() + Duration::from_secs(86_400)).into());
    let mut no_decision_text = meeting("bad-4", &concert, &["elue"], 5);
    no_decision_text.decisions[1].text = " ".into();
    let unknown_axis = meeting("bad-5", STAKEHOLDER, &["elue"], 5);
    let cases: Vec<(pb::RecordConcertationRequest, Code, &str, &str)> = vec![
        (
            meeting("bad-6", &concert, &["elue", "dgs"], 20),
            Code::FailedPrecondition,
            "officers[1]",
            "dgs was not designated yet 20 days ago",
        ),
        (
            meeting("bad-7", &other, &["elue"], 5),
            Code::FailedPrecondition,
            "officers[0]",
            "elue is designated for another axis",
        ),
        (
            meeting("bad-8", "", &["elue"], 5),
            Code::FailedPrecondition,
            "officers[0]",
            "an axis officer is no officer of the whole programme",
        ),
        (
            meeting("bad-9", &concert, &["claire"], 5),
            Code::FailedPrecondition,
            "officers[0]",
            "never designated",
        ),
        (
            meeting("bad-10", &concert, &[], 5),
            Code::InvalidArgument,
            "officers",
            "no officer",
        ),
        (
            meeting("bad-11", &concert, &["elue", "elue"], 5),
            Code::InvalidArgument,
            "officers[1]",
            "an officer twice",
        ),
        (
            unknown_action,
            Code::InvalidArgument,
            "action_ids[1]",
            "an unknown action",
        ),
        (unknown_axis, Code::NotFound, "axis", "an unknown axis"),
        (
            erased,
            Code::FailedPrecondition,
            "participant_ids[1]",
            "an erased participant",
        ),
        (
            future,
            Code::InvalidArgument,
            "held_at",
            "a meeting in the future",
        ),
        (
            no_decision_text,
            Code::InvalidArgument,
            "decisions[1].text",
            "a decision without text",
        ),
    ];
    for (request, code, field, case) in cases {
        let result = client.record_concertation(request).await;
        if code == Code::FailedPrecondition {
            let status = result.as_ref().expect_err(case);
            assert!(
                status.message().starts_with(&format!("{field}: ")),
                "{case}: {status:?}"
            );
        }
        refused(result, code, field, case);
    }
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    // Recorded: the axis officer and the programme's, within their periods.
    let mut request = meeting("c1", &concert, &["elue", "dgs"], 5);
    request.action_ids = vec![action.clone()];
    let first = client
        .record_concertation(request.clone())
        .await?
        .into_inner()
        .id;
    // A retry names the same meeting and writes nothing more.
    let head = server.head().await?;
    assert_eq!(
        client.record_concertation(request).await?.into_inner().id,
        first
    );
    assert_eq!(server.head().await?, head);
    client
        .record_concertation(meeting("c2", "", &["dgs"], 2))
        .await?;
    client
        .record_concertation(meeting("c3", &other, &["dgs"], 1))
        .await?;

    // Listed by axis (with the whole programme's) and by action; the notes
    // opened for the facilitator only.
    let list = |axis: &str, action: &str| pb::ListConcertationsRequest {
        axis_id: axis.into(),
        action_id: action.into(),
    };
    let on_axis = client
        .list_concertations(list(&concert, ""))
        .await?
        .into_inner();
    let ids: Vec<&str> = on_axis
        .concertations
        .iter()
        .map(|c| c.concertation_id.as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], first, "oldest first");
    let c1 = &on_axis.concertations[0];
    assert_eq!(c1.officers, ["elue", "dgs"]);
    assert_eq!(c1.decisions.len(), 2);
    assert_eq!(c1.decisions[0].owner, "Service développement");
    assert_eq!(c1.notes, "M. Martin souhaite animer la première.");
    assert_eq!(c1.recorded_by, "alice");
    let by_action = client
        .list_concertations(list("", &action))
        .await?
        .into_inner();
    assert_eq!(by_action.concertations.len(), 1);
    assert_eq!(
        client
            .list_concertations(list("", ""))
            .await?
            .into_inner()
            .concertations
            .len(),
        3
    );
    let analyst = server
        .client_with(Some(server.tokens.of(Role::Analyst)))
        .await?
        .list_concertations(list(&concert, ""))
        .await?
        .into_inner();
    assert!(analyst.concertations.iter().all(|c| c.notes.is_empty()));
    assert_eq!(
        analyst.concertations[0].decisions, c1.decisions,
        "decisions are not personal"
    );
    refused(
        client.list_concertations(list("axe", "")).await,
        Code::InvalidArgument,
        "axis_id",
        "a malformed axis",
    );

    // A revoked officer is designated no more from then on.
    client
        .revoke_programme_officer(pb::RevokeProgrammeOfficerRequest {
            request_id: "revoke".into(),
            expected_version: None,
            principal: "elue".into(),
            axis_id: concert.clone(),
        })
        .await?;
    let head = server.head().await?;
    refused(
        client
            .record_concertation(meeting("c4", &concert, &["elue"], 0))
            .await,
        Code::FailedPrecondition,
        "officers[0]",
        "a revoked officer",
    );
    assert_eq!(server.head().await?, head);
    // Before the revocation, still.
    client
        .record_concertation(meeting("c5", &concert, &["elue"], 3))
        .await?;

    // The notes are sealed in the log; decisions and subject are not.
    let events = server.all_events().await?;
    let recorded = events
        .iter()
        .find(|e| e.event_type == "maillage.v1.ProgrammeConcertationRecorded")
        .unwrap();
    let payload = pb::ProgrammeConcertationRecorded::decode(recorded.payload.as_slice())?;
    assert!(!payload.sealed_notes.is_empty());
    let bytes = String::from_utf8_lossy(&recorded.payload);
    assert!(!bytes.contains("Martin"), "the notes are never in clear");
    assert!(bytes.contains("Deux tables rondes"));
    server.stop().await
}

#[tokio::test]
async fn an_officer_is_linked_to_a_person_of_the_register_until_they_are_erased() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let head = server.head().await?;
    let linked = |tag: &str, stakeholder: &str| pb::DesignateProgrammeOfficerRequest {
        stakeholder_id: stakeholder.into(),
        ..designate(tag, "dgs", "", 1)
    };
    for (request, code, field, case) in [
        (
            linked("bad-1", BUSINESS),
            Code::FailedPrecondition,
            "stakeholder_id",
            "a business",
        ),
        (
            linked("bad-2", ERASED),
            Code::FailedPrecondition,
            "stakeholder_id",
            "an erased person",
        ),
        (
            linked("bad-3", "0190a1b2-0000-7000-8000-0000000000ee"),
            Code::InvalidArgument,
            "stakeholder_id",
            "not in the register",
        ),
        (
            linked("bad-4", "dgs"),
            Code::InvalidArgument,
            "stakeholder_id",
            "not an id",
        ),
        (
            pb::DesignateProgrammeOfficerRequest {
                designated_from: Some((SystemTime::now() + Duration::from_secs(3_600)).into()),
                ..designate("bad-5", "dgs", "", 0)
            },
            Code::InvalidArgument,
            "designated_from",
            "from the future",
        ),
    ] {
        let result = client.designate_programme_officer(request).await;
        if code == Code::FailedPrecondition {
            let message = result.as_ref().expect_err(case).message().to_owned();
            assert!(
                message.starts_with(&format!("{field}: ")),
                "{case}: {message}"
            );
        }
        refused(result, code, field, case);
    }
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    client
        .designate_programme_officer(linked("link", STAKEHOLDER))
        .await?;
    let officer = || async {
        let programme = server
            .client()
            .await?
            .get_programme(pb::GetProgrammeRequest {})
            .await?
            .into_inner();
        anyhow::Ok(programme.officers[0].clone())
    };
    let shown = officer().await?;
    assert_eq!(shown.stakeholder_id, STAKEHOLDER);
    assert!(!shown.stakeholder_erased);
    assert!(shown.designated_from.is_some());
    // A meeting the linked officer attended, with notes about people.
    client
        .record_concertation(pb::RecordConcertationRequest {
            participant_ids: Vec::new(),
            ..meeting("c1", "", &["dgs"], 0)
        })
        .await?;

    // Subject access names the meeting, its notes opened.
    let export = server
        .client_with(Some(server.tokens.of(Role::Admin)))
        .await?
        .export_person_data(pb::ExportPersonFactsRequest {
            stakeholder_id: STAKEHOLDER.into(),
        })
        .await?
        .into_inner();
    assert_eq!(export.concertations.len(), 1);
    assert_eq!(
        export.concertations[0].notes,
        "M. Martin souhaite animer la première."
    );

    // The person is erased: the link is neutralised, and the notes of the
    // meetings they attended as the officer are shredded.
    server.register.erase(STAKEHOLDER.parse()?).await?;
    // The keys are shredded before engagement records its erasure: wait for
    // the three (the view, the notes, the event).
    let mut waited = 0;
    let (shown, erased) = loop {
        let shown = officer().await?;
        let list = client
            .list_concertations(pb::ListConcertationsRequest::default())
            .await?
            .into_inner();
        let erased = server
            .all_events()
            .await?
            .into_iter()
            .filter(|e| e.event_type == "maillage.v1.EngagementPersonErased")
            .map(|e| pb::EngagementPersonErased::decode(e.payload.as_slice()).unwrap())
            .find(|erased| erased.stakeholder_id == STAKEHOLDER);
        if let (true, true, Some(erased)) = (
            shown.stakeholder_erased,
            list.concertations[0].notes_erased,
            erased,
        ) {
            break (shown, erased);
        }
        waited += 1;
        assert!(
            waited < 100,
            "the erasure never reached engagement: {shown:?} {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(shown.stakeholder_id.is_empty());
    assert_eq!(shown.principal, "dgs", "the designation stays");
    assert_eq!(erased.concertation_ids.len(), 1);
    server.stop().await
}

#[tokio::test]
async fn an_interview_is_recoded_against_the_codebook_with_a_reason() -> Result<()> {
    let dir = TestData::new()?;
    let server = Server::start(&dir).await?;
    let mut client = server.client().await?;
    let code = |tag: &'static str, kind: CodeKind, label: &'static str| {
        let mut client = client.clone();
        async move {
            anyhow::Ok(
                client
                    .define_code(pb::DefineCodeRequest {
                        request_id: tag.into(),
                        kind: kind as i32,
                        label: label.into(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner()
                    .id,
            )
        }
    };
    let isolement = code("c1", CodeKind::Motivation, "Rompre l'isolement").await?;
    let jeunes = code("c2", CodeKind::Motivation, "Garder les jeunes").await?;
    let debit = code("c3", CodeKind::Expectation, "Haut débit").await?;
    let retired = code("c4", CodeKind::Motivation, "Ancien code").await?;
    client
        .retire_code(pb::RetireCodeRequest {
            request_id: "retire".into(),
            code_id: retired.clone(),
            expected_version: None,
            reason: "trop vague".into(),
        })
        .await?;
    let interview = client
        .record_interview(pb::RecordInterviewRequest {
            request_id: "i1".into(),
            subject: Some(pb::InterviewSubject {
                who: Some(interview_subject::Who::StakeholderId(STAKEHOLDER.into())),
            }),
            conducted_at: days_ago(1),
            topics: vec![Theme::Telework as i32],
            motivation_codes: vec![isolement.clone()],
            ..Default::default()
        })
        .await?
        .into_inner()
        .id;
    let recode = |tag: &str, motivations: &[&String]| pb::RecodeInterviewRequest {
        request_id: tag.into(),
        interview_id: interview.clone(),
        expected_version: None,
        motivation_codes: motivations.iter().map(|c| c.to_string()).collect(),
        expectation_codes: vec![debit.clone()],
        survey_id: String::new(),
        reason: "seconde lecture".into(),
    };
    let head = server.head().await?;
    let unknown = "0190a1b2-0000-7000-8000-00000000c0de".to_owned();
    for (request, code, field, case) in [
        (
            recode("bad-1", &[&jeunes, &retired]),
            Code::InvalidArgument,
            "motivation_codes[1]",
            "a retired code",
        ),
        (
            recode("bad-2", &[&unknown]),
            Code::InvalidArgument,
            "motivation_codes[0]",
            "an unknown code",
        ),
        (
            recode("bad-3", &[&debit]),
            Code::InvalidArgument,
            "motivation_codes[0]",
            "a code of another kind",
        ),
        (
            pb::RecodeInterviewRequest {
                reason: String::new(),
                ..recode("bad-4", &[&jeunes])
            },
            Code::InvalidArgument,
            "reason",
            "no reason",
        ),
        (
            pb::RecodeInterviewRequest {
                survey_id: ORGANISER.into(),
                ..recode("bad-5", &[&jeunes])
            },
            Code::InvalidArgument,
            "survey_id",
            "an unknown survey",
        ),
        (
            pb::RecodeInterviewRequest {
                interview_id: ORGANISER.into(),
                ..recode("bad-6", &[&jeunes])
            },
            Code::NotFound,
            "interview",
            "an unknown interview",
        ),
    ] {
        refused(client.recode_interview(request).await, code, field, case);
    }
    assert_eq!(server.head().await?, head, "refusals wrote nothing");

    client
        .recode_interview(recode("r1", &[&isolement, &jeunes]))
        .await?;
    let view = client
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(
        view.motivation_codes,
        vec![isolement.clone(), jeunes.clone()]
    );
    assert_eq!(view.expectation_codes, vec![debit.clone()]);
    assert_eq!(view.recodings, 1);
    // The same coding again is nothing.
    let head = server.head().await?;
    client
        .recode_interview(recode("r2", &[&isolement, &jeunes]))
        .await?;
    assert_eq!(server.head().await?, head);
    let events = server.all_events().await?;
    let recoded = events
        .iter()
        .find(|e| e.event_type == "maillage.v1.InterviewRecoded")
        .map(|e| pb::InterviewRecoded::decode(e.payload.as_slice()).unwrap())
        .unwrap();
    assert_eq!(recoded.reason, "seconde lecture");
    assert_eq!(recoded.recoded_by, "alice");
    server.stop().await
}
