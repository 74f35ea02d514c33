//! Links between organisations and an organisation's current people, through
//! the real service on sled: a link added and ended as facts with dates,
//! shown by `GetStakeholder` on both organisations; bad links refused naming
//! the field and changing nothing; `affiliated_to` finds the persons with a
//! running affiliation to an organisation (an ended one excluded), with the
//! search's name disclosure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeSet;

use anyhow::Result;
use common::*;
use maillage_proto::v1 as pb;
use tonic::Code;

use pb::OrganisationLinkKind as Kind;

/// An association of Carcassonne.
fn association(name: &str) -> pb::OrganisationProfile {
    pb::OrganisationProfile {
        name: name.into(),
        commune_code: "11069".into(),
        siren: String::new(),
        details: Some(pb::organisation_profile::Details::Association(
            pb::AssociationDetails {},
        )),
    }
}

async fn register(client: &mut Client, profile: pb::OrganisationProfile) -> Result<String> {
    Ok(client
        .register_organisation(pb::RegisterOrganisationRequest {
            request_id: rid(),
            profile: Some(profile),
        })
        .await?
        .into_inner()
        .id)
}

fn link(from: &str, kind: Kind, to: &str, days: u64) -> pb::LinkOrganisationsRequest {
    pb::LinkOrganisationsRequest {
        request_id: rid(),
        stakeholder_id: from.into(),
        expected_version: None,
        kind: kind as i32,
        linked_organisation_id: to.into(),
        started_at: Some(days_ago(days)),
    }
}

