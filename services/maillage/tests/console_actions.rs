//! The console's *Actions*, *Entretiens* and *Diagnostics* pages over plain
//! HTTP (no browser), against a real platform in a temp directory: a
//! roundtable planned, scheduled, invited, answered, held, attended and
//! reported; an approval by a designated officer; an interview and a
//! diagnostic recorded and listed; the services' refusals next to their
//! field with what was typed kept; forged forms and other roles refused.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use std::time::{Duration, SystemTime};

use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Reply, Site};

/// Registers an élue of Château-Renault as the admin, over gRPC; returns her id.
async fn register(site: &Site, given: &str, family: &str) -> String {
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
                ..Default::default()
            }),
            mandates: Vec::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

/// Registers a tiers-lieu of Château-Renault as the admin; returns its id.
async fn register_tiers_lieu(site: &Site, name: &str) -> String {
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    stakeholders
        .register_organisation(pb::RegisterOrganisationRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            profile: Some(pb::OrganisationProfile {
                name: name.into(),
                commune_code: "37063".into(),
                siren: String::new(),
                details: Some(pb::organisation_profile::Details::TiersLieu(
                    pb::TiersLieuDetails {
                        typologies: vec![pb::TiersLieuTypology::Coworking as i32],
                        status: pb::TiersLieuStatus::Project as i32,
                    },
                )),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

/// `datetime-local` text for now plus `hours` (negative: in the past), UTC.
fn at(hours: i64) -> String {
    let now = SystemTime::now();
    let then = if hours < 0 {
        now - Duration::from_secs(hours.unsigned_abs() * 3600)
    } else {
        now + Duration::from_secs(hours.unsigned_abs() * 3600)
    };
    jiff::Timestamp::try_from(then)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Opens the form at `path`, then posts it with its hidden fields (csrf,
/// request id, version) and `pairs`.
async fn submit(site: &Site, cookie: &str, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let page = get(&format!("{}{path}", site.url), Some(cookie)).await;
    assert_eq!(page.status, 200, "{path}: {}", page.body);
    let mut form: Vec<(String, String)> = ["csrf", "request_id", "version"]
        .into_iter()
        .filter(|name| page.body.contains(&format!("name=\"{name}\" value=\"")))
        .map(|name| (name.to_owned(), hidden(&page.body, name)))
        .collect();
    form.extend(
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    let pairs: Vec<(&str, &str)> = form
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let action = path.split('?').next().unwrap();
    post(
        &format!("{}{action}", site.url),
        Some(cookie),
        &encode(&pairs),
    )
    .await
}

/// Submits a step of the action `id` and expects to be sent back to its page.
async fn step(site: &Site, cookie: &str, id: &str, slug: &str, pairs: &[(&str, &str)]) {
    let reply = submit(site, cookie, &format!("/actions/{id}/{slug}"), pairs).await;
    assert_eq!(reply.status, 303, "{slug}: {}", reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("/actions/{id}").as_str())
    );
}

/// The page at `path` once it shows `text` (lists come from the
/// projections, which apply what was recorded a moment later).
async fn eventually(site: &Site, cookie: &str, path: &str, text: &str) -> Reply {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = get(&format!("{}{path}", site.url), Some(cookie)).await;
        if page.body.contains(text) {
            return page;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never showed {text:?}: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Plans a roundtable in Château-Renault as `cookie`; returns its id.
async fn plan(site: &Site, cookie: &str, title: &str) -> String {
    let reply = submit(
        site,
        cookie,
        "/actions/nouvelle",
        &[
            ("kind", "ACTION_KIND_ROUNDTABLE"),
            ("title", title),
            ("topics", "THEME_TELEWORK"),
            ("audiences", "ENGAGEMENT_AUDIENCE_ELUS"),
            ("audiences", "ENGAGEMENT_AUDIENCE_BUSINESSES"),
            ("venue.commune_code", "37063"),
        ],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    reply
        .header("location")
        .unwrap()
        .strip_prefix("/actions/")
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roundtable_is_planned_scheduled_held_attended_and_reported() {
    let site = Site::start().await;
    let eliane = register(&site, "Éliane", "Martin").await;
    let paul = register(&site, "Paul", "Bernard").await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let list = get(&format!("{}/actions", site.url), Some(&alice)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list
        .body
        .contains("href=\"/actions\" aria-current=\"page\""));
    assert!(list.body.contains("<h2>0 action(s)</h2>"), "{}", list.body);

    let id = plan(&site, &alice, "Table ronde du télétravail").await;
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(
        page.body.contains("<h1>Table ronde du télétravail</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<strong>Prévue</strong>"));
    assert!(page.body.contains("Élu·es, Entreprises"));
    assert!(page
        .body
        .contains(&format!("href=\"/actions/{id}/programmer\"")));

    // Scheduled yesterday, so that it can be held now.
    step(
        &site,
        &alice,
        &id,
        "programmer",
        &[("starts_at", &at(-26)), ("ends_at", &at(-24))],
    )
    .await;
    // Invitees picked by a search of the register.
    let search = get(
        &format!("{}/actions/{id}/inviter?nom=Martin", site.url),
        Some(&alice),
    )
    .await;
    assert!(
        search
            .body
            .contains(&format!("href=\"/actions/{id}/inviter?avec={eliane}\"")),
        "{}",
        search.body
    );
    let picked = format!("/actions/{id}/inviter?avec={eliane}&avec={paul}");
    let form = get(&format!("{}{picked}", site.url), Some(&alice)).await;
    assert!(
        form.body.contains("<li>Éliane Martin</li>"),
        "{}",
        form.body
    );
    assert!(form.body.contains(&format!("value=\"{eliane} {paul}\"")));
    let both = format!("{eliane} {paul}");
    let reply = submit(&site, &alice, &picked, &[("stakeholder_ids", &both)]).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    step(
        &site,
        &alice,
        &id,
        "reponse",
        &[
            ("stakeholder_id", &eliane),
            ("answer", "ACTION_INVITATION_ANSWER_ACCEPTED"),
        ],
    )
    .await;
    step(&site, &alice, &id, "tenue", &[]).await;
    step(
        &site,
        &alice,
        &id,
        "presences",
        &[
            ("attendee_ids", &eliane),
            ("head_counts[0].audience", "ENGAGEMENT_AUDIENCE_BUSINESSES"),
            ("head_counts[0].count", "7"),
        ],
    )
    .await;
    step(
        &site,
        &alice,
        &id,
        "compte-rendu",
        &[
            ("minutes.summary", "Un tiers-lieu au centre-bourg."),
            ("minutes.key_points", "Coworking\n\nFablab\n"),
        ],
    )
    .await;
    step(
        &site,
        &alice,
        &id,
        "resultats",
        &[
            ("outcomes[0].proposal", "Ouvrir un espace de coworking"),
            ("outcomes[0].topic", "THEME_TELEWORK"),
        ],
    )
    .await;

    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    for expected in [
        "<strong>Compte rendu publié</strong>",
        "<h2>Invitations (2)</h2>",
        "Éliane Martin</a></th><td>Accepte</td>",
        "Paul Bernard</a></th><td>Pas encore de réponse</td>",
        "Présent·es nommé·es (1)",
        "<li>Entreprises : 7</li>",
        "<p>Un tiers-lieu au centre-bourg.</p>",
        "<li>Coworking</li><li>Fablab</li>",
        "<li>Ouvrir un espace de coworking (Télétravail)</li>",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert!(
        !page.body.contains(&format!("/actions/{id}/annuler")),
        "a held action is not cancelled"
    );
    let list = eventually(&site, &alice, "/actions", "<td>Compte rendu publié</td>").await;
    assert!(list.body.contains("<h2>1 action(s)</h2>"), "{}", list.body);
    assert!(list.body.contains("Table ronde du télétravail</a>"));
    // By status: none cancelled.
    let cancelled = get(
        &format!("{}/actions?statut=ACTION_STATUS_CANCELLED", site.url),
        Some(&alice),
    )
    .await;
    assert!(cancelled.body.contains("<h2>0 action(s)</h2>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_shown_next_to_its_field_with_what_was_typed() {
    let site = Site::start().await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    // No audience: the service names `audiences`.
    let reply = submit(
        &site,
        &alice,
        "/actions/nouvelle",
        &[
            ("kind", "ACTION_KIND_ROUNDTABLE"),
            ("title", "Atelier sans public"),
            ("description", "Deux lignes\nde description"),
            ("topics", "THEME_TELEWORK"),
            ("venue.commune_code", "37063"),
        ],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"audiences-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("value=\"Atelier sans public\""));
    assert!(reply
        .body
        .contains("Deux lignes\nde description</textarea>"));
    assert!(reply.body.contains("value=\"THEME_TELEWORK\" checked"));
    assert!(reply
        .body
        .contains("value=\"ACTION_KIND_ROUNDTABLE\" selected"));
    let list = get(&format!("{}/actions", site.url), Some(&alice)).await;
    assert!(
        list.body.contains("<h2>0 action(s)</h2>"),
        "nothing planned"
    );

    // An end before the start: next to `ends_at`, both dates kept.
    let id = plan(&site, &alice, "Table ronde").await;
    let (starts, ends) = (at(48), at(47));
    let reply = submit(
        &site,
        &alice,
        &format!("/actions/{id}/programmer"),
        &[("starts_at", &starts), ("ends_at", &ends)],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    // The service's French wording (issue 13), next to the field it names.
    assert!(
        reply
            .body
            .contains("id=\"ends_at-erreur\">La fin doit être après le début.</p>"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(&format!("value=\"{starts}\"")));
    assert!(reply.body.contains(&format!("value=\"{ends}\"")));
    // Held before it was scheduled: the service's refusal, at the top.
    let reply = submit(&site, &alice, &format!("/actions/{id}/tenue"), &[]).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply
            .body
            .contains("pas encore programmée : programmez-la d"),
        "{}",
        reply.body
    );
    // Cancelling needs a reason.
    let reply = submit(
        &site,
        &alice,
        &format!("/actions/{id}/annuler"),
        &[("reason", " ")],
    )
    .await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.body.contains("id=\"reason-erreur\""),
        "{}",
        reply.body
    );
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(page.body.contains("<strong>Prévue</strong>"), "unchanged");

    // An interview in the future: next to its date; the notes kept.
    let reply = submit(
        &site,
        &alice,
        "/entretiens/nouveau",
        &[
            (
                "subject.anonymous.audience",
                "ENGAGEMENT_AUDIENCE_POPULATION",
            ),
            ("subject.anonymous.commune_code", "37063"),
            ("conducted_at", &at(72)),
            ("notes", "Souhaite un lieu près de la gare."),
        ],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("id=\"conducted_at-erreur\""),
        "{}",
        reply.body
    );
    assert!(reply
        .body
        .contains("Souhaite un lieu près de la gare.</textarea>"));
    // A person is no tiers-lieu: a rule the service names the field of
    // (`FAILED_PRECONDITION` "tiers_lieu_id: …"), shown next to it.
    let person = register(&site, "Jeanne", "Roux").await;
    let reply = submit(
        &site,
        &alice,
        "/diagnostics/nouveau",
        &[
            ("tiers_lieu_id", &person),
            ("conducted_at", &at(-1)),
            ("findings.needs", "Une imprimante 3D"),
        ],
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains(&format!(
            "id=\"tiers_lieu_id-erreur\">L&#39;acteur {person} est une personne : il faut ici \
             un tiers-lieu.</p>"
        )),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(&format!("value=\"{person}\"")));
    assert!(reply.body.contains("Une imprimante 3D</textarea>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_designated_officer_approves_a_thematic_workshop_others_cannot() {
    let site = Site::start().await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let axis = engagement
        .define_programme_axis(pb::DefineProgrammeAxisRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            name: "Concerter".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    engagement
        .designate_programme_officer(pb::DesignateProgrammeOfficerRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            principal: "bruno".into(),
            title: "DGS".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let bruno = site
        .sign_in(&site.token("bruno", &[Role::Facilitator]))
        .await;
    let form = get(&format!("{}/actions/nouvelle", site.url), Some(&alice)).await;
    assert!(form.body.contains("Concerter"), "the axes are offered");
    let reply = submit(
        &site,
        &alice,
        "/actions/nouvelle",
        &[
            ("kind", "ACTION_KIND_THEMATIC_WORKSHOP"),
            ("title", "Atelier tiers-lieux"),
            ("topics", "THEME_QUELS_TLA"),
            ("audiences", "ENGAGEMENT_AUDIENCE_POPULATION"),
            ("venue.online", "true"),
            ("axis_ids", &axis),
        ],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let id = reply
        .header("location")
        .unwrap()
        .strip_prefix("/actions/")
        .unwrap()
        .to_owned();
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(page.body.contains("à approuver"), "{}", page.body);
    assert!(page.body.contains("en ligne"));
    assert!(!page.body.contains(&format!("/actions/{id}/programmer\"")));
    // Alice is no officer: refused, nothing approved.
    let reply = submit(&site, &alice, &format!("/actions/{id}/approuver"), &[]).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply
            .body
            .contains("Seul un responsable désigné pour le programme"),
        "{}",
        reply.body
    );
    // Bruno sends it back without a reason: refused next to it.
    let reply = submit(&site, &bruno, &format!("/actions/{id}/renvoyer"), &[]).await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.body.contains("id=\"reason-erreur\""),
        "{}",
        reply.body
    );
    step(
        &site,
        &bruno,
        &id,
        "renvoyer",
        &[("reason", "Préciser le public")],
    )
    .await;
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(
        page.body
            .contains("renvoyée — motif du renvoi : Préciser le public"),
        "{}",
        page.body
    );
    step(&site, &bruno, &id, "approuver", &[("note", "Vu en comité")]).await;
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(page.body.contains("approuvée par bruno"), "{}", page.body);
    assert!(page.body.contains(&format!("/actions/{id}/programmer\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interviews_and_diagnostics_are_recorded_and_listed() {
    let site = Site::start().await;
    let eliane = register(&site, "Éliane", "Martin").await;
    let fabrique = register_tiers_lieu(&site, "La Fabrique").await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let form = get(
        &format!("{}/entretiens/nouveau?nom=Martin", site.url),
        Some(&alice),
    )
    .await;
    assert!(
        form.body
            .contains(&format!("href=\"/entretiens/nouveau?avec={eliane}\"")),
        "{}",
        form.body
    );
    let reply = submit(
        &site,
        &alice,
        &format!("/entretiens/nouveau?avec={eliane}"),
        &[
            ("subject.stakeholder_id", &eliane),
            ("conducted_at", &at(-2)),
            ("topics", "THEME_TELEWORK"),
            ("motivations", "Travailler près de chez soi"),
            ("notes", "Confidentiel : santé du conjoint."),
        ],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(reply.header("location"), Some("/entretiens"));
    let list = eventually(&site, &alice, "/entretiens", "<h2>1 entretien(s)</h2>").await;
    assert!(list.body.contains("Éliane Martin</a>"));
    assert!(list.body.contains("<td>alice</td><td>Télétravail</td>"));
    assert!(!list.body.contains("Confidentiel"), "notes stay sealed");

    let form = get(
        &format!("{}/diagnostics/nouveau?nom=Fabrique", site.url),
        Some(&alice),
    )
    .await;
    assert!(
        form.body
            .contains(&format!("href=\"/diagnostics/nouveau?avec={fabrique}\"")),
        "{}",
        form.body
    );
    let reply = submit(
        &site,
        &alice,
        &format!("/diagnostics/nouveau?avec={fabrique}"),
        &[
            ("tiers_lieu_id", &fabrique),
            ("conducted_at", &at(-3)),
            ("findings.development_priorities", "Coworking\nFablab"),
            ("findings.needs", "Une imprimante 3D"),
        ],
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let list = eventually(&site, &alice, "/diagnostics", "<h2>1 diagnostic(s)</h2>").await;
    assert!(list
        .body
        .contains("La Fabrique</a></td><td>alice</td><td>2</td><td>0</td>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_forms_and_other_roles_are_refused_and_nothing_is_written() {
    let site = Site::start().await;
    let alice = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let plan = encode(&[
        ("kind", "ACTION_KIND_ROUNDTABLE"),
        ("title", "Forgée"),
        ("topics", "THEME_TELEWORK"),
        ("audiences", "ENGAGEMENT_AUDIENCE_ELUS"),
        ("venue.commune_code", "37063"),
    ]);
    for path in [
        "/actions/nouvelle",
        "/entretiens/nouveau",
        "/diagnostics/nouveau",
    ] {
        let reply = post(&format!("{}{path}", site.url), Some(&alice), &plan).await;
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert!(reply.body.contains("a été enregistré"));
    }
    let list = get(&format!("{}/actions", site.url), Some(&alice)).await;
    assert!(list.body.contains("<h2>0 action(s)</h2>"), "{}", list.body);
    // A step without its token: refused, the action unchanged.
    let id = self::plan(&site, &alice, "Table ronde").await;
    let reply = post(
        &format!("{}/actions/{id}/annuler", site.url),
        Some(&alice),
        &encode(&[("reason", "forgée"), ("csrf", "not-the-token")]),
    )
    .await;
    assert_eq!(reply.status, 403);
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(page.body.contains("<strong>Prévue</strong>"));

    // Analysts and auditors see neither the menu entries nor the pages.
    for (principal, role) in [("ana", Role::Analyst), ("odile", Role::Auditor)] {
        let cookie = site.sign_in(&site.token(principal, &[role])).await;
        let other = get(&format!("{}/acteurs", site.url), Some(&cookie)).await;
        assert_eq!(other.status, 200);
        for entry in ["/actions", "/entretiens", "/diagnostics"] {
            assert!(
                !other.body.contains(&format!("href=\"{entry}\"")),
                "{principal}: {entry}"
            );
            let refused = get(&format!("{}{entry}", site.url), Some(&cookie)).await;
            assert_eq!(refused.status, 403, "{principal}: {entry}");
        }
        let refused = get(&format!("{}/actions/{id}", site.url), Some(&cookie)).await;
        assert_eq!(refused.status, 403);
        let reply = post(
            &format!("{}/actions/{id}/annuler", site.url),
            Some(&cookie),
            &encode(&[
                ("reason", "pas mon rôle"),
                ("csrf", &hidden(&other.body, "csrf")),
            ]),
        )
        .await;
        assert_eq!(reply.status, 403, "{principal}");
    }
    let page = get(&format!("{}/actions/{id}", site.url), Some(&alice)).await;
    assert!(
        page.body.contains("<strong>Prévue</strong>"),
        "still planned"
    );
    // Signed out: to the sign-in page.
    for path in [
        "/actions",
        &format!("/actions/{id}/tenue"),
        "/entretiens/nouveau",
    ] {
        let reply = get(&format!("{}{path}", site.url), None).await;
        assert_eq!(reply.status, 303, "{path}");
    }
}
