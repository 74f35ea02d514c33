//! The console's *Actions* in a real browser (headless Chromium over
//! WebDriver, against a real platform in a temp directory): a facilitator
//! plans a roundtable (a refusal first, shown next to its field with what was
//! typed kept), schedules it, invites an élue found by a search of the
//! register, holds it and records the attendance; and the pages of actions,
//! interviews and diagnostics have no serious accessibility violation
//! (axe-core, WCAG 2.1 A/AA). Chromium, chromedriver and axe-core are
//! required: this test fails, never skips, without them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use std::time::{Duration, SystemTime};

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::browser::Browser;
use web::Site;

/// The submit button of the page's main form.
const SUBMIT: &str = "main form[method=post] button[type=submit]";

/// Signs in with `token` in the browser.
async fn sign_in(browser: &Browser, site: &Site, token: &str) {
    browser.goto(&format!("{}/connexion", site.url)).await;
    browser.fill("#token", token).await;
    browser.click(SUBMIT).await;
    browser.wait_for("Se déconnecter").await;
}

/// `datetime-local` text for `hours` ago, UTC.
fn hours_ago(hours: u64) -> String {
    let then = SystemTime::now() - Duration::from_secs(hours * 3600);
    jiff::Timestamp::try_from(then)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Fails on any serious or critical axe-core violation of the page; prints
/// every violation found (the record of docs/architecture.md).
async fn accessible(browser: &Browser, what: &str) {
    let violations = browser.accessibility_violations().await;
    for (rule, impact, nodes, help) in &violations {
        println!("{what}: {rule} ({impact}, {nodes} element(s)): {help}");
    }
    let serious: Vec<_> = violations
        .iter()
        .filter(|(_, impact, _, _)| matches!(impact.as_str(), "serious" | "critical"))
        .collect();
    assert!(serious.is_empty(), "{what}: {serious:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_plans_and_holds_a_roundtable_with_attendance() {
    let site = Box::pin(Site::start()).await;
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Éliane".into(),
                family_name: "Martin".into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "37063".into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap();
    let token = site.token("alice", &[Role::Facilitator]);
    let browser = Browser::start().await;
    sign_in(&browser, &site, &token).await;
    // Each part on the heap: as one future, the walk overflows the test
    // thread's stack in a debug build.
    Box::pin(plan(&browser)).await;
    Box::pin(schedule_invite_hold_and_attend(&browser)).await;
    Box::pin(entry_pages(&browser, &site)).await;
    browser.close().await;
}

/// From the menu, plans a roundtable: refused first (no audience), then planned.
async fn plan(browser: &Browser) {
    browser.click("nav a[href=\"/actions\"]").await;
    browser.wait_for("action(s)</h2>").await;
    accessible(browser, "/actions").await;
    browser.click("a[href=\"/actions/nouvelle\"]").await;
    browser.wait_for("Prévoir l'action").await;
    accessible(browser, "/actions/nouvelle").await;
    browser
        .click("option[value=\"ACTION_KIND_ROUNDTABLE\"]")
        .await;
    browser
        .fill("[name=\"title\"]", "Table ronde des élus")
        .await;
    browser
        .click("input[name=\"topics\"][value=\"THEME_TELEWORK\"]")
        .await;
    browser.fill("[name=\"venue.commune_code\"]", "37063").await;
    browser.click(SUBMIT).await;
    // No audience: the service's refusal next to it, the rest kept.
    browser.wait_for("id=\"audiences-erreur\"").await;
    accessible(browser, "/actions/nouvelle (refused)").await;
    assert_eq!(
        browser.value("[name=\"title\"]").await,
        "Table ronde des élus"
    );
    assert_eq!(
        browser.value("[name=\"kind\"]").await,
        "ACTION_KIND_ROUNDTABLE"
    );
    browser
        .click("input[name=\"audiences\"][value=\"ENGAGEMENT_AUDIENCE_ELUS\"]")
        .await;
    browser.click(SUBMIT).await;
    browser.wait_for("<strong>Prévue</strong>").await;
}

/// From the action's page: schedules it (in the past hours), invites the
/// élue found by a search, holds it and records who came.
async fn schedule_invite_hold_and_attend(browser: &Browser) {
    let page = browser.url().await;

    browser.click("a[href$=\"/programmer\"]").await;
    browser.wait_for("name=\"starts_at\"").await;
    browser
        .set_value("[name=\"starts_at\"]", &hours_ago(3))
        .await;
    browser.set_value("[name=\"ends_at\"]", &hours_ago(1)).await;
    browser.click(SUBMIT).await;
    browser.wait_for("<strong>Programmée</strong>").await;
    accessible(browser, "/actions/{id}").await;

    browser.click("a[href$=\"/inviter\"]").await;
    browser.wait_for("Chercher dans le registre").await;
    browser.fill("#nom", "Martin").await;
    browser.click("form[role=search] button[type=submit]").await;
    browser.wait_for("choisir</a>").await;
    accessible(browser, "/actions/{id}/inviter?nom=Martin").await;
    browser.click("main li a[href*=\"avec=\"]").await;
    browser.wait_for("<li>Éliane Martin</li>").await;
    browser.click(SUBMIT).await;
    browser.wait_for("Invitations (1)").await;

    browser.click("a[href$=\"/tenue\"]").await;
    browser.wait_for("Marquer comme tenue").await;
    browser.click(SUBMIT).await;
    browser.wait_for("<strong>Tenue</strong>").await;

    browser.click("a[href$=\"/presences\"]").await;
    browser.wait_for("name=\"attendee_ids\"").await;
    accessible(browser, "/actions/{id}/presences").await;
    browser.click("input[name=\"attendee_ids\"]").await;
    browser.fill("[name=\"head_counts[0].count\"]", "4").await;
    browser.click(SUBMIT).await;
    let held = browser.wait_for("Présent·es nommé·es (1)").await;
    assert!(held.contains("<li>Élu·es : 4</li>"), "{held}");
    assert_eq!(browser.url().await, page);
}

/// The interviews' and diagnostics' lists and forms.
async fn entry_pages(browser: &Browser, site: &Site) {
    for (path, marker) in [
        ("/entretiens", "entretien(s)</h2>"),
        ("/entretiens/nouveau", "Enregistrer l'entretien"),
        ("/diagnostics", "diagnostic(s)</h2>"),
        ("/diagnostics/nouveau", "Enregistrer le diagnostic"),
    ] {
        browser.goto(&format!("{}{path}", site.url)).await;
        browser.wait_for(marker).await;
        accessible(browser, path).await;
    }
}
