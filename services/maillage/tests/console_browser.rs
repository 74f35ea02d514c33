//! The web console in a real browser: headless Chromium driven over
//! WebDriver (chromedriver) against a real platform in a temp directory and
//! its console on an ephemeral port. Chromium and chromedriver are required:
//! these tests fail, never skip, without them (`scripts/test` installs the
//! Debian packages `chromium` and `chromium-driver`).
//!
//! With `MAILLAGE_SCREENSHOTS=<dir>`, the tests also write screenshots of the
//! territory, stakeholder, contact and public survey pages there (how
//! docs/console-*.png are made).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::browser::Browser;
use web::Site;

/// Signs in with `token` in the browser.
async fn sign_in(browser: &Browser, site: &Site, token: &str) {
    browser.goto(&format!("{}/connexion", site.url)).await;
    browser.fill("#token", token).await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    browser.wait_for("Se déconnecter").await;
}

/// With `MAILLAGE_SCREENSHOTS=<dir>`, saves the page as `<dir>/<name>` (how
/// the screenshots under docs/ are made).
async fn keep(browser: &Browser, name: &str) {
    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"));
    if let Some(dir) = std::env::var_os("MAILLAGE_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
    }
}

/// Registers a person as the admin, over gRPC; returns her id.
async fn register(site: &Site, given: &str, family: &str, email: &str) -> String {
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: given.into(),
                family_name: family.into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "37063".into(),
                email: email.into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_signs_in_registers_an_elu_and_sees_her_page() {
    let site = Site::start().await;
    let token = site.token("alice", &[Role::Facilitator]);
    let browser = Browser::start().await;
    sign_in(&browser, &site, &token).await;
    assert!(
        browser.url().await.ends_with("/acteurs"),
        "{}",
        browser.url().await
    );
    browser.click("a[href=\"/acteurs/nouveau\"]").await;
    browser.wait_for("Inscrire une personne").await;
    browser
        .fill("[name=\"profile.given_name\"]", "Éliane")
        .await;
    browser
        .fill("[name=\"profile.family_name\"]", "Martin")
        .await;
    browser
        .click("input[name=\"profile.kinds\"][value=\"PERSON_KIND_ELECTED_OFFICIAL\"]")
        .await;
    browser
        .fill("[name=\"profile.commune_code\"]", "37063")
        .await;
    browser
        .fill("[name=\"profile.email\"]", "pas-un-courriel")
        .await;
    browser
        .click("option[value=\"MANDATE_OFFICE_MAIRE\"]")
        .await;
    browser
        .fill("[name=\"mandates[0].authority\"]", "37063")
        .await;
    browser
        .set_value("[name=\"mandates[0].started_at\"]", "2026-03-22")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    // Refused by the service: its message next to the email, nothing typed lost.
    let page = browser.wait_for("id=\"profile.email-erreur\"").await;
    assert!(page.contains("aria-invalid=\"true\""));
    assert_eq!(
        browser.value("[name=\"profile.given_name\"]").await,
        "Éliane"
    );
    assert_eq!(
        browser.value("[name=\"mandates[0].started_at\"]").await,
        "2026-03-22"
    );
    assert_eq!(
        browser.value("[name=\"mandates[0].office\"]").await,
        "MANDATE_OFFICE_MAIRE"
    );
    browser
        .fill("[name=\"profile.email\"]", "eliane.martin@example.org")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    let page = browser.wait_for("<h1>Éliane Martin</h1>").await;
    assert!(
        page.contains("eliane.martin@example.org"),
        "a facilitator sees the email"
    );
    assert!(
        page.contains("Maire (37063) depuis le 22/03/2026"),
        "{page}"
    );
    assert!(page.contains("Noter un contact"));
    keep(&browser, "console-acteur.png").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_logs_a_contact_with_her() {
    let site = Site::start().await;
    let id = register(&site, "Éliane", "Martin", "eliane.martin@example.org").await;
    let other = register(&site, "Bernard", "Roux", "").await;
    let token = site.token("alice", &[Role::Facilitator]);
    let browser = Browser::start().await;
    sign_in(&browser, &site, &token).await;
    browser.goto(&format!("{}/acteurs/{id}", site.url)).await;
    browser.click("a[href^=\"/contacts/nouveau?avec=\"]").await;
    browser.wait_for("Enregistrer le contact").await;
    assert_eq!(browser.value("[name=\"participant_ids\"]").await, id);
    // A second participant, picked by a search of the register.
    browser.fill("#nom", "Roux").await;
    browser.click("form[role=search] button").await;
    browser.wait_for("Bernard Roux (37063)").await;
    browser
        .click("main li a[href^=\"/contacts/nouveau?\"]")
        .await;
    browser.wait_for("<li>Bernard Roux</li>").await;
    keep(&browser, "console-contact.png").await;
    assert_eq!(
        browser.value("[name=\"participant_ids\"]").await,
        format!("{id} {other}")
    );
    browser
        .click("option[value=\"INTERACTION_CHANNEL_PHONE\"]")
        .await;
    browser
        .fill("[name=\"subject\"]", "Projet de tiers-lieu")
        .await;
    browser
        .fill(
            "[name=\"notes\"]",
            "Intéressée par un espace de télétravail.",
        )
        .await;
    browser
        .click("input[name=\"topics\"][value=\"THEME_TELEWORK\"]")
        .await;
    browser
        .fill(
            "[name=\"follow_ups[0].description\"]",
            "Envoyer la plaquette",
        )
        .await;
    browser
        .set_value("[name=\"follow_ups[0].due_at\"]", "2099-01-15")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    let page = browser.wait_for("Contact enregistré par alice").await;
    for shown in [
        "Téléphone",
        "Projet de tiers-lieu",
        "Intéressée par un espace de télétravail.",
        "Télétravail",
        "Envoyer la plaquette — échéance 15/01/2099",
        &format!("href=\"/acteurs/{id}\""),
        &format!("href=\"/acteurs/{other}\""),
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    // Her follow-up is among alice's, once the projections have it.
    let contact = browser.url().await;
    let contact = contact.rsplit('/').next().unwrap().to_owned();
    browser.click("a[href=\"/contacts/relances\"]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = browser.wait_for("relance(s) à faire").await;
        if page.contains(&format!("href=\"/contacts/{contact}\"")) {
            assert!(page.contains("value=\"alice\""), "mine by default");
            assert!(page.contains("15/01/2099"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no follow-up: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        browser.goto(&browser.url().await).await;
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inhabitant_answers_a_survey_on_the_public_page_signed_out() {
    let site = Site::start().await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let option = |id: &str, label: &str| pb::SurveyOption {
        option_id: id.into(),
        label: label.into(),
    };
    let question = |id: &str, text: &str, kind| pb::SurveyQuestion {
        question_id: id.into(),
        text: text.into(),
        required: true,
        kind: Some(kind),
    };
    use pb::survey_question::Kind;
    let survey = engagement
        .draft_survey(pb::DraftSurveyRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            title: "Un tiers-lieu près de chez vous ?".into(),
            description: "Campagne d'information : la communauté de communes étudie l'ouverture d'un tiers-lieu.".into(),
            questions: vec![
                question("frequence", "Viendriez-vous ?", Kind::SingleChoice(pb::SurveySingleChoice {
                    options: vec![option("souvent", "Souvent"), option("parfois", "Parfois")],
                })),
                question("usages", "Pour quoi faire ?", Kind::MultipleChoice(pb::SurveyMultipleChoice {
                    options: vec![option("travail", "Travailler"), option("atelier", "Bricoler")],
                    max_selections: 0,
                })),
                question("interet", "Votre intérêt", Kind::Scale(pb::SurveyScale {
                    min: 1, max: 5, min_label: "faible".into(), max_label: "fort".into(),
                })),
                question("priorites", "Classez", Kind::Ranking(pb::SurveyRanking {
                    options: vec![option("horaires", "Horaires"), option("prix", "Prix")],
                })),
                question("attentes", "Vos attentes", Kind::FreeText(pb::SurveyFreeText { max_length: 500 })),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    engagement
        .open_survey(pb::OpenSurveyRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            survey_id: survey.clone(),
            expected_version: None,
            campaign_override: None,
        })
        .await
        .unwrap();

    let browser = Browser::start().await;
    let url = format!("{}/enquete/{survey}", site.url);
    browser.goto(&url).await;
    let page = browser.wait_for("Envoyer mes réponses").await;
    assert_eq!(browser.url().await, url, "no sign-in on the public page");
    keep(&browser, "console-enquete.png").await;
    let information = page
        .find("Campagne d'information")
        .expect("the information text");
    assert!(
        information < page.find("Viendriez-vous").unwrap(),
        "information first"
    );
    // Everything but the free text: the service names the missing answer.
    browser.fill("#commune", "37063").await;
    browser
        .click("input[name=\"q.frequence\"][value=\"souvent\"]")
        .await;
    browser
        .click("input[name=\"q.usages\"][value=\"travail\"]")
        .await;
    browser
        .click("input[name=\"q.interet\"][value=\"4\"]")
        .await;
    browser
        .click("select[name=\"q.priorites.prix\"] option[value=\"1\"]")
        .await;
    browser
        .click("select[name=\"q.priorites.horaires\"] option[value=\"2\"]")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    let page = browser.wait_for("id=\"q.attentes-erreur\"").await;
    assert!(
        page.contains("Cette question demande une réponse."),
        "{page}"
    );
    assert_eq!(
        browser.value("#commune").await,
        "37063",
        "nothing typed is lost"
    );
    assert!(page.contains("value=\"souvent\" checked"));
    browser
        .fill("[name=\"q.attentes\"]", "Un lieu ouvert le samedi")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    browser.wait_for("Merci pour votre réponse").await;
    let view = engagement
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey,
            slug: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.response_count, 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_does_not_see_personal_data() {
    let site = Site::start().await;
    let id = register(&site, "Zoé", "Confidentielle", "zoe.secret@example.org").await;
    let token = site.token("ana", &[Role::Analyst]);
    let browser = Browser::start().await;
    sign_in(&browser, &site, &token).await;
    browser.goto(&format!("{}/acteurs", site.url)).await;
    let list = browser.wait_for("1 acteur(s)").await;
    browser.goto(&format!("{}/acteurs/{id}", site.url)).await;
    let page = browser.wait_for("Profil").await;
    for personal in ["Zoé", "Confidentielle", "zoe.secret@example.org"] {
        assert!(!list.contains(personal), "{personal} in the register list");
        assert!(!page.contains(personal), "{personal} on the page");
    }
    assert!(list.contains("masqué pour votre rôle"));
    assert!(page.contains("masqué pour votre rôle"));
    assert!(
        !page.contains("Noter un contact"),
        "an analyst logs no contact"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_visitor_reaches_only_sign_in_and_the_public_survey() {
    let site = Site::start().await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let survey = common::open_free_text_survey(&mut engagement).await;
    let browser = Browser::start().await;
    for path in [
        "/",
        "/territoire",
        "/acteurs",
        "/acteurs/nouveau",
        "/contacts/nouveau",
        "/nimporte-quoi",
    ] {
        browser.goto(&format!("{}{path}", site.url)).await;
        let url = browser.url().await;
        assert!(
            url.starts_with(&format!("{}/connexion", site.url)),
            "{path} → {url}"
        );
    }
    let url = format!("{}/enquete/{survey}", site.url);
    browser.goto(&url).await;
    assert_eq!(browser.url().await, url);
    browser.wait_for("Qu'attendez-vous d'un tiers-lieu ?").await;
    // A form on another site posting to the console carries no session
    // (SameSite=Strict) and no CSRF token: refused, nothing written.
    let token = site.token("alice", &[Role::Facilitator]);
    sign_in(&browser, &site, &token).await;
    let forged = format!(
        "data:text/html,<form method=post action=\"{}/acteurs/nouveau\"><input name=\"profile.given_name\" value=\"Pirate\"><button>go</button></form>",
        site.url
    );
    browser.goto(&forged).await;
    browser.click("button").await;
    // Without the session cookie the console sees a signed-out visitor.
    let page = browser.wait_for("Jeton personnel").await;
    assert!(!page.contains("Pirate"), "{page}");
    assert!(browser.url().await.contains("/connexion"));
    browser.goto(&format!("{}/acteurs", site.url)).await;
    browser.wait_for("0 acteur(s)").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_territory_page_of_the_demo_renders_in_chromium() {
    let site = Site::start().await;
    let (outcome, data, _) = site.platform.demo(2026, 0.05, "report.html").await;
    let (level, code) = outcome.territory.split_once(':').unwrap();
    let token = site.token("ana", &[Role::Analyst]);
    let browser = Browser::start().await;
    sign_in(&browser, &site, &token).await;
    browser
        .goto(&format!(
            "{}/territoire?niveau={level}&code={code}",
            site.url
        ))
        .await;
    let page = browser.wait_for("Chiffres clés").await;
    assert!(page.contains(&data.territory.name), "{page}");
    assert_eq!(
        page.matches("<tr").count() - 1,
        data.territory.communes.len()
    );
    assert_eq!(
        page.matches("<em>zone blanche</em>").count(),
        data.territory.white_zone_communes.len()
    );
    assert!(page.contains(&format!("<strong>{}</strong>", data.territory.contacts)));
    keep(&browser, "console-territoire.png").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_pages_have_no_serious_accessibility_violations() {
    let site = Site::start().await;
    let id = register(&site, "Éliane", "Martin", "eliane.martin@example.org").await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let survey = common::open_free_text_survey(&mut engagement).await;
    let token = site.token(
        "alice",
        &[Role::Facilitator, Role::Analyst, Role::Auditor, Role::Admin],
    );
    let browser = Browser::start().await;
    let mut pages = vec![
        ("/connexion".to_owned(), "Jeton personnel"),
        (format!("/enquete/{survey}"), "Envoyer mes réponses"),
    ];
    let signed_in = [
        (
            "/territoire?niveau=epci&code=243700499".to_owned(),
            "Chiffres clés",
        ),
        ("/acteurs".to_owned(), "acteur(s)"),
        (format!("/acteurs/{id}"), "Profil"),
        ("/acteurs/nouveau".to_owned(), "Inscrire une personne"),
        (format!("/acteurs/{id}/modifier"), "Modifier le profil"),
        (
            "/organisations/nouvelle".to_owned(),
            "Inscrire une organisation",
        ),
        (
            format!("/contacts/nouveau?avec={id}"),
            "Enregistrer le contact",
        ),
        ("/contacts/relances".to_owned(), "relance(s) à faire"),
        ("/audit?niveau=epci&code=243700499".to_owned(), "contact(s)"),
        ("/administration".to_owned(), "Santé des services"),
        ("/enquetes".to_owned(), "enquête(s)"),
        ("/enquetes/nouvelle".to_owned(), "Ajouter une question"),
        (format!("/enquetes/{survey}"), "Lien public"),
    ];
    // The check finds what it should: a page without language, label nor alt text.
    browser
        .goto("data:text/html,<html><body><img src=x><input></body></html>")
        .await;
    let bad = browser.accessibility_violations().await;
    for rule in ["html-has-lang", "image-alt", "label"] {
        assert!(
            bad.iter().any(|(id, _, _, _)| id == rule),
            "{rule}: {bad:?}"
        );
    }
    let mut report = Vec::new();
    let mut checked = 0;
    for (index, (path, marker)) in pages.drain(..).chain(signed_in).enumerate() {
        checked += 1;
        if index == 2 {
            sign_in(&browser, &site, &token).await;
        }
        browser.goto(&format!("{}{path}", site.url)).await;
        browser.wait_for(marker).await;
        let violations = browser.accessibility_violations().await;
        for (rule, impact, nodes, help) in &violations {
            report.push(format!(
                "{path}: {rule} ({impact}, {nodes} element(s)): {help}"
            ));
        }
        let serious: Vec<_> = violations
            .iter()
            .filter(|(_, impact, _, _)| matches!(impact.as_str(), "serious" | "critical"))
            .collect();
        assert!(serious.is_empty(), "{path}: {serious:?}");
    }
    // The record (docs/architecture.md, "The web console"): every violation, any impact.
    println!(
        "axe-core, WCAG 2.1 A/AA, {checked} pages: {} violation(s)",
        report.len()
    );
    for line in &report {
        println!("  {line}");
    }
    browser.close().await;
}
