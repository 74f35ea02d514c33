//! Erasing a person (admin only, `ErasePerson`): a first page shows who and
//! what will be erased and asks for the reason and a typed confirmation; the
//! erasure is asked of the service only when the confirmation is the word
//! shown (else the page again, nothing sent). The person's page then shows
//! them as erased.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::administration::ADMINS;
use super::{check_csrf, ended, guard, message, place, render, Input, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::State;

/// The word to type to confirm an erasure.
const CONFIRMATION: &str = "EFFACER";

#[derive(Template)]
#[template(path = "erase_person.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    name: String,
    version: u64,
    mandates: usize,
    affiliations: usize,
    consents: usize,
    word: &'static str,
    request_id: String,
    errors: Vec<String>,
    reason: Input,
    confirmation: Input,
}

impl Page {
    /// The confirmation page of person `id`, filled from `fields`; `Err` is
    /// the response when the person cannot be read or is already erased.
    async fn load(
        state: &State,
        headers: &HeaderMap,
        session: &Session,
        id: &str,
        fields: &Fields,
    ) -> Result<Self, Box<Response>> {
        let answer = match state.backend.stakeholders(&session.token) {
            Ok(mut client) => client
                .get_stakeholder(pb::GetStakeholderRequest {
                    stakeholder_id: id.to_owned(),
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        };
        let stakeholder = match answer {
            Ok(stakeholder) => stakeholder,
            Err(refusal) if refusal.code == Code::Unauthenticated => {
                return Err(Box::new(ended(state, headers)))
            }
            Err(refusal) => {
                return Err(Box::new(message(
                    StatusCode::NOT_FOUND,
                    Nav::of(session, "acteurs"),
                    "Acteur introuvable",
                    &refusal.message,
                )))
            }
        };
        let Some(person) = stakeholder.person.as_ref().filter(|_| !stakeholder.erased) else {
            return Err(Box::new(message(
                StatusCode::CONFLICT,
                Nav::of(session, "acteurs"),
                "Effacement impossible",
                "Seule une personne qui n'est pas déjà effacée peut l'être.",
            )));
        };
        Ok(Self {
            nav: Nav::of(session, "acteurs"),
            title: "Effacer une personne".to_owned(),
            id: id.to_owned(),
            name: format!("{} {}", person.given_name, person.family_name)
                .trim()
                .to_owned(),
            version: stakeholder.version,
            mandates: stakeholder.mandates.len(),
            affiliations: stakeholder.affiliations.len(),
            consents: stakeholder.consents.len(),
            word: CONFIRMATION,
            request_id: uuid::Uuid::new_v4().to_string(),
            errors: Vec::new(),
            reason: Input::text("reason", "Motif de l'effacement", fields)
                .required()
                .hint("(par exemple « RGPD art. 17, demande n° 2026-014 » ; aucune donnée personnelle : il est gardé en clair)"),
            confirmation: Input::text("confirmation", "Confirmation", fields)
                .required()
                .hint("(le mot ci-dessus, en majuscules)"),
        })
    }
}

/// `GET /acteurs/{id}/effacer` (admin): what will be erased, and the form.
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &ADMINS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match Page::load(&state, &headers, &session, &id, &Fields::default()).await {
        Ok(page) => render(&page),
        Err(response) => *response,
    }
}

/// `POST /acteurs/{id}/effacer` (admin): erases the person when the
/// confirmation was typed, then shows their page.
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
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
    let answer = if fields.get("confirmation") != CONFIRMATION {
        Err(Refusal::field(
            "confirmation",
            format!("Tapez {CONFIRMATION} pour confirmer : rien n'a été effacé."),
        ))
    } else {
        match state.backend.stakeholders(&session.token) {
            Ok(mut client) => client
                .erase_person(pb::ErasePersonRequest {
                    request_id: fields.get("request_id"),
                    stakeholder_id: id.clone(),
                    expected_version: fields.get("expected_version").parse().ok(),
                    reason: fields.get("reason"),
                })
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        }
    };
    match answer {
        Ok(_) => Redirect::to(&format!("/acteurs/{id}")).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => match Page::load(&state, &headers, &session, &id, &fields).await {
            Ok(mut page) => {
                page.errors = place(&refusal, &mut [&mut page.reason, &mut page.confirmation]);
                let mut response = render(&page);
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                response
            }
            Err(response) => *response,
        },
    }
}
