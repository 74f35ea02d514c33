//! Erasure and subject access through a real tonic client: the export before
//! and after, what interactions keep, the chain still verifying, and the
//! erasure surviving a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use anyhow::Result;
use common::*;
use maillage_proto::v1 as pb;
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_reads_as_erased_everywhere_and_the_log_still_verifies() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let mut admin = harness.admin().await?;

    let camille = facilitator
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(person(
                "Camille",
                "Martin",
                &[pb::PersonKind::ElectedOfficial],
            )),
            mandates: vec![maire(200)],
        })
        .await?
        .into_inner()
        .id;
    let lea = register_person(
        &mut facilitator,
        person("Léa", "Roux", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    let business_id = register_business(&mut facilitator, "Menuiserie Durand").await?;
    facilitator
        .record_consent(pb::RecordConsentRequest {
            request_id: rid(),
            stakeholder_id: camille.clone(),
            expected_version: None,
            channel: pb::ConsentChannel::Phone as i32,
            legal_basis: pb::LegalBasis::Consent as i32,
            purposes: vec![],
        })
        .await?;
    let with_camille = facilitator
        .log_interaction(phone_call(&[&camille, &business_id], "Camille is keen"))
        .await?
        .into_inner()
        .id;
    let without_camille = facilitator
        .log_interaction(phone_call(&[&lea], "Léa asked about telework"))
        .await?
        .into_inner()
        .id;

    // Subject access before: everything in clear.
    let before = admin
        .export_person_data(pb::ExportPersonDataRequest {
            stakeholder_id: camille.clone(),
        })
        .await?
        .into_inner();
    assert!(!before.erased);
    let profile = before
        .stakeholder
        .as_ref()
        .unwrap()
        .person
        .as_ref()
        .unwrap();
    assert_eq!(
        (profile.given_name.as_str(), profile.family_name.as_str()),
        ("Camille", "Martin")
    );
    assert_eq!(profile.notes, "Camille runs the weekly market");
    assert_eq!(before.stakeholder.as_ref().unwrap().mandates.len(), 1);
    assert_eq!(before.stakeholder.as_ref().unwrap().consents.len(), 1);
    assert_eq!(before.interactions.len(), 1);
    assert_eq!(before.interactions[0].interaction_id, with_camille);
    assert_eq!(before.interactions[0].notes, "Camille is keen");
    let types: Vec<&str> = before
        .history
        .iter()
        .map(|entry| entry.event_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "maillage.v1.PersonRegistered",
            "maillage.v1.MandateStarted",
            "maillage.v1.ConsentRecorded"
        ]
    );
    assert!(before.history.iter().all(|entry| entry.actor == "alice"));

    // A stale erasure destroys nothing; a reason is required.
    let stale = admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: camille.clone(),
            expected_version: Some(1),
            reason: "RGPD art. 17, demande n° 2026-014".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    let no_reason = admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: camille.clone(),
            expected_version: None,
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    let refused_org = admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: business_id.clone(),
            expected_version: None,
            reason: "not a person".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused_org.code(), Code::FailedPrecondition);
    let still = admin
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: camille.clone(),
        })
        .await?
        .into_inner();
    assert!(!still.erased && still.person.unwrap().given_name == "Camille");

    // Erase.
    let erase = pb::ErasePersonRequest {
        request_id: rid(),
        stakeholder_id: camille.clone(),
        expected_version: Some(3),
        reason: "RGPD art. 17, demande n° 2026-014".into(),
    };
    let erased = admin.erase_person(erase.clone()).await?.into_inner();
    // PersonErasureStarted, then PersonErased once this service's keys are gone.
    assert_eq!(erased.version, 5);
    let head = harness.head().await?;
    assert_eq!(
        admin.erase_person(erase).await?.into_inner(),
        erased,
        "a retry answers the same"
    );
    assert_eq!(harness.head().await?, head);

    // The marker: who, when, why, which interactions.
    let events = harness.all_events().await?;
    let marker = events
        .iter()
        .find(|event| event.event_type == "maillage.v1.PersonErased")
        .expect("marker event");
    let marker_payload: pb::PersonErased = prost::Message::decode(marker.payload.as_slice())?;
    assert_eq!(marker_payload.stakeholder_id, camille);
    assert_eq!(marker_payload.erased_by, "adam");
    assert_eq!(marker_payload.interaction_ids, vec![with_camille.clone()]);
    assert_eq!(marker.metadata.as_ref().unwrap().actor, "adam");

    // Reads: the person's fields are gone; the commune and kinds (not sealed) remain.
    // Read by a facilitator (an analyst never reads personal data).
    let mut reader = harness.facilitator().await?;
    let read = reader
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: camille.clone(),
        })
        .await?
        .into_inner();
    assert!(read.erased);
    assert!(read.erased_at.is_some());
    let profile = read.person.unwrap();
    assert_eq!(profile.given_name, "");
    assert_eq!(profile.family_name, "");
    assert_eq!(profile.email, "");
    assert_eq!(profile.phone, "");
    assert_eq!(profile.notes, "");

    // The interaction keeps date, channel, participants (the organisation too) and facilitator.
    let interaction = reader
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: with_camille.clone(),
        })
        .await?
        .into_inner();
    assert!(interaction.erased);
    assert_eq!(interaction.notes, "");
    assert_eq!(interaction.subject, "");
    assert_eq!(interaction.follow_ups[0].description, "");
    assert_eq!(interaction.channel, pb::InteractionChannel::Phone as i32);
    assert!(interaction.occurred_at.is_some());
    assert_eq!(interaction.facilitator, "alice");
    assert!(interaction
        .participants
        .iter()
        .any(|p| p.stakeholder_id == business_id
            && p.r#type == pb::StakeholderType::Organisation as i32));
    // Others' interactions are untouched.
    let other = reader
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: without_camille.clone(),
        })
        .await?
        .into_inner();
    assert!(!other.erased);
    assert_eq!(other.notes, "Léa asked about telework");

    // Subject access after: the person was erased.
    let after = admin
        .export_person_data(pb::ExportPersonDataRequest {
            stakeholder_id: camille.clone(),
        })
        .await?
        .into_inner();
    assert!(after.erased);
    assert!(after.erased_at.is_some());
    assert_eq!(
        after
            .stakeholder
            .as_ref()
            .unwrap()
            .person
            .as_ref()
            .unwrap()
            .given_name,
        ""
    );
    assert_eq!(after.interactions.len(), 1);
    assert!(after.interactions[0].erased);
    assert_eq!(
        after.history.last().unwrap().event_type,
        "maillage.v1.PersonErased"
    );

    // Nothing more can be written about them.
    let refused = facilitator
        .log_interaction(phone_call(&[&camille], ""))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let refused = facilitator
        .update_person_profile(pb::UpdatePersonProfileRequest {
            request_id: rid(),
            stakeholder_id: camille.clone(),
            expected_version: None,
            profile: Some(person("Camille", "Martin", &[pb::PersonKind::Inhabitant])),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(harness.head().await?, head);

    // The chain verifies (head() checks it), before and after a restart.
    let dir = harness.stop().await?;
    let harness = Harness::start_in(dir).await?;
    assert_eq!(harness.head().await?, head);
    let mut admin = harness.admin().await?;
    let restarted = admin
        .export_person_data(pb::ExportPersonDataRequest {
            stakeholder_id: camille.clone(),
        })
        .await?
        .into_inner();
    assert!(restarted.erased);
    assert_eq!(restarted.interactions[0].notes, "");
    let lea_read = admin
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: lea.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(lea_read.person.unwrap().given_name, "Léa");
    harness.stop().await?;
    Ok(())
}

/// A crash after the erasure was remembered (tree `erasure.pending`) and
/// before anything was recorded: the next start finishes it, in order — the
/// started fact, then the keys, then the marker.
#[tokio::test]
async fn an_erasure_interrupted_by_a_crash_is_finished_at_the_next_start() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let noe = register_person(
        &mut facilitator,
        person("Noé", "Garnier", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    let contact = facilitator
        .log_interaction(phone_call(&[&noe], "souhaite un espace de coworking"))
        .await?
        .into_inner()
        .id;
    let dir = harness.stop().await?;

    // What `ErasePerson` remembers first, as a crash right after it would leave it.
    {
        // Once the stopped service has let go of it (sled releases its lock
        // a moment after the last handle, e.g. the search index's follower).
        let db = maillage_eventstore::open_sled(
            &dir.path().join("stakeholders"),
            &maillage_eventstore::SledOptions::default(),
        )?;
        let id = uuid::Uuid::parse_str(&noe)?;
        db.open_tree(maillage_stakeholders::PENDING_ERASURES_TREE)?
            .insert(
                id.as_bytes(),
                "erase-noe\nadam-admin\nRGPD art. 17".as_bytes(),
            )?;
        db.flush()?;
    }

    let harness = Harness::start_in(dir).await?;
    let mut admin = harness.admin().await?;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        let status = admin
            .get_erasure(pb::GetErasureRequest {
                stakeholder_id: noe.clone(),
            })
            .await?
            .into_inner();
        if status.state == pb::ErasureState::ErasedHere as i32
            || tokio::time::Instant::now() > deadline
        {
            break status;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    // (No engagement here to confirm its part: this service's part is done.)
    assert_eq!(
        status.state,
        pb::ErasureState::ErasedHere as i32,
        "{status:?}"
    );
    assert_eq!(status.reason, "RGPD art. 17");
    assert_eq!(status.pending_contexts, vec!["engagement".to_owned()]);
    let types: Vec<String> = harness
        .all_events()
        .await?
        .into_iter()
        .filter(|event| event.stream_id == format!("stakeholder-{noe}"))
        .map(|event| event.event_type)
        .collect();
    assert_eq!(
        types[types.len() - 2..],
        [
            "maillage.v1.PersonErasureStarted".to_owned(),
            "maillage.v1.PersonErased".to_owned()
        ]
    );
    let interaction = admin
        .get_interaction(pb::GetInteractionRequest {
            interaction_id: contact,
        })
        .await?
        .into_inner();
    assert!(interaction.erased && interaction.notes.is_empty());
    harness.stop().await?;
    Ok(())
}