async fn links_of(client: &mut Client, id: &str) -> Result<Vec<pb::OrganisationLink>> {
    Ok(client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: id.into(),
        })
        .await?
        .into_inner()
        .organisation_links)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_is_added_and_ended_with_dates_and_shown_on_both_organisations() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let network = register(
        &mut facilitator,
        association("Réseau des tiers-lieux d'Occitanie"),
    )
    .await?;
    let fablab = register(&mut facilitator, association("Fablab de la Bastide")).await?;
    let menuiserie = register_business(&mut facilitator, "Menuiserie Durand").await?;

    let joined = link(&fablab, Kind::MemberOf, &network, 30);
    let started_at = joined.started_at;
    let member = facilitator.link_organisations(joined).await?.into_inner();
    facilitator
        .link_organisations(link(&menuiserie, Kind::PartnerOf, &fablab, 10))
        .await?;
    // The fablab sees both links: the one it recorded and the one towards it.
    let fablab_links = links_of(&mut facilitator, &fablab).await?;
    assert_eq!(fablab_links.len(), 2, "{fablab_links:?}");
    let membership = &fablab_links[0];
    assert_eq!(
        (
            membership.organisation_id.as_str(),
            membership.kind,
            membership.linked_organisation_id.as_str()
        ),
        (fablab.as_str(), Kind::MemberOf as i32, network.as_str())
    );
    assert_eq!(membership.started_at, started_at);
    assert!(membership.ended_at.is_none());
    assert_eq!(fablab_links[1].organisation_id, menuiserie);
    assert_eq!(fablab_links[1].kind, Kind::PartnerOf as i32);
    // The network sees the membership, with the same id; the analyst too.
    let network_links = links_of(&mut facilitator, &network).await?;
    assert_eq!(network_links, vec![membership.clone()]);
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    assert_eq!(links_of(&mut analyst, &network).await?, network_links);

    // Ending it: both sides show the end.
    facilitator
        .end_organisation_link(pb::EndOrganisationLinkRequest {
            request_id: rid(),
            stakeholder_id: fablab.clone(),
            expected_version: Some(member.version),
            link_id: membership.link_id.clone(),
            ended_at: Some(days_ago(1)),
        })
        .await?;
    for id in [&fablab, &network] {
        let ended = links_of(&mut facilitator, id)
            .await?
            .into_iter()
            .find(|link| link.link_id == membership.link_id)
            .unwrap();
        assert!(ended.ended_at.is_some(), "{id}: {ended:?}");
    }
    // Ending it again is a domain refusal; an unknown link is NOT_FOUND, as
    // for affiliations.
    let again = facilitator
        .end_organisation_link(pb::EndOrganisationLinkRequest {
            request_id: rid(),
            stakeholder_id: fablab.clone(),
            expected_version: None,
            link_id: membership.link_id.clone(),
            ended_at: Some(days_ago(0)),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    let unknown = facilitator
        .end_organisation_link(pb::EndOrganisationLinkRequest {
            request_id: rid(),
            stakeholder_id: fablab.clone(),
            expected_version: None,
            link_id: uuid::Uuid::now_v7().to_string(),
            ended_at: Some(days_ago(0)),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    // The facts are in the log, in the fablab's stream.
    let types: Vec<String> = harness
        .all_events()
        .await?
        .into_iter()
        .filter(|event| event.stream_id == format!("stakeholder-{fablab}"))
        .map(|event| event.event_type)
        .collect();
    assert!(types.contains(&"maillage.v1.OrganisationLinked".to_owned()));
    assert!(types.contains(&"maillage.v1.OrganisationLinkEnded".to_owned()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_links_are_refused_naming_the_field_and_change_nothing() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let network = register(&mut facilitator, association("Réseau des tiers-lieux")).await?;
    let fablab = register(&mut facilitator, association("Fablab de la Bastide")).await?;
    let closed = register(&mut facilitator, association("Ancienne recyclerie")).await?;
    facilitator
        .archive_stakeholder(pb::ArchiveStakeholderRequest {
            request_id: rid(),
            stakeholder_id: closed.clone(),
            expected_version: None,
        })
        .await?;
    let anne = register_person(
        &mut facilitator,
        person("Anne", "Aubert", &[pb::PersonKind::Inhabitant]),
    )
    .await?;
    facilitator
        .link_organisations(link(&fablab, Kind::MemberOf, &network, 30))
        .await?;
    let head = harness.head().await?;

    let invalid = [
        ("stakeholder_id", link("nope", Kind::MemberOf, &network, 1)),
        ("kind", link(&fablab, Kind::Unspecified, &network, 1)),
        (
            "linked_organisation_id",
            link(&fablab, Kind::MemberOf, "", 1),
        ),
        (
            "linked_organisation_id",
            link(&fablab, Kind::MemberOf, &fablab, 1),
        ),
        (
            "linked_organisation_id",
            link(&fablab, Kind::MemberOf, &anne, 1),
        ),
        (
            "linked_organisation_id",
            link(
                &fablab,
                Kind::MemberOf,
                &uuid::Uuid::now_v7().to_string(),
                1,
            ),
        ),
        (
            "started_at",
            pb::LinkOrganisationsRequest {
                started_at: None,
                ..link(&fablab, Kind::PartnerOf, &network, 1)
            },
        ),
    ];
    for (field, request) in invalid {
        let refused = facilitator.link_organisations(request).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        assert!(refused.message().contains(field), "{field}: {refused:?}");
    }
    let mut bad_kind = link(&fablab, Kind::MemberOf, &network, 1);
    bad_kind.kind = 42;
    let refused = facilitator.link_organisations(bad_kind).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("kind"), "{refused:?}");
    // Domain refusals: the same running link, from a person, with an archived
    // organisation (either side), from an unknown one.
    for (why, request, code) in [
        (
            "the same link",
            link(&fablab, Kind::MemberOf, &network, 1),
            Code::FailedPrecondition,
        ),
        (
            "from a person",
            link(&anne, Kind::MemberOf, &network, 1),
            Code::FailedPrecondition,
        ),
        (
            "to an archived one",
            link(&fablab, Kind::PartnerOf, &closed, 1),
            Code::FailedPrecondition,
        ),
        (
            "from an archived one",
            link(&closed, Kind::PartnerOf, &fablab, 1),
            Code::FailedPrecondition,
        ),
        (
            "from an unknown one",
            link(
                &uuid::Uuid::now_v7().to_string(),
                Kind::PartnerOf,
                &fablab,
                1,
            ),
            Code::NotFound,
        ),
    ] {
        let refused = facilitator.link_organisations(request).await.unwrap_err();
        assert_eq!(refused.code(), code, "{why}: {refused:?}");
    }
    // Ending: bad ids and an end before the start.
    let membership = links_of(&mut facilitator, &fablab).await?.remove(0);
    let end = |link_id: &str, ended_at| pb::EndOrganisationLinkRequest {
        request_id: rid(),
        stakeholder_id: fablab.clone(),
        expected_version: None,
        link_id: link_id.into(),
        ended_at,
    };
    for (field, request) in [
        ("link_id", end("nope", Some(days_ago(0)))),
        ("ended_at", end(&membership.link_id, None)),
        ("ended_at", end(&membership.link_id, Some(days_ago(40)))),
    ] {
        let refused = facilitator
            .end_organisation_link(request)
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            Code::InvalidArgument,
            "{field}: {refused:?}"
        );
        assert!(refused.message().contains(field), "{field}: {refused:?}");
    }
    // Roles: the analyst and the tool write nothing.
    for token in [
        harness.tokens.of(Role::Analyst),
        harness.tokens.of(Role::Tool),
    ] {
        let denied = harness
            .client(token)
            .await?
            .link_organisations(link(&fablab, Kind::PartnerOf, &network, 1))
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }
    assert_eq!(
        harness.head().await?,
        head,
        "a refused request changes nothing"
    );
    assert_eq!(links_of(&mut facilitator, &network).await?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisations_current_people_are_its_running_affiliations() -> Result<()> {
    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let fablab = register(&mut facilitator, association("Fablab de la Bastide")).await?;
    let menuiserie = register_business(&mut facilitator, "Menuiserie Durand").await?;
    let mut people = Vec::new();
    for (given, family) in [("Anne", "Aubert"), ("Bruno", "Bernard"), ("Chloé", "Caron")] {
        people.push(
            register_person(
                &mut facilitator,
                person(given, family, &[pb::PersonKind::AssociationMember]),
            )
            .await?,
        );
    }
    let affiliate = |person: &str, organisation: &str| pb::AddAffiliationRequest {
        request_id: rid(),
        stakeholder_id: person.into(),
        expected_version: None,
        organisation_id: organisation.into(),
        role: "bénévole".into(),
        started_at: Some(days_ago(100)),
    };
    // Anne: at the fablab; Bruno: was at the fablab (ended), now at the
    // menuiserie; Chloé: at the menuiserie.
    facilitator
        .add_affiliation(affiliate(&people[0], &fablab))
        .await?;
    let bruno = facilitator
        .add_affiliation(affiliate(&people[1], &fablab))
        .await?
        .into_inner();
    facilitator
        .add_affiliation(affiliate(&people[1], &menuiserie))
        .await?;
    facilitator
        .add_affiliation(affiliate(&people[2], &menuiserie))
        .await?;
    let bruno_at_fablab = facilitator
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: people[1].clone(),
        })
        .await?
        .into_inner()
        .affiliations
        .into_iter()
        .find(|affiliation| affiliation.organisation_id == fablab)
        .unwrap();
    facilitator
        .end_affiliation(pb::EndAffiliationRequest {
            request_id: rid(),
            stakeholder_id: people[1].clone(),
            expected_version: Some(bruno.version + 1),
            affiliation_id: bruno_at_fablab.affiliation_id,
            ended_at: Some(days_ago(5)),
        })
        .await?;

    let people_of = |organisation: &str| pb::SearchStakeholdersRequest {
        filter: Some(pb::StakeholderFilter {
            affiliated_to: organisation.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let found = facilitator
        .search_stakeholders(people_of(&fablab))
        .await?
        .into_inner();
    let ids: BTreeSet<String> = found
        .stakeholders
        .iter()
        .map(|row| row.stakeholder_id.clone())
        .collect();
    assert_eq!(ids, BTreeSet::from([people[0].clone()]));
    assert_eq!(found.stakeholders[0].given_name, "Anne");
    let found = facilitator
        .search_stakeholders(people_of(&menuiserie))
        .await?
        .into_inner();
    let ids: BTreeSet<String> = found
        .stakeholders
        .iter()
        .map(|row| row.stakeholder_id.clone())
        .collect();
    assert_eq!(ids, BTreeSet::from([people[1].clone(), people[2].clone()]));
    // The analyst finds them too, without their names (the search's rules).
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    let found = analyst
        .search_stakeholders(people_of(&fablab))
        .await?
        .into_inner();
    assert_eq!(found.stakeholders.len(), 1);
    assert!(found.stakeholders[0].given_name.is_empty());
    // A bad id names the field.
    let refused = facilitator
        .search_stakeholders(people_of("nope"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().contains("filter.affiliated_to"),
        "{refused:?}"
    );
    Ok(())
}

/// Regression: an index written before affiliations and consent purposes were
/// kept in its rows (format 1) must not answer `affiliated_to` or a purpose
/// filter from rows that lack them: opened by this version, it is rebuilt
/// from the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_of_the_older_format_is_rebuilt_from_the_log() -> Result<()> {
    use maillage_stakeholders::search::{rows, SEARCH_TREE};
    use prost::Message;

    let harness = Harness::start().await?;
    let mut facilitator = harness.facilitator().await?;
    let fablab = register(&mut facilitator, association("Fablab de la Bastide")).await?;
    let anne = register_person(
        &mut facilitator,
        person("Anne", "Aubert", &[pb::PersonKind::AssociationMember]),
    )
    .await?;
    facilitator
        .add_affiliation(pb::AddAffiliationRequest {
            request_id: rid(),
            stakeholder_id: anne.clone(),
            expected_version: None,
            organisation_id: fablab.clone(),
            role: "bénévole".into(),
            started_at: Some(days_ago(10)),
        })
        .await?;
    let dir = harness.stop().await?;
    {
        // What an index of format 1 holds: rows without affiliations, no format key.
        let db = maillage_eventstore::open_sled(
            &dir.path().join("stakeholders"),
            &maillage_eventstore::SledOptions::default(),
        )?;
        let tree = db.open_tree(SEARCH_TREE)?;
        for item in tree.scan_prefix([rows::ENTRY]) {
            let (key, value) = item?;
            let mut row = rows::EntryRow::decode(value.as_ref())?;
            row.affiliations.clear();
            tree.insert(key, row.encode_to_vec())?;
        }
        tree.remove(rows::FORMAT_KEY)?;
        db.flush()?;
    }
    let harness = Harness::start_in(dir).await?;
    let found = harness
        .facilitator()
        .await?
        .search_stakeholders(pb::SearchStakeholdersRequest {
            filter: Some(pb::StakeholderFilter {
                affiliated_to: fablab.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    let ids: Vec<String> = found
        .stakeholders
        .into_iter()
        .map(|row| row.stakeholder_id)
        .collect();
    assert_eq!(ids, vec![anne]);
    harness.stop().await?;
    Ok(())
}
