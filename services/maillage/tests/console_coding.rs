//! Coding against the codebook from the console, over plain HTTP (no
//! browser), against a real platform in a temp directory: the *Grille de
//! codage* page (a facilitator defines, relabels and retires a code, each
//! refusal next to its field with what was typed kept; an analyst reads it
//! only; a forged form writes nothing), and interviews and diagnostics
//! coded with the codes in use, linked to a survey, their refusals next to
//! the codes' fieldset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use std::time::Duration;

use maillage::cli::client::Authed;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Site};

/// The engagement service as the platform's admin.
async fn engagement(site: &Site) -> pb::engagement_client::EngagementClient<Authed> {
    pb::engagement_client::EngagementClient::new(site.platform.channel().await)
}

/// The codebook through gRPC.
async fn codebook(site: &Site) -> pb::CodebookView {
    engagement(site)
        .await
        .get_codebook(pb::GetCodebookRequest {})
        .await
        .unwrap()
        .into_inner()
}

/// Defines a code of `kind` through gRPC; its id.
async fn define(site: &Site, kind: pb::CodeKind, label: &str) -> String {
    engagement(site)
        .await
        .define_code(pb::DefineCodeRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            kind: kind as i32,
            label: label.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_keeps_the_codebook_from_its_page_and_an_analyst_reads_it() {
    let site = Site::start().await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let url = format!("{}/grille", site.url);
    let page = get(&url, Some(&alice)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("href=\"/grille\" aria-current=\"page\""));
    assert!(page.body.contains("Définir un code"));
    let csrf = hidden(&page.body, "csrf");
    let form = |kind: &str, label: &str, description: &str| {
        encode(&[
            ("csrf", &csrf),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("version", "0"),
            ("kind", kind),
            ("label", label),
            ("description", description),
            ("topic", "THEME_TELEWORK"),
        ])
    };
    // No label: refused next to it, the kind, description and theme kept.
    let reply = post(
        &url,
        Some(&alice),
        &form("CODE_KIND_MOTIVATION", "", "Sortir de chez soi"),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("id=\"label-erreur\""), "{}", reply.body);
    assert!(reply
        .body
        .contains("<option value=\"CODE_KIND_MOTIVATION\" selected>"));
    assert!(reply
        .body
        .contains("<option value=\"THEME_TELEWORK\" selected>"));
    assert!(reply.body.contains(">Sortir de chez soi</textarea>"));
    assert_eq!(codebook(&site).await.version, 0, "nothing written");
    // Defined.
    let reply = post(
        &url,
        Some(&alice),
        &form("CODE_KIND_MOTIVATION", "Trouver du lien social", ""),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let code = codebook(&site).await.codes[0].clone();
    assert_eq!(
        (code.label.as_str(), code.kind(), code.topic()),
        (
            "Trouver du lien social",
            pb::CodeKind::Motivation,
            pb::Theme::Telework
        )
    );
    let page = get(&url, Some(&alice)).await;
    assert!(page.body.contains(&format!(
        "<a href=\"/grille/{}\">Trouver du lien social</a>",
        code.code_id
    )));

    // Relabelled and retired from the code's page.
    let code_url = format!("{url}/{}", code.code_id);
    let page = get(&code_url, Some(&alice)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"Trouver du lien social\""));
    let version = hidden(&page.body, "version");
    let change = |action: &str, pairs: &[(&str, &str)]| {
        let mut all = vec![("csrf", csrf.as_str()), ("version", version.as_str())];
        all.extend_from_slice(pairs);
        let body = encode(&all);
        let url = format!("{code_url}/{action}");
        let alice = alice.clone();
        async move { post(&url, Some(&alice), &body).await }
    };
    let rid = uuid::Uuid::now_v7().to_string();
    let reply = change(
        "renommer",
        &[
            ("request_id", &rid),
            ("label", ""),
            ("description", "Rompre l'isolement"),
        ],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("id=\"label-erreur\""));
    assert!(reply.body.contains(">Rompre l&#39;isolement</textarea>"));
    let reply = change(
        "renommer",
        &[("request_id", &rid), ("label", "Créer du lien social")],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&code_url, Some(&alice)).await;
    let version = hidden(&page.body, "version");
    let rid = uuid::Uuid::now_v7().to_string();
    let change = |pairs: &[(&str, &str)]| {
        let mut all = vec![
            ("csrf", csrf.as_str()),
            ("version", version.as_str()),
            ("request_id", &rid),
        ];
        all.extend_from_slice(pairs);
        let body = encode(&all);
        let url = format!("{code_url}/retirer");
        let alice = alice.clone();
        async move { post(&url, Some(&alice), &body).await }
    };
    let reply = change(&[("reason", "")]).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("id=\"reason-erreur\""));
    let reply = change(&[("reason", "Trop proche d'un autre code")]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let code = codebook(&site).await.codes[0].clone();
    assert_eq!(
        (code.label.as_str(), code.retired),
        ("Créer du lien social", true)
    );
    let page = get(&url, Some(&alice)).await;
    assert!(page
        .body
        .contains("Retiré : Trop proche d&#39;un autre code"));

    // An analyst reads the codebook, with no form, and may not write it.
    let ana = site.sign_in(&site.token("ana", &[Role::Analyst])).await;
    let page = get(&url, Some(&ana)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Créer du lien social"));
    assert!(!page.body.contains("Définir un code"));
    assert!(!page.body.contains("href=\"/grille/"));
    assert_eq!(get(&code_url, Some(&ana)).await.status, 403);
    let version = codebook(&site).await.version;
    let ana_csrf = hidden(&page.body, "csrf");
    let reply = post(
        &url,
        Some(&ana),
        &encode(&[
            ("csrf", &ana_csrf),
            ("kind", "CODE_KIND_NEED"),
            ("label", "Un local"),
        ]),
    )
    .await;
    assert_eq!(reply.status, 403);
    // A forged form (no CSRF token) writes nothing.
    let reply = post(
        &url,
        Some(&alice),
        &encode(&[("kind", "CODE_KIND_NEED"), ("label", "Un local")]),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(codebook(&site).await.version, version);
}

/// Polls `ListInterviews` until it holds `count` interviews.
async fn interviews(site: &Site, count: usize) -> Vec<pb::InterviewListItem> {
    let mut projections =
        pb::projections_client::ProjectionsClient::new(site.platform.channel().await);
    for _ in 0..100 {
        let list = projections
            .list_interviews(pb::InterviewListRequest::default())
            .await
            .unwrap()
            .into_inner();
        if list.items.len() >= count {
            return list.items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the interviews never reached {count}");
}

/// Polls `ListDiagnostics` until it holds `count` diagnostics.
async fn diagnostics(site: &Site, count: usize) -> Vec<pb::DiagnosticListItem> {
    let mut projections =
        pb::projections_client::ProjectionsClient::new(site.platform.channel().await);
    for _ in 0..100 {
        let list = projections
            .list_diagnostics(pb::DiagnosticListRequest::default())
            .await
            .unwrap()
            .into_inner();
        if list.items.len() >= count {
            return list.items;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the diagnostics never reached {count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_and_diagnostics_are_coded_with_the_codes_in_use() {
    let site = Site::start().await;
    let motivation = define(
        &site,
        pb::CodeKind::Motivation,
        "Travailler près de chez soi",
    )
    .await;
    let retired = define(&site, pb::CodeKind::Motivation, "Code retiré").await;
    engagement(&site)
        .await
        .retire_code(pb::RetireCodeRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            code_id: retired.clone(),
            reason: "doublon".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let expectation = define(&site, pb::CodeKind::Expectation, "Un lieu ouvert le soir").await;
    let need = define(&site, pb::CodeKind::Need, "Un local plus grand").await;
    let refusal = define(&site, pb::CodeKind::Refusal, "Restauration").await;
    let first = define(&site, pb::CodeKind::Priority, "Fablab").await;
    let second = define(&site, pb::CodeKind::Priority, "Coworking").await;
    let survey = common::open_free_text_survey(&mut engagement(&site).await).await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;

    // The interview form offers the codes in use by kind, and the surveys.
    let url = format!("{}/entretiens/nouveau", site.url);
    let page = get(&url, Some(&alice)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!(
        "name=\"motivation_codes\" value=\"{motivation}\"> Travailler près de chez soi"
    )));
    assert!(page.body.contains(&format!(
        "name=\"expectation_codes\" value=\"{expectation}\"> Un lieu ouvert le soir"
    )));
    assert!(
        !page.body.contains(&retired),
        "a retired code is not offered"
    );
    assert!(!page.body.contains(&need), "a need is no interview's code");
    assert!(page.body.contains(&format!("<option value=\"{survey}\">")));
    let csrf = hidden(&page.body, "csrf");
    let interview = |code: &str| {
        encode(&[
            ("csrf", &csrf),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            (
                "subject.anonymous.audience",
                "ENGAGEMENT_AUDIENCE_POPULATION",
            ),
            ("subject.anonymous.commune_code", "37063"),
            ("conducted_at", "2026-05-04T10:00"),
            ("survey_id", &survey),
            ("motivation_codes", code),
            ("expectation_codes", &expectation),
            ("notes", "Rencontrée au marché"),
        ])
    };
    // The retired code (a stale form): refused next to the codes, the rest kept.
    let reply = post(&url, Some(&alice), &interview(&retired)).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"motivation_codes-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply
        .body
        .contains(&format!("<option value=\"{survey}\" selected>")));
    assert!(reply.body.contains(&format!(
        "name=\"expectation_codes\" value=\"{expectation}\" checked>"
    )));
    assert!(reply.body.contains(">Rencontrée au marché</textarea>"));
    let reply = post(&url, Some(&alice), &interview(&motivation)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let listed = interviews(&site, 1).await;
    let recorded = engagement(&site)
        .await
        .get_interview(pb::GetInterviewRequest {
            interview_id: listed[0].interview_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.survey_id, survey);
    assert_eq!(recorded.motivation_codes, std::slice::from_ref(&motivation));
    assert_eq!(
        recorded.expectation_codes,
        std::slice::from_ref(&expectation)
    );

    // A diagnostic of a tiers-lieu, coded.
    let tiers_lieu =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await)
            .register_organisation(pb::RegisterOrganisationRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                profile: Some(pb::OrganisationProfile {
                    name: "La Fabrique".into(),
                    commune_code: "37063".into(),
                    details: Some(pb::organisation_profile::Details::TiersLieu(
                        pb::TiersLieuDetails {
                            typologies: vec![pb::TiersLieuTypology::Coworking as i32],
                            status: pb::TiersLieuStatus::Project as i32,
                        },
                    )),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .id;
    let url = format!("{}/diagnostics/nouveau?avec={tiers_lieu}", site.url);
    let page = get(&url, Some(&alice)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for (name, code) in [
        ("findings.initial_motivation_codes", &motivation),
        ("findings.refusal_codes", &refusal),
        ("findings.need_codes", &need),
    ] {
        assert!(
            page.body
                .contains(&format!("name=\"{name}\" value=\"{code}\">")),
            "{name}"
        );
    }
    // The priority codes each get a rank (the service reads their order as one).
    let first_rank = format!("findings.priority_codes.{first}");
    let second_rank = format!("findings.priority_codes.{second}");
    for rank in [&first_rank, &second_rank] {
        assert!(
            page.body.contains(&format!(
                "<select id=\"{rank}\" name=\"{rank}\"><option value=\"\" selected>—</option><option value=\"1\">1</option><option value=\"2\">2</option></select>"
            )),
            "{}",
            page.body
        );
    }
    let diagnostic = |need_code: &str| {
        encode(&[
            ("csrf", &csrf),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("tiers_lieu_id", &tiers_lieu),
            ("conducted_at", "2026-05-05T14:00"),
            ("findings.initial_motivation_codes", &motivation),
            (&first_rank, "2"),
            (&second_rank, "1"),
            ("findings.refusal_codes", &refusal),
            ("findings.need_codes", need_code),
            ("findings.needs", "Un local plus grand"),
        ])
    };
    // An expectation offered as a need: refused next to the needs' codes.
    let reply = post(
        &format!("{}/diagnostics/nouveau", site.url),
        Some(&alice),
        &diagnostic(&expectation),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"findings.need_codes-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(&format!(
        "name=\"findings.refusal_codes\" value=\"{refusal}\" checked>"
    )));
    assert!(reply.body.contains(&format!(
        "name=\"{second_rank}\"><option value=\"\">—</option><option value=\"1\" selected>"
    )));
    let reply = post(
        &format!("{}/diagnostics/nouveau", site.url),
        Some(&alice),
        &diagnostic(&need),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let listed = diagnostics(&site, 1).await;
    let findings = engagement(&site)
        .await
        .get_diagnostic(pb::GetDiagnosticRequest {
            diagnostic_id: listed[0].diagnostic_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .findings
        .unwrap();
    assert_eq!(findings.initial_motivation_codes, [motivation]);
    // Ranked as chosen, not in the codebook's order.
    assert_eq!(findings.priority_codes, [second, first]);
    assert_eq!(findings.refusal_codes, [refusal]);
    assert_eq!(findings.need_codes, [need]);
}
