//! An action's page: what it is, where it stands (planned, scheduled, held,
//! reported, cancelled; its approval), its invitations and their answers,
//! its attendance, minutes and outcomes (`Engagement.GetAction`), and the
//! steps that apply now (see `action_steps`).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use tonic::Code;

use super::action_steps::Step;
use super::picker::name_of;
use super::{ended, guard, message, render, Nav, WRITERS};
use crate::backend::Refusal;
use crate::session::Session;
use crate::{labels, time, State};

/// A stakeholder named on the page.
pub(super) struct Named {
    pub(super) id: String,
    pub(super) name: String,
}

struct Invitation {
    who: Named,
    answer: String,
}

/// A step the page links to.
struct Link {
    slug: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "action.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    kind: String,
    status: String,
    approval: String,
    sent_back: String,
    description: String,
    topics: String,
    audiences: String,
    place: String,
    starts: String,
    ends: String,
    held: String,
    planned_by: String,
    invitations: Vec<Invitation>,
    attendees: Vec<Named>,
    head_counts: Vec<String>,
    summary: String,
    key_points: Vec<String>,
    outcomes: Vec<String>,
    cancellation: String,
    steps: Vec<Link>,
}

/// The action `id` as `session` may read it, or the page saying why not.
pub(super) async fn load(
    state: &State,
    headers: &HeaderMap,
    session: &Session,
    id: String,
) -> Result<pb::ActionView, Box<Response>> {
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => client
            .get_action(pb::GetActionRequest { action_id: id })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(view) => Ok(view.into_inner()),
        Err(refusal) if refusal.code == Code::Unauthenticated => {
            Err(Box::new(ended(state, headers)))
        }
        Err(refusal) => Err(Box::new(message(
            StatusCode::NOT_FOUND,
            Nav::of(session, "actions"),
            "Action introuvable",
            &refusal.message,
        ))),
    }
}

/// The names of `ids` in the register (an id when it cannot be read).
pub(super) async fn names(state: &State, session: &Session, ids: &[String]) -> Vec<Named> {
    let mut register = state.backend.stakeholders(&session.token).ok();
    let mut named = Vec::with_capacity(ids.len());
    for id in ids {
        let name = match register.as_mut() {
            Some(client) => client
                .get_stakeholder(pb::GetStakeholderRequest {
                    stakeholder_id: id.clone(),
                })
                .await
                .map(|found| name_of(&found.into_inner()))
                .unwrap_or_else(|_| id.clone()),
            None => id.clone(),
        };
        named.push(Named {
            id: id.clone(),
            name,
        });
    }
    named
}

/// Where an action takes place.
pub(super) fn place(venue: Option<&pb::ActionVenue>) -> String {
    match venue.and_then(|venue| venue.place.as_ref()) {
        Some(pb::action_venue::Place::CommuneCode(code)) => format!("commune {code}"),
        Some(pb::action_venue::Place::Online(_)) => "en ligne".to_owned(),
        None => "—".to_owned(),
    }
}

/// `GET /actions/{id}` (facilitator).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let view = match load(&state, &headers, &session, id).await {
        Ok(view) => view,
        Err(response) => return *response,
    };
    let invitees: Vec<String> = view
        .invitations
        .iter()
        .map(|invitation| invitation.stakeholder_id.clone())
        .collect();
    let invitations = names(&state, &session, &invitees)
        .await
        .into_iter()
        .zip(&view.invitations)
        .map(|(who, invitation)| Invitation {
            who,
            answer: labels::invitation_answer(invitation.answer()).to_owned(),
        })
        .collect();
    let attendees = names(&state, &session, &view.attendee_ids).await;
    let minutes = view.minutes.clone().unwrap_or_default();
    render(&Page {
        nav: Nav::of(&session, "actions"),
        title: view.title.clone(),
        kind: labels::action_kind(view.kind()).to_owned(),
        status: labels::action_status(view.status()).to_owned(),
        approval: super::actions::approval(&view),
        sent_back: view.sent_back_reason.clone(),
        description: view.description.clone(),
        topics: view
            .topics()
            .map(labels::theme)
            .collect::<Vec<_>>()
            .join(", "),
        audiences: view
            .audiences()
            .map(labels::audience)
            .collect::<Vec<_>>()
            .join(", "),
        place: place(view.venue.as_ref()),
        starts: time::show(view.starts_at.as_ref()),
        ends: time::show(view.ends_at.as_ref()),
        held: time::show(view.held_at.as_ref()),
        planned_by: view.planned_by.clone(),
        invitations,
        attendees,
        head_counts: view
            .head_counts
            .iter()
            .map(|count| format!("{} : {}", labels::audience(count.audience()), count.count))
            .collect(),
        summary: minutes.summary,
        key_points: minutes.key_points,
        outcomes: view
            .outcomes
            .iter()
            .map(|outcome| format!("{} ({})", outcome.proposal, labels::theme(outcome.topic())))
            .collect(),
        cancellation: view.cancellation_reason.clone(),
        steps: Step::ALL
            .into_iter()
            .filter(|step| step.applies(&view))
            .map(|step| Link {
                slug: step.slug(),
                label: step.title(),
            })
            .collect(),
        id: view.action_id,
    })
}
