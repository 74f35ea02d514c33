//! The consortium pages in a real browser (headless Chromium over
//! WebDriver, as `console_browser`): a secretary convenes a general assembly
//! of the demo's consortium, records attendance, opens a vote and records a
//! weighted vote ballot by ballot, the tally shown after each, then closes
//! it; an admin's erasure and token-revocation confirmation pages; axe-core
//! finds no serious violation on any of these pages.
//!
//! With `MAILLAGE_SCREENSHOTS=<dir>`, it also writes the vote's screenshot
//! there (`console-vote.png`, how docs/console-vote.png is made).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::browser::Browser;
use web::Site;

/// Asserts axe-core finds no serious violation on the page at `what`.
async fn accessible(browser: &Browser, what: &str) {
    let serious = browser.serious_violations().await;
    assert!(serious.is_empty(), "{what}: {serious:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretary_records_a_weighted_vote_in_chromium() {
    let site = Site::start().await;
    let (outcome, _, _) = site.platform.demo(2026, 0.05, "report.html").await;
    let browser = Browser::start().await;
    // Each part's future on the heap: one would overflow a test thread's stack.
    Box::pin(vote(&browser, &site, &outcome.consortium_id)).await;
    Box::pin(confirmations(&browser, &site)).await;
    browser.close().await;
}

/// As a secretary: convene, attendance, a vote ballot by ballot, closing.
async fn vote(browser: &Browser, site: &Site, consortium: &str) {
    browser
        .sign_in(&site.url, &site.token("greffe", &[Role::Secretary]))
        .await;

    // The menu's Consortium page, then the consortium by its id.
    browser.click("nav a[href=\"/consortium\"]").await;
    browser.wait_for("Identifiant du consortium").await;
    accessible(browser, "/consortium").await;
    browser.fill("#id", consortium).await;
    browser
        .click("main form[action=\"/consortium\"] button")
        .await;
    browser.wait_for("Collèges et leurs poids").await;
    accessible(browser, "the consortium").await;

    // Convene the general assembly.
    browser.set_value("#body_code", "ag").await;
    browser.set_value("#scheduled_at", "2026-10-15T18:00").await;
    browser.fill("[id=\"venue.commune_code\"]", "37063").await;
    browser.fill("[id=\"venue.place\"]", "La Fabrique").await;
    browser.fill("#agenda", "Budget du réseau").await;
    browser.click("form[action$=\"/reunions\"] button").await;
    browser.wait_for("Ordre du jour").await;

    // Three members present.
    let mut members = Vec::new();
    for n in 1..=3 {
        let checkbox = format!("fieldset label:nth-of-type({n}) input");
        members.push(browser.value(&checkbox).await);
        browser.click(&checkbox).await;
    }
    browser.click("form[action$=\"/presences\"] button").await;
    browser.wait_for("Membres présents (3)").await;

    // A vote opens; ballots one by one, the tally after each.
    browser.fill("#title", "Adoption du budget").await;
    browser
        .fill("#text", "Le consortium adopte le budget du réseau.")
        .await;
    browser.click("form[action$=\"/resolutions\"] button").await;
    browser.wait_for("(vote ouvert)").await;
    accessible(browser, "the meeting, vote open").await;
    for (n, (member, choice)) in [
        (&members[0], "VOTE_CHOICE_FOR"),
        (&members[1], "VOTE_CHOICE_AGAINST"),
        (&members[2], "VOTE_CHOICE_FOR"),
    ]
    .into_iter()
    .enumerate()
    {
        browser.set_value("#member_id-0", member).await;
        browser.set_value("#choice-0", choice).await;
        browser.click("form[action$=\"/bulletins\"] button").await;
        let page = browser.wait_for(&format!("Bulletins ({})", n + 1)).await;
        let marker = "<dt>Suffrages exprimés</dt><dd>";
        let cast = &page[page.find(marker).unwrap() + marker.len()..];
        assert!(!cast.starts_with("0<"), "weighted votes cast: {cast}");
    }
    let page = browser.source().await;
    assert!(page.contains("<dt>Pour</dt>"));
    assert!(page.contains("(2 bulletin(s))"), "two for");
    assert!(page.contains("(1 bulletin(s))"), "one against");
    if let Some(dir) = std::env::var_os("MAILLAGE_SCREENSHOTS") {
        let url = browser.url().await;
        browser.goto(&format!("{url}#resolution-0")).await;
        let png = browser.screenshot().await;
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(std::path::Path::new(&dir).join("console-vote.png"), png).unwrap();
    }
    browser.click("form[action$=\"/cloture\"] button").await;
    browser.wait_for("<h4>Décompte pondéré</h4>").await;
    accessible(browser, "the meeting, vote closed").await;
    browser.click("header form button").await;
    browser.wait_for("Jeton personnel").await;
}

/// As an admin: the erasure's and the revocation's confirmation pages.
async fn confirmations(browser: &Browser, site: &Site) {
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    let person = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Lise".into(),
                family_name: "Durand".into(),
                kinds: vec![pb::PersonKind::Inhabitant as i32],
                commune_code: "37063".into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    site.token("camille", &[Role::Facilitator]);
    browser
        .sign_in(&site.url, &site.token("root", &[Role::Admin]))
        .await;
    browser
        .goto(&format!("{}/acteurs/{person}", site.url))
        .await;
    browser.click("a[href$=\"/effacer\"]").await;
    browser.wait_for("Ce qui sera effacé").await;
    accessible(browser, "the erasure").await;
    browser.goto(&format!("{}/administration", site.url)).await;
    browser.click("button[aria-label*=\"de camille\"]").await;
    browser.wait_for("Révoquer un jeton ?").await;
    accessible(browser, "the revocation").await;
    browser.click("main form button").await;
    browser.wait_for("Jeton révoqué : camille").await;
    browser.wait_for("révoqué le ").await;
}
