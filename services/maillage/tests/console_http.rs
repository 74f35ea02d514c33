//! The web console over plain HTTP (no browser), against a real platform in
//! a temp directory: what a signed-out visitor reaches, CSRF on every form,
//! failed sign-ins limited per address, sessions ending server-side, and the
//! `respondent` role of the public survey page refused everywhere but there.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;
mod process;
mod web;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use maillage_eventstore::FixedClock;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;
use web::{encode, get, hidden, post, Site};

/// Every page of the console but the public ones.
const PRIVATE: [&str; 12] = [
    "/",
    "/territoire",
    "/territoire/export?format=csv&niveau=epci&code=243700499",
    "/acteurs",
    "/acteurs/nouveau",
    "/acteurs/0190d3a0-0000-7000-8000-000000000000",
    "/contacts/nouveau",
    "/contacts/relances",
    "/audit",
    "/audit/export?niveau=epci&code=243700499",
    "/organisations/nouvelle",
    "/page-qui-n-existe-pas",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_out_visitor_is_sent_to_sign_in_from_every_page_but_the_public_ones() {
    let site = Site::start().await;
    for path in PRIVATE {
        let reply = get(&format!("{}{path}", site.url), None).await;
        assert_eq!(reply.status, 303, "{path}");
        assert!(
            reply.header("location").unwrap().starts_with("/connexion"),
            "{path}: {:?}",
            reply.header("location")
        );
    }
    // A forged session cookie is no session.
    let reply = get(
        &format!("{}/acteurs", site.url),
        Some("maillage_session=forged"),
    )
    .await;
    assert_eq!(reply.status, 303);
    // The sign-in page and the stylesheet are public; so is the survey page.
    let sign_in = get(&format!("{}/connexion", site.url), None).await;
    assert_eq!(sign_in.status, 200);
    assert!(sign_in.body.contains("<html lang=\"fr\">"));
    assert!(sign_in
        .body
        .contains("<label for=\"token\">Jeton personnel</label>"));
    assert_eq!(
        get(&format!("{}/static/console.css", site.url), None)
            .await
            .status,
        200
    );
    let survey = get(
        &format!("{}/enquete/0190d3a0-0000-7000-8000-000000000000", site.url),
        None,
    )
    .await;
    assert_eq!(survey.status, 404, "an unknown survey: {}", survey.body);
    assert!(survey.body.contains("pas ouverte"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_opens_a_server_side_session_with_a_strict_http_only_cookie() {
    let site = Site::start().await;
    let token = site.token("alice", &[Role::Facilitator]);
    let page = get(&format!("{}/connexion", site.url), None).await;
    let csrf = hidden(&page.body, "csrf");
    let form = encode(&[("csrf", &csrf), ("suite", "/acteurs"), ("token", &token)]);
    let reply = post(&format!("{}/connexion", site.url), None, &form).await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/acteurs"));
    let set = reply.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain HTTP here: {set}");
    assert!(!set.contains(&token), "the token never goes to the browser");
    let cookie = web::session_cookie(&reply).unwrap();
    let list = get(&format!("{}/acteurs", site.url), Some(&cookie)).await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("alice"), "the menu names the principal");
    assert_eq!(list.header("cache-control"), Some("no-store"));
    assert!(list
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'none'"));
    assert!(!list.body.contains(&token));
    // A redirect after sign-in stays on the console.
    let form = encode(&[
        ("csrf", &csrf),
        ("suite", "//evil.example/"),
        ("token", &token),
    ]);
    let reply = post(&format!("{}/connexion", site.url), None, &form).await;
    assert_eq!(reply.header("location"), Some("/"));
    // Sign-out ends the session server-side.
    let signed_out = post(
        &format!("{}/deconnexion", site.url),
        Some(&cookie),
        &encode(&[("csrf", &hidden(&list.body, "csrf"))]),
    )
    .await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(
        get(&format!("{}/acteurs", site.url), Some(&cookie))
            .await
            .status,
        303
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_are_marked_secure() {
    let site = Site::start_with(|options| options.secure_cookies = true).await;
    let token = site.token("alice", &[Role::Facilitator]);
    let page = get(&format!("{}/connexion", site.url), None).await;
    let form = encode(&[("csrf", &hidden(&page.body, "csrf")), ("token", &token)]);
    let reply = post(&format!("{}/connexion", site.url), None, &form).await;
    assert!(reply.header("set-cookie").unwrap().contains("; Secure"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_form_without_its_csrf_token_is_refused_and_nothing_is_written() {
    let site = Site::start().await;
    let token = site.token("alice", &[Role::Facilitator]);
    let cookie = site.sign_in(&token).await;
    let person = [
        ("profile.given_name", "Camille"),
        ("profile.family_name", "Forgée"),
        ("profile.kinds", "PERSON_KIND_INHABITANT"),
        ("profile.commune_code", "37063"),
        ("request_id", "0190d3a0-0000-7000-8000-0000000000aa"),
    ];
    for csrf in [None, Some("not-the-token")] {
        let mut pairs = person.to_vec();
        if let Some(csrf) = csrf {
            pairs.push(("csrf", csrf));
        }
        let reply = post(
            &format!("{}/acteurs/nouveau", site.url),
            Some(&cookie),
            &encode(&pairs),
        )
        .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
        assert!(reply.body.contains("a été enregistré"), "{}", reply.body);
    }
    // A contact and a sign-out without the token are refused too.
    let reply = post(
        &format!("{}/contacts/nouveau", site.url),
        Some(&cookie),
        "channel=INTERACTION_CHANNEL_PHONE",
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        post(&format!("{}/deconnexion", site.url), Some(&cookie), "")
            .await
            .status,
        403
    );
    // The sign-in form needs its own token.
    let reply = post(
        &format!("{}/connexion", site.url),
        None,
        &encode(&[("token", &token)]),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(reply.header("set-cookie").is_none());
    // Nothing was registered: the register is empty.
    let list = get(&format!("{}/acteurs", site.url), Some(&cookie)).await;
    assert!(list.body.contains("<h2>0 acteur(s)</h2>"), "{}", list.body);
    // With the session's token the same form is accepted.
    let mut pairs = person.to_vec();
    let csrf = hidden(&list.body, "csrf");
    pairs.push(("csrf", &csrf));
    let reply = post(
        &format!("{}/acteurs/nouveau", site.url),
        Some(&cookie),
        &encode(&pairs),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert!(reply.header("location").unwrap().starts_with("/acteurs/"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_limited_per_client_address() {
    let site = Site::start_with(|options| options.sign_in_failures = 3).await;
    let token = site.token("alice", &[Role::Facilitator]);
    let attempt = |candidate: String| {
        let url = site.url.clone();
        async move {
            let page = get(&format!("{url}/connexion"), None).await;
            let form = encode(&[("csrf", &hidden(&page.body, "csrf")), ("token", &candidate)]);
            post(&format!("{url}/connexion"), None, &form).await
        }
    };
    for _ in 0..3 {
        let reply = attempt("mlg_wrong".to_owned()).await;
        assert_eq!(reply.status, 401);
        assert!(reply.body.contains("inconnu, révoqué ou expiré"));
    }
    // Then even the right token waits for the window to pass.
    let reply = attempt(token).await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    assert!(reply.body.contains("essais de connexion échoués"));
    assert!(reply.header("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_server_side_when_idle_and_at_its_maximum_age() {
    let start = SystemTime::now();
    let clock = Arc::new(FixedClock::new(start));
    let console_clock = clock.clone();
    let site = Site::start_with(move |options| {
        options.clock = console_clock;
        options.session_idle = Duration::from_secs(600);
        options.session_max = Duration::from_secs(1800);
    })
    .await;
    let token = site.token("alice", &[Role::Facilitator]);
    let list = |cookie: String| {
        let url = site.url.clone();
        async move { get(&format!("{url}/acteurs"), Some(&cookie)).await.status }
    };
    let cookie = site.sign_in(&token).await;
    // Used every 9 minutes, it lives on until its maximum age.
    for minutes in [9, 18, 27] {
        clock.set(start + Duration::from_secs(minutes * 60));
        assert_eq!(list(cookie.clone()).await, 200, "at {minutes} min");
    }
    clock.set(start + Duration::from_secs(30 * 60));
    assert_eq!(list(cookie.clone()).await, 303, "past its maximum age");
    // Left alone longer than the idle time, another ends.
    let cookie = site.sign_in(&token).await;
    clock.set(start + Duration::from_secs(41 * 60));
    assert_eq!(list(cookie).await, 303, "idle too long");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_the_menu_and_the_pages() {
    let site = Site::start().await;
    let analyst = site.sign_in(&site.token("ana", &[Role::Analyst])).await;
    let page = get(&format!("{}/acteurs", site.url), Some(&analyst)).await;
    assert!(page.body.contains("href=\"/territoire\""));
    assert!(
        !page.body.contains("href=\"/contacts/nouveau\""),
        "an analyst logs no contact"
    );
    assert!(!page.body.contains("Inscrire une personne"));
    assert_eq!(
        get(&format!("{}/acteurs/nouveau", site.url), Some(&analyst))
            .await
            .status,
        403
    );
    let facilitator = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let page = get(&format!("{}/acteurs", site.url), Some(&facilitator)).await;
    assert!(
        !page.body.contains("href=\"/territoire\""),
        "the figures are the analysts'"
    );
    assert!(page.body.contains("href=\"/contacts/nouveau\""));
    assert_eq!(
        get(&format!("{}/territoire", site.url), Some(&facilitator))
            .await
            .status,
        403
    );
    // A token of no console role opens no session.
    for roles in [[Role::Tool], [Role::Respondent]] {
        let page = get(&format!("{}/connexion", site.url), None).await;
        let form = encode(&[
            ("csrf", &hidden(&page.body, "csrf")),
            ("token", &site.token("machine", &roles)),
        ]);
        let reply = post(&format!("{}/connexion", site.url), None, &form).await;
        assert_eq!(reply.status, 401, "{roles:?}");
        assert!(reply.body.contains("aucune page de la console"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_territory_page_shows_the_communes_and_white_zones_and_downloads() {
    let site = Site::start().await;
    let analyst = site.sign_in(&site.token("ana", &[Role::Analyst])).await;
    let page = get(
        &format!("{}/territoire?niveau=epci&code=243700499", site.url),
        Some(&analyst),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Castelrenaudais"), "{}", page.body);
    // Nothing happened yet: every commune is a white zone.
    assert_eq!(page.body.matches("<tr class=\"zone-blanche\">").count(), 16);
    let csv = get(
        &format!(
            "{}/territoire/export?format=csv&niveau=epci&code=243700499",
            site.url
        ),
        Some(&analyst),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment"));
    // A bad code: the service's message next to the field, the input kept.
    let page = get(
        &format!("{}/territoire?niveau=epci&code=12", site.url),
        Some(&analyst),
    )
    .await;
    assert!(page.body.contains("aria-invalid=\"true\""), "{}", page.body);
    assert!(page.body.contains("value=\"12\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_respondent_role_answers_open_surveys_and_does_nothing_else() {
    let site = Site::start().await;
    let config = maillage_service_kit::ServiceConfig::for_dir(site.platform.data_dir());
    let token = maillage::bootstrap::respondent_token(&config).unwrap();
    // The same token on a second start.
    assert_eq!(
        maillage::bootstrap::respondent_token(&config).unwrap(),
        token
    );
    let channel = tonic::transport::Channel::from_shared(site.platform.endpoint.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let authed = move |mut request: tonic::Request<()>| {
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        Ok(request)
    };
    let mut engagement =
        pb::engagement_client::EngagementClient::with_interceptor(channel.clone(), authed.clone());
    let mut admin_engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let draft = admin_engagement
        .draft_survey(pb::DraftSurveyRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            title: "Brouillon".into(),
            questions: vec![pb::SurveyQuestion {
                question_id: "q".into(),
                text: "?".into(),
                required: true,
                kind: Some(pb::survey_question::Kind::FreeText(pb::SurveyFreeText {
                    max_length: 10,
                })),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    // A draft does not exist for it; an open survey does.
    let refused = engagement
        .get_survey(pb::GetSurveyRequest {
            survey_id: draft.clone(),
            slug: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let open = common::open_free_text_survey(&mut admin_engagement).await;
    let view = engagement
        .get_survey(pb::GetSurveyRequest {
            survey_id: open.clone(),
            slug: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.questions.len(), 1);
    let answered = engagement
        .submit_survey_response(pb::SubmitSurveyResponseRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            survey_id: open.clone(),
            respondent: Some(pb::SurveyRespondent {
                who: Some(pb::survey_respondent::Who::Anonymous(
                    pb::AnonymousParticipant {
                        audience: pb::EngagementAudience::Population as i32,
                        commune_code: "37063".into(),
                    },
                )),
            }),
            respondent_token: String::new(),
            answers: vec![pb::SurveyAnswer {
                question_id: "attentes".into(),
                value: Some(pb::survey_answer::Value::Text("Un lieu".into())),
            }],
        })
        .await;
    assert!(answered.is_ok(), "{answered:?}");
    // Everything else is refused.
    let denied = |result: Result<(), tonic::Status>, what: &str| {
        let status = result.unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
    };
    denied(
        engagement
            .close_survey(pb::CloseSurveyRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                survey_id: open.clone(),
                expected_version: None,
            })
            .await
            .map(|_| ()),
        "CloseSurvey",
    );
    denied(
        engagement
            .get_action(pb::GetActionRequest {
                action_id: open.clone(),
            })
            .await
            .map(|_| ()),
        "GetAction",
    );
    let mut stakeholders = pb::stakeholders_client::StakeholdersClient::with_interceptor(
        channel.clone(),
        authed.clone(),
    );
    denied(
        stakeholders
            .search_stakeholders(pb::SearchStakeholdersRequest::default())
            .await
            .map(|_| ()),
        "SearchStakeholders",
    );
    denied(
        stakeholders
            .register_person(pb::RegisterPersonRequest::default())
            .await
            .map(|_| ()),
        "RegisterPerson",
    );
    let mut projections = pb::projections_client::ProjectionsClient::with_interceptor(
        channel.clone(),
        authed.clone(),
    );
    denied(
        projections
            .get_survey_results(pb::SurveyResultsRequest {
                survey_id: open.clone(),
                as_of: None,
            })
            .await
            .map(|_| ()),
        "GetSurveyResults",
    );
    let mut governance =
        pb::governance_client::GovernanceClient::with_interceptor(channel.clone(), authed.clone());
    denied(
        governance
            .get_consortium(pb::GetConsortiumRequest::default())
            .await
            .map(|_| ()),
        "GetConsortium",
    );
    let mut admin =
        pb::admin_client::AdminClient::with_interceptor(channel.clone(), authed.clone());
    denied(
        admin
            .list_tokens(pb::ListTokensRequest {})
            .await
            .map(|_| ()),
        "ListTokens",
    );
    let mut log = pb::event_log_client::EventLogClient::with_interceptor(channel, authed);
    denied(
        log.read_all(pb::ReadAllRequest::default())
            .await
            .map(|_| ()),
        "ReadAll",
    );
    // WhoAmI says who it is, and nothing more.
    let who = admin
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(who.principal, maillage::bootstrap::RESPONDENT);
    assert_eq!(who.roles, vec!["respondent".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_survey_answers_are_limited_per_client_address() {
    let site = Site::start_with(|options| options.survey_submissions = 2).await;
    let mut engagement =
        pb::engagement_client::EngagementClient::new(site.platform.channel().await);
    let survey = common::open_free_text_survey(&mut engagement).await;
    let url = format!("{}/enquete/{survey}", site.url);
    let answer = |text: &'static str| {
        let url = url.clone();
        async move {
            let page = get(&url, None).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let form = encode(&[
                ("csrf", &hidden(&page.body, "csrf")),
                ("request_id", &hidden(&page.body, "request_id")),
                ("commune", "37063"),
                ("q.attentes", text),
            ]);
            post(&url, None, &form).await
        }
    };
    for text in ["Un café", "Un atelier"] {
        let reply = answer(text).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        assert_eq!(
            reply.header("location"),
            Some(format!("/enquete/{survey}/merci").as_str())
        );
    }
    let reply = answer("Une salle").await;
    assert_eq!(reply.status, 429, "{}", reply.body);
    // A forged answer (no CSRF token) is refused whatever the limit.
    let reply = post(
        &url,
        None,
        &encode(&[("commune", "37063"), ("q.attentes", "x")]),
    )
    .await;
    assert_eq!(reply.status, 403);
    let view = engagement
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey,
            slug: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.response_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maillage_up_serves_the_console_on_its_http_port() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("up.log");
    let http = process::free_port();
    let address = format!("127.0.0.1:{http}");
    let (up, _) = process::start_with(dir.path(), Some(&log), &[("MAILLAGE_HTTP", &address)]);
    process::wait_for_port(http);
    let site = format!("http://{address}");
    let page = get(&format!("{site}/connexion"), None).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = std::fs::read_to_string(dir.path().join("maillage-data/admin.token")).unwrap();
    let form = encode(&[
        ("csrf", &hidden(&page.body, "csrf")),
        ("token", token.trim()),
    ]);
    let reply = post(&format!("{site}/connexion"), None, &form).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let cookie = web::session_cookie(&reply).unwrap();
    let list = get(&format!("{site}/acteurs"), Some(&cookie)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("admin"));
    assert!(dir.path().join("maillage-data/respondent.token").exists());
    process::stop(up);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains(&format!("console web sur http://{address}")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_registers_an_organisation_and_a_refusal_keeps_what_was_typed() {
    let site = Site::start().await;
    let cookie = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let form = get(
        &format!("{}/organisations/nouvelle", site.url),
        Some(&cookie),
    )
    .await;
    assert_eq!(form.status, 200);
    let csrf = hidden(&form.body, "csrf");
    let mut pairs = vec![
        ("csrf", csrf.as_str()),
        ("request_id", "0190d3a0-0000-7000-8000-0000000000b1"),
        ("profile.name", "Menuiserie Besnard"),
        ("profile.commune_code", "37063"),
        ("profile.details", "business"),
        ("profile.business.sector", "menuiserie"),
    ];
    // No size: the service names the field; the page keeps every value.
    let refused = post(
        &format!("{}/organisations/nouvelle", site.url),
        Some(&cookie),
        &encode(&pairs),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"profile.business.size-erreur\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"Menuiserie Besnard\""));
    assert!(refused.body.contains("value=\"menuiserie\""));
    assert!(refused
        .body
        .contains("<option value=\"business\" selected>"));
    pairs.push(("profile.business.size", "BUSINESS_SIZE_TPE"));
    pairs[1].1 = "0190d3a0-0000-7000-8000-0000000000b2";
    let created = post(
        &format!("{}/organisations/nouvelle", site.url),
        Some(&cookie),
        &encode(&pairs),
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let page = get(
        &format!("{}{}", site.url, created.header("location").unwrap()),
        Some(&cookie),
    )
    .await;
    assert!(
        page.body.contains("<h1>Menuiserie Besnard</h1>"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facilitator_edits_a_profile_and_a_stale_edit_is_refused() {
    let site = Site::start().await;
    let cookie = site
        .sign_in(&site.token("alice", &[Role::Facilitator]))
        .await;
    let list = get(&format!("{}/acteurs", site.url), Some(&cookie)).await;
    let csrf = hidden(&list.body, "csrf");
    let person = [
        ("csrf", csrf.as_str()),
        ("request_id", "0190d3a0-0000-7000-8000-0000000000c1"),
        ("profile.given_name", "Paule"),
        ("profile.family_name", "Durand"),
        ("profile.kinds", "PERSON_KIND_INHABITANT"),
        ("profile.commune_code", "37063"),
        ("profile.email", "paule@example.org"),
    ];
    let created = post(
        &format!("{}/acteurs/nouveau", site.url),
        Some(&cookie),
        &encode(&person),
    )
    .await;
    let page = created.header("location").unwrap().to_owned();
    let edit = format!("{}{page}/modifier", site.url);
    let form = get(&edit, Some(&cookie)).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("value=\"paule@example.org\""),
        "prefilled: {}",
        form.body
    );
    assert!(form
        .body
        .contains("value=\"PERSON_KIND_INHABITANT\" checked"));
    assert!(
        !form.body.contains("Mandat municipal"),
        "mandates are not edited here"
    );
    let version = hidden(&form.body, "expected_version");
    let mut changed = person.to_vec();
    changed[1].1 = "0190d3a0-0000-7000-8000-0000000000c2";
    changed[6].1 = "paule.durand@example.org";
    changed.push(("expected_version", &version));
    let saved = post(&edit, Some(&cookie), &encode(&changed)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let shown = get(&format!("{}{page}", site.url), Some(&cookie)).await;
    assert!(shown.body.contains("paule.durand@example.org"));
    // The same version again: someone changed it meanwhile; nothing typed is lost.
    changed[1].1 = "0190d3a0-0000-7000-8000-0000000000c3";
    changed[6].1 = "p.durand@example.org";
    let stale = post(&edit, Some(&cookie), &encode(&changed)).await;
    assert_eq!(stale.status, 422, "{}", stale.body);
    assert!(stale.body.contains("value=\"p.durand@example.org\""));
    assert!(stale.body.contains("role=\"alert\""));
    let shown = get(&format!("{}{page}", site.url), Some(&cookie)).await;
    assert!(shown.body.contains("paule.durand@example.org"), "unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_reads_the_contact_audit_and_downloads_it() {
    let site = Site::start().await;
    let mut stakeholders =
        pb::stakeholders_client::StakeholdersClient::new(site.platform.channel().await);
    let elu = stakeholders
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
        .unwrap()
        .into_inner()
        .id;
    let contact = stakeholders
        .log_interaction(pb::LogInteractionRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            participant_ids: vec![elu.clone()],
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some(prost_types::Timestamp::from(SystemTime::now())),
            subject: "Secret de l'objet".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let auditor = site.sign_in(&site.token("audrey", &[Role::Auditor])).await;
    let url = format!("{}/audit?niveau=epci&code=243700499", site.url);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let page = loop {
        let page = get(&url, Some(&auditor)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains(&contact) {
            break page;
        }
        assert!(std::time::Instant::now() < deadline, "{}", page.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(page.body.contains("<h2>1 contact(s)</h2>"), "{}", page.body);
    assert!(page.body.contains("Téléphone"));
    assert!(page.body.contains(&format!("href=\"/acteurs/{elu}\"")));
    assert!(!page.body.contains("Secret de"), "the subject stays sealed");
    assert!(
        page.body.contains("href=\"/audit\""),
        "in the auditor's menu"
    );
    let csv = get(
        &format!("{}/audit/export?niveau=epci&code=243700499", site.url),
        Some(&auditor),
    )
    .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.contains(&contact));
    // Not the analysts' nor the facilitators'.
    for role in [Role::Analyst, Role::Facilitator] {
        let cookie = site.sign_in(&site.token("other", &[role])).await;
        assert_eq!(get(&url, Some(&cookie)).await.status, 403, "{role:?}");
    }
}

/// Page times of the territory page (not a test: no threshold; run it with
/// `cargo nextest run --release -p maillage --test console_http --run-ignored only
/// --no-capture territory_page_times`; docs/benchmarks.md has the figures). On the
/// demo territory (`MAILLAGE_BENCH_SCALE`, default 1), `MAILLAGE_BENCH_PAGES`
/// (default 300) requests of the page signed in as an analyst, interleaved with
/// as many of its gRPC call alone (`GetTerritoryEngagement`, same request, same
/// token): the baseline, so that the ratio says what the console adds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark"]
async fn territory_page_times() {
    let scale: f64 = std::env::var("MAILLAGE_BENCH_SCALE")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1.0);
    let rounds: usize = std::env::var("MAILLAGE_BENCH_PAGES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(300);
    let site = Site::start().await;
    let (outcome, data, _) = site.platform.demo(2026, scale, "report.html").await;
    let (level, code) = outcome.territory.split_once(':').unwrap();
    let token = site.token("ana", &[Role::Analyst]);
    let cookie = site.sign_in(&token).await;
    let page = format!("{}/territoire?niveau={level}&code={code}", site.url);
    let channel = tonic::transport::Channel::from_shared(site.platform.endpoint.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    let mut projections = pb::projections_client::ProjectionsClient::with_interceptor(
        channel,
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            Ok(request)
        },
    );
    let request = pb::TerritoryEngagementRequest {
        territory: Some(pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: code.to_owned(),
        }),
        as_of: None,
        page: Some(pb::PageRequest {
            page_size: 1_000,
            page_token: String::new(),
        }),
    };
    let (mut pages, mut calls) = (Vec::new(), Vec::new());
    for round in 0..rounds + 20 {
        let started = std::time::Instant::now();
        let reply = get(&page, Some(&cookie)).await;
        let page_time = started.elapsed();
        assert_eq!(reply.status, 200);
        let started = std::time::Instant::now();
        projections
            .get_territory_engagement(request.clone())
            .await
            .unwrap();
        let call_time = started.elapsed();
        // The first 20 rounds warm up.
        if round >= 20 {
            pages.push(page_time);
            calls.push(call_time);
        }
    }
    let quantile = |times: &mut Vec<Duration>, q: f64| {
        times.sort();
        times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1]
    };
    let (page50, page99) = (quantile(&mut pages, 0.5), quantile(&mut pages, 0.99));
    let (call50, call99) = (quantile(&mut calls, 0.5), quantile(&mut calls, 0.99));
    println!(
        "territory page ({} communes, {} stakeholders, scale {scale}), {rounds} requests each: \
         page p50 {page50:?} p99 {page99:?}; gRPC GetTerritoryEngagement p50 {call50:?} p99 {call99:?}; \
         ratio p50 {:.2} p99 {:.2}",
        data.territory.communes.len(),
        data.territory.stakeholders_total,
        page50.as_secs_f64() / call50.as_secs_f64(),
        page99.as_secs_f64() / call99.as_secs_f64(),
    );
}
