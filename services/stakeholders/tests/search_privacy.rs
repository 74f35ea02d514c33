//! The search's personal data through the real service on sled: the blind
//! index finds names by prefix with accents folded and never holds a name in
//! clear; an erased person (through the real erasure saga) is found no more,
//! even by an index rebuilt from the log; each role sees the names it may,
//! and the access journal records exactly the names opened.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;
use common::register::*;
use common::*;
use maillage_proto::v1 as pb;
use tonic::Code;

fn named(query: &str) -> pb::StakeholderFilter {
    pb::StakeholderFilter {
        name_query: query.into(),
        ..Default::default()
    }
}

/// Whether any file under `dir` holds `needle`.
fn files_hold(dir: &Path, needle: &[u8]) -> Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if files_hold(&path, needle)? {
                return Ok(true);
            }
        } else if std::fs::read(&path)?
            .windows(needle.len())
            .any(|window| window == needle)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The service's database, once the stopped service has let go of it.
fn open_db(dir: &Path) -> Result<sled::Db> {
    let options = maillage_eventstore::SledOptions::default();
    Ok(maillage_eventstore::open_sled(
        &dir.join("stakeholders"),
        &options,
    )?)
}

/// The rows of the search index naming `id`: its names row and its postings.
fn index_rows_of(db: &sled::Db, id: &str) -> Result<(bool, usize)> {
    let tree = db.open_tree(maillage_stakeholders::search::SEARCH_TREE)?;
    let id = uuid::Uuid::parse_str(id)?;
    let names = tree.contains_key(maillage_stakeholders::search::rows::key(b'n', &id))?;
    let mut postings = 0;
    for item in tree.scan_prefix([b't']) {
        let (key, _) = item?;
        if key.ends_with(id.as_bytes()) {
            postings += 1;
        }
    }
    Ok((names, postings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blind_index_finds_by_prefix_and_folds_accents() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("lebi", r.of(&[&r.eloise, &r.boulangerie])),
        ("LE BIHAN", r.of(&[&r.eloise, &r.boulangerie])),
        ("bihan", r.of(&[&r.eloise, &r.boulangerie])),
        ("eloise", r.of(&[&r.eloise])),
        ("Éloï le-bih", r.of(&[&r.eloise])),
        ("le-bi", BTreeSet::new()),
        ("jean-pierre", r.of(&[&r.jean_pierre])),
        ("jeanpie mart", r.of(&[&r.jean_pierre])),
        ("ateliers lac", r.of(&[&r.ateliers])),
        ("bihane", BTreeSet::new()),
        ("ihan", BTreeSet::new()),
        ("garnier", BTreeSet::new()),
    ];
    for (query, expected) in cases {
        assert_eq!(ids(&mut client, named(query)).await?, expected, "{query}");
    }
    // Inès is archived, not gone.
    let archived = pb::StakeholderFilter {
        archived: pb::ArchivedFilter::Any as i32,
        ..named("garni")
    };
    assert_eq!(ids(&mut client, archived).await?, r.of(&[&r.ines]));

    // A search shows the names as registered.
    let found = search_all(
        &mut client,
        pb::SearchStakeholdersRequest {
            filter: Some(named("lebi")),
            ..Default::default()
        },
    )
    .await?;
    let eloise = found
        .iter()
        .find(|row| row.stakeholder_id == r.eloise)
        .unwrap();
    assert_eq!(
        (eloise.given_name.as_str(), eloise.family_name.as_str()),
        ("Éloïse", "Le Bihan")
    );
    assert_eq!(eloise.current_mandates.len(), 1);
    assert_eq!(eloise.contact_topics, [pb::Theme::QuelsTla as i32]);

    // Nothing on disk spells a person's name, folded or not.
    let dir = harness.stop().await?;
    let data = dir.path().join("stakeholders");
    for needle in [
        "Éloïse",
        "eloise",
        "Jean-Pierre",
        "jeanpierre",
        "Garnier",
        "garnier",
    ] {
        assert!(
            !files_hold(&data, needle.as_bytes())?,
            "{needle} is on disk in clear"
        );
    }
    // (An organisation's name is not personal data: it is in clear.)
    assert!(files_hold(&data, b"Boulangerie Le Bihan")?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_is_found_no_more_even_by_a_rebuilt_index() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    assert!(ids(&mut client, named("eloise")).await?.contains(&r.eloise));

    harness
        .admin()
        .await?
        .erase_person(pb::ErasePersonRequest {
            request_id: rid(),
            stakeholder_id: r.eloise.clone(),
            expected_version: None,
            reason: "RGPD art. 17, demande n° 2026-031".into(),
        })
        .await?;
    assert_eq!(
        ids(&mut client, named("lebi")).await?,
        r.of(&[&r.boulangerie])
    );
    assert!(ids(&mut client, named("eloise")).await?.is_empty());
    let persons = pb::StakeholderFilter {
        r#type: pb::StakeholderType::Person as i32,
        archived: pb::ArchivedFilter::Any as i32,
        ..Default::default()
    };
    assert_eq!(
        ids(&mut client, persons.clone()).await?,
        r.of(&[&r.jean_pierre, &r.paul, &r.ines]),
        "never found, by any filter"
    );

    // The index holds nothing of her: no names, no token.
    let dir = harness.stop().await?;
    {
        let db = open_db(dir.path())?;
        assert_eq!(index_rows_of(&db, &r.eloise)?, (false, 0));
        let (names, postings) = index_rows_of(&db, &r.jean_pierre)?;
        assert!(names && postings > 0, "the others keep theirs");
        // Dropped: the next start rebuilds the index from the log.
        db.drop_tree(maillage_stakeholders::search::SEARCH_TREE)?;
        db.flush()?;
    }
    let harness = Harness::start_in(dir).await?;
    let mut client = harness.facilitator().await?;
    assert_eq!(
        ids(&mut client, named("lebi")).await?,
        r.of(&[&r.boulangerie])
    );
    assert!(ids(&mut client, named("eloise")).await?.is_empty());
    assert_eq!(
        ids(&mut client, named("martin")).await?,
        r.of(&[&r.jean_pierre])
    );
    assert_eq!(
        ids(&mut client, persons).await?,
        r.of(&[&r.jean_pierre, &r.paul, &r.ines])
    );
    let dir = harness.stop().await?;
    let db = open_db(dir.path())?;
    assert_eq!(index_rows_of(&db, &r.eloise)?, (false, 0));
    Ok(())
}

/// Searches every person of the register (archived or not) as `token`, by name.
async fn persons_as(harness: &Harness, token: &str) -> Result<pb::SearchStakeholdersResponse> {
    Ok(harness
        .client(token)
        .await?
        .search_stakeholders(pb::SearchStakeholdersRequest {
            filter: Some(pb::StakeholderFilter {
                archived: pb::ArchivedFilter::Any as i32,
                ..Default::default()
            }),
            sort: pb::StakeholderSort::Name as i32,
            ..Default::default()
        })
        .await?
        .into_inner())
}

/// The subjects of the access journal's `SearchStakeholders` entries, with
/// their disclosure.
async fn journalled(harness: &Harness) -> Result<BTreeSet<(String, i32)>> {
    Ok(harness
        .access_entries()
        .await?
        .into_iter()
        .filter(|entry| entry.rpc == "SearchStakeholders")
        .map(|entry| (entry.subject_id, entry.disclosure))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_the_names_it_may_and_the_journal_records_them() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let name_of = |row: &pb::StakeholderSummary| {
        format!(
            "{}{} {}",
            row.organisation_name, row.given_name, row.family_name
        )
        .trim()
        .to_owned()
    };

    // The analyst: organisations' names, no person's; nothing journalled.
    let analyst = persons_as(&harness, harness.tokens.of(Role::Analyst)).await?;
    assert_eq!(analyst.disclosure, pb::Disclosure::Pseudonymous as i32);
    let shown: Vec<String> = analyst.stakeholders.iter().map(name_of).collect();
    assert_eq!(
        shown[..3],
        [
            "Boulangerie Le Bihan",
            "Les Ateliers du Lac",
            "Menuiserie Durand"
        ],
        "organisations by name first"
    );
    assert!(shown[3..].iter().all(String::is_empty), "{shown:?}");
    let persons: BTreeSet<String> = analyst.stakeholders[3..]
        .iter()
        .map(|row| row.stakeholder_id.clone())
        .collect();
    assert_eq!(
        persons,
        r.of(&[&r.eloise, &r.jean_pierre, &r.paul, &r.ines])
    );
    let mut analyst_client = harness.client(harness.tokens.of(Role::Analyst)).await?;
    assert_eq!(
        ids(&mut analyst_client, named("lebi")).await?,
        r.of(&[&r.boulangerie]),
        "a name query finds no person the analyst may not see"
    );
    assert!(journalled(&harness).await?.is_empty());

    // The auditor: the élus' names (public roles), not the inhabitant's.
    let auditor = persons_as(&harness, harness.tokens.of(Role::Auditor)).await?;
    assert_eq!(auditor.disclosure, pb::Disclosure::PublicRoles as i32);
    let ines = auditor
        .stakeholders
        .iter()
        .find(|row| row.stakeholder_id == r.ines)
        .unwrap();
    assert!(ines.given_name.is_empty() && ines.family_name.is_empty());
    assert_eq!(
        auditor.stakeholders.last().map(|row| &row.stakeholder_id),
        Some(&r.ines),
        "a name not shown sorts last"
    );
    let public = pb::Disclosure::PublicRoles as i32;
    assert_eq!(
        journalled(&harness).await?,
        [&r.paul, &r.eloise, &r.jean_pierre]
            .into_iter()
            .map(|id| (id.clone(), public))
            .collect()
    );

    // The facilitator: every name, in order; each person journalled.
    let facilitator = persons_as(&harness, harness.tokens.of(Role::Facilitator)).await?;
    assert_eq!(facilitator.disclosure, pb::Disclosure::Full as i32);
    let shown: Vec<String> = facilitator.stakeholders.iter().map(name_of).collect();
    assert_eq!(
        shown,
        [
            "Boulangerie Le Bihan",
            "Paul Durand",
            "Inès Garnier",
            "Éloïse Le Bihan",
            "Les Ateliers du Lac",
            "Jean-Pierre Martin",
            "Menuiserie Durand",
        ]
    );
    let full = pb::Disclosure::Full as i32;
    let entries = journalled(&harness).await?;
    for person in [&r.eloise, &r.jean_pierre, &r.paul, &r.ines] {
        assert!(entries.contains(&(person.clone(), full)), "{person}");
    }
    assert_eq!(entries.len(), 7, "3 auditor's + 4 facilitator's");
    let principals: Vec<String> = harness
        .access_entries()
        .await?
        .into_iter()
        .filter(|entry| entry.rpc == "SearchStakeholders")
        .map(|entry| entry.principal)
        .collect();
    assert!(principals
        .iter()
        .all(|principal| principal == "aude" || principal == "alice"));

    // A role that reads nothing of the register.
    let denied = harness
        .client(harness.tokens.of(Role::Secretary))
        .await?
        .search_stakeholders(pb::SearchStakeholdersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    Ok(())
}
