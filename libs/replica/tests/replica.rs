//! The replicas on real sled, fed by the real direct feed from a real log:
//! what they answer, that they survive a restart, that they never skip an
//! undecodable event, and the read-your-writes wait.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::sync::Arc;

use anyhow::Result;
use maillage_eventstore::{EventData, EventMetadata, ExpectedVersion};
use maillage_proto::v1 as pb;
use maillage_replica::fixtures::LogFixture;
use maillage_replica::{
    follow, Expected, OrganisationType, Positions, ProgrammeAxes, Register, Replica,
    RoundtableOutcomes, StakeholderKind, AFTER_HEADER,
};
use maillage_service_kit::ServiceError;
use tonic::metadata::MetadataMap;
use uuid::Uuid;

fn open_register(db: &sled::Db) -> Result<Arc<Replica<Register>>> {
    Ok(Arc::new(Replica::open(db.open_tree("replica.register")?)?))
}

fn after(context: &str, position: u64) -> Result<Positions> {
    let mut metadata = MetadataMap::new();
    metadata.insert(AFTER_HEADER, format!("{context}={position}").parse()?);
    Ok(Positions::from_metadata(&metadata)?)
}

#[tokio::test]
async fn the_register_replica_answers_each_check_and_survives_a_restart() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LogFixture::open(&dir.path().join("stakeholders"))?;
    let (person, tiers_lieu, business, erased, unknown) = (
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
        Uuid::now_v7(),
    );
    log.person(person, "37018").await?;
    log.organisation(tiers_lieu, OrganisationType::TiersLieu, "37050")
        .await?;
    log.organisation(business, OrganisationType::Business, "37050")
        .await?;
    log.person(erased, "37018").await?;
    let last = log.erase(erased).await?;

    let db = sled::open(dir.path().join("engagement"))?;
    let replica = open_register(&db)?;
    let follower = follow::follow(
        replica.clone(),
        follow::direct("stakeholders", log.store.clone()),
    );
    replica.reach(&after("stakeholders", last)?).await?;
    assert_eq!(replica.position(), last);

    let entry = replica.expect(
        "tiers_lieu_id",
        &tiers_lieu,
        Expected::OrganisationOf(OrganisationType::TiersLieu),
    )?;
    assert_eq!(entry.commune, "37050");
    assert_eq!(
        entry.kind,
        StakeholderKind::Organisation(OrganisationType::TiersLieu)
    );
    replica.expect("subject", &person, Expected::Person)?;

    let wrong_kind = replica
        .expect(
            "tiers_lieu_id",
            &business,
            Expected::OrganisationOf(OrganisationType::TiersLieu),
        )
        .unwrap_err();
    assert!(
        matches!(&wrong_kind, ServiceError::FailedPrecondition { message, .. } if message.contains("a business") && message.contains("a tiers-lieu was expected")),
        "{wrong_kind:?}"
    );
    let not_a_person = replica
        .expect("person_id", &business, Expected::Person)
        .unwrap_err();
    assert!(matches!(
        not_a_person,
        ServiceError::FailedPrecondition { .. }
    ));
    let gone = replica
        .expect("stakeholder_ids[0]", &erased, Expected::Any)
        .unwrap_err();
    assert!(
        matches!(&gone, ServiceError::FailedPrecondition { message, .. } if message.contains("erased")),
        "{gone:?}"
    );
    let missing = replica
        .expect("organiser_ids[1]", &unknown, Expected::Any)
        .unwrap_err();
    assert!(
        matches!(&missing, ServiceError::InvalidArgument { field, .. } if field == "organiser_ids[1]"),
        "{missing:?}"
    );
    let in_list = replica
        .expect_all("attendee_ids", &[person, unknown], Expected::Any)
        .unwrap_err();
    assert!(
        matches!(&in_list, ServiceError::InvalidArgument { field, .. } if field == "attendee_ids[1]")
    );

    // Asking for a position the log has not reached: UNAVAILABLE, after the bounded wait.
    let ahead = replica
        .reach(&after("stakeholders", last + 5)?)
        .await
        .unwrap_err();
    assert!(
        matches!(ahead, ServiceError::Unavailable { .. }),
        "{ahead:?}"
    );
    // A position of a context this replica does not follow is not waited for.
    replica.reach(&after("governance", 1_000)?).await?;

    follower.shutdown().await;
    drop(replica);
    // Restart: the rows and the checkpoint are on disk; new events are followed from there.
    let replica = open_register(&db)?;
    assert_eq!(replica.position(), last);
    assert!(replica.get(&person)?.is_some());
    let late = Uuid::now_v7();
    let position = log.person(late, "37018").await?;
    let follower = follow::follow(
        replica.clone(),
        follow::direct("stakeholders", log.store.clone()),
    );
    replica.reach(&after("stakeholders", position)?).await?;
    assert_eq!(replica.position(), position);
    replica.expect("subject", &late, Expected::Person)?;
    follower.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_redelivered_batch_changes_nothing_and_a_gap_or_bad_payload_is_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LogFixture::open(&dir.path().join("stakeholders"))?;
    let person = Uuid::now_v7();
    log.person(person, "37018").await?;
    log.erase(person).await?;
    let envelopes: Vec<pb::EventEnvelope> = log
        .store
        .read_all(1, 100)?
        .iter()
        .map(|record| maillage_envelope::to_envelope("stakeholders", record))
        .collect();
    let db = sled::open(dir.path().join("replica"))?;
    let replica = open_register(&db)?;
    assert_eq!(replica.apply_batch(&envelopes[..1])?, 1);
    // Position 1 again with position 2: only 2 is new.
    assert_eq!(replica.apply_batch(&envelopes)?, 1);
    assert!(replica.get(&person)?.is_some_and(|entry| entry.erased));
    // The checkpoint keeps the hash of position 2, for the feed to check
    // that the next event chains to it, also after a restart.
    let head = log.store.head();
    assert_eq!(head.position, 2);
    assert_eq!(replica.position_hash()?, Some(head.hash));
    drop(replica);
    let replica = open_register(&db)?;
    assert_eq!(replica.position(), 2);
    assert_eq!(replica.position_hash()?, Some(head.hash));

    // A gap (position 4 after 2) is refused and moves nothing.
    let mut ahead = envelopes[1].clone();
    ahead.position = 4;
    assert!(replica.apply_batch(&[ahead]).is_err());
    assert_eq!(replica.position(), 2);

    // An undecodable registration stops the replica there: never skipped.
    log.store
        .append(
            "stakeholder-0190b4c2-2f5e-7cc0-8000-000000000001",
            ExpectedVersion::Any,
            vec![EventData {
                event_id: Uuid::new_v4(),
                event_type: "maillage.v1.PersonRegistered".into(),
                payload: vec![0xff, 0xff, 0xff],
                metadata: EventMetadata::default(),
            }],
        )
        .await?;
    let record = log.store.read_all(3, 1)?;
    let bad = maillage_envelope::to_envelope("stakeholders", &record[0]);
    let error = replica.apply_batch(&[bad]).unwrap_err();
    assert!(error.to_string().contains("position 3"), "{error}");
    assert_eq!(replica.position(), 2);

    // An event of another context is refused (a misconfigured feed).
    let mut foreign = envelopes[0].clone();
    foreign.context = "engagement".into();
    foreign.position = 3;
    assert!(replica.apply_batch(&[foreign]).is_err());
    Ok(())
}

