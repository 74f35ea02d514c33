//! Sign-in with a personal token, exchanged for a session; sign-out. The
//! services say who the token stands for (`Admin.WhoAmI`); the console keeps
//! the token server-side. Failed sign-ins are limited per client address.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State as Shared};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;

use super::{forged, render, Nav, ANALYSTS, REGISTER_READERS, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

/// The CSRF purpose of the sign-in form.
const PURPOSE: &str = "sign-in";

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    nav: Nav,
    title: String,
    csrf: String,
    next: String,
    error: String,
}

/// Where to go after sign-in: a path of the console, never another site.
fn next_path(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

fn page(state: &State, next: &str, error: &str, status: StatusCode) -> Response {
    let mut response = render(&SignIn {
        nav: Nav::public(),
        title: "Connexion".to_owned(),
        csrf: state.csrf.issue(PURPOSE),
        next: next_path(next),
        error: error.to_owned(),
    });
    *response.status_mut() = status;
    response
}

/// `GET /connexion`.
pub(super) async fn form(Shared(state): Shared<Arc<State>>, uri: Uri) -> Response {
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    page(&state, &query.get("suite"), "", StatusCode::OK)
}

/// `POST /connexion`: the token is checked by the services; a session opens.
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let next = fields.get("suite");
    if !state.csrf.check(PURPOSE, &fields.get("csrf")) {
        return forged(Nav::public());
    }
    if state.sign_in_limit.exhausted(client.ip()) {
        return page(
            &state,
            &next,
            "Trop d'essais de connexion échoués depuis votre adresse : réessayez dans un quart d'heure.",
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let token = fields.get("token");
    let refused = |message: &str| {
        state.sign_in_limit.record(client.ip());
        page(&state, &next, message, StatusCode::UNAUTHORIZED)
    };
    if token.is_empty() {
        return refused("Saisissez votre jeton personnel.");
    }
    let who = match state.backend.admin(&token) {
        Ok(mut admin) => admin.who_am_i(pb::WhoAmIRequest {}).await,
        Err(refusal) => return refused(&refusal.message),
    };
    let who = match who {
        Ok(who) => who.into_inner(),
        Err(status) if status.code() == Code::Unauthenticated => {
            return refused("Ce jeton est inconnu, révoqué ou expiré.")
        }
        Err(status) => {
            return page(
                &state,
                &next,
                &Refusal::from(status).message,
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    };
    let roles: Vec<Role> = who
        .roles
        .iter()
        .filter_map(|role| role.parse().ok())
        .collect();
    let console_roles = [
        &ANALYSTS[..],
        &REGISTER_READERS[..],
        &WRITERS[..],
        &super::consortium::SECRETARIES[..],
        &[Role::Admin],
    ]
    .concat();
    if !roles.iter().any(|role| console_roles.contains(role)) {
        return refused("Ce jeton ne donne accès à aucune page de la console.");
    }
    let Some(id) = state.sessions.open(who.principal, roles, token) else {
        return page(
            &state,
            &next,
            "Trop de sessions ouvertes : réessayez plus tard.",
            StatusCode::SERVICE_UNAVAILABLE,
        );
    };
    (
        [(
            header::SET_COOKIE,
            crate::session::set_cookie(&id, state.secure_cookies),
        )],
        Redirect::to(&next_path(&next)),
    )
        .into_response()
}

/// `POST /deconnexion`: the session ends (its form carries the CSRF token).
pub(super) async fn sign_out(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(session) = state.sessions.get(&headers) {
        if let Err(response) = super::check_csrf(&session, &fields) {
            return *response;
        }
        state.sessions.close(&headers);
    }
    (
        [(
            header::SET_COOKIE,
            crate::session::clear_cookie(state.secure_cookies),
        )],
        Redirect::to("/connexion"),
    )
        .into_response()
}
