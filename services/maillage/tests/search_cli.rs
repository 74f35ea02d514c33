//! `maillage search`, `maillage reach` and `maillage segment` as a user runs
//! them: the real binary against a real platform, its output in French, the
//! names it shows journalled with the purpose given.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use std::time::{Duration, SystemTime};

use common::{text, Platform};
use maillage_proto::v1 as pb;
use maillage_proto::v1::access_journal_client::AccessJournalClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

fn days_ago(days: u64) -> prost_types::Timestamp {
    (SystemTime::now() - Duration::from_secs(days * 86_400)).into()
}

fn elu(
    given: &str,
    family: &str,
    commune: &str,
    started_days_ago: u64,
) -> pb::RegisterPersonRequest {
    pb::RegisterPersonRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        profile: Some(pb::PersonProfile {
            given_name: given.into(),
            family_name: family.into(),
            kinds: vec![pb::PersonKind::ElectedOfficial as i32],
            commune_code: commune.into(),
            ..Default::default()
        }),
        mandates: vec![pb::MandateInput {
            office: pb::MandateOffice::Maire as i32,
            authority: Some(pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: commune.into(),
            }),
            started_at: Some(days_ago(started_days_ago)),
            ended_at: None,
        }],
    }
}

fn business(name: &str, commune: &str) -> pb::RegisterOrganisationRequest {
    pb::RegisterOrganisationRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        profile: Some(pb::OrganisationProfile {
            name: name.into(),
            commune_code: commune.into(),
            siren: String::new(),
            details: Some(pb::organisation_profile::Details::Business(
                pb::BusinessDetails {
                    size: pb::BusinessSize::Tpe as i32,
                    sector: String::new(),
                },
            )),
        }),
    }
}