#[tokio::test]
async fn outcomes_are_known_with_the_kind_of_their_action() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LogFixture::open(&dir.path().join("engagement"))?;
    let (roundtable, workshop) = (Uuid::now_v7(), Uuid::now_v7());
    let (from_roundtable, from_workshop) = (Uuid::now_v7(), Uuid::now_v7());
    log.action_with_outcomes(roundtable, pb::ActionKind::Roundtable, &[from_roundtable])
        .await?;
    let last = log
        .action_with_outcomes(workshop, pb::ActionKind::ThematicWorkshop, &[from_workshop])
        .await?;
    let db = sled::open(dir.path().join("governance"))?;
    let replica = Arc::new(Replica::<RoundtableOutcomes>::open(
        db.open_tree("replica.outcomes")?,
    )?);
    let follower = follow::follow(
        replica.clone(),
        follow::direct("engagement", log.store.clone()),
    );
    replica.reach(&after("engagement", last)?).await?;

    let outcome = replica.expect_roundtable_outcome("roundtable_outcome_id", &from_roundtable)?;
    assert_eq!(outcome.action_id, roundtable);
    let error = replica
        .expect_roundtable_outcome("roundtable_outcome_id", &from_workshop)
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::FailedPrecondition { .. }),
        "{error:?}"
    );
    let error = replica
        .expect_roundtable_outcome("roundtable_outcome_id", &Uuid::now_v7())
        .unwrap_err();
    assert!(
        matches!(&error, ServiceError::InvalidArgument { field, .. } if field == "roundtable_outcome_id"),
        "{error:?}"
    );
    follower.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn axes_are_accepted_while_defined_and_refused_once_retired_or_unknown() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LogFixture::open(&dir.path().join("engagement"))?;
    let (kept, retired, unknown) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    log.axis(kept, "Sensibiliser").await?;
    log.axis(retired, "Ancien axe").await?;
    let last = log.retire_axis(retired).await?;
    let db = sled::open(dir.path().join("stakeholders"))?;
    let replica = Arc::new(Replica::<ProgrammeAxes>::open(
        db.open_tree("replica.programme")?,
    )?);
    let follower = follow::follow(
        replica.clone(),
        follow::direct("engagement", log.store.clone()),
    );
    replica.reach(&after("engagement", last)?).await?;

    assert_eq!(
        replica.expect_axes("axis_ids", &[kept.to_string()])?,
        vec![kept]
    );
    assert_eq!(replica.expect_axes("axis_ids", &[])?, Vec::<Uuid>::new());
    for (values, at) in [
        (vec![kept.to_string(), retired.to_string()], "axis_ids[1]"),
        (vec![unknown.to_string()], "axis_ids[0]"),
        (vec![kept.to_string(), kept.to_string()], "axis_ids[1]"),
        (vec!["not-an-id".to_owned()], "axis_ids[0]"),
    ] {
        let error = replica.expect_axes("axis_ids", &values).unwrap_err();
        assert!(
            matches!(&error, ServiceError::InvalidArgument { field, .. } if field == at),
            "{values:?}: {error:?}"
        );
    }
    // A position the replica has not reached: UNAVAILABLE, not a wrong answer.
    let error = replica
        .reach(&after("engagement", last + 1)?)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Unavailable { .. }),
        "{error:?}"
    );
    follower.shutdown().await;
    Ok(())
}
