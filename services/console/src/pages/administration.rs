//! The administration page (admin only): the tokens (`ListTokens`, never a
//! secret; revoked ones listed as revoked) with a revoke form per row
//! (`RevokeToken`, after a confirmation page), the form adding one
//! (`AddToken`, the new token shown once), the services' gRPC health and the
//! projections' status (`GetProjectionStatus`).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use super::{check_csrf, ended, guard, place, render, Input, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

/// Who may administer (admin only: no other role opens this page).
pub(crate) const ADMINS: [Role; 1] = [Role::Admin];

/// The services whose health the page shows: (gRPC name, label).
const SERVICES: [(&str, &str); 7] = [
    ("maillage.v1.Stakeholders", "Registre des acteurs"),
    ("maillage.v1.Engagement", "Concertation"),
    ("maillage.v1.Governance", "Consortium"),
    ("maillage.v1.Projections", "Projections"),
    ("maillage.v1.EventLog", "Journaux d'événements"),
    ("maillage.v1.AccessJournal", "Journal des accès"),
    ("maillage.v1.Admin", "Administration"),
];

/// One token as listed: never the token itself.
struct TokenRow {
    hash_prefix: String,
    token_prefix: String,
    principal: String,
    roles: String,
    created: String,
    expires: String,
    /// When it was revoked (empty: not revoked).
    revoked: String,
}

/// One service's health.
struct HealthRow {
    label: &'static str,
    name: &'static str,
    status: String,
    serving: bool,
}

/// One log's checkpoint.
struct CheckpointRow {
    context: String,
    position: u64,
}

#[derive(Template)]
#[template(path = "administration.html")]
struct Page {
    nav: Nav,
    title: String,
    notice: String,
    errors: Vec<String>,
    tokens: Vec<TokenRow>,
    principal: Input,
    roles: Input,
    expires: Input,
    health: Vec<HealthRow>,
    checkpoints: Vec<CheckpointRow>,
    consumer: String,
    restarts: u64,
    last_error: String,
    refused_messages: u64,
    last_refusal: String,
    status_error: String,
}

#[derive(Template)]
#[template(path = "token_added.html")]
struct Added {
    nav: Nav,
    title: String,
    token: String,
    principal: String,
    roles: String,
    expires: String,
}

fn consumer_state(state: pb::ProjectionConsumerState) -> &'static str {
    match state {
        pb::ProjectionConsumerState::Unspecified => "inconnu",
        pb::ProjectionConsumerState::NotStarted => "non démarré dans ce processus",
        pb::ProjectionConsumerState::Running => "en marche",
        pb::ProjectionConsumerState::Restarting => "redémarrage en cours",
        pb::ProjectionConsumerState::Stopped => "arrêté : une intervention est nécessaire",
    }
}

fn token_row(info: &pb::TokenInfo) -> TokenRow {
    TokenRow {
        hash_prefix: info.hash_prefix.clone(),
        token_prefix: info.token_prefix.clone(),
        principal: info.principal.clone(),
        roles: info.roles.join(", "),
        created: crate::time::show(info.created_at.as_ref()),
        expires: crate::time::show(info.expires_at.as_ref()),
        revoked: crate::time::show(info.revoked_at.as_ref()),
    }
}

#[derive(Template)]
#[template(path = "token_revoke.html")]
struct Confirm {
    nav: Nav,
    title: String,
    token: TokenRow,
}

