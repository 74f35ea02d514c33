//! An interview coded against the codebook, and an open survey's printed
//! notice with its QR code, in a real browser (headless Chromium over
//! WebDriver, as `console_browser.rs`): a refusal comes back next to its
//! field with every box ticked and every choice kept, and these pages and
//! the coded diagnostic form have no WCAG 2.1 A/AA violation (axe-core).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use std::time::Duration;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::browser::Browser;
use web::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interview_is_coded_in_the_browser_and_a_survey_notice_carries_its_qr_code() {
    let site = Site::start_with(|options| {
        options.public_url = Some("https://maillage.example.org".into());
    })
    .await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let code = |kind: pb::CodeKind, label: &str| {
        let request = pb::DefineCodeRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            kind: kind as i32,
            label: label.into(),
            ..Default::default()
        };
        let mut engagement = engagement.clone();
        async move {
            engagement
                .define_code(request)
                .await
                .unwrap()
                .into_inner()
                .id
        }
    };
    let motivation = code(pb::CodeKind::Motivation, "Rompre l'isolement").await;
    let expectation = code(pb::CodeKind::Expectation, "Des horaires le soir").await;
    code(pb::CodeKind::Priority, "Un fablab").await;
    code(pb::CodeKind::Need, "Un local plus grand").await;
    let survey = common::open_free_text_survey(&mut engagement).await;

    let token = site.token("alice", &[Role::Facilitator]);
    let browser = Browser::start().await;
    browser.sign_in(&site.url, &token).await;
    browser
        .goto(&format!("{}/entretiens/nouveau", site.url))
        .await;
    browser.wait_for("Motivations codées").await;
    browser
        .click(&format!("select#survey_id option[value=\"{survey}\"]"))
        .await;
    browser
        .click(&format!(
            "input[name=\"motivation_codes\"][value=\"{motivation}\"]"
        ))
        .await;
    browser
        .click(&format!(
            "input[name=\"expectation_codes\"][value=\"{expectation}\"]"
        ))
        .await;
    browser.fill("#notes", "Rencontrée au marché").await;
    // Nobody named: refused next to the stakeholder field, nothing lost.
    browser
        .click("form[method=\"post\"][action=\"/entretiens/nouveau\"] button[type=submit]")
        .await;
    let page = browser.wait_for("subject.stakeholder_id-erreur").await;
    for code in [&motivation, &expectation] {
        assert!(
            page.contains(&format!("value=\"{code}\" checked")),
            "{page}"
        );
    }
    assert_eq!(browser.value("#survey_id").await, survey);
    assert_eq!(browser.value("#notes").await, "Rencontrée au marché");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    // An anonymous inhabitant of Amboise: recorded.
    browser
        .click("select#subject\\.anonymous\\.audience option[value=\"ENGAGEMENT_AUDIENCE_POPULATION\"]")
        .await;
    browser
        .fill("#subject\\.anonymous\\.commune_code", "37003")
        .await;
    browser
        .click("form[method=\"post\"][action=\"/entretiens/nouveau\"] button[type=submit]")
        .await;
    browser.wait_for("entretien(s)").await;
    assert!(browser.url().await.ends_with("/entretiens"));
    let mut projections =
        pb::projections_client::ProjectionsClient::new(site.platform.channel().await);
    let mut listed = Vec::new();
    for _ in 0..100 {
        listed = projections
            .list_interviews(pb::InterviewListRequest::default())
            .await
            .unwrap()
            .into_inner()
            .items;
        if !listed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recorded = engagement
        .get_interview(pb::GetInterviewRequest {
            interview_id: listed[0].interview_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            recorded.survey_id.as_str(),
            &recorded.motivation_codes[..],
            &recorded.expectation_codes[..]
        ),
        (survey.as_str(), &[motivation][..], &[expectation][..])
    );

    // The survey's printed notice: its public link under the public URL,
    // and that link as a QR code, inline, with a French text alternative.
    browser
        .goto(&format!("{}/enquetes/{survey}/affiche", site.url))
        .await;
    let page = browser.wait_for("scannez ce QR code").await;
    let link = format!("https://maillage.example.org/enquete/{survey}");
    assert!(
        page.contains(&format!("<p class=\"poster-link\">{link}</p>")),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<div class=\"qr\" role=\"img\" aria-label=\"QR code menant au questionnaire, à l'adresse {link}\"><svg aria-hidden=\"true\" focusable=\"false\""
        )),
        "{page}"
    );
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");

    // The diagnostic form's coded findings: checkboxes, and a rank per priority.
    browser
        .goto(&format!("{}/diagnostics/nouveau", site.url))
        .await;
    browser.wait_for("Priorités codées").await;
    browser.wait_for("Besoins codés").await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    browser.close().await;
}
