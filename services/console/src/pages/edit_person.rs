//! Editing a person's profile: the register form, filled from
//! `GetStakeholder` (a facilitator reads every field), submitted as
//! `UpdatePersonProfile` with the version it was read at, so that an edit
//! made meanwhile by someone else is refused rather than overwritten.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::register::{profile, Form};
use super::{check_csrf, ended, guard, message, render, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

/// The form fields of a profile as it stands.
fn fields_of(person: &pb::PersonProfile) -> Fields {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    pairs
        .append_pair("profile.given_name", &person.given_name)
        .append_pair("profile.family_name", &person.family_name)
        .append_pair("profile.commune_code", &person.commune_code)
        .append_pair("profile.email", &person.email)
        .append_pair("profile.phone", &person.phone)
        .append_pair("profile.postal_address", &person.postal_address)
        .append_pair("profile.notes", &person.notes)
        .append_pair("profile.birth_date", &person.birth_date);
    for kind in person.kinds() {
        pairs.append_pair("profile.kinds", kind.as_str_name());
    }
    Fields::parse(pairs.finish().as_bytes())
}

/// `GET /acteurs/{id}/modifier` (facilitator).
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .get_stakeholder(pb::GetStakeholderRequest {
                stakeholder_id: id.clone(),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(stakeholder) => {
            let stakeholder = stakeholder.into_inner();
            match (&stakeholder.person, stakeholder.erased) {
                (Some(person), false) => render(&Form::editing(
                    Nav::of(&session, "acteurs"),
                    &fields_of(person),
                    &id,
                    stakeholder.version,
                )),
                _ => message(
                    StatusCode::NOT_FOUND,
                    Nav::of(&session, "acteurs"),
                    "Profil non modifiable",
                    "Seul le profil d'une personne non effacée se modifie ici.",
                ),
            }
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => message(
            StatusCode::NOT_FOUND,
            Nav::of(&session, "acteurs"),
            "Acteur introuvable",
            &refusal.message,
        ),
    }
}

/// `POST /acteurs/{id}/modifier` (facilitator).
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let version = fields.get("expected_version").parse::<u64>().ok();
    let request = pb::UpdatePersonProfileRequest {
        request_id: fields.get("request_id"),
        stakeholder_id: id.clone(),
        expected_version: version,
        profile: Some(profile(&fields)),
    };
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .update_person_profile(request)
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => {
            state.backend.note_register(reply.into_inner().position);
            Redirect::to(&format!("/acteurs/{id}")).into_response()
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => Form::editing(
            Nav::of(&session, "acteurs"),
            &fields,
            &id,
            version.unwrap_or_default(),
        )
        .refused(&refusal),
    }
}