impl Page {
    /// The page for `session`, its form filled from `fields`: what the
    /// services answer now (a refusal of a read ends the session when the
    /// token is no longer valid).
    async fn load(
        state: &State,
        session: &crate::session::Session,
        fields: &Fields,
    ) -> Result<Self, Refusal> {
        let tokens = state
            .backend
            .admin(&session.token)?
            .list_tokens(pb::ListTokensRequest {})
            .await?
            .into_inner()
            .tokens;
        let mut health = Vec::new();
        for (name, label) in SERVICES {
            let answer = state
                .backend
                .health()
                .check(tonic_health::pb::HealthCheckRequest {
                    service: name.to_owned(),
                })
                .await;
            let (status, serving) = match answer.map(|reply| reply.into_inner().status()) {
                Ok(ServingStatus::Serving) => ("en service", true),
                Ok(ServingStatus::NotServing) => ("hors service", false),
                Ok(_) => ("état inconnu", false),
                Err(status) if status.code() == Code::NotFound => ("non servi ici", false),
                Err(_) => ("injoignable", false),
            };
            health.push(HealthRow {
                label,
                name,
                status: status.to_owned(),
                serving,
            });
        }
        let mut page = Self {
            nav: Nav::of(session, "administration"),
            title: "Administration".to_owned(),
            notice: String::new(),
            errors: Vec::new(),
            tokens: tokens.iter().map(token_row).collect(),
            principal: Input::text("principal", "Titulaire", fields)
                .required()
                .hint("(1 à 128 lettres, chiffres ou « . _ @ - »)"),
            roles: Input::choices(
                "roles",
                "Rôles",
                Role::ALL
                    .iter()
                    .map(|role| (role.as_str().to_owned(), role.as_str().to_owned())),
                fields,
            )
            .required(),
            expires: Input::text("expires_at", "Expire dans", fields)
                .kind("number")
                .hint("(en jours ; vide : n'expire jamais)"),
            health,
            checkpoints: Vec::new(),
            consumer: String::new(),
            restarts: 0,
            last_error: String::new(),
            refused_messages: 0,
            last_refusal: String::new(),
            status_error: String::new(),
        };
        let status = state
            .backend
            .projections(&session.token)?
            .get_projection_status(pb::ProjectionStatusRequest {})
            .await;
        match status {
            Ok(status) => {
                let status = status.into_inner();
                page.checkpoints = status
                    .checkpoints
                    .into_iter()
                    .map(|checkpoint| CheckpointRow {
                        context: checkpoint.context,
                        position: checkpoint.position,
                    })
                    .collect();
                if let Some(consumer) = status.consumer {
                    page.consumer = consumer_state(consumer.state()).to_owned();
                    page.restarts = consumer.restarts;
                    page.last_error = consumer.last_error;
                    page.refused_messages = consumer.refused_messages;
                    page.last_refusal = consumer.last_refusal;
                }
            }
            Err(status) => page.status_error = Refusal::from(status).message,
        }
        Ok(page)
    }
}

/// The page, or the answer to a failed read.
async fn show(
    state: &State,
    headers: &HeaderMap,
    session: &crate::session::Session,
    fields: &Fields,
    adjust: impl FnOnce(&mut Page),
) -> Response {
    match Page::load(state, session, fields).await {
        Ok(mut page) => {
            adjust(&mut page);
            render(&page)
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(state, headers),
        Err(refusal) => super::message(
            StatusCode::BAD_GATEWAY,
            Nav::of(session, "administration"),
            "Administration indisponible",
            &refusal.message,
        ),
    }
}

/// `GET /administration` (admin).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match guard(&state, &headers, &uri, &ADMINS) {
        Ok(session) => show(&state, &headers, &session, &Fields::default(), |_| {}).await,
        Err(response) => *response,
    }
}

/// The expiry typed as a number of days from now: `Ok(None)` when empty.
fn expiry(state: &State, fields: &Fields) -> Result<Option<prost_types::Timestamp>, Refusal> {
    let days = fields.get("expires_at");
    if days.is_empty() {
        return Ok(None);
    }
    let days: u64 = days
        .parse()
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .ok_or_else(|| {
            Refusal::field(
                "expires_at",
                "Indiquez un nombre entier de jours, de 1 à 3650, ou laissez vide.",
            )
        })?;
    let at = state.clock.now() + std::time::Duration::from_secs(days * 86_400);
    let mut at = prost_types::Timestamp::from(at);
    at.nanos = 0;
    Ok(Some(at))
}

