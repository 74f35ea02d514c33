//! `ImportStakeholders` through the real service on sled, over a socket:
//! rows decided one by one (created, updated, skipped, failed), dedupe against
//! stakeholders registered by hand (email, SIREN, names + commune + birth
//! year), idempotence by fingerprint (also after the search index is rebuilt
//! from the log), dry runs that write nothing, bad rows that stop nothing,
//! roles, and erasure dropping the dedupe tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use anyhow::Result;
use common::register::{mandate, territory};
use common::*;
use maillage_proto::v1 as pb;
use pb::import_row::Stakeholder as Kind;
use tonic::Code;

fn elu_row(line: u64, given: &str, family: &str, commune: &str, born: &str) -> pb::ImportRow {
    let mut profile = person(given, family, &[pb::PersonKind::ElectedOfficial]);
    profile.commune_code = commune.into();
    profile.email = String::new();
    profile.phone = String::new();
    profile.postal_address = String::new();
    profile.notes = String::new();
    profile.birth_date = born.into();
    pb::ImportRow {
        line,
        stakeholder: Some(Kind::Person(pb::ImportPerson {
            profile: Some(profile),
            mandates: vec![mandate(
                pb::MandateOffice::Maire,
                territory(pb::TerritoryLevel::Commune, commune),
                200,
            )],
            affiliations: vec![],
        })),
    }
}

fn business_row(line: u64, name: &str, siren: &str) -> pb::ImportRow {
    let mut profile = business(name);
    profile.siren = siren.into();
    pb::ImportRow {
        line,
        stakeholder: Some(Kind::Organisation(profile)),
    }
}

fn request(rows: Vec<pb::ImportRow>, dry_run: bool) -> pb::ImportStakeholdersRequest {
    pb::ImportStakeholdersRequest {
        request_id: rid(),
        source: pb::ImportSource::Rne as i32,
        dry_run,
        rows,
    }
}

fn outcomes(reply: &pb::ImportStakeholdersResponse) -> Vec<(u64, pb::ImportOutcome)> {
    reply
        .results
        .iter()
        .map(|result| {
            (
                result.line,
                pb::ImportOutcome::try_from(result.outcome).unwrap_or_default(),
            )
        })
        .collect()
}

use pb::ImportOutcome::{Created, Failed, Skipped, Updated};

#[tokio::test]
async fn rows_are_created_once_and_a_second_import_changes_nothing() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let rows = vec![
        elu_row(2, "Éloïse", "Le Bihan", "11069", "1961-04-02"),
        elu_row(3, "Marc", "Durand", "11262", "1970-01-15"),
        business_row(4, "Menuiserie Durand", "120027016"),
        // A bad commune: reported by line and field, the others land.
        elu_row(5, "Jean", "Martin", "99999", "1955-06-01"),
        // The same row twice in one file: the second is skipped.
        elu_row(6, "Marc", "Durand", "11262", "1970-01-15"),
    ];
    let first = client
        .import_stakeholders(request(rows.clone(), false))
        .await?
        .into_inner();
    assert_eq!(
        outcomes(&first),
        vec![
            (2, Created),
            (3, Created),
            (4, Created),
            (5, Failed),
            (6, Skipped)
        ]
    );
    let bad = &first.results[3];
    assert_eq!(bad.field, "person.profile.commune_code");
    assert!(bad.stakeholder_id.is_empty());
    assert!(first.position > 0);
    let elu = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: first.results[0].stakeholder_id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(elu.mandates.len(), 1);
    assert_eq!(
        elu.person.as_ref().map(|p| p.birth_date.as_str()),
        Some("1961-04-02")
    );

    // Personal data never in clear in the log, the fingerprint sealed.
    let events = harness.all_events().await?;
    let head = events.len();
    let imported: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "maillage.v1.StakeholderImported")
        .collect();
    assert_eq!(imported.len(), 3);
    for event in &events {
        let text = String::from_utf8_lossy(&event.payload);
        assert!(!text.contains("Bihan") && !text.contains("1961"), "{text}");
    }

    // Again, with the same request id or another: nothing new.
    let second = client
        .import_stakeholders(request(rows.clone(), false))
        .await?
        .into_inner();
    assert_eq!(
        outcomes(&second),
        vec![
            (2, Skipped),
            (3, Skipped),
            (4, Skipped),
            (5, Failed),
            (6, Skipped)
        ]
    );
    assert_eq!(
        second.results[0].matched_by,
        pb::ImportMatch::Fingerprint as i32
    );
    assert_eq!(
        second.results[0].stakeholder_id,
        first.results[0].stakeholder_id
    );
    assert_eq!(harness.all_events().await?.len(), head);

    // After a restart with the index dropped (rebuilt from the log): still nothing new.
    let dir = harness.stop().await?;
    {
        let db = maillage_eventstore::open_sled(
            &dir.path().join("stakeholders"),
            &maillage_eventstore::SledOptions::default(),
        )?;
        db.drop_tree(maillage_stakeholders::search::SEARCH_TREE)?;
        db.flush()?;
    }
    let harness = Harness::start_in(dir).await?;
    let mut client = harness.facilitator().await?;
    let third = client
        .import_stakeholders(request(rows, false))
        .await?
        .into_inner();
    assert_eq!(outcomes(&third), outcomes(&second));
    assert_eq!(harness.all_events().await?.len(), head);
    Ok(())
}

