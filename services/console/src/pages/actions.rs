//! *Actions*: every action of the engagement, most recently planned first,
//! by status (`Projections.ListActions`), each with its title and approval
//! from `Engagement.GetAction`; facilitators (and admins) plan new ones.

use std::sync::Arc;

use askama::Template;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{ended, guard, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

/// Actions on one page (each costs a `GetAction` for its title).
const PAGE_SIZE: u32 = 50;

struct Row {
    id: String,
    title: String,
    kind: String,
    status: String,
    approval: String,
    when: String,
    place: String,
    invited: u64,
    attended: u64,
}

#[derive(Template)]
#[template(path = "actions.html")]
struct Page {
    nav: Nav,
    title: String,
    status: Input,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
    next: String,
}

/// What an action's approval stands at, as a list or a page says it.
pub(super) fn approval(view: &pb::ActionView) -> String {
    if !view.approval_required {
        String::new()
    } else if !view.approved_by.is_empty() {
        format!("approuvée par {}", view.approved_by)
    } else if !view.sent_back_reason.is_empty() {
        "renvoyée".to_owned()
    } else {
        "à approuver".to_owned()
    }
}

/// `GET /actions?statut=…&suite=…` (facilitator).
pub(super) async fn list(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let statuses = std::iter::once((String::new(), "Tous".to_owned())).chain(
        (1..)
            .map_while(|value| pb::ActionStatus::try_from(value).ok())
            .map(|status| {
                (
                    status.as_str_name().to_owned(),
                    labels::action_status(status).to_owned(),
                )
            }),
    );
    let mut status = Input::choices("statut", "Statut", statuses, &query);
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .list_actions(pb::ActionListRequest {
                status: pb::ActionStatus::from_str_name(&query.get("statut")).unwrap_or_default()
                    as i32,
                as_of: None,
                page: Some(pb::PageRequest {
                    page_size: PAGE_SIZE,
                    page_token: query.get("suite"),
                }),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let list = match answer {
        Ok(list) => list.into_inner(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(mut refusal) => {
            if refusal.field.as_deref() == Some("status") {
                refusal.field = Some("statut".to_owned());
            }
            let errors = place(&refusal, &mut [&mut status]);
            return render(&Page {
                nav: Nav::of(&session, "actions"),
                title: "Actions".to_owned(),
                status,
                errors,
                rows: Vec::new(),
                total: 0,
                next: String::new(),
            });
        }
    };
    let mut rows = Vec::with_capacity(list.items.len());
    let mut engagement = state.backend.engagement(&session.token).ok();
    for item in list.items {
        let view = match engagement.as_mut() {
            Some(client) => client
                .get_action(pb::GetActionRequest {
                    action_id: item.action_id.clone(),
                })
                .await
                .ok()
                .map(|view| view.into_inner()),
            None => None,
        };
        rows.push(Row {
            title: view
                .as_ref()
                .map_or_else(|| item.action_id.clone(), |view| view.title.clone()),
            approval: view.as_ref().map(approval).unwrap_or_default(),
            kind: labels::action_kind(item.kind()).to_owned(),
            status: labels::action_status(item.status()).to_owned(),
            when: time::show(item.starts_at.as_ref()),
            place: if item.online {
                "en ligne".to_owned()
            } else {
                item.commune_code.clone()
            },
            invited: item.invited,
            attended: item.attendees + item.anonymous_attendees,
            id: item.action_id,
        });
    }
    let next = list
        .page
        .map(|page| page.next_page_token)
        .filter(|token| !token.is_empty())
        .map(|token| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("statut", &query.get("statut"))
                .append_pair("suite", &token)
                .finish()
        })
        .unwrap_or_default();
    render(&Page {
        nav: Nav::of(&session, "actions"),
        title: "Actions".to_owned(),
        status,
        errors: Vec::new(),
        rows,
        total: list.total,
        next,
    })
}
