//! *Relances*: the follow-ups of contacts still to do, soonest due first
//! (`Projections.ListFollowUps`, facilitator and analyst): by default the
//! signed-in person's, overdue ones marked.

use std::sync::Arc;

use askama::Template;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;

use super::{ended, guard, place, render, Input, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{time, State};

/// Roles that may read the follow-ups (admin always may).
pub(crate) const READERS: [Role; 2] = [Role::Facilitator, Role::Analyst];

/// Follow-ups on one page.
const PAGE_SIZE: u32 = 100;

struct Row {
    due: String,
    overdue: bool,
    owner: String,
    contact: String,
    occurred: String,
    participants: Vec<String>,
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct Page {
    nav: Nav,
    title: String,
    owner: Input,
    overdue: bool,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
}

/// `GET /contacts/relances?responsable=…&retard=1`.
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let mut query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    if uri.query().is_none() {
        // First visit: my follow-ups.
        query = Fields::parse(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("responsable", &session.principal)
                .finish()
                .as_bytes(),
        );
    }
    let mut owner =
        Input::text("responsable", "Responsable", &query).hint("(vide : tout le monde)");
    let overdue = query.get("retard") == "1";
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .list_follow_ups(pb::FollowUpListRequest {
                owner: query.get("responsable"),
                overdue_only: overdue,
                page: Some(pb::PageRequest {
                    page_size: PAGE_SIZE,
                    page_token: String::new(),
                }),
                ..Default::default()
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let (rows, total, errors) = match answer {
        Ok(list) => {
            let list = list.into_inner();
            let rows = list
                .items
                .into_iter()
                .map(|item| Row {
                    due: time::show_date(item.due_at.as_ref()),
                    overdue: item.overdue,
                    owner: item.owner,
                    contact: item.interaction_id,
                    occurred: time::show_date(item.occurred_at.as_ref()),
                    participants: item.participant_ids,
                })
                .collect();
            (rows, list.total, Vec::new())
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => {
            let mut refusal = refusal;
            if refusal.field.as_deref() == Some("owner") {
                refusal.field = Some("responsable".to_owned());
            }
            (Vec::new(), 0, place(&refusal, &mut [&mut owner]))
        }
    };
    render(&Page {
        nav: Nav::of(&session, "relances"),
        title: "Relances".to_owned(),
        owner,
        overdue,
        errors,
        rows,
        total,
    })
}