fn contact(participant: &str, days: u64) -> pb::LogInteractionRequest {
    pb::LogInteractionRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        participant_ids: vec![participant.into()],
        channel: pb::InteractionChannel::Phone as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: Some(days_ago(days)),
        subject: "Le projet de tiers-lieu".into(),
        topics: vec![pb::Theme::Telework as i32],
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reach_and_segments_from_the_command_line() {
    let platform = Platform::start().await;
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let id = |reply: tonic::Response<pb::CommandReply>| reply.into_inner().id;
    // Carcassonne's maire since 2026 was last called before; Limoux's was
    // called since; Menuiserie Durand a year ago; Garage Roux last week.
    let eloise = id(stakeholders
        .register_person(elu("Éloïse", "Le Bihan", "11069", 200))
        .await
        .unwrap());
    let jean = id(stakeholders
        .register_person(elu("Jean", "Martin", "11206", 200))
        .await
        .unwrap());
    let menuiserie = id(stakeholders
        .register_organisation(business("Menuiserie Durand", "11069"))
        .await
        .unwrap());
    let garage = id(stakeholders
        .register_organisation(business("Garage Roux", "11206"))
        .await
        .unwrap());
    for (who, days) in [
        (&eloise, 400),
        (&jean, 20),
        (&menuiserie, 365),
        (&garage, 7),
    ] {
        stakeholders
            .log_interaction(contact(who, days))
            .await
            .unwrap();
    }

    let found = platform
        .maillage(&[
            "search",
            "--name",
            "lebi",
            "--purpose",
            "préparer le comité",
        ])
        .await;
    assert!(found.status.success(), "{}", text(&found.stderr));
    let out = text(&found.stdout);
    assert!(
        out.starts_with("Recherche dans le registre : 1 résultat\n"),
        "{out}"
    );
    assert!(out.contains("Éloïse Le Bihan"), "{out}");
    assert!(out.contains("maire (Carcassonne)"), "{out}");
    assert!(out.contains("Télétravail"), "{out}");
    let entries = AccessJournalClient::new(platform.channel().await)
        .list_access(pb::ListAccessRequest {
            context: "stakeholders".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let searched: Vec<&pb::AccessEntry> = entries
        .iter()
        .filter(|entry| entry.rpc == "SearchStakeholders")
        .collect();
    assert_eq!(searched.len(), 1, "{entries:?}");
    assert_eq!(searched[0].subject_id, eloise);
    assert_eq!(searched[0].purpose, "préparer le comité");

    let elus = platform
        .maillage(&[
            "reach",
            "--territory",
            "departement:11",
            "--elus-not-contacted-since-mandate",
        ])
        .await;
    assert!(elus.status.success(), "{}", text(&elus.stderr));
    let out = text(&elus.stdout);
    assert!(out.starts_with("Élus à recontacter"), "{out}");
    assert!(out.contains("Aude"), "{out}");
    assert!(
        out.contains("Éloïse Le Bihan") && !out.contains("Jean Martin"),
        "{out}"
    );

    let businesses = platform
        .maillage(&[
            "reach",
            "--territory",
            "Occitanie",
            "--businesses-not-contacted-for",
            "6",
        ])
        .await;
    assert!(businesses.status.success(), "{}", text(&businesses.stderr));
    let out = text(&businesses.stdout);
    assert!(
        out.starts_with("Entreprises sans contact depuis 6 mois"),
        "{out}"
    );
    assert!(
        out.contains("Menuiserie Durand") && !out.contains("Garage Roux"),
        "{out}"
    );

    let neither = platform.maillage(&["reach", "--territory", "11"]).await;
    assert!(!neither.status.success());

    let defined = platform
        .maillage(&[
            "segment",
            "define",
            "Maires de l'Aude",
            "--territory",
            "departement:11",
            "--mandate",
            "maire",
        ])
        .await;
    assert!(defined.status.success(), "{}", text(&defined.stderr));
    let out = text(&defined.stdout);
    let segment = out
        .strip_prefix("segment ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    assert!(out.contains("enregistré (version 1)"), "{out}");
    let listed = text(&platform.maillage(&["segment", "list"]).await.stdout);
    assert!(listed.contains("Maires de l'Aude"), "{listed}");
    let by_segment = platform
        .maillage(&["search", "--segment", &segment, "--sort", "last-contact"])
        .await;
    let out = text(&by_segment.stdout);
    assert!(
        out.starts_with("Recherche dans le registre : 2 résultats"),
        "{out}"
    );
    let eloise_at = out.find("Éloïse").unwrap();
    let jean_at = out.find("Jean Martin").unwrap();
    assert!(eloise_at < jean_at, "the oldest contact first: {out}");

    let paged = platform.maillage(&["search", "--page-size", "1"]).await;
    let out = text(&paged.stdout);
    assert!(out.contains("4 résultats, 1 affiché"), "{out}");
    assert!(out.contains("--page-token "), "{out}");
    let everything = platform
        .maillage(&["search", "--page-size", "1", "--all"])
        .await;
    let out = text(&everything.stdout);
    assert!(
        out.starts_with("Recherche dans le registre : 4 résultats\n"),
        "{out}"
    );

    let bad = platform.maillage(&["search", "--theme", "jardinage"]).await;
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("thème inconnu « jardinage »"));
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audience_is_exported_from_the_command_line_as_csv() {
    let platform = Platform::start().await;
    let mut stakeholders = StakeholdersClient::new(platform.channel().await);
    let register = |given: &'static str, email: &'static str| {
        let request = pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: given.into(),
                family_name: "Aubert".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "11069".into(),
                email: email.into(),
                ..Default::default()
            }),
            mandates: vec![],
        };
        let mut client = stakeholders.clone();
        async move {
            client
                .register_person(request)
                .await
                .unwrap()
                .into_inner()
                .id
        }
    };
    let anne = register("Anne", "anne@example.fr").await;
    let paul = register("Paul", "paul@example.fr").await;
    for (id, purposes) in [
        (&anne, vec![pb::ConsentPurpose::Newsletter as i32]),
        (&paul, vec![pb::ConsentPurpose::Surveys as i32]),
    ] {
        stakeholders
            .record_consent(pb::RecordConsentRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                stakeholder_id: id.clone(),
                expected_version: None,
                channel: pb::ConsentChannel::Email as i32,
                legal_basis: pb::LegalBasis::Consent as i32,
                purposes,
            })
            .await
            .unwrap();
    }
    let exported = platform
        .maillage(&[
            "audience",
            "export",
            "--channel",
            "email",
            "--consent-purpose",
            "newsletter",
            "--territory",
            "11069",
        ])
        .await;
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    assert_eq!(
        text(&exported.stdout),
        format!("identifiant;prénom;nom;courriel\r\n{anne};Anne;Aubert;anne@example.fr\r\n")
    );
    let summary = text(&exported.stderr);
    assert!(
        summary.contains("1 personne exportée ; 1 page enregistrée"),
        "{summary}"
    );
    // The export is listed for an audit, without personal data.
    let listed = platform.maillage(&["audience", "list"]).await;
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let out = text(&listed.stdout);
    assert!(out.starts_with("1 page d'audience exportée\n"), "{out}");
    assert!(
        out.contains("sans segment ; courriel pour « lettre d'information » : 1 personne (sur 1)"),
        "{out}"
    );
    assert!(
        !out.contains("Anne") && !out.contains("example.fr"),
        "{out}"
    );
    let refused = platform
        .maillage(&[
            "audience",
            "export",
            "--channel",
            "email",
            "--consent-purpose",
            "newsletter",
            "--name",
            "aubert",
        ])
        .await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("filter.name_query"),
        "{}",
        text(&refused.stderr)
    );
}
