//! The console's consortium, contact-correction, erasure and token pages
//! over plain HTTP (no browser), against a real platform in a temp
//! directory: a weighted vote recorded ballot by ballot with the service's
//! tally shown after each, a correction shown as such, an erasure that needs
//! its typed confirmation and an admin, a revoked token listed as revoked,
//! and forged forms refused with nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod web;

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Site};

/// Every value of the inputs named `name` of a page, in order.
fn values(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

/// A weight as the page shows it (the same reading as the console's).
fn shown(ratio: Option<&pb::WeightRatio>) -> String {
    let ratio = ratio.unwrap();
    let (numerator, denominator): (u128, u128) = (
        ratio.numerator.parse().unwrap(),
        ratio.denominator.parse().unwrap(),
    );
    if denominator == 1 {
        return numerator.to_string();
    }
    let hundredths = (numerator * 100 + denominator / 2) / denominator;
    format!(
        "{numerator}/{denominator} ≈ {},{:02}",
        hundredths / 100,
        hundredths % 100
    )
}

/// The meeting's view through gRPC (as the platform's admin).
async fn meeting_view(site: &Site, meeting: &str) -> pb::MeetingView {
    pb::governance_client::GovernanceClient::new(site.platform.channel().await)
        .get_meeting(pb::GetMeetingRequest {
            meeting_id: meeting.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secretary_records_a_weighted_vote_ballot_by_ballot_and_sees_the_tally() {
    let site = Site::start().await;
    let (outcome, _, _) = site.platform.demo(2026, 0.05, "report.html").await;
    let consortium = outcome.consortium_id;
    let secretary = site
        .sign_in(&site.token("greffe", &[Role::Secretary]))
        .await;

    // The menu leads to the consortium; its page shows colleges and weights.
    let pick = get(&format!("{}/consortium", site.url), Some(&secretary)).await;
    assert_eq!(pick.status, 200, "{}", pick.body);
    assert!(pick
        .body
        .contains("href=\"/consortium\" aria-current=\"page\""));
    let reply = get(
        &format!("{}/consortium?id={consortium}", site.url),
        Some(&secretary),
    )
    .await;
    assert_eq!(reply.status, 303);
    let page = get(
        &format!("{}/consortium/{consortium}", site.url),
        Some(&secretary),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("<td>Collectivités</td><td><code>collectivites</code></td><td>40</td>"));
    assert!(page.body.contains("Assemblée générale (<code>ag</code>)"));
    assert!(page.body.contains("réservés aux analystes"), "no board");

    // Convening a meeting of the general assembly leads to its page.
    let csrf = hidden(&page.body, "csrf");
    let convened = post(
        &format!("{}/consortium/{consortium}/reunions", site.url),
        Some(&secretary),
        &encode(&[
            ("csrf", &csrf),
            ("request_id", &hidden(&page.body, "request_id")),
            ("body_code", "ag"),
            ("scheduled_at", "2026-10-15T18:00"),
            ("venue.commune_code", "37063"),
            ("venue.place", "La Fabrique"),
            ("agenda", "Budget du réseau\nQuestions diverses"),
        ]),
    )
    .await;
    assert_eq!(convened.status, 303, "{}", convened.body);
    let location = convened.header("location").unwrap().to_owned();
    let meeting = location.trim_start_matches("/reunions/").to_owned();
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("1. Budget du réseau"));

    // Attendance: every admitted member present but one, who gives a proxy.
    let members = values(&page.body, "present_member_ids");
    assert!(members.len() >= 3, "{members:?}");
    let (giver, holder) = (members[members.len() - 1].clone(), members[0].clone());
    let mut pairs = vec![
        ("csrf", csrf.clone()),
        ("request_id", hidden(&page.body, "request_id")),
        ("proxies.giver_id", giver.clone()),
        ("proxies.holder_id", holder.clone()),
    ];
    for member in &members[..members.len() - 1] {
        pairs.push(("present_member_ids", member.clone()));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = post(
        &format!("{}/reunions/{meeting}/presences", site.url),
        Some(&secretary),
        &encode(&pairs),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    assert!(page
        .body
        .contains(&format!("Membres présents ({})", members.len() - 1)));
    // The secretary may not read the register: the members' names come
    // from governance's view, each with its id.
    let view = meeting_view(&site, &meeting).await;
    let name = |id: &str| {
        let named = view
            .member_names
            .iter()
            .find(|named| named.member_id == id)
            .expect("every member named");
        format!("{} ({id})", named.display_name.replace('\'', "&#39;"))
    };
    assert!(
        page.body.contains(&format!(
            "{} représenté par {}",
            name(&giver),
            name(&holder)
        )),
        "{}",
        page.body
    );

    // A vote opens on the first agenda item.
    let reply = post(
        &format!("{}/reunions/{meeting}/resolutions", site.url),
        Some(&secretary),
        &encode(&[
            ("csrf", &csrf),
            ("request_id", &hidden(&page.body, "request_id")),
            ("agenda_item", "1"),
            ("title", "Adoption du budget"),
            ("text", "Le consortium adopte le budget du réseau."),
        ]),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    assert!(page
        .body
        .contains("Point 1 — Adoption du budget (vote ouvert)"));
    assert!(page.body.contains("Décompte pondéré provisoire"));
    let resolution = hidden(&page.body, "resolution_id");

    // Ballot by ballot (the represented member through its proxy holder),
    // the page shows the service's running tally after each.
    for (count, (member, choice)) in [
        (&members[0], "VOTE_CHOICE_FOR"),
        (&members[1], "VOTE_CHOICE_AGAINST"),
        (&giver, "VOTE_CHOICE_FOR"),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = post(
            &format!("{}/reunions/{meeting}/bulletins", site.url),
            Some(&secretary),
            &encode(&[
                ("csrf", &csrf),
                ("request_id", &uuid::Uuid::now_v7().to_string()),
                ("resolution_id", &resolution),
                ("member_id", member),
                ("choice", choice),
            ]),
        )
        .await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
        assert!(
            page.body
                .contains(&format!("<caption>Bulletins ({})</caption>", count + 1)),
            "{}",
            page.body
        );
        let view = meeting_view(&site, &meeting).await;
        let tally = view.resolutions[0].running_tally.clone().unwrap();
        assert_eq!(tally.ballots.len(), count + 1);
        assert!(
            page.body.contains(&format!(
                "<dt>Pour</dt><dd>{} ({} bulletin(s))</dd>",
                shown(tally.votes_for.as_ref()),
                tally.count_for
            )),
            "{}",
            page.body
        );
        assert!(page.body.contains(&format!(
            "<dt>Contre</dt><dd>{} ({} bulletin(s))</dd>",
            shown(tally.votes_against.as_ref()),
            tally.count_against
        )));
    }
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    let proxied = &page.body[page.body.find(&format!(" ({giver})</td>")).unwrap()..];
    assert!(
        proxied[..proxied.find("</tr>").unwrap()].contains(&holder),
        "cast by its proxy holder"
    );

    // A ballot the service refuses shows its message, and nothing is recorded.
    let reply = post(
        &format!("{}/reunions/{meeting}/bulletins", site.url),
        Some(&secretary),
        &encode(&[
            ("csrf", &csrf),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("resolution_id", &resolution),
            ("member_id", ""),
            ("choice", "VOTE_CHOICE_FOR"),
        ]),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("member_id"), "{}", reply.body);
    assert_eq!(
        meeting_view(&site, &meeting).await.resolutions[0]
            .votes
            .len(),
        3
    );

    // Closed, the recorded tally and the outcome.
    let reply = post(
        &format!("{}/reunions/{meeting}/cloture", site.url),
        Some(&secretary),
        &encode(&[
            ("csrf", &csrf),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("resolution_id", &resolution),
        ]),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let view = meeting_view(&site, &meeting).await;
    let outcome = view.resolutions[0].status();
    assert_ne!(outcome, pb::ResolutionStatus::Open);
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    let word = if outcome == pb::ResolutionStatus::Adopted {
        "adoptée"
    } else {
        "rejetée"
    };
    assert!(page.body.contains(&format!("Adoption du budget ({word})")));
    assert!(page.body.contains("<h4>Décompte pondéré</h4>"));
    assert!(!page.body.contains("name=\"member_id\""), "vote closed");

    // Minutes approved: the meeting is closed, its forms are gone.
    let reply = post(
        &format!("{}/reunions/{meeting}/proces-verbal", site.url),
        Some(&secretary),
        &encode(&[
            ("csrf", &csrf),
            ("request_id", &hidden(&page.body, "request_id")),
            ("minutes_uri", "https://archives.example/pv/ag-2026-10.pdf"),
            ("minutes_digest", "sha256:4f2a"),
        ]),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&format!("{}{location}", site.url), Some(&secretary)).await;
    assert!(page
        .body
        .contains("Approuvé : <code>https://archives.example/pv/ag-2026-10.pdf</code>"));
    assert!(!page.body.contains("/presences\""));

    // An analyst reads the meetings and the commitments board, no form.
    let analyst = site.sign_in(&site.token("ana", &[Role::Analyst])).await;
    let page = get(
        &format!("{}/consortium/{consortium}", site.url),
        Some(&analyst),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Tableau des engagements"));
    assert!(!page.body.contains("Convoquer"));
    let refused = post(
        &format!("{}/consortium/{consortium}/reunions", site.url),
        Some(&analyst),
        &encode(&[("csrf", &hidden(&page.body, "csrf")), ("body_code", "ag")]),
    )
    .await;
    assert_eq!(refused.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_consortium_forms_are_refused_and_nothing_is_written() {
    let site = Site::start().await;
    let (outcome, _, _) = site.platform.demo(2026, 0.05, "report.html").await;
    let consortium = outcome.consortium_id;
    let secretary = site
        .sign_in(&site.token("greffe", &[Role::Secretary]))
        .await;
    for csrf in [None, Some("not-the-token")] {
        let mut pairs = vec![
            ("body_code", "ag"),
            ("scheduled_at", "2026-10-15T18:00"),
            ("venue.online", "1"),
            ("agenda", "Point"),
        ];
        if let Some(csrf) = csrf {
            pairs.push(("csrf", csrf));
        }
        let reply = post(
            &format!("{}/consortium/{consortium}/reunions", site.url),
            Some(&secretary),
            &encode(&pairs),
        )
        .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(reply.body.contains("Formulaire refusé"));
    }
    let state = pb::projections_client::ProjectionsClient::new(site.platform.channel().await)
        .get_consortium_state(pb::ConsortiumStateRequest {
            consortium_id: consortium,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(state.meetings.len(), 1, "only the demo's meeting");
}

/// Registers a person and logs a contact with her (gRPC, as the platform's
/// admin); (person id, contact id).
async fn person_with_a_contact(site: &Site) -> (String, String) {
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    let person = stakeholders
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Inès".into(),
                family_name: "Marchal".into(),
                kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                commune_code: "37063".into(),
                email: "ines.marchal@example.org".into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let contact = stakeholders
        .log_interaction(pb::LogInteractionRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            participant_ids: vec![person.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            subject: "Projet de tiers-lieu".into(),
            notes: "Intéressée par un local.".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    (person, contact)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_is_shown_as_such_and_a_stale_one_is_refused() {
    let site = Site::start().await;
    let (_, contact) = person_with_a_contact(&site).await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let url = format!("{}/contacts/{contact}", site.url);
    let page = get(&url, Some(&alice)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Corriger ce contact"));
    let version = hidden(&page.body, "expected_version");
    let form = |reason: &str, subject: &str, version: &str| {
        encode(&[
            ("csrf", &hidden(&page.body, "csrf")),
            ("request_id", &uuid::Uuid::now_v7().to_string()),
            ("expected_version", version),
            ("reason", reason),
            ("channel", ""),
            ("subject", subject),
        ])
    };
    // Without a reason: refused next to its field, what was typed kept.
    let reply = post(
        &format!("{url}/corriger"),
        Some(&alice),
        &form("", "Projet de tiers-lieu à Amboise", &version),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"reason-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply
        .body
        .contains("value=\"Projet de tiers-lieu à Amboise\""));
    let reply = post(
        &format!("{url}/corriger"),
        Some(&alice),
        &form(
            "Commune précisée après appel",
            "Projet de tiers-lieu à Amboise",
            &version,
        ),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let page = get(&url, Some(&alice)).await;
    assert!(page
        .body
        .contains("<dt>Objet</dt><dd>Projet de tiers-lieu à Amboise</dd>"));
    assert!(
        page.body.contains("<h2>Corrections (1)</h2>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("par alice — motif : Commune précisée après appel</h3>"),
        "{}",
        page.body
    );
    // The value it replaced, before and after.
    assert!(
        page.body.contains(
            "<tr><th scope=\"row\">objet</th><td>Projet de tiers-lieu</td><td>Projet de tiers-lieu à Amboise</td></tr>"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("reste au journal"));
    // The same version again: stale, refused, nothing more recorded.
    let reply = post(
        &format!("{url}/corriger"),
        Some(&alice),
        &form("Autre motif", "Autre objet", &version),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let page = get(&url, Some(&alice)).await;
    assert!(page.body.contains("<h2>Corrections (1)</h2>"));
    // An analyst reads the contact, without the form, and may not post it;
    // the subject, before and after, is masked for her.
    let ana = site.sign_in(&site.token("ana", &[Role::Analyst])).await;
    let page = get(&url, Some(&ana)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Corriger ce contact"));
    assert!(!page.body.contains("Projet de tiers-lieu"), "{}", page.body);
    assert!(page.body.contains(
        "<tr><th scope=\"row\">objet</th><td>(masqué pour votre rôle)</td><td>(masqué pour votre rôle)</td></tr>"
    ));
    let reply = post(
        &format!("{url}/corriger"),
        Some(&ana),
        &encode(&[("csrf", &hidden(&page.body, "csrf")), ("reason", "x")]),
    )
    .await;
    assert_eq!(reply.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_needs_an_admin_and_its_typed_confirmation() {
    let site = Site::start().await;
    let (person, _) = person_with_a_contact(&site).await;
    let url = format!("{}/acteurs/{person}", site.url);
    // A facilitator is offered no erasure and is refused it.
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let page = get(&url, Some(&alice)).await;
    assert!(!page.body.contains("/effacer"));
    assert_eq!(
        get(&format!("{url}/effacer"), Some(&alice)).await.status,
        403
    );
    let reply = post(
        &format!("{url}/effacer"),
        Some(&alice),
        &encode(&[
            ("csrf", &hidden(&page.body, "csrf")),
            ("reason", "RGPD"),
            ("confirmation", "EFFACER"),
        ]),
    )
    .await;
    assert_eq!(reply.status, 403);
    // The admin sees what will be erased and the form.
    let root = site.sign_in(&site.token("root", &[Role::Admin])).await;
    let page = get(&url, Some(&root)).await;
    assert!(page
        .body
        .contains(&format!("href=\"/acteurs/{person}/effacer\"")));
    let form = get(&format!("{url}/effacer"), Some(&root)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("Effacer Inès Marchal est définitif"));
    assert!(form.body.contains("Ce qui sera effacé"));
    let submit = |csrf: &str, confirmation: &str| {
        encode(&[
            ("csrf", csrf),
            ("request_id", &hidden(&form.body, "request_id")),
            ("expected_version", &hidden(&form.body, "expected_version")),
            ("reason", "RGPD art. 17, demande 2026-014"),
            ("confirmation", confirmation),
        ])
    };
    let csrf = hidden(&form.body, "csrf");
    // Forged, or not confirmed: refused, nothing erased.
    let forged = post(
        &format!("{url}/effacer"),
        Some(&root),
        &submit("forged", "EFFACER"),
    )
    .await;
    assert_eq!(forged.status, 403);
    let unconfirmed = post(
        &format!("{url}/effacer"),
        Some(&root),
        &submit(&csrf, "oui"),
    )
    .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert!(unconfirmed.body.contains("id=\"confirmation-erreur\""));
    assert!(unconfirmed.body.contains("Tapez EFFACER pour confirmer"));
    let page = get(&url, Some(&root)).await;
    assert!(page.body.contains("Inès"), "not erased yet");
    // Confirmed: erased, and the page says so.
    let erased = post(
        &format!("{url}/effacer"),
        Some(&root),
        &submit(&csrf, "EFFACER"),
    )
    .await;
    assert_eq!(erased.status, 303, "{}", erased.body);
    let page = get(&url, Some(&root)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("personne effacée le "), "{}", page.body);
    assert!(!page.body.contains("Inès") && !page.body.contains("ines.marchal"));
    assert!(!page.body.contains("/effacer"), "no second erasure offered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stays_listed_as_revoked_through_grpc() {
    let site = Site::start().await;
    let mut admin = pb::admin_client::AdminClient::new(site.platform.channel().await);
    let added = admin
        .add_token(pb::AddTokenRequest {
            principal: "camille".into(),
            roles: vec!["facilitator".into()],
            expires_at: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.info.unwrap().revoked_at, None);
    let revoked = admin
        .revoke_token(pb::RevokeTokenRequest {
            principal_or_hash_prefix: "camille".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .revoked;
    assert_eq!(revoked.len(), 1);
    assert!(revoked[0].revoked_at.is_some());
    let listed = admin
        .list_tokens(pb::ListTokensRequest {})
        .await
        .unwrap()
        .into_inner()
        .tokens;
    let camille = listed
        .iter()
        .find(|info| info.principal == "camille")
        .expect("still listed");
    assert_eq!(camille.revoked_at, revoked[0].revoked_at);
    assert!(listed
        .iter()
        .filter(|info| info.principal != "camille")
        .all(|info| info.revoked_at.is_none()));
    // Revoked, it is refused; revoking it again matches nothing.
    let page = get(&format!("{}/connexion", site.url), None).await;
    let form = encode(&[
        ("csrf", &hidden(&page.body, "csrf")),
        ("token", &added.token),
    ]);
    let refused = post(&format!("{}/connexion", site.url), None, &form).await;
    assert_eq!(refused.status, 401, "a revoked token signs in no more");
    let again = admin
        .revoke_token(pb::RevokeTokenRequest {
            principal_or_hash_prefix: "camille".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consortia_are_listed_and_a_secretary_sees_members_by_name_but_no_person() {
    let site = Site::start().await;
    let (outcome, _, _) = site.platform.demo(2026, 0.05, "report.html").await;
    let consortium = outcome.consortium_id;
    let mut governance =
        pb::governance_client::GovernanceClient::new(site.platform.channel().await);
    let mut register =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    // A member gets a representative, a person with a name.
    let before = governance
        .get_consortium(pb::GetConsortiumRequest {
            consortium_id: consortium.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let member = before.colleges[0].members[0].member_id.clone();
    let person = register
        .register_person(pb::RegisterPersonRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::PersonProfile {
                given_name: "Solène".into(),
                family_name: "Vasseur-Klein".into(),
                kinds: vec![pb::PersonKind::BusinessLeader as i32],
                commune_code: "37063".into(),
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut appoint = tonic::Request::new(pb::AppointRepresentativeRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        consortium_id: consortium.clone(),
        expected_version: None,
        member_id: member.clone(),
        person_id: person.id.clone(),
    });
    appoint.metadata_mut().insert(
        "maillage-after",
        format!("stakeholders={}", person.position).parse().unwrap(),
    );
    governance.appoint_representative(appoint).await.unwrap();
    let view = governance
        .get_consortium(pb::GetConsortiumRequest {
            consortium_id: consortium.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    // Every member carries its organisation's name, as the register has it.
    let mut names = Vec::new();
    for member in &view.memberships {
        let organisation = register
            .get_stakeholder(pb::GetStakeholderRequest {
                stakeholder_id: member.member_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .organisation
            .unwrap();
        assert_eq!(member.display_name, organisation.name);
        names.push(organisation.name);
    }
    assert!(!names.is_empty());

    // The secretary (who may not read the register) finds the consortium in
    // the list, then its members by name.
    let secretary = site
        .sign_in(&site.token("greffe", &[Role::Secretary]))
        .await;
    let list = get(&format!("{}/consortium", site.url), Some(&secretary)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body.contains(&format!(
            "<a href=\"/consortium/{consortium}\">{}</a></td><td>{}</td>",
            view.name,
            view.colleges
                .iter()
                .map(|college| college.members.len())
                .sum::<usize>()
        )),
        "{}",
        list.body
    );
    let url = format!("{}/consortium/{consortium}", site.url);
    for (who, cookie) in [
        ("secretary", secretary),
        (
            "analyst",
            site.sign_in(&site.token("ana", &[Role::Analyst])).await,
        ),
    ] {
        let page = get(&url, Some(&cookie)).await;
        assert_eq!(page.status, 200, "{who}: {}", page.body);
        for name in &names {
            let shown = name.replace('\'', "&#39;");
            assert!(
                page.body.contains(&format!("{shown} (")),
                "{who}: {name} missing"
            );
        }
        // The representative is a person: shown by id, never by name.
        assert!(page.body.contains(&person.id), "{who}");
        assert!(!page.body.contains("Vasseur-Klein"), "{who}");
        assert!(!page.body.contains("Solène"), "{who}");
    }
}
