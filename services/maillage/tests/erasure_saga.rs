//! Erasing a person across the platform (the erasure saga), on the real
//! all-in-one platform: sled on disk, gRPC over a socket, the direct feed.
//! After `ErasePerson`, nothing about the person is readable in any context —
//! the contact's notes, the interview's notes, the survey response's free
//! text — while the facts remain and every log still verifies; nothing new
//! may name them; and an erasure racing concurrent contacts leaves no
//! readable note.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod session;

use common::{answer_as, open_free_text_survey, Platform};
use maillage_privacy::{KeyVault, MasterKey, SubjectId};
use maillage_proto::v1 as pb;
use prost::Message;
use session::{hours_ago, rid, Clients};
use tonic::Code;

async fn clients(platform: &Platform) -> Clients {
    session::clients(&platform.connection()).await
}

/// Registers an inhabitant of Amboise; returns their id.
async fn person(clients: &mut Clients, family_name: &str) -> String {
    let reply = clients
        .stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(pb::PersonProfile {
                given_name: "Maryse".into(),
                family_name: family_name.into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37003".into(),
                email: "maryse@example.org".into(),
                ..Default::default()
            }),
            mandates: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    clients.seen.note("stakeholders", reply.position);
    reply.id
}

fn contact(person: &str, notes: &str) -> pb::LogInteractionRequest {
    pb::LogInteractionRequest {
        axis_ids: Default::default(),
        topics: Default::default(),
        request_id: rid(),
        participant_ids: vec![person.to_owned()],
        channel: pb::InteractionChannel::Phone as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: hours_ago(1),
        subject: "Projet de tiers-lieu".into(),
        notes: notes.into(),
        themes: vec![],
        follow_ups: vec![],
    }
}

