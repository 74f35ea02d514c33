//! The console's contact form over plain HTTP (no browser), against a real
//! platform in a temp directory: it offers the programme's axes in use (not
//! the retired), a contact logged with one is tagged with it, and an axis
//! the service refuses is shown next to the axes with what was typed kept.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Site};

fn rid() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_form_offers_the_programmes_axes_and_tags_the_contact() {
    let site = Site::start().await;
    let channel = site.platform.channel().await;
    let mut engagement = pb::engagement_client::EngagementClient::new(channel.clone());
    let mut stakeholders = pb::stakeholders_client::StakeholdersClient::new(channel);
    let define = |name: &str| pb::DefineProgrammeAxisRequest {
        request_id: rid(),
        name: name.into(),
        ..Default::default()
    };
    let inform = engagement
        .define_programme_axis(define("Sensibiliser et informer"))
        .await
        .unwrap()
        .into_inner()
        .id;
    let old = engagement
        .define_programme_axis(define("Ancien axe"))
        .await
        .unwrap()
        .into_inner()
        .id;
    engagement
        .retire_programme_axis(pb::RetireProgrammeAxisRequest {
            request_id: rid(),
            axis_id: old.clone(),
            reason: "fusionné".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let elue = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(pb::PersonProfile {
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "37063".into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id;

    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let form = get(&format!("{}/contacts/nouveau", site.url), Some(&alice)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body
            .contains(&format!("name=\"axis_ids\" value=\"{inform}\"")),
        "the axis in use is offered: {}",
        form.body
    );
    assert!(!form.body.contains(&old), "the retired axis is not offered");

    let send = |axis: &str| {
        encode(&[
            ("csrf", &hidden(&form.body, "csrf")),
            ("request_id", &rid()),
            ("participant_ids", &elue),
            ("channel", "INTERACTION_CHANNEL_PHONE"),
            ("direction", "INTERACTION_DIRECTION_OUTBOUND"),
            ("occurred_at", "2026-03-02T10:00"),
            ("subject", "Le projet de tiers-lieu"),
            ("axis_ids", axis),
        ])
    };
    // An axis the service does not know: refused next to the axes.
    let url = format!("{}/contacts/nouveau", site.url);
    let refused = post(&url, Some(&alice), &send(&rid())).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"axis_ids-erreur\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Le projet de tiers-lieu"), "kept");

    let logged = post(&url, Some(&alice), &send(&inform)).await;
    assert_eq!(logged.status, 303, "{}", logged.body);
    let id = logged
        .header("location")
        .unwrap()
        .strip_prefix("/contacts/")
        .unwrap()
        .to_owned();
    let contact = stakeholders
        .get_interaction(pb::GetInteractionRequest { interaction_id: id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(contact.axis_ids, vec![inform]);
}