#[tokio::test]
async fn rows_match_what_was_registered_by_hand_and_complete_it() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    // By hand: an élu with a birth date, a business with a SIREN, a person with an email.
    let mut profile = person("Éloïse", "Le Bihan", &[pb::PersonKind::ElectedOfficial]);
    profile.email = String::new();
    profile.birth_date = "1961-04-02".into();
    let elu = client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(profile),
            mandates: vec![maire(200)],
        })
        .await?
        .into_inner()
        .id;
    let business_id = register_business(&mut client, "Menuiserie Durand").await?;
    let leader = register_person(
        &mut client,
        person("Paul", "Roux", &[pb::PersonKind::BusinessLeader]),
    )
    .await?;

    // The same élu, spelled otherwise, with the same mandate and a new one.
    let mut same = elu_row(2, "ELOISE", "LE-BIHAN", "11069", "1961-04-02");
    if let Some(Kind::Person(person)) = same.stakeholder.as_mut() {
        person.mandates[0] = maire(200);
        person.mandates.push(mandate(
            pb::MandateOffice::ConseillerCommunautaire,
            territory(pb::TerritoryLevel::Epci, "200035715"),
            100,
        ));
    }
    // Only the same mandate: nothing new.
    let mut nothing_new = elu_row(3, "Eloise", "Le Bihan", "11069", "1961");
    if let Some(Kind::Person(person)) = nothing_new.stakeholder.as_mut() {
        person.mandates[0] = maire(200);
    }
    // Another birth year: another person.
    let namesake = elu_row(4, "Éloïse", "Le Bihan", "11069", "1990-01-01");
    // The business by SIREN, under another name.
    let same_business = business_row(5, "DURAND MENUISERIE SARL", "120027016");
    // The business leader by email (another case), gaining an affiliation.
    let mut by_email = person("Paul", "Roux", &[pb::PersonKind::BusinessLeader]);
    by_email.email = "Paul.Roux@EXAMPLE.fr".into();
    let by_email = pb::ImportRow {
        line: 6,
        stakeholder: Some(Kind::Person(pb::ImportPerson {
            profile: Some(by_email),
            mandates: vec![],
            affiliations: vec![pb::ImportAffiliation {
                organisation_siren: "120 027 016".into(),
                role: "gérant".into(),
                started_at: Some(days_ago(30)),
            }],
        })),
    };
    // An affiliation to an unknown SIREN fails the row.
    let mut unknown = by_email.clone();
    unknown.line = 7;
    if let Some(Kind::Person(person)) = unknown.stakeholder.as_mut() {
        person.affiliations[0].organisation_siren = "732829320".into();
    }
    let rows = vec![
        same,
        nothing_new,
        namesake,
        same_business,
        by_email,
        unknown,
    ];

    // A dry run says what would happen and writes nothing.
    let head = harness.head().await?;
    let dry = client
        .import_stakeholders(request(rows.clone(), true))
        .await?
        .into_inner();
    let expected = vec![
        (2, Updated),
        (3, Skipped),
        (4, Created),
        (5, Skipped),
        (6, Updated),
        (7, Failed),
    ];
    assert_eq!(outcomes(&dry), expected);
    assert_eq!(dry.position, 0);
    assert_eq!(harness.head().await?, head, "a dry run writes nothing");

    let reply = client
        .import_stakeholders(request(rows.clone(), false))
        .await?
        .into_inner();
    assert_eq!(outcomes(&reply), expected);
    let results = &reply.results;
    assert_eq!(results[0].stakeholder_id, elu);
    assert_eq!(results[0].matched_by, pb::ImportMatch::Identity as i32);
    assert_eq!(results[0].added, vec!["mandate".to_owned()]);
    assert_eq!(results[1].stakeholder_id, elu);
    assert_ne!(results[2].stakeholder_id, elu);
    assert_eq!(results[3].stakeholder_id, business_id);
    assert_eq!(results[3].matched_by, pb::ImportMatch::Siren as i32);
    assert_eq!(results[4].stakeholder_id, leader);
    assert_eq!(results[4].matched_by, pb::ImportMatch::Email as i32);
    assert_eq!(results[4].added, vec!["affiliation".to_owned()]);
    assert_eq!(
        results[5].field,
        "person.affiliations[0].organisation_siren"
    );
    let elu_now = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: elu.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(elu_now.mandates.len(), 2);

    // Once more: every row skipped or failed, nothing written.
    let head = harness.head().await?;
    let again = client
        .import_stakeholders(request(rows, false))
        .await?
        .into_inner();
    assert!(outcomes(&again)
        .iter()
        .all(|(_, outcome)| matches!(outcome, Skipped | Failed)));
    assert_eq!(harness.head().await?, head);
    Ok(())
}

