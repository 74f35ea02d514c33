//! The register form of an organisation (a collectivité, a business, a
//! chambre consulaire, an association, an administration, a tiers-lieu):
//! `RegisterOrganisation`, then its page. The kind's details are one
//! fieldset each; the service says which are missing.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1::{self as pb, organisation_profile::Details};
use tonic::Code;

use super::{check_csrf, ended, guard, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

/// The kinds of organisation: (form value, label).
const KINDS: [(&str, &str); 6] = [
    ("local_authority", "Collectivité"),
    ("business", "Entreprise"),
    ("chamber", "Chambre consulaire"),
    ("association", "Association"),
    ("public_administration", "Administration"),
    ("tiers_lieu", "Tiers-lieu"),
];

/// The levels of a collectivité: (form value, wire level, label).
const LEVELS: [(&str, pb::TerritoryLevel, &str); 4] = [
    (
        "commune",
        pb::TerritoryLevel::Commune,
        "Commune (code INSEE)",
    ),
    ("epci", pb::TerritoryLevel::Epci, "EPCI (SIREN)"),
    (
        "departement",
        pb::TerritoryLevel::Departement,
        "Département",
    ),
    ("region", pb::TerritoryLevel::Region, "Région"),
];

fn pairs<const N: usize>(options: [(&str, &str); N]) -> Vec<(String, String)> {
    options
        .iter()
        .map(|(value, label)| (value.to_string(), label.to_string()))
        .collect()
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    request_id: String,
    name: Input,
    commune: Input,
    siren: Input,
    kind: Input,
    level: Input,
    authority: Input,
    size: Input,
    sector: Input,
    chamber: Input,
    typologies: Input,
    status: Input,
}

impl Form {
    fn new(nav: Nav, fields: &Fields) -> Self {
        let none = || (String::new(), "—".to_owned());
        let sizes = std::iter::once(none()).chain(pairs([
            ("BUSINESS_SIZE_TPE", "TPE (moins de 10 salariés)"),
            ("BUSINESS_SIZE_PME", "PME (moins de 250 salariés)"),
            ("BUSINESS_SIZE_ETI", "ETI"),
            ("BUSINESS_SIZE_GE", "Grande entreprise"),
        ]));
        let chambers = std::iter::once(none()).chain(pairs([
            ("CHAMBER_KIND_CCI", "Chambre de commerce et d'industrie"),
            ("CHAMBER_KIND_CMA", "Chambre de métiers et de l'artisanat"),
            ("CHAMBER_KIND_AGRICULTURE", "Chambre d'agriculture"),
        ]));
        let typologies = pairs([
            ("TIERS_LIEU_TYPOLOGY_COWORKING", "Coworking"),
            (
                "TIERS_LIEU_TYPOLOGY_FABLAB_MAKERSPACE",
                "Fablab, makerspace",
            ),
            ("TIERS_LIEU_TYPOLOGY_SHARED_WORKSHOP", "Atelier partagé"),
            ("TIERS_LIEU_TYPOLOGY_CULTURAL", "Culturel"),
            ("TIERS_LIEU_TYPOLOGY_LIVING_LAB", "Living lab"),
            ("TIERS_LIEU_TYPOLOGY_FOOD_GARDEN", "Jardin, alimentation"),
            ("TIERS_LIEU_TYPOLOGY_SHARED_KITCHEN", "Cuisine partagée"),
            (
                "TIERS_LIEU_TYPOLOGY_PUBLIC_SERVICE_POINT",
                "Point de services publics",
            ),
            ("TIERS_LIEU_TYPOLOGY_OTHER", "Autre"),
        ]);
        let statuses = std::iter::once(none()).chain(pairs([
            ("TIERS_LIEU_STATUS_PROJECT", "En projet"),
            ("TIERS_LIEU_STATUS_OPEN", "Ouvert"),
            ("TIERS_LIEU_STATUS_CLOSED", "Fermé"),
        ]));
        Self {
            nav,
            title: "Inscrire une organisation".to_owned(),
            errors: Vec::new(),
            request_id: uuid::Uuid::new_v4().to_string(),
            name: Input::text("profile.name", "Nom", fields).required(),
            commune: Input::text("profile.commune_code", "Commune du siège", fields)
                .required()
                .hint("(code INSEE)"),
            siren: Input::text("profile.siren", "SIREN", fields).hint("(9 chiffres, facultatif)"),
            kind: Input::choices(
                "profile.details",
                "Type d'organisation",
                std::iter::once(none()).chain(pairs(KINDS)),
                fields,
            )
            .required(),
            level: Input::choices(
                "profile.local_authority.level",
                "Niveau de la collectivité",
                LEVELS
                    .iter()
                    .map(|(value, _, label)| (value.to_string(), label.to_string())),
                fields,
            ),
            authority: Input::text(
                "profile.local_authority.authority",
                "Code de la collectivité",
                fields,
            ),
            size: Input::choices("profile.business.size", "Taille", sizes, fields),
            sector: Input::text("profile.business.sector", "Secteur", fields)
                .hint("(par exemple « menuiserie » ou un code NAF)"),
            chamber: Input::choices("profile.chamber.kind", "Chambre", chambers, fields),
            typologies: Input::choices(
                "profile.tiers_lieu.typologies",
                "Typologies",
                typologies,
                fields,
            ),
            status: Input::choices("profile.tiers_lieu.status", "État", statuses, fields),
        }
    }
}

/// `GET /organisations/nouvelle` (facilitator).
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

fn enum_list<E: Into<i32>>(values: Vec<String>, parse: impl Fn(&str) -> Option<E>) -> Vec<i32> {
    values
        .iter()
        .filter_map(|value| parse(value))
        .map(Into::into)
        .collect()
}

fn request(fields: &Fields) -> pb::RegisterOrganisationRequest {
    let details = match fields.get("profile.details").as_str() {
        "local_authority" => Some(Details::LocalAuthority(pb::LocalAuthorityDetails {
            authority: Some(pb::TerritoryRef {
                level: LEVELS
                    .iter()
                    .find(|(value, _, _)| *value == fields.get("profile.local_authority.level"))
                    .map(|(_, level, _)| *level as i32)
                    .unwrap_or_default(),
                code: fields.get("profile.local_authority.authority"),
            }),
        })),
        "business" => Some(Details::Business(pb::BusinessDetails {
            size: pb::BusinessSize::from_str_name(&fields.get("profile.business.size"))
                .unwrap_or_default() as i32,
            sector: fields.get("profile.business.sector"),
        })),
        "chamber" => Some(Details::Chamber(pb::ChamberDetails {
            kind: pb::ChamberKind::from_str_name(&fields.get("profile.chamber.kind"))
                .unwrap_or_default() as i32,
        })),
        "association" => Some(Details::Association(pb::AssociationDetails {})),
        "public_administration" => Some(Details::PublicAdministration(
            pb::PublicAdministrationDetails {},
        )),
        "tiers_lieu" => Some(Details::TiersLieu(pb::TiersLieuDetails {
            typologies: enum_list(
                fields.all("profile.tiers_lieu.typologies"),
                pb::TiersLieuTypology::from_str_name,
            ),
            status: pb::TiersLieuStatus::from_str_name(&fields.get("profile.tiers_lieu.status"))
                .unwrap_or_default() as i32,
        })),
        _ => None,
    };
    pb::RegisterOrganisationRequest {
        request_id: fields.get("request_id"),
        profile: Some(pb::OrganisationProfile {
            name: fields.get("profile.name"),
            commune_code: fields.get("profile.commune_code"),
            siren: fields.get("profile.siren"),
            details,
        }),
    }
}

/// `POST /organisations/nouvelle` (facilitator).
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
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .register_organisation(request(&fields))
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => {
            let reply = reply.into_inner();
            state.backend.note_register(reply.position);
            Redirect::to(&format!("/acteurs/{}", reply.id)).into_response()
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            let mut form = Form::new(Nav::of(&session, "acteurs"), &fields);
            form.errors = place(
                &refusal,
                &mut [
                    &mut form.name,
                    &mut form.commune,
                    &mut form.siren,
                    &mut form.kind,
                    &mut form.level,
                    &mut form.authority,
                    &mut form.size,
                    &mut form.sector,
                    &mut form.chamber,
                    &mut form.typologies,
                    &mut form.status,
                ],
            );
            let mut response = render(&form);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}