/// `POST /administration/jetons` (admin): `AddToken`, then the token once.
pub(super) async fn add(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &ADMINS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let answer = match (expiry(&state, &fields), state.backend.admin(&session.token)) {
        (Ok(expires_at), Ok(mut client)) => client
            .add_token(pb::AddTokenRequest {
                principal: fields.get("principal"),
                roles: fields.all("roles"),
                expires_at,
            })
            .await
            .map_err(Refusal::from),
        (Err(refusal), _) | (_, Err(refusal)) => Err(refusal),
    };
    match answer {
        Ok(reply) => {
            let reply = reply.into_inner();
            let info = reply.info.unwrap_or_default();
            render(&Added {
                nav: Nav::of(&session, "administration"),
                title: "Jeton créé".to_owned(),
                token: reply.token,
                principal: info.principal,
                roles: info.roles.join(", "),
                expires: crate::time::show(info.expires_at.as_ref()),
            })
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            let mut response = show(&state, &headers, &session, &fields, |page| {
                page.errors = place(
                    &refusal,
                    &mut [&mut page.principal, &mut page.roles, &mut page.expires],
                );
            })
            .await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            response
        }
    }
}

/// The page asking to confirm the revocation of the token of hash prefix
/// `prefix` (nothing is revoked yet).
async fn confirm(
    state: &State,
    headers: &HeaderMap,
    session: &crate::session::Session,
    prefix: &str,
) -> Response {
    let listed = match state.backend.admin(&session.token) {
        Ok(mut client) => client
            .list_tokens(pb::ListTokensRequest {})
            .await
            .map(|reply| reply.into_inner().tokens)
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match listed {
        Ok(tokens) => match tokens
            .iter()
            .find(|info| info.hash_prefix == prefix && info.revoked_at.is_none())
        {
            Some(info) => render(&Confirm {
                nav: Nav::of(session, "administration"),
                title: "Révoquer un jeton ?".to_owned(),
                token: token_row(info),
            }),
            None => super::message(
                StatusCode::NOT_FOUND,
                Nav::of(session, "administration"),
                "Jeton introuvable",
                "Aucun jeton en vigueur ne porte cette empreinte.",
            ),
        },
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(state, headers),
        Err(refusal) => super::message(
            StatusCode::BAD_GATEWAY,
            Nav::of(session, "administration"),
            "Administration indisponible",
            &refusal.message,
        ),
    }
}

/// `POST /administration/jetons/revoquer` (admin): the confirmation page,
/// then (`confirm=oui`) `RevokeToken` of the token whose hash prefix the row
/// names, and the page saying so.
pub(super) async fn revoke(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &ADMINS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    // Only a hash prefix: a principal's name would revoke all their tokens.
    let prefix = fields.get("hash_prefix");
    let named = prefix.len() >= 8 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
    if named && fields.get("confirm") != "oui" {
        return confirm(&state, &headers, &session, &prefix).await;
    }
    let answer = if named {
        match state.backend.admin(&session.token) {
            Ok(mut client) => client
                .revoke_token(pb::RevokeTokenRequest {
                    principal_or_hash_prefix: prefix,
                })
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        }
    } else {
        Err(Refusal::general("Ce jeton n'est pas désigné correctement."))
    };
    match answer {
        Ok(reply) => {
            let revoked = reply
                .into_inner()
                .revoked
                .iter()
                .map(|info| format!("{} ({})", info.principal, info.hash_prefix))
                .collect::<Vec<_>>()
                .join(", ");
            show(&state, &headers, &session, &Fields::default(), |page| {
                page.notice =
                    format!("Jeton révoqué : {revoked}. Il ne permet plus de se connecter.");
            })
            .await
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            let mut response = show(&state, &headers, &session, &Fields::default(), |page| {
                page.errors = vec![refusal.message.clone()];
            })
            .await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            response
        }
    }
}
