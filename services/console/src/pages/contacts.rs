//! *Contacts*: log a contact (participants, channel, direction, when,
//! subject, notes, themes, the programme's axes it served, a follow-up) with
//! `LogInteraction`, and a
//! contact's page (with its corrections shown as such, and for the roles that
//! may correct it the correction form of `correct_contact`).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::picker::{pick, Picker};
use super::{
    check_csrf, ended, guard, message, place, render, Input, Nav, REGISTER_READERS, WRITERS,
};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

#[derive(Template)]
#[template(path = "contact_form.html")]
struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    picker: Picker,
    request_id: String,
    participants: Input,
    channel: Input,
    direction: Input,
    occurred: Input,
    subject: Input,
    notes: Input,
    topics: Input,
    axes: Input,
    follow_up: Input,
    due: Input,
    owner: Input,
}

impl Form {
    /// The form as `fields` fill it, offering the programme's `axes` (id, name).
    fn new(nav: Nav, fields: &Fields, picker: Picker, axes: Vec<(String, String)>) -> Self {
        let channels = labels::CHANNELS.map(|channel| {
            (
                channel.as_str_name().to_owned(),
                labels::channel(channel).to_owned(),
            )
        });
        let directions = [
            pb::InteractionDirection::Outbound,
            pb::InteractionDirection::Inbound,
        ]
        .map(|direction| {
            (
                direction.as_str_name().to_owned(),
                labels::direction(direction).to_owned(),
            )
        });
        let themes = labels::all_themes().into_iter().map(|theme| {
            (
                theme.as_str_name().to_owned(),
                labels::theme(theme).to_owned(),
            )
        });
        Self {
            nav,
            title: "Noter un contact".to_owned(),
            errors: Vec::new(),
            picker,
            request_id: uuid::Uuid::new_v4().to_string(),
            participants: Input::text("participant_ids", "Participants", fields)
                .required()
                .hint("(identifiants des acteurs, séparés par des espaces ; depuis la page d'un acteur : « Noter un contact »)"),
            channel: Input::choices("channel", "Canal", channels, fields).required(),
            direction: Input::choices("direction", "Initiative", directions, fields),
            occurred: Input::text("occurred_at", "Quand", fields)
                .kind("datetime-local")
                .required()
                .hint("(heure UTC)"),
            subject: Input::text("subject", "Objet", fields),
            notes: Input::text("notes", "Notes", fields).kind("textarea"),
            topics: Input::choices("topics", "Thèmes", themes, fields),
            axes: Input::choices("axis_ids", "Axes du programme", axes, fields),
            follow_up: Input::text("follow_ups[0].description", "Relance à faire", fields)
                .hint("(vide : aucune)"),
            due: Input::text("follow_ups[0].due_at", "Échéance de la relance", fields).kind("date"),
            owner: Input::text("follow_ups[0].owner", "Responsable de la relance", fields)
                .hint("(vide : vous)"),
        }
    }

    fn inputs(&mut self) -> [&mut Input; 11] {
        [
            &mut self.participants,
            &mut self.channel,
            &mut self.direction,
            &mut self.occurred,
            &mut self.subject,
            &mut self.notes,
            &mut self.topics,
            &mut self.axes,
            &mut self.follow_up,
            &mut self.due,
            &mut self.owner,
        ]
    }
}

/// `GET /contacts/nouveau?avec=<id>` (facilitator).
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let chosen_ids = query.all("avec");
    // The serializer is not Send: it must not live across an await.
    let fields = {
        let mut prefilled = form_urlencoded::Serializer::new(String::new());
        prefilled
            .append_pair("participant_ids", &chosen_ids.join(" "))
            .append_pair("occurred_at", &time::now_input(state.clock.now()))
            .append_pair("channel", pb::InteractionChannel::InPerson.as_str_name())
            .append_pair(
                "direction",
                pb::InteractionDirection::Outbound.as_str_name(),
            );
        Fields::parse(prefilled.finish().as_bytes())
    };
    let picker = picker(&state, &session.token, &query).await;
    let axes = super::plan_action::axes(&state, &session).await;
    render(&Form::new(
        Nav::of(&session, "contacts"),
        &fields,
        picker,
        axes,
    ))
}

/// The participant picker of the form, for the query string `query`.
async fn picker(state: &State, token: &str, query: &Fields) -> Picker {
    pick(
        state,
        token,
        "/contacts/nouveau".to_owned(),
        "Participants",
        query,
        false,
        None,
    )
    .await
}