#[tokio::test]
async fn erasure_drops_the_dedupe_tokens() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let row = elu_row(2, "Éloïse", "Le Bihan", "11069", "1961-04-02");
    let reply = client
        .import_stakeholders(request(vec![row.clone()], false))
        .await?
        .into_inner();
    let id = reply.results[0].stakeholder_id.clone();
    let mut admin = harness.admin().await?;
    admin
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: id.clone(),
            expected_version: None,
            reason: "RGPD art. 17, demande n° 2026-020".into(),
        })
        .await?;
    // Neither the fingerprint nor the identity finds the erased person.
    let again = client
        .import_stakeholders(request(vec![row], true))
        .await?
        .into_inner();
    assert_eq!(outcomes(&again), vec![(2, Created)]);
    Ok(())
}

#[tokio::test]
async fn bad_requests_and_roles() -> Result<()> {
    let harness = Harness::start().await?;
    let row = business_row(2, "Menuiserie Durand", "120027016");
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    let refused = analyst
        .import_stakeholders(request(vec![row.clone()], false))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut client = harness.facilitator().await?;
    let empty = client
        .import_stakeholders(request(vec![], false))
        .await
        .unwrap_err();
    assert_eq!(empty.code(), Code::InvalidArgument);
    assert!(empty.message().contains("rows"), "{}", empty.message());
    let mut no_source = request(vec![row.clone()], false);
    no_source.source = 0;
    let refused = client.import_stakeholders(no_source).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("source"));
    let empty_row = pb::ImportRow {
        line: 9,
        stakeholder: None,
    };
    let bad_siren = business_row(3, "Menuiserie Durand", "120027017");
    let reply = client
        .import_stakeholders(request(vec![empty_row, bad_siren], false))
        .await?
        .into_inner();
    assert_eq!(outcomes(&reply), vec![(9, Failed), (3, Failed)]);
    assert_eq!(reply.results[1].field, "organisation.profile.siren");
    assert_eq!(harness.head().await?, 0);
    Ok(())
}

#[tokio::test]
async fn two_imports_at_once_never_register_one_actor_twice() -> Result<()> {
    let harness = Harness::start().await?;
    // The same 30 élus in two files: maires in one, conseillers
    // communautaires in the other (different rows, so different fingerprints).
    let communes = ["11069", "11262", "11206"];
    let elus: Vec<(String, &str)> = (0..30)
        .map(|i| (format!("Nom{i}"), communes[i % communes.len()]))
        .collect();
    let maires: Vec<pb::ImportRow> = elus
        .iter()
        .enumerate()
        .map(|(i, (family, commune))| elu_row(i as u64 + 2, "Anne", family, commune, "1970"))
        .collect();
    let conseillers: Vec<pb::ImportRow> = maires
        .iter()
        .cloned()
        .map(|mut row| {
            if let Some(Kind::Person(person)) = row.stakeholder.as_mut() {
                let commune = person.profile.as_ref().unwrap().commune_code.clone();
                person.mandates[0] = mandate(
                    pb::MandateOffice::ConseillerMunicipal,
                    territory(pb::TerritoryLevel::Commune, &commune),
                    200,
                );
            }
            row
        })
        .collect();
    let mut first = harness.facilitator().await?;
    let mut second = harness.facilitator().await?;
    let (a, b) = tokio::join!(
        first.import_stakeholders(request(maires, false)),
        second.import_stakeholders(request(conseillers, false)),
    );
    let (a, b) = (a?.into_inner(), b?.into_inner());
    let created = outcomes(&a)
        .iter()
        .chain(outcomes(&b).iter())
        .filter(|(_, outcome)| *outcome == Created)
        .count();
    assert_eq!(created, 30, "{:?} {:?}", outcomes(&a), outcomes(&b));
    let registered = harness
        .all_events()
        .await?
        .iter()
        .filter(|event| event.event_type == "maillage.v1.PersonRegistered")
        .count();
    assert_eq!(registered, 30);
    Ok(())
}