async fn erasure_state(clients: &mut Clients, person: &str) -> pb::ErasureStatus {
    clients
        .stakeholders
        .get_erasure(pb::GetErasureRequest {
            stakeholder_id: person.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
}

async fn all_events(clients: &mut Clients, context: &str) -> Vec<pb::EventEnvelope> {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_reaches_every_context_and_leaves_the_facts() {
    let platform = Platform::start().await;
    let mut clients = clients(&platform).await;
    let maryse = person(&mut clients, "Lenoir").await;

    // What the platform holds about her: a contact, an interview, a survey response.
    let logged = clients
        .stakeholders
        .log_interaction(contact(&maryse, "veut transmettre son garage"))
        .await
        .unwrap()
        .into_inner();
    clients.seen.note("stakeholders", logged.position);
    let interview = clients
        .engagement
        .record_interview(pb::RecordInterviewRequest {
            axis_ids: Vec::new(),
            topics: Default::default(),
            request_id: rid(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::StakeholderId(maryse.clone())),
            }),
            conducted_at: hours_ago(2),
            themes: vec![],
            motivations: vec![],
            expectations: vec![],
            notes: "52 ans, veut transmettre son garage".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let survey = open_free_text_survey(&mut clients.engagement).await;
    answer_as(
        &mut clients.engagement,
        &survey,
        &maryse,
        "un atelier partagé près de chez moi",
    )
    .await;

    let erased = clients
        .stakeholders
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: maryse.clone(),
            expected_version: None,
            reason: "RGPD art. 17, demande 2026-031".into(),
        })
        .await
        .unwrap()
        .into_inner();
    clients.seen.note("stakeholders", erased.position);
    let status = erasure_state(&mut clients, &maryse).await;
    assert_eq!(
        status.state,
        pb::ErasureState::Completed as i32,
        "{status:?}"
    );
    assert_eq!(status.confirmed_contexts, vec!["engagement".to_owned()]);
    assert!(status.pending_contexts.is_empty());

    // Nothing readable: the contact's notes, the interview's notes.
    let interaction = clients
        .stakeholders
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: logged.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(interaction.erased && interaction.notes.is_empty());
    let view = clients
        .engagement
        .get_interview(pb::GetInterviewRequest {
            interview_id: interview.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(view.notes_erased, "{view:?}");
    assert!(view.notes.is_empty());

    // Engagement recorded its part, naming what it erased.
    let engagement_events = all_events(&mut clients, "engagement").await;
    let part = engagement_events
        .iter()
        .find(|event| event.event_type == "maillage.v1.EngagementPersonErased")
        .expect("engagement's erasure fact");
    let part = pb::EngagementPersonErased::decode(part.payload.as_slice()).unwrap();
    assert_eq!(part.stakeholder_id, maryse);
    assert_eq!(part.interview_ids, vec![interview.id.clone()]);
    assert_eq!(part.responses.len(), 1);
    assert!(part.responses[0].starts_with(&format!("{survey}/")));

    // Nothing new may name her, in either service.
    let refused = clients
        .stakeholders
        .log_interaction(contact(&maryse, "encore"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let refused = clients
        .engagement
        .record_interview(pb::RecordInterviewRequest {
            request_id: rid(),
            subject: Some(pb::InterviewSubject {
                who: Some(pb::interview_subject::Who::StakeholderId(maryse.clone())),
            }),
            conducted_at: hours_ago(1),
            notes: "encore".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // The facts stay, and every log still verifies.
    assert!(all_events(&mut clients, "stakeholders")
        .await
        .iter()
        .any(|event| event.stream_id == format!("interaction-{}", logged.id)));
    for context in ["stakeholders", "engagement", "governance"] {
        let verified = clients
            .logs
            .verify(pb::VerifyRequest {
                context: context.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(verified.intact, "{context}: {verified:?}");
    }

    // A second erasure, for another reason, is refused, not answered with the first.
    let again = clients
        .stakeholders
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: maryse.clone(),
            expected_version: None,
            reason: "une autre raison".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");

    // The survey response's key is gone from engagement's vault (read on disk once stopped).
    let response = part.responses[0].split('/').nth(1).unwrap().to_owned();
    let data = platform.data_dir();
    let _kept = platform.stop().await;
    let master = MasterKey::from_file(data.join("master.key")).unwrap().key;
    // Opened as the services open it (the segment size it was created with).
    let db = maillage_eventstore::open_sled(
        &data.join("engagement"),
        &maillage_eventstore::SledOptions::default(),
    )
    .unwrap();
    let vault = KeyVault::new(db.open_tree("privacy.keys").unwrap(), master).unwrap();
    let subject = SubjectId::new("survey-response", response).unwrap();
    assert!(vault.is_erased(&subject).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_racing_fifty_contacts_leaves_no_readable_note() {
    let platform = Platform::start().await;
    let mut clients = clients(&platform).await;
    let maryse = person(&mut clients, "Racine").await;
    let mut contacts = Vec::new();
    let mut erasure = None;
    for i in 0..50 {
        let mut stakeholders = clients.stakeholders.clone();
        let request = contact(&maryse, &format!("note confidentielle {i}"));
        contacts.push(tokio::spawn(async move {
            stakeholders.log_interaction(request).await
        }));
        if i == 20 {
            let mut stakeholders = clients.stakeholders.clone();
            let person = maryse.clone();
            erasure = Some(tokio::spawn(async move {
                stakeholders
                    .erase_person(pb::ErasePersonRequest {
                        request_id: rid(),
                        stakeholder_id: person,
                        expected_version: None,
                        reason: "RGPD art. 17".into(),
                    })
                    .await
            }));
        }
    }
    let mut accepted = Vec::new();
    let mut refused = 0;
    for task in contacts {
        match task.await.unwrap() {
            Ok(reply) => accepted.push(reply.into_inner().id),
            Err(status) => {
                assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(accepted.len() + refused, 50);
    erasure.unwrap().await.unwrap().unwrap();
    // Every contact that went through is unreadable.
    for id in &accepted {
        let interaction = clients
            .stakeholders
            .get_interaction(pb::GetInteractionRequest {
                interaction_id: id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            interaction.notes.is_empty() && interaction.erased,
            "contact {id} is still readable after the erasure"
        );
    }
    let status = erasure_state(&mut clients, &maryse).await;
    assert_eq!(status.state, pb::ErasureState::Completed as i32);
    let _kept = platform.stop().await;
}
