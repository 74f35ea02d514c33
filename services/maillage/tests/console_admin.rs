//! The console's administration page over plain HTTP (no browser), against a
//! real platform in a temp directory: admin only, the tokens listed without
//! their secret, a token added (shown once, then it signs in) and revoked
//! (then it signs in no more), CSRF, and refusals shown next to their field.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use maillage_service_kit::Role;
use web::{encode, get, hidden, post, Site};

/// A form's fields (name, value).
type Form<'a> = &'a [(&'a str, &'a str)];

/// The value of the read-only input `id` (the token shown once).
fn shown_token(html: &str) -> String {
    let start = html.find("id=\"jeton\"").expect("the new token's field");
    let value = &html[start..];
    let value = &value[value.find("value=\"").unwrap() + 7..];
    value[..value.find('"').unwrap()].to_owned()
}

/// Signs in with `token` over plain HTTP; the status of the answer.
async fn sign_in_status(site: &Site, token: &str) -> u16 {
    let page = get(&format!("{}/connexion", site.url), None).await;
    let form = encode(&[("csrf", &hidden(&page.body, "csrf")), ("token", token)]);
    post(&format!("{}/connexion", site.url), None, &form)
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_sees_the_page_and_its_menu_entry() {
    let site = Site::start().await;
    for path in ["/administration"] {
        let reply = get(&format!("{}{path}", site.url), None).await;
        assert_eq!(reply.status, 303, "signed out: {path}");
        assert!(reply.header("location").unwrap().starts_with("/connexion"));
    }
    let admin_token = site.token("root", &[Role::Admin]);
    let admin = site.sign_in(&admin_token).await;
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("href=\"/administration\" aria-current=\"page\""));
    // root, the platform's own admin and the survey page's respondent.
    assert!(page.body.contains("<h2>Jetons (3)</h2>"), "{}", page.body);
    assert!(page.body.contains("<td>root</td><td>admin</td>"));
    assert!(!page.body.contains(&admin_token), "never a secret");
    assert!(page.body.contains("Santé des services"));
    assert!(
        page.body
            .contains("<code>maillage.v1.Stakeholders</code></td><td>en service</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Points de reprise par journal"));
    assert!(
        page.body
            .contains("<dt>Consommateur</dt><dd>en marche</dd>"),
        "{}",
        page.body
    );
    for (principal, role) in [("ana", Role::Analyst), ("alice", Role::Facilitator)] {
        let cookie = site.sign_in(&site.token(principal, &[role])).await;
        let other = get(&format!("{}/acteurs", site.url), Some(&cookie)).await;
        assert_eq!(other.status, 200);
        assert!(
            !other.body.contains("href=\"/administration\""),
            "{principal}"
        );
        let refused = get(&format!("{}/administration", site.url), Some(&cookie)).await;
        assert_eq!(refused.status, 403, "{principal}");
        assert!(refused.body.contains("Accès refusé"));
        // Their forms are refused too, and add nothing.
        let form = encode(&[
            ("csrf", &hidden(&other.body, "csrf")),
            ("principal", "intrus"),
            ("roles", "admin"),
        ]);
        let reply = post(
            &format!("{}/administration/jetons", site.url),
            Some(&cookie),
            &form,
        )
        .await;
        assert_eq!(reply.status, 403, "{principal}");
    }
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    assert!(page.body.contains("<h2>Jetons (5)</h2>"), "{}", page.body);
    assert!(!page.body.contains("intrus"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_token_is_shown_once_signs_in_and_once_revoked_signs_in_no_more() {
    let site = Site::start().await;
    let admin = site.sign_in(&site.token("root", &[Role::Admin])).await;
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    let csrf = hidden(&page.body, "csrf");
    let form = encode(&[
        ("csrf", &csrf),
        ("principal", "camille"),
        ("roles", "facilitator"),
        ("roles", "analyst"),
        ("expires_at", "30"),
    ]);
    let added = post(
        &format!("{}/administration/jetons", site.url),
        Some(&admin),
        &form,
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("Copiez ce jeton maintenant"));
    let token = shown_token(&added.body);
    assert!(token.starts_with("mlg_"), "{token}");
    // Listed, with an expiry, but never shown again.
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    assert!(
        page.body
            .contains("<td>camille</td><td>analyst, facilitator</td>")
            || page
                .body
                .contains("<td>camille</td><td>facilitator, analyst</td>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&token), "shown once only");
    let row = &page.body[page.body.find("<td>camille</td>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(!row.contains("<td>jamais</td>"), "it expires: {row}");
    // It signs in, with its roles.
    let camille = site.sign_in(&token).await;
    let territory = get(&format!("{}/territoire", site.url), Some(&camille)).await;
    assert_eq!(territory.status, 200);
    // Its row's form asks for a confirmation first: nothing is revoked yet.
    let prefix = hidden(row, "hash_prefix");
    assert_eq!(prefix.len(), 12, "{prefix}");
    let asked = post(
        &format!("{}/administration/jetons/revoquer", site.url),
        Some(&admin),
        &encode(&[("csrf", &csrf), ("hash_prefix", &prefix)]),
    )
    .await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("Révoquer un jeton ?"), "{}", asked.body);
    assert!(asked.body.contains("name=\"confirm\" value=\"oui\""));
    assert_eq!(sign_in_status(&site, &token).await, 303, "not revoked yet");
    // Confirmed, it signs in no more.
    let revoked = post(
        &format!("{}/administration/jetons/revoquer", site.url),
        Some(&admin),
        &encode(&[
            ("csrf", &hidden(&asked.body, "csrf")),
            ("hash_prefix", &prefix),
            ("confirm", "oui"),
        ]),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert!(
        revoked
            .body
            .contains(&format!("Jeton révoqué : camille ({prefix})")),
        "{}",
        revoked.body
    );
    // Still listed, as revoked, with no revoke form.
    let row = &revoked.body[revoked.body.find("<td>camille</td>").expect("still listed")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<strong>révoqué le "), "{row}");
    assert!(!row.contains("hash_prefix"), "{row}");
    assert_eq!(sign_in_status(&site, &token).await, 401);
    // Its open session ends at its next call to the services.
    let register = get(&format!("{}/acteurs", site.url), Some(&camille)).await;
    assert_eq!(register.status, 303, "{}", register.body);
    // The admin's own token is untouched.
    assert!(revoked.body.contains("<td>root</td>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let site = Site::start().await;
    let admin = site.sign_in(&site.token("root", &[Role::Admin])).await;
    let victim = site.token("alice", &[Role::Facilitator]);
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    let row = &page.body[page.body.find("<td>alice</td>").unwrap()..];
    let prefix = hidden(row, "hash_prefix");
    for csrf in [None, Some("not-the-token")] {
        let mut add = vec![("principal", "mallory"), ("roles", "admin")];
        let mut revoke = vec![("hash_prefix", prefix.as_str()), ("confirm", "oui")];
        if let Some(csrf) = csrf {
            add.push(("csrf", csrf));
            revoke.push(("csrf", csrf));
        }
        let reply = post(
            &format!("{}/administration/jetons", site.url),
            Some(&admin),
            &encode(&add),
        )
        .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(!reply.body.contains("mlg_"));
        let reply = post(
            &format!("{}/administration/jetons/revoquer", site.url),
            Some(&admin),
            &encode(&revoke),
        )
        .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
    }
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    assert!(page.body.contains("<h2>Jetons (4)</h2>"), "{}", page.body);
    assert!(!page.body.contains("mallory"));
    assert_eq!(sign_in_status(&site, &victim).await, 303, "still valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_shows_the_message_next_to_its_field_and_keeps_what_was_typed() {
    let site = Site::start().await;
    let admin = site.sign_in(&site.token("root", &[Role::Admin])).await;
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    let csrf = hidden(&page.body, "csrf");
    let cases: [(Form, &str, &str); 3] = [
        (
            &[("principal", ""), ("roles", "auditor"), ("expires_at", "7")],
            "principal",
            "Nom invalide : de 1 à 128 caractères",
        ),
        (
            &[("principal", "dominique"), ("expires_at", "7")],
            "roles",
            "au moins un rôle",
        ),
        (
            &[
                ("principal", "dominique"),
                ("roles", "auditor"),
                ("expires_at", "-3"),
            ],
            "expires_at",
            "nombre entier de jours",
        ),
    ];
    for (pairs, field, message) in cases {
        let mut pairs = pairs.to_vec();
        pairs.push(("csrf", &csrf));
        let reply = post(
            &format!("{}/administration/jetons", site.url),
            Some(&admin),
            &encode(&pairs),
        )
        .await;
        assert_eq!(reply.status, 422, "{field}: {}", reply.body);
        let error = format!("<p class=\"error\" id=\"{field}-erreur\">");
        let at = reply
            .body
            .find(&error)
            .unwrap_or_else(|| panic!("{field}: {}", reply.body));
        assert!(
            reply.body[at..].contains(message),
            "{field}: {}",
            reply.body
        );
        assert!(!reply.body.contains("Copiez ce jeton"));
        // What was typed is kept.
        if field != "principal" {
            assert!(reply.body.contains("value=\"dominique\""), "{field}");
        }
        if field != "roles" {
            assert!(
                reply.body.contains("value=\"auditor\" checked"),
                "{field}: {}",
                reply.body
            );
        }
    }
    let page = get(&format!("{}/administration", site.url), Some(&admin)).await;
    assert!(
        page.body.contains("<h2>Jetons (3)</h2>"),
        "nothing added: {}",
        page.body
    );
}
