//! The console's *Enquêtes* over plain HTTP (no browser), against a real
//! platform in a temp directory: a survey built with the five question types,
//! refused opening before its information campaign then opened with a
//! reason, answered signed out on the public page, its results updated; a bad
//! question shown next to its field with everything typed kept; forged forms
//! refused with nothing written; an analyst reading counts but no free text.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use std::time::Duration;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Reply, Site};

/// The five question blocks of the builder, filled: (name, value) pairs.
fn five_questions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("blocks", "5"),
        ("questions[0].question_id", "usage"),
        ("questions[0].text", "Quel usage d'un tiers-lieu ?"),
        ("questions[0].kind", "single_choice"),
        ("questions[0].required", "1"),
        ("questions[0].options", "Coworking\nFablab\nCafé associatif"),
        ("questions[1].question_id", "services"),
        ("questions[1].text", "Quels services ?"),
        ("questions[1].kind", "multiple_choice"),
        (
            "questions[1].options",
            "Impression 3D\nSalle de réunion\nCuisine",
        ),
        ("questions[1].max_selections", "2"),
        ("questions[2].question_id", "interet"),
        ("questions[2].text", "Votre intérêt ?"),
        ("questions[2].kind", "scale"),
        ("questions[2].scale.min", "1"),
        ("questions[2].scale.max", "5"),
        ("questions[2].scale.min_label", "Aucun"),
        ("questions[2].scale.max_label", "Très fort"),
        ("questions[3].question_id", "idee"),
        ("questions[3].text", "Une idée pour ce lieu ?"),
        ("questions[3].kind", "free_text"),
        ("questions[3].max_length", "300"),
        ("questions[4].question_id", "priorites"),
        ("questions[4].text", "Classez ces priorités"),
        ("questions[4].kind", "ranking"),
        ("questions[4].options", "Horaires\nPrix\nAccès"),
    ]
}

/// Signs in a new principal with `roles`; its session cookie.
async fn signed_in(site: &Site, principal: &str, roles: &[Role]) -> String {
    let token = site.token(principal, roles);
    site.sign_in(&token).await
}

