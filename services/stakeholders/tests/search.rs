//! `SearchStakeholders` and segments through the real service on sled: every
//! filter alone and some combined against a register built in the test,
//! re-engagement after a mandate change, stable and complete pages, bad
//! requests refused naming the field, and saved segments.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::collections::BTreeSet;

use anyhow::Result;
use common::register::*;
use common::*;
use maillage_proto::v1 as pb;
use prost::Message;
use tonic::Code;

use pb::TerritoryLevel as L;

fn filter() -> pb::StakeholderFilter {
    pb::StakeholderFilter::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_alone_finds_exactly_its_stakeholders() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    let all_but_ines: BTreeSet<String> = r.all().into_iter().filter(|id| *id != r.ines).collect();
    let cases: Vec<(&str, pb::StakeholderFilter, BTreeSet<String>)> = vec![
        ("no filter: not archived", filter(), all_but_ines.clone()),
        (
            "persons",
            pb::StakeholderFilter {
                r#type: pb::StakeholderType::Person as i32,
                ..filter()
            },
            r.of(&[&r.eloise, &r.jean_pierre, &r.paul]),
        ),
        (
            "organisations",
            pb::StakeholderFilter {
                r#type: pb::StakeholderType::Organisation as i32,
                ..filter()
            },
            r.of(&[&r.menuiserie, &r.boulangerie, &r.ateliers]),
        ),
        (
            "élus",
            pb::StakeholderFilter {
                person_kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                ..filter()
            },
            r.of(&[&r.eloise, &r.jean_pierre, &r.paul]),
        ),
        (
            "businesses",
            pb::StakeholderFilter {
                organisation_types: vec![pb::OrganisationType::Business as i32],
                ..filter()
            },
            r.of(&[&r.menuiserie, &r.boulangerie]),
        ),
        (
            "associations",
            pb::StakeholderFilter {
                organisation_types: vec![pb::OrganisationType::Association as i32],
                ..filter()
            },
            r.of(&[&r.ateliers]),
        ),
        (
            "the commune of Carcassonne",
            pb::StakeholderFilter {
                territories: vec![territory(L::Commune, CARCASSONNE)],
                ..filter()
            },
            r.of(&[&r.eloise, &r.menuiserie]),
        ),
        (
            "the commune of Limoux: an élu of its council living in Narbonne",
            pb::StakeholderFilter {
                territories: vec![territory(L::Commune, LIMOUX)],
                ..filter()
            },
            r.of(&[&r.jean_pierre, &r.ateliers]),
        ),
        (
            "the EPCI of Limoux",
            pb::StakeholderFilter {
                territories: vec![territory(L::Epci, LIMOUXIN)],
                ..filter()
            },
            r.of(&[&r.jean_pierre, &r.ateliers]),
        ),
        (
            "the Aude",
            pb::StakeholderFilter {
                territories: vec![territory(L::Departement, "11")],
                ..filter()
            },
            r.of(&[&r.eloise, &r.jean_pierre, &r.menuiserie, &r.ateliers]),
        ),
        (
            "Centre-Val de Loire",
            pb::StakeholderFilter {
                territories: vec![territory(L::Region, "24")],
                ..filter()
            },
            r.of(&[&r.paul, &r.boulangerie]),
        ),
        (
            "maires",
            pb::StakeholderFilter {
                current_mandates: vec![pb::MandateOffice::Maire as i32],
                ..filter()
            },
            r.of(&[&r.eloise]),
        ),
        (
            "adjoints or conseillers municipaux",
            pb::StakeholderFilter {
                current_mandates: vec![
                    pb::MandateOffice::Adjoint as i32,
                    pb::MandateOffice::ConseillerMunicipal as i32,
                ],
                ..filter()
            },
            r.of(&[&r.jean_pierre, &r.paul]),
        ),
        (
            "contacted about telework",
            pb::StakeholderFilter {
                contact_topics: vec![pb::Theme::Telework as i32],
                ..filter()
            },
            r.of(&[&r.jean_pierre]),
        ),
        (
            "contacted about Quels TLA or governance",
            pb::StakeholderFilter {
                contact_topics: vec![pb::Theme::QuelsTla as i32, pb::Theme::Governance as i32],
                ..filter()
            },
            r.of(&[&r.eloise, &r.menuiserie, &r.boulangerie]),
        ),
        (
            "a consent by email",
            pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter {
                    channel: pb::ConsentChannel::Email as i32,
                    legal_basis: 0,
                    purpose: 0,
                }),
                ..filter()
            },
            r.of(&[&r.eloise]),
        ),
        (
            "phone on legitimate interest",
            pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter {
                    channel: pb::ConsentChannel::Phone as i32,
                    legal_basis: pb::LegalBasis::LegitimateInterest as i32,
                    purpose: 0,
                }),
                ..filter()
            },
            r.of(&[&r.jean_pierre]),
        ),
        (
            "phone on consent",
            pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter {
                    channel: pb::ConsentChannel::Phone as i32,
                    legal_basis: pb::LegalBasis::Consent as i32,
                    purpose: 0,
                }),
                ..filter()
            },
            BTreeSet::new(),
        ),
        (
            "last contact over 100 days ago",
            pb::StakeholderFilter {
                last_contact_before: Some(days_ago(100)),
                ..filter()
            },
            r.of(&[&r.eloise, &r.menuiserie]),
        ),
        (
            "last contact within 15 days",
            pb::StakeholderFilter {
                last_contact_after: Some(days_ago(15)),
                ..filter()
            },
            r.of(&[&r.jean_pierre]),
        ),
        (
            "never contacted",
            pb::StakeholderFilter {
                never_contacted: true,
                ..filter()
            },
            r.of(&[&r.paul, &r.ateliers]),
        ),
        (
            "not contacted for 6 months",
            pb::StakeholderFilter {
                not_contacted_for_months: 6,
                ..filter()
            },
            r.of(&[&r.eloise, &r.menuiserie, &r.paul, &r.ateliers]),
        ),
        (
            "not contacted since their mandate started",
            pb::StakeholderFilter {
                not_contacted_since_mandate_start: true,
                ..filter()
            },
            r.of(&[&r.eloise, &r.paul]),
        ),
        (
            "archived",
            pb::StakeholderFilter {
                archived: pb::ArchivedFilter::Archived as i32,
                ..filter()
            },
            r.of(&[&r.ines]),
        ),
        (
            "archived or not",
            pb::StakeholderFilter {
                archived: pb::ArchivedFilter::Any as i32,
                ..filter()
            },
            r.all(),
        ),
        (
            "a name",
            pb::StakeholderFilter {
                name_query: "durand".into(),
                ..filter()
            },
            r.of(&[&r.paul, &r.menuiserie]),
        ),
    ];
    for (case, filter, expected) in cases {
        let found = ids(&mut client, filter).await?;
        assert_eq!(found, expected, "{case}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_combine() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    let cases: Vec<(&str, pb::StakeholderFilter, BTreeSet<String>)> = vec![
        (
            "never contacted in the Aude",
            pb::StakeholderFilter {
                territories: vec![territory(L::Departement, "11")],
                never_contacted: true,
                ..filter()
            },
            r.of(&[&r.ateliers]),
        ),
        (
            "businesses not contacted for 6 months",
            pb::StakeholderFilter {
                organisation_types: vec![pb::OrganisationType::Business as i32],
                not_contacted_for_months: 6,
                ..filter()
            },
            r.of(&[&r.menuiserie]),
        ),
        (
            "élus of Occitanie to call again",
            pb::StakeholderFilter {
                territories: vec![territory(L::Region, "76")],
                not_contacted_since_mandate_start: true,
                ..filter()
            },
            r.of(&[&r.eloise]),
        ),
        (
            "archived inhabitants of Carcassonne",
            pb::StakeholderFilter {
                territories: vec![territory(L::Commune, CARCASSONNE)],
                person_kinds: vec![pb::PersonKind::Inhabitant as i32],
                archived: pb::ArchivedFilter::Any as i32,
                ..filter()
            },
            r.of(&[&r.ines]),
        ),
        (
            "organisations named Le Bihan",
            pb::StakeholderFilter {
                r#type: pb::StakeholderType::Organisation as i32,
                name_query: "le bihan".into(),
                ..filter()
            },
            r.of(&[&r.boulangerie]),
        ),
        (
            "two territories, a theme and a consent",
            pb::StakeholderFilter {
                territories: vec![
                    territory(L::Commune, CARCASSONNE),
                    territory(L::Commune, TOURS),
                ],
                contact_topics: vec![pb::Theme::QuelsTla as i32],
                consent: Some(pb::ConsentFilter {
                    channel: pb::ConsentChannel::Email as i32,
                    legal_basis: 0,
                    purpose: 0,
                }),
                ..filter()
            },
            r.of(&[&r.eloise]),
        ),
    ];
    for (case, filter, expected) in cases {
        assert_eq!(ids(&mut client, filter).await?, expected, "{case}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_elu_is_to_call_again_when_a_mandate_starts_after_their_last_contact() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    let to_call = || pb::StakeholderFilter {
        not_contacted_since_mandate_start: true,
        ..filter()
    };
    assert!(ids(&mut client, to_call()).await?.contains(&r.paul));

    // Contacted yesterday: nothing to catch up on.
    contact(&mut client, &[&r.paul], 1, &[pb::Theme::Awareness]).await?;
    assert!(!ids(&mut client, to_call()).await?.contains(&r.paul));

    // Elected to the métropole's council today: a new mandate since that contact.
    client
        .start_mandate(pb::StartMandateRequest {
            request_id: rid(),
            stakeholder_id: r.paul.clone(),
            expected_version: None,
            mandate: Some(mandate(
                pb::MandateOffice::ConseillerCommunautaire,
                territory(L::Epci, TOURS_METROPOLE),
                0,
            )),
        })
        .await?;
    assert!(ids(&mut client, to_call()).await?.contains(&r.paul));
    // ...for that office only: as an adjoint they were contacted since.
    let as_adjoint = pb::StakeholderFilter {
        current_mandates: vec![pb::MandateOffice::Adjoint as i32],
        ..to_call()
    };
    assert!(!ids(&mut client, as_adjoint).await?.contains(&r.paul));

    // Called: off the list again.
    contact(&mut client, &[&r.paul], 0, &[pb::Theme::Governance]).await?;
    assert!(!ids(&mut client, to_call()).await?.contains(&r.paul));

    // A mandate that ended no longer counts.
    let eloise = client
        .get_stakeholder(pb::GetStakeholderRequest {
            stakeholder_id: r.eloise.clone(),
        })
        .await?
        .into_inner();
    client
        .end_mandate(pb::EndMandateRequest {
            request_id: rid(),
            stakeholder_id: r.eloise.clone(),
            expected_version: None,
            mandate_id: eloise.mandates[0].mandate_id.clone(),
            ended_at: Some(days_ago(1)),
        })
        .await?;
    assert_eq!(ids(&mut client, to_call()).await?, BTreeSet::new());
    Ok(())
}

/// Registers `count` businesses named `prefix NN` in Carcassonne.
async fn businesses(client: &mut Client, prefix: &str, count: usize) -> Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(
            register_organisation(
                client,
                &format!("{prefix} {n:02}"),
                CARCASSONNE,
                business_details(),
            )
            .await?,
        );
    }
    Ok(ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_stable_under_inserts_and_complete() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let originals = businesses(&mut client, "Menuiserie", 23).await?;
    let request = |token: String| pb::SearchStakeholdersRequest {
        sort: pb::StakeholderSort::Name as i32,
        page: Some(pb::PageRequest {
            page_size: 4,
            page_token: token,
        }),
        ..Default::default()
    };
    let mut seen: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = client
            .search_stakeholders(request(token))
            .await?
            .into_inner();
        assert_eq!(
            page.total as usize,
            23 + 2 * pages.min(1),
            "all that match now"
        );
        for row in page.stakeholders {
            seen.push(row.stakeholder_id);
            names.push(row.organisation_name);
        }
        token = page.page.unwrap_or_default().next_page_token;
        pages += 1;
        if pages == 1 {
            // Between pages: one sorting before the cursor, one after.
            register_organisation(&mut client, "Abattoir", CARCASSONNE, business_details()).await?;
            register_organisation(&mut client, "Scierie", CARCASSONNE, business_details()).await?;
        }
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 6, "24 results in pages of 4");
    let distinct: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "no result twice");
    for original in &originals {
        assert!(seen.contains(original), "every original is found");
    }
    assert!(
        names.contains(&"Scierie".to_string()),
        "after the cursor: found"
    );
    assert!(
        !names.contains(&"Abattoir".to_string()),
        "before the cursor: not found"
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "in order");

    // Other orders: pages of 3 give what one page gives.
    for (sort, descending) in [
        (pb::StakeholderSort::Commune, false),
        (pb::StakeholderSort::LastContact, true),
        (pb::StakeholderSort::Name, true),
    ] {
        let request = |size| pb::SearchStakeholdersRequest {
            sort: sort as i32,
            descending,
            page: Some(pb::PageRequest {
                page_size: size,
                page_token: String::new(),
            }),
            ..Default::default()
        };
        let paged = search_all(&mut client, request(3)).await?;
        let whole = search_all(&mut client, request(500)).await?;
        assert_eq!(paged, whole, "{sort:?}");
        assert_eq!(whole.len(), 25);
    }

    // A token belongs to its search.
    let first = client
        .search_stakeholders(request(String::new()))
        .await?
        .into_inner();
    let token = first.page.unwrap_or_default().next_page_token;
    let other = pb::SearchStakeholdersRequest {
        filter: Some(pb::StakeholderFilter {
            never_contacted: true,
            ..filter()
        }),
        ..request(token.clone())
    };
    let refused = client.search_stakeholders(other).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("page.page_token:"),
        "{refused:?}"
    );
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    let refused = analyst
        .search_stakeholders(request(token))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Code::InvalidArgument,
        "another role's token"
    );
    let forged = client
        .search_stakeholders(request("bm90IGEgdG9rZW4".into()))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::InvalidArgument);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_naming_the_field() -> Result<()> {
    let harness = Harness::start().await?;
    let mut client = harness.facilitator().await?;
    let refused = |filter: pb::StakeholderFilter| pb::SearchStakeholdersRequest {
        filter: Some(filter),
        ..Default::default()
    };
    let cases = [
        (
            refused(pb::StakeholderFilter {
                territories: vec![territory(L::Commune, "99999")],
                ..filter()
            }),
            "filter.territories[0].code:",
        ),
        (
            refused(pb::StakeholderFilter {
                territories: vec![territory(L::Commune, CARCASSONNE); 21],
                ..filter()
            }),
            "filter.territories:",
        ),
        (
            refused(pb::StakeholderFilter {
                name_query: "é".repeat(101),
                ..filter()
            }),
            "filter.name_query:",
        ),
        (
            refused(pb::StakeholderFilter {
                name_query: "--".into(),
                ..filter()
            }),
            "filter.name_query:",
        ),
        (
            refused(pb::StakeholderFilter {
                contact_topics: vec![99],
                ..filter()
            }),
            "filter.contact_topics[0]:",
        ),
        (
            refused(pb::StakeholderFilter {
                last_contact_before: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..filter()
            }),
            "filter.last_contact_before:",
        ),
        (
            pb::SearchStakeholdersRequest {
                sort: 42,
                ..Default::default()
            },
            "sort:",
        ),
        (
            pb::SearchStakeholdersRequest {
                segment_id: "not-a-uuid".into(),
                ..Default::default()
            },
            "segment_id:",
        ),
        (
            pb::SearchStakeholdersRequest {
                page: Some(pb::PageRequest {
                    page_size: 10,
                    page_token: "x".repeat(2_000),
                }),
                ..Default::default()
            },
            "page.page_token:",
        ),
    ];
    for (request, field) in cases {
        let status = client.search_stakeholders(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}");
        assert!(status.message().starts_with(field), "{field}: {status:?}");
    }
    let unknown = client
        .search_stakeholders(pb::SearchStakeholdersRequest {
            segment_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let mut tool = harness.client(harness.tokens.of(Role::Tool)).await?;
    let denied = tool
        .search_stakeholders(pb::SearchStakeholdersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = harness
        .anonymous()
        .await?
        .search_stakeholders(pb::SearchStakeholdersRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_saved_as_events_listed_and_searched() -> Result<()> {
    let harness = Harness::start().await?;
    let r = build(&harness).await?;
    let mut client = harness.facilitator().await?;
    let to_call = pb::StakeholderFilter {
        territories: vec![territory(L::Departement, "11")],
        not_contacted_since_mandate_start: true,
        ..filter()
    };
    let defined = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: String::new(),
            expected_version: None,
            name: "Élus de l'Aude à rappeler".into(),
            description: "Après les municipales de mars 2026".into(),
            filter: Some(to_call.clone()),
        })
        .await?
        .into_inner();
    let segment = client
        .get_segment(pb::GetSegmentRequest {
            segment_id: defined.id.clone(),
        })
        .await?
        .into_inner();
    assert_eq!(segment.name, "Élus de l'Aude à rappeler");
    assert_eq!(segment.filter.as_ref(), Some(&to_call));
    assert_eq!(segment.defined_by, "alice");
    assert_eq!(segment.version, 1);

    // Searched by id, alone and narrowed.
    let by_segment = |filter: Option<pb::StakeholderFilter>| pb::SearchStakeholdersRequest {
        segment_id: defined.id.clone(),
        filter,
        ..Default::default()
    };
    let found = search_all(&mut client, by_segment(None)).await?;
    assert_eq!(
        found
            .iter()
            .map(|row| &row.stakeholder_id)
            .collect::<Vec<_>>(),
        [&r.eloise]
    );
    let narrowed = search_all(
        &mut client,
        by_segment(Some(pb::StakeholderFilter {
            r#type: pb::StakeholderType::Organisation as i32,
            ..filter()
        })),
    )
    .await?;
    assert!(narrowed.is_empty());

    // Redefined: version 2, same id; a stale version is refused.
    client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: defined.id.clone(),
            expected_version: Some(1),
            name: "Élus et entreprises de l'Aude sans contact".into(),
            description: String::new(),
            filter: Some(pb::StakeholderFilter {
                territories: vec![territory(L::Departement, "11")],
                not_contacted_for_months: 6,
                ..filter()
            }),
        })
        .await?;
    let stale = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: defined.id.clone(),
            expected_version: Some(1),
            name: "Autre".into(),
            description: String::new(),
            filter: None,
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    let found: BTreeSet<String> = search_all(&mut client, by_segment(None))
        .await?
        .into_iter()
        .map(|row| row.stakeholder_id)
        .collect();
    assert_eq!(found, r.of(&[&r.eloise, &r.menuiserie, &r.ateliers]));

    // Listed by name, a page at a time.
    let second = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: String::new(),
            expected_version: None,
            name: "Associations".into(),
            description: String::new(),
            filter: Some(pb::StakeholderFilter {
                organisation_types: vec![pb::OrganisationType::Association as i32],
                ..filter()
            }),
        })
        .await?
        .into_inner();
    let mut analyst = harness.client(harness.tokens.of(Role::Analyst)).await?;
    let first_page = analyst
        .list_segments(pb::ListSegmentsRequest {
            page: Some(pb::PageRequest {
                page_size: 1,
                page_token: String::new(),
            }),
        })
        .await?
        .into_inner();
    assert_eq!(first_page.segments.len(), 1);
    assert_eq!(first_page.segments[0].segment_id, second.id);
    let rest = analyst
        .list_segments(pb::ListSegmentsRequest {
            page: Some(pb::PageRequest {
                page_size: 1,
                page_token: first_page.page.unwrap_or_default().next_page_token,
            }),
        })
        .await?
        .into_inner();
    assert_eq!(rest.segments.len(), 1);
    assert_eq!(rest.segments[0].segment_id, defined.id);
    assert_eq!(rest.segments[0].version, 2);
    assert!(rest.page.unwrap_or_default().next_page_token.is_empty());

    // Facts in the log, in clear, with no name query.
    let events = harness.all_events().await?;
    let recorded: Vec<pb::SegmentDefined> = events
        .iter()
        .filter(|event| event.event_type == "maillage.v1.SegmentDefined")
        .map(|event| pb::SegmentDefined::decode(event.payload.as_slice()))
        .collect::<Result<_, _>>()?;
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0].filter.as_ref(), Some(&to_call));
    assert!(events
        .iter()
        .filter(|event| event.event_type == "maillage.v1.SegmentDefined")
        .all(|event| event.stream_id.starts_with("segment-")));

    // Refused: a name query (it would be in clear), a missing name, a
    // segment never defined, a reader.
    let with_name = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: String::new(),
            expected_version: None,
            name: "Les Le Bihan".into(),
            description: String::new(),
            filter: Some(pb::StakeholderFilter {
                name_query: "le bihan".into(),
                ..filter()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(with_name.code(), Code::InvalidArgument);
    assert!(with_name.message().starts_with("filter.name_query:"));
    let unnamed = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            name: " ".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(unnamed.message().starts_with("name:"), "{unnamed:?}");
    let unknown = client
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            segment_id: uuid::Uuid::now_v7().to_string(),
            name: "Inconnu".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let denied = analyst
        .define_segment(pb::DefineSegmentRequest {
            request_id: rid(),
            name: "Analyse".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    Ok(())
}