fn request(fields: &Fields) -> Result<pb::LogInteractionRequest, Refusal> {
    let occurred = fields.get("occurred_at");
    let occurred_at = if occurred.is_empty() {
        None
    } else {
        Some(
            time::date_time(&occurred)
                .ok_or_else(|| Refusal::field("occurred_at", "Date et heure invalides."))?,
        )
    };
    let mut follow_ups = Vec::new();
    let description = fields.get("follow_ups[0].description");
    if !description.is_empty() {
        let due = fields.get("follow_ups[0].due_at");
        let due_at = if due.is_empty() {
            None
        } else {
            Some(
                time::day_start(&due)
                    .ok_or_else(|| Refusal::field("follow_ups[0].due_at", "Date invalide."))?,
            )
        };
        follow_ups.push(pb::FollowUpInput {
            description,
            due_at,
            owner: fields.get("follow_ups[0].owner"),
        });
    }
    Ok(pb::LogInteractionRequest {
        request_id: fields.get("request_id"),
        participant_ids: fields
            .get("participant_ids")
            .split([' ', ',', '\n'])
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        channel: pb::InteractionChannel::from_str_name(&fields.get("channel")).unwrap_or_default()
            as i32,
        direction: pb::InteractionDirection::from_str_name(&fields.get("direction"))
            .unwrap_or_default() as i32,
        occurred_at,
        subject: fields.get("subject"),
        notes: fields.raw("notes").trim().to_owned(),
        themes: Vec::new(),
        topics: fields
            .all("topics")
            .iter()
            .filter_map(|theme| pb::Theme::from_str_name(theme))
            .map(|theme| theme as i32)
            .collect(),
        follow_ups,
        axis_ids: fields.all("axis_ids"),
    })
}

/// `POST /contacts/nouveau` (facilitator).
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
            Ok(mut client) => client.log_interaction(request).await.map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => Redirect::to(&format!("/contacts/{}", reply.into_inner().id)).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            // The participants typed stay chosen in the picker.
            let query = Fields::parse(
                fields
                    .get("participant_ids")
                    .split_whitespace()
                    .fold(
                        form_urlencoded::Serializer::new(String::new()),
                        |mut query, id| {
                            query.append_pair("avec", id);
                            query
                        },
                    )
                    .finish()
                    .as_bytes(),
            );
            let picker = picker(&state, &session.token, &query).await;
            let axes = super::plan_action::axes(&state, &session).await;
            let mut form = Form::new(Nav::of(&session, "contacts"), &fields, picker, axes);
            form.errors = place(&refusal, &mut form.inputs());
            let mut response = render(&form);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}

struct Participant {
    id: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
pub(super) struct Page {
    nav: Nav,
    title: String,
    id: String,
    version: u64,
    /// The correction form is shown (facilitator).
    can_correct: bool,
    request_id: String,
    pub(super) errors: Vec<String>,
    pub(super) correction: super::correct_contact::Form,
    participants: Vec<Participant>,
    channel: String,
    direction: String,
    occurred: String,
    subject: String,
    notes: String,
    topics: String,
    facilitator: String,
    logged: String,
    follow_ups: Vec<String>,
    corrections: Vec<super::correct_contact::Shown>,
}

/// `GET /contacts/{id}`.
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &REGISTER_READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match load(&state, &headers, &session, id, &Fields::default()).await {
        Ok(page) => render(&page),
        Err(response) => *response,
    }
}

/// The page of contact `id` for `session`, its correction form filled from
/// `fields`; `Err` is the response when it cannot be read.
pub(super) async fn load(
    state: &State,
    headers: &HeaderMap,
    session: &crate::session::Session,
    id: String,
    fields: &Fields,
) -> Result<Page, Box<Response>> {
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .get_interaction(pb::GetInteractionRequest { interaction_id: id })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let contact = match answer {
        Ok(contact) => contact.into_inner(),
        Err(refusal) if refusal.code == Code::Unauthenticated => {
            return Err(Box::new(ended(state, headers)))
        }
        Err(refusal) => {
            return Err(Box::new(message(
                StatusCode::NOT_FOUND,
                Nav::of(session, "contacts"),
                "Contact introuvable",
                &refusal.message,
            )))
        }
    };
    let full = contact.disclosure() == pb::Disclosure::Full;
    let masked = |value: &str| match (value.is_empty(), full) {
        (false, _) => value.to_owned(),
        (true, true) => "—".to_owned(),
        (true, false) => "(masqué pour votre rôle)".to_owned(),
    };
    Ok(Page {
        nav: Nav::of(session, "contacts"),
        title: format!("Contact du {}", time::show(contact.occurred_at.as_ref())),
        id: contact.interaction_id.clone(),
        version: contact.version,
        can_correct: session.any(&WRITERS) && !contact.erased,
        request_id: uuid::Uuid::new_v4().to_string(),
        errors: Vec::new(),
        correction: super::correct_contact::Form::new(fields),
        participants: contact
            .participants
            .iter()
            .map(|participant| Participant {
                id: participant.stakeholder_id.clone(),
            })
            .collect(),
        channel: labels::channel(contact.channel()).to_owned(),
        direction: labels::direction(contact.direction()).to_owned(),
        occurred: time::show(contact.occurred_at.as_ref()),
        subject: masked(&contact.subject),
        notes: masked(&contact.notes),
        topics: contact
            .topics()
            .map(labels::theme)
            .collect::<Vec<_>>()
            .join(", "),
        facilitator: contact.facilitator.clone(),
        logged: time::show(contact.logged_at.as_ref()),
        follow_ups: contact
            .follow_ups
            .iter()
            .map(|follow_up| {
                format!(
                    "{} — échéance {} — {}{}",
                    masked(&follow_up.description),
                    time::show_date(follow_up.due_at.as_ref()),
                    follow_up.owner,
                    if follow_up.completed { " (faite)" } else { "" }
                )
            })
            .collect(),
        corrections: contact
            .corrections
            .iter()
            .map(|correction| super::correct_contact::shown(correction, &masked))
            .collect(),
    })
}
