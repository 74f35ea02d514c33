//! The register form of a person (an élu with her mandate, or anyone
//! else): `RegisterPerson`, then her page; the same form edits a profile
//! (`edit_person.rs`). A refusal shows the service's message next to the
//! field it names, with everything typed kept.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{check_csrf, ended, guard, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

#[derive(Template)]
#[template(path = "register.html")]
pub(super) struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    request_id: String,
    /// Where the form posts.
    action: String,
    /// The submit button's label.
    submit: &'static str,
    /// Editing a profile: no mandate fieldset, the version it was read at.
    editing: bool,
    version: String,
    given_name: Input,
    family_name: Input,
    kinds: Input,
    commune: Input,
    email: Input,
    phone: Input,
    address: Input,
    birth_date: Input,
    notes: Input,
    office: Input,
    authority: Input,
    started: Input,
}

impl Form {
    /// The form editing person `id`'s profile, read at `version`.
    pub(super) fn editing(nav: Nav, fields: &Fields, id: &str, version: u64) -> Self {
        Self {
            title: "Modifier le profil".to_owned(),
            action: format!("/acteurs/{id}/modifier"),
            submit: "Enregistrer",
            editing: true,
            version: version.to_string(),
            ..Self::new(nav, fields)
        }
    }

    /// Renders it with `refusal` next to the field it names (422).
    pub(super) fn refused(mut self, refusal: &Refusal) -> Response {
        // A mandate's authority is named `mandates[i].authority.code` or
        // `.level`, its dates `mandates[i].started_at`.
        self.errors = place(
            refusal,
            &mut [
                &mut self.given_name,
                &mut self.family_name,
                &mut self.kinds,
                &mut self.commune,
                &mut self.email,
                &mut self.phone,
                &mut self.address,
                &mut self.birth_date,
                &mut self.notes,
                &mut self.office,
                &mut self.authority,
                &mut self.started,
            ],
        );
        let mut response = render(&self);
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        response
    }

    fn new(nav: Nav, fields: &Fields) -> Self {
        let kinds = [
            pb::PersonKind::ElectedOfficial,
            pb::PersonKind::BusinessLeader,
            pb::PersonKind::AssociationMember,
            pb::PersonKind::PublicAgent,
            pb::PersonKind::Inhabitant,
            pb::PersonKind::TiersLieuManager,
        ]
        .map(|kind| {
            (
                kind.as_str_name().to_owned(),
                labels::person_kind(kind).to_owned(),
            )
        });
        let offices = std::iter::once((String::new(), "Aucun mandat".to_owned())).chain(
            labels::COMMUNE_OFFICES.map(|office| {
                (
                    office.as_str_name().to_owned(),
                    labels::office(office).to_owned(),
                )
            }),
        );
        // A new id each time the form is shown: a double submit of one form
        // is recognised, a corrected one after a refusal is a new request.
        let request_id = uuid::Uuid::new_v4().to_string();
        Self {
            nav,
            title: "Inscrire une personne".to_owned(),
            action: "/acteurs/nouveau".to_owned(),
            submit: "Inscrire",
            editing: false,
            version: String::new(),
            errors: Vec::new(),
            request_id,
            given_name: Input::text("profile.given_name", "Prénom", fields).required(),
            family_name: Input::text("profile.family_name", "Nom", fields).required(),
            kinds: Input::choices("profile.kinds", "Qualités", kinds, fields).required(),
            commune: Input::text("profile.commune_code", "Commune", fields)
                .required()
                .hint("(code INSEE, par exemple 37063)"),
            email: Input::text("profile.email", "Courriel", fields).kind("email"),
            phone: Input::text("profile.phone", "Téléphone", fields).kind("tel"),
            address: Input::text("profile.postal_address", "Adresse postale", fields),
            birth_date: Input::text("profile.birth_date", "Date de naissance", fields)
                .hint("(AAAA-MM-JJ ou AAAA, pour distinguer deux homonymes)"),
            notes: Input::text("profile.notes", "Notes", fields).kind("textarea"),
            office: Input::choices("mandates[0].office", "Mandat", offices, fields),
            authority: Input::text("mandates[0].authority", "Commune du mandat", fields)
                .hint("(code INSEE)"),
            started: Input::text("mandates[0].started_at", "Début du mandat", fields).kind("date"),
        }
    }
}

/// `GET /acteurs/nouveau` (facilitator).
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => render(&Form::new(Nav::of(&session, "acteurs"), &Fields::default())),
        Err(response) => *response,
    }
}

/// The request the form asks for; a date the browser sent malformed is
/// refused here (the service never sees it).
fn request(fields: &Fields) -> Result<pb::RegisterPersonRequest, Refusal> {
    let mut mandates = Vec::new();
    let office = fields.get("mandates[0].office");
    if !office.is_empty() {
        let started = fields.get("mandates[0].started_at");
        let started_at = if started.is_empty() {
            None
        } else {
            Some(
                time::day_start(&started)
                    .ok_or_else(|| Refusal::field("mandates[0].started_at", "Date invalide."))?,
            )
        };
        mandates.push(pb::MandateInput {
            office: pb::MandateOffice::from_str_name(&office).unwrap_or_default() as i32,
            authority: Some(pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: fields.get("mandates[0].authority"),
            }),
            started_at,
            ended_at: None,
        });
    }
    Ok(pb::RegisterPersonRequest {
        request_id: fields.get("request_id"),
        profile: Some(profile(fields)),
        mandates,
    })
}

/// The profile the form's fields give.
pub(super) fn profile(fields: &Fields) -> pb::PersonProfile {
    pb::PersonProfile {
        given_name: fields.get("profile.given_name"),
        family_name: fields.get("profile.family_name"),
        kinds: fields
            .all("profile.kinds")
            .iter()
            .filter_map(|kind| pb::PersonKind::from_str_name(kind))
            .map(|kind| kind as i32)
            .collect(),
        commune_code: fields.get("profile.commune_code"),
        email: fields.get("profile.email"),
        phone: fields.get("profile.phone"),
        postal_address: fields.get("profile.postal_address"),
        notes: fields.raw("profile.notes").trim().to_owned(),
        birth_date: fields.get("profile.birth_date"),
    }
}

/// `POST /acteurs/nouveau` (facilitator).
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
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
    let answer = match request(&fields) {
        Ok(request) => match state.backend.stakeholders(&session.token) {
            Ok(mut client) => client.register_person(request).await.map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => {
            let reply = reply.into_inner();
            state.backend.note_register(reply.position);
            Redirect::to(&format!("/acteurs/{}", reply.id)).into_response()
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => Form::new(Nav::of(&session, "acteurs"), &fields).refused(&refusal),
    }
}
