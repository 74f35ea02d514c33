//! *Enquêtes* in a real browser (headless Chromium over WebDriver, as
//! `console_browser.rs`): a facilitator builds a survey in the console,
//! opens it, an inhabitant answers it signed out on its public link, and the
//! facilitator sees the result update, its chart free of serious
//! accessibility violations (axe-core).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use std::time::Duration;

use maillage_service_kit::Role;
use web::browser::Browser;
use web::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_builds_and_opens_a_survey_an_inhabitant_answers_it_and_the_result_updates() {
    let site = Site::start().await;
    let token = site.token("alice", &[Role::Facilitator]);
    let browser = Browser::start().await;
    browser.sign_in(&site.url, &token).await;
    browser.goto(&format!("{}/enquetes", site.url)).await;
    browser.wait_for("enquête(s)").await;
    browser.click("a[href=\"/enquetes/nouvelle\"]").await;
    browser.wait_for("Nouvelle enquête").await;
    browser.fill("#title", "Un tiers-lieu à Tours ?").await;
    browser
        .fill(
            "#description",
            "La ville étudie l'ouverture d'un tiers-lieu.",
        )
        .await;
    browser
        .fill("[name=\"questions[0].text\"]", "Viendriez-vous ?")
        .await;
    browser
        .click("select[name=\"questions[0].kind\"] option[value=\"single_choice\"]")
        .await;
    browser
        .fill("[name=\"questions[0].options\"]", "Souvent\nJamais")
        .await;
    browser.click("button[value=\"ajouter\"]").await;
    browser.wait_for("name=\"questions[1].text\"").await;
    assert_eq!(
        browser.value("[name=\"questions[0].text\"]").await,
        "Viendriez-vous ?",
        "adding a question keeps the first"
    );
    browser
        .fill("[name=\"questions[1].text\"]", "Vos attentes")
        .await;
    browser
        .click("select[name=\"questions[1].kind\"] option[value=\"free_text\"]")
        .await;
    browser.click("button[value=\"enregistrer\"]").await;
    browser.wait_for("Brouillon").await;
    let survey = browser.url().await.rsplit('/').next().unwrap().to_owned();
    browser
        .click(&format!(
            "form[action=\"/enquetes/{survey}/ouvrir\"] button"
        ))
        .await;
    let page = browser.wait_for("Lien public").await;
    let link = format!("/enquete/{survey}");
    assert!(page.contains(&link), "{page}");

    // Signed out, on the public link.
    browser.click("header form button[type=submit]").await;
    browser.wait_for("Jeton personnel").await;
    browser.goto(&format!("{}{link}", site.url)).await;
    browser.wait_for("Envoyer mes réponses").await;
    browser.fill("#commune", "37063").await;
    browser.click("input[name=\"q.q1\"][value=\"o1\"]").await;
    browser
        .fill("[name=\"q.q2\"]", "Des horaires le soir")
        .await;
    browser
        .click("main form[method=post] button[type=submit]")
        .await;
    browser.wait_for("Merci pour votre réponse").await;

    // The facilitator sees the result update.
    browser.sign_in(&site.url, &token).await;
    let url = format!("{}/enquetes/{survey}", site.url);
    let mut updated = String::new();
    for _ in 0..100 {
        browser.goto(&url).await;
        let source = browser.source().await;
        if source.contains("<strong id=\"reponses\">1</strong>") {
            updated = source;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!updated.is_empty(), "the results never counted the answer");
    assert!(updated.contains("<svg class=\"chart\""), "{updated}");
    assert!(updated.contains("Des horaires le soir"), "{updated}");
    let serious: Vec<_> = browser
        .accessibility_violations()
        .await
        .into_iter()
        .filter(|(_, impact, _, _)| matches!(impact.as_str(), "serious" | "critical"))
        .collect();
    assert!(serious.is_empty(), "{serious:?}");
    browser.close().await;
}
