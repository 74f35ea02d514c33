//! *Prévoir une action*: kind, title, description, themes, audiences, venue
//! (a commune or online) and the programme's axes it serves, planned with
//! `Engagement.PlanAction` (facilitator).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{check_csrf, ended, guard, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, State};

#[derive(Template)]
#[template(path = "action_plan.html")]
struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    request_id: String,
    kind: Input,
    name: Input,
    description: Input,
    topics: Input,
    audiences: Input,
    commune: Input,
    online: Input,
    axes: Input,
}

impl Form {
    /// The form as `fields` fill it, offering the programme's `axes` (id, name).
    fn new(nav: Nav, fields: &Fields, axes: Vec<(String, String)>) -> Self {
        let kinds = labels::all_action_kinds().into_iter().map(|kind| {
            (
                kind.as_str_name().to_owned(),
                labels::action_kind(kind).to_owned(),
            )
        });
        let themes = labels::all_themes().into_iter().map(|theme| {
            (
                theme.as_str_name().to_owned(),
                labels::theme(theme).to_owned(),
            )
        });
        let audiences = labels::all_audiences().into_iter().map(|audience| {
            (
                audience.as_str_name().to_owned(),
                labels::audience(audience).to_owned(),
            )
        });
        Self {
            nav,
            title: "Prévoir une action".to_owned(),
            errors: Vec::new(),
            request_id: uuid::Uuid::new_v4().to_string(),
            kind: Input::choices("kind", "Type d'action", kinds, fields).required(),
            name: Input::text("title", "Titre", fields).required(),
            description: Input::text("description", "Description", fields).kind("textarea"),
            topics: Input::choices("topics", "Thèmes", themes, fields).required(),
            audiences: Input::choices("audiences", "Publics visés", audiences, fields).required(),
            commune: Input::text("venue.commune_code", "Commune du lieu", fields)
                .hint("(code INSEE ; vide pour une action en ligne)"),
            online: Input::choices(
                "venue.online",
                "En ligne",
                [("true".to_owned(), "Action en ligne, sans lieu".to_owned())],
                fields,
            ),
            axes: Input::choices("axis_ids", "Axes du programme", axes, fields),
        }
    }

    fn inputs(&mut self) -> [&mut Input; 8] {
        [
            &mut self.kind,
            &mut self.name,
            &mut self.description,
            &mut self.topics,
            &mut self.audiences,
            &mut self.commune,
            &mut self.online,
            &mut self.axes,
        ]
    }
}

/// The programme's axes in use (id, name), or none when it cannot be read.
pub(super) async fn axes(state: &State, session: &Session) -> Vec<(String, String)> {
    let Ok(mut client) = state.backend.engagement(&session.token) else {
        return Vec::new();
    };
    match client.get_programme(pb::GetProgrammeRequest {}).await {
        Ok(programme) => programme
            .into_inner()
            .axes
            .into_iter()
            .filter(|axis| !axis.retired)
            .map(|axis| (axis.axis_id, axis.name))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `GET /actions/nouvelle` (facilitator).
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let axes = axes(&state, &session).await;
    render(&Form::new(
        Nav::of(&session, "actions"),
        &Fields::default(),
        axes,
    ))
}

fn request(fields: &Fields) -> pb::PlanActionRequest {
    let commune = fields.get("venue.commune_code");
    let place = if fields.get("venue.online") == "true" {
        Some(pb::action_venue::Place::Online(true))
    } else if commune.is_empty() {
        None
    } else {
        Some(pb::action_venue::Place::CommuneCode(commune))
    };
    pb::PlanActionRequest {
        request_id: fields.get("request_id"),
        kind: pb::ActionKind::from_str_name(&fields.get("kind")).unwrap_or_default() as i32,
        title: fields.get("title"),
        description: fields.raw("description").trim().to_owned(),
        topics: fields
            .all("topics")
            .iter()
            .filter_map(|theme| pb::Theme::from_str_name(theme))
            .map(|theme| theme as i32)
            .collect(),
        audiences: fields
            .all("audiences")
            .iter()
            .filter_map(|audience| pb::EngagementAudience::from_str_name(audience))
            .map(|audience| audience as i32)
            .collect(),
        venue: place.map(|place| pb::ActionVenue { place: Some(place) }),
        axis_ids: fields.all("axis_ids"),
        ..Default::default()
    }
}

/// `POST /actions/nouvelle` (facilitator).
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
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => client
            .plan_action(request(&fields))
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => Redirect::to(&format!("/actions/{}", reply.into_inner().id)).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(mut refusal) => {
            // No venue at all: the commune is the field to fill.
            if refusal.field.as_deref() == Some("venue") {
                refusal.field = Some("venue.commune_code".to_owned());
            }
            let axes = axes(&state, &session).await;
            let mut form = Form::new(Nav::of(&session, "actions"), &fields, axes);
            form.errors = place(&refusal, &mut form.inputs());
            let mut response = render(&form);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}