/// Posts the builder's form with `pairs`, its CSRF token and request id.
async fn draft(site: &Site, cookie: &str, pairs: &[(&str, &str)]) -> Reply {
    let page = get(&format!("{}/enquetes/nouvelle", site.url), Some(cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let request_id = hidden(&page.body, "request_id");
    let mut form = pairs.to_vec();
    form.push(("csrf", &csrf));
    form.push(("request_id", &request_id));
    post(
        &format!("{}/enquetes/nouvelle", site.url),
        Some(cookie),
        &encode(&form),
    )
    .await
}

/// The survey id a successful draft redirected to.
fn drafted(reply: &Reply) -> String {
    assert_eq!(reply.status, 303, "{}", reply.body);
    reply
        .header("location")
        .unwrap()
        .strip_prefix("/enquetes/")
        .unwrap()
        .to_owned()
}

/// The survey's page once it shows `text` (the projections catch up).
async fn page_showing(site: &Site, cookie: &str, id: &str, text: &str) -> String {
    let url = format!("{}/enquetes/{id}", site.url);
    for _ in 0..100 {
        let page = get(&url, Some(cookie)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains(text) {
            return page.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never showed {text:?}");
}

/// Answers the public page of `id`, signed out, with `pairs`.
async fn answer(site: &Site, id: &str, pairs: &[(&str, &str)]) -> Reply {
    let url = format!("{}/enquete/{id}", site.url);
    let page = get(&url, None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let request_id = hidden(&page.body, "request_id");
    let mut form = pairs.to_vec();
    form.push(("csrf", &csrf));
    form.push(("request_id", &request_id));
    form.push(("commune", "37063"));
    post(&url, None, &encode(&form)).await
}

/// An awareness action planned, not held: an information campaign.
async fn campaign_action(site: &Site) -> String {
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    engagement
        .plan_action(pb::PlanActionRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            kind: pb::ActionKind::AwarenessPublicMeeting as i32,
            title: "Réunion publique : un tiers-lieu, pour quoi faire ?".into(),
            audiences: vec![pb::EngagementAudience::Population as i32],
            topics: vec![pb::Theme::QuelsTla as i32],
            venue: Some(pb::ActionVenue {
                place: Some(pb::action_venue::Place::CommuneCode("37063".into())),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_of_five_question_types_is_built_opened_with_a_reason_answered_signed_out_and_its_results_updated(
) {
    let site = Site::start().await;
    let cookie = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let action = campaign_action(&site).await;
    let mut pairs = five_questions();
    pairs.extend([
        ("title", "Vos attentes d'un tiers-lieu"),
        ("description", "La communauté de communes vous consulte."),
        ("campaign_action_ids", action.as_str()),
        ("topics", "THEME_QUELS_TLA"),
    ]);
    let id = drafted(&draft(&site, &cookie, &pairs).await);
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Brouillon"), "{}", page.body);
    assert!(page.body.contains("Classez ces priorités"));
    assert!(page.body.contains("pas encore tenue"));
    // The menu has the entry, and the list the survey (once projected).
    assert!(page.body.contains("href=\"/enquetes\""));
    let list_url = format!("{}/enquetes", site.url);
    let mut listed = false;
    for _ in 0..100 {
        if get(&list_url, Some(&cookie))
            .await
            .body
            .contains("Vos attentes d&#39;un tiers-lieu")
        {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed, "the list shows the draft");

    // Opening before the campaign was held: refused, the override offered.
    let open_url = format!("{}/enquetes/{id}/ouvrir", site.url);
    let csrf = hidden(&page.body, "csrf");
    let version = hidden(&page.body, "version");
    let refused = post(
        &open_url,
        Some(&cookie),
        &encode(&[
            ("csrf", &csrf),
            ("version", &version),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
        ]),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("La campagne d&#39;information n&#39;a pas encore eu lieu"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("name=\"campaign_override.reason\""));
    // An override without a reason: the service's refusal next to the field.
    let no_reason = post(
        &open_url,
        Some(&cookie),
        &encode(&[
            ("csrf", &csrf),
            ("version", &version),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("override", "1"),
            ("campaign_override.reason", ""),
        ]),
    )
    .await;
    assert_eq!(no_reason.status, 422, "{}", no_reason.body);
    assert!(
        no_reason
            .body
            .contains("aria-describedby=\"campaign_override.reason-erreur\""),
        "{}",
        no_reason.body
    );
    let opened = post(
        &open_url,
        Some(&cookie),
        &encode(&[
            ("csrf", &csrf),
            ("version", &version),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("override", "1"),
            (
                "campaign_override.reason",
                "La réunion publique est reportée, le conseil veut les réponses avant l'été.",
            ),
        ]),
    )
    .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    assert!(page.body.contains("Ouverte"), "{}", page.body);
    assert!(page.body.contains("par alice"), "{}", page.body);
    assert!(
        page.body.contains(&format!("/enquete/{id}\">")),
        "the public link: {}",
        page.body
    );
    let poster = get(
        &format!("{}/enquetes/{id}/affiche", site.url),
        Some(&cookie),
    )
    .await;
    assert_eq!(poster.status, 200);
    assert!(poster.body.contains(&format!("/enquete/{id}</p>")));
    // Its QR code, inline, of the link as the browser reached the console
    // (no --public-url here).
    let link = format!("{}/enquete/{id}", site.url);
    assert!(
        poster.body.contains(&format!(
            "<div class=\"qr\" role=\"img\" aria-label=\"QR code menant au questionnaire, à l'adresse {link}\"><svg aria-hidden=\"true\""
        )),
        "{}",
        poster.body
    );

    // Answered signed out, every question type.
    let reply = answer(
        &site,
        &id,
        &[
            ("q.usage", "o2"),
            ("q.services", "o1"),
            ("q.services", "o3"),
            ("q.interet", "4"),
            ("q.idee", "Un atelier de réparation de vélos"),
            ("q.priorites.o1", "2"),
            ("q.priorites.o2", "3"),
            ("q.priorites.o3", "1"),
        ],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("/enquete/{id}/merci").as_str())
    );
    // The results follow: counts, charts, the free text for a facilitator.
    let body = page_showing(
        &site,
        &cookie,
        &id,
        "Réponses comptées : <strong id=\"reponses\">1</strong>",
    )
    .await;
    assert!(body.contains("<svg class=\"chart\""), "{body}");
    assert!(body.contains("Un atelier de réparation de vélos"), "{body}");
    assert!(body.contains("Moyenne : 4,0"), "{body}");
    assert!(body.contains("rang moyen 1,0"), "{body}");
    // Closed: the public page no longer takes answers.
    let closed = post(
        &format!("{}/enquetes/{id}/fermer", site.url),
        Some(&cookie),
        &encode(&[
            ("csrf", &csrf),
            ("version", &hidden(&body, "version")),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
        ]),
    )
    .await;
    assert_eq!(closed.status, 303, "{}", closed.body);
    assert_eq!(
        get(&format!("{}/enquete/{id}", site.url), None)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_question_is_shown_next_to_its_field_with_everything_typed_kept() {
    let site = Site::start().await;
    let cookie = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let mut pairs = five_questions();
    // The scale of question 3 runs backwards.
    pairs.retain(|(name, _)| *name != "questions[2].scale.max");
    pairs.extend([("questions[2].scale.max", "0"), ("title", "Vos attentes")]);
    let reply = draft(&site, &cookie, &pairs).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("aria-describedby=\"questions[2].scale.max-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("La question 3 est à corriger"));
    // Everything typed is still there.
    for text in [
        "value=\"Vos attentes\"",
        "Coworking\nFablab\nCafé associatif",
        "value=\"Une idée pour ce lieu ?\"",
        "value=\"Très fort\"",
    ] {
        assert!(
            reply.body.contains(&text.replace('\'', "&#39;")),
            "{text}: {}",
            reply.body
        );
    }
    // "Ajouter une question" adds a block and sends nothing.
    let mut more = five_questions();
    more.push(("action", "ajouter"));
    let reply = draft(&site, &cookie, &more).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("name=\"questions[5].text\""));
    assert!(reply.body.contains("value=\"Quels services ?\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_survey_forms_are_refused_and_nothing_is_written() {
    let site = Site::start().await;
    // Signed out, the section is the sign-in page.
    for path in ["/enquetes", "/enquetes/nouvelle"] {
        let reply = get(&format!("{}{path}", site.url), None).await;
        assert_eq!(reply.status, 303, "{path}");
        assert!(reply.header("location").unwrap().starts_with("/connexion"));
    }
    let cookie = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let mut pairs = five_questions();
    pairs.push(("title", "Forgée"));
    for csrf in [None, Some("pas-le-jeton")] {
        let mut form = pairs.clone();
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let reply = post(
            &format!("{}/enquetes/nouvelle", site.url),
            Some(&cookie),
            &encode(&form),
        )
        .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(
            reply.body.contains("Rien n&#39;a été enregistré"),
            "{}",
            reply.body
        );
    }
    // A real draft, then forged opening and revision of it.
    let mut real = five_questions();
    real.push(("title", "Vraie"));
    let id = drafted(&draft(&site, &cookie, &real).await);
    for path in ["ouvrir", "fermer", "questions"] {
        let reply = post(
            &format!("{}/enquetes/{id}/{path}", site.url),
            Some(&cookie),
            &encode(&[("version", "1"), ("override", "1")]),
        )
        .await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
    }
    // Only the real draft exists, still a draft at version 1.
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    assert!(page.body.contains("Brouillon"));
    assert_eq!(hidden(&page.body, "version"), "1");
    let list_url = format!("{}/enquetes", site.url);
    let mut list = String::new();
    for _ in 0..100 {
        list = get(&list_url, Some(&cookie)).await.body;
        if list.contains("Vraie") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(list.contains("<h2>1 enquête(s)</h2>"), "{list}");
    assert!(!list.contains("Forgée"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_reads_the_counts_but_no_free_text() {
    let site = Site::start().await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let id = common::open_free_text_survey(&mut engagement).await;
    let secret = "Je suis Jeanne Martin, 12 rue des Lilas";
    let reply = answer(&site, &id, &[("q.attentes", secret)]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let analyst = signed_in(&site, "ana", &[Role::Analyst]).await;
    let body = page_showing(
        &site,
        &analyst,
        &id,
        "Réponses comptées : <strong id=\"reponses\">1</strong>",
    )
    .await;
    assert!(!body.contains("Jeanne"), "{body}");
    assert!(body.contains("seuls les animateurs les lisent"), "{body}");
    // No builder, opening or closing for an analyst.
    assert!(!body.contains("/fermer"));
    assert_eq!(
        get(&format!("{}/enquetes/nouvelle", site.url), Some(&analyst))
            .await
            .status,
        403
    );
    let facilitator = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let body = page_showing(&site, &facilitator, &id, "Jeanne Martin").await;
    assert!(body.contains(secret), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_s_slug_is_its_public_address_and_a_taken_one_is_refused_next_to_its_field() {
    let site = Site::start().await;
    let cookie = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let mut pairs = five_questions();
    pairs.extend([
        ("title", "Vos attentes"),
        ("topics", "THEME_QUELS_TLA"),
        ("slug", "tiers-lieu-2027"),
    ]);
    let id = drafted(&draft(&site, &cookie, &pairs).await);
    // The same slug again: refused next to its field, everything kept.
    let mut again = pairs.clone();
    again.retain(|(name, _)| *name != "title");
    again.push(("title", "Une autre enquête"));
    let taken = draft(&site, &cookie, &again).await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert!(
        taken.body.contains("aria-describedby=\"slug-erreur\""),
        "{}",
        taken.body
    );
    assert!(taken.body.contains("déjà prise"));
    assert!(taken.body.contains("value=\"Une autre enquête\""));
    // A malformed one: the service's message next to the field.
    let mut bad = pairs.clone();
    bad.retain(|(name, _)| *name != "slug");
    bad.push(("slug", "Tiers Lieu"));
    let reply = draft(&site, &cookie, &bad).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("aria-describedby=\"slug-erreur\""));
    assert!(reply.body.contains("value=\"Tiers Lieu\""));
    // Opened, its public link is the slug; the id answers as well.
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    let opened = post(
        &format!("{}/enquetes/{id}/ouvrir", site.url),
        Some(&cookie),
        &encode(&[
            ("csrf", &hidden(&page.body, "csrf")),
            ("version", &hidden(&page.body, "version")),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
        ]),
    )
    .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    assert!(
        page.body.contains("/enquete/tiers-lieu-2027\">"),
        "{}",
        page.body
    );
    let public = get(&format!("{}/enquete/tiers-lieu-2027", site.url), None).await;
    assert_eq!(public.status, 200, "{}", public.body);
    assert!(public.body.contains(&format!("action=\"/enquete/{id}\"")));
    assert_eq!(
        get(&format!("{}/enquete/{id}", site.url), None)
            .await
            .status,
        200
    );
    assert_eq!(
        get(&format!("{}/enquete/autre-enquete", site.url), None)
            .await
            .status,
        404
    );
    let reply = answer(&site, &id, &[("q.usage", "o1"), ("q.interet", "3")]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_s_questions_are_revised_at_the_version_read() {
    let site = Site::start().await;
    let cookie = signed_in(&site, "alice", &[Role::Facilitator]).await;
    let mut pairs = five_questions();
    pairs.extend([("title", "Vos attentes"), ("topics", "THEME_QUELS_TLA")]);
    let id = drafted(&draft(&site, &cookie, &pairs).await);
    let url = format!("{}/enquetes/{id}/questions", site.url);
    let form = get(&url, Some(&cookie)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    // The draft's questions fill the form, its options one per line.
    assert!(form.body.contains("value=\"Classez ces priorités\""));
    assert!(form.body.contains("Horaires\nPrix\nAccès"));
    assert_eq!(hidden(&form.body, "version"), "1");
    let mut revised: Vec<(&str, &str)> = five_questions()
        .into_iter()
        .filter(|(name, _)| *name != "questions[0].text")
        .collect();
    let csrf = hidden(&form.body, "csrf");
    revised.extend([
        ("questions[0].text", "Quel usage, d'abord ?"),
        ("csrf", &csrf),
        ("version", "1"),
        ("request_id", "0190d3a0-0000-7000-8000-0000000000b1"),
    ]);
    let reply = post(&url, Some(&cookie), &encode(&revised)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&format!("{}/enquetes/{id}", site.url), Some(&cookie)).await;
    assert!(
        page.body.contains("Quel usage, d&#39;abord ?"),
        "{}",
        page.body
    );
    // Sent again at the version read before: refused, everything kept.
    revised.retain(|(name, _)| *name != "request_id");
    revised.push(("request_id", "0190d3a0-0000-7000-8000-0000000000b2"));
    let stale = post(&url, Some(&cookie), &encode(&revised)).await;
    assert_eq!(stale.status, 422, "{}", stale.body);
    assert!(stale.body.contains("rechargez-la"), "{}", stale.body);
    assert!(stale.body.contains("value=\"Quel usage, d&#39;abord ?\""));
}
