//! *Enquêtes*: the surveys, newest first, with their status and response
//! count (`Projections.ListSurveys`, facilitator and analyst), a link to
//! each survey's page and, for facilitators, to the builder.

use std::sync::Arc;

use askama::Template;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;

use super::{first, guard, listed, render, Nav, WRITERS};
use crate::backend::Refusal;
use crate::{labels, time, State};

/// Roles that may read the surveys and their counts (admin always may).
pub(crate) const READERS: [Role; 2] = [Role::Facilitator, Role::Analyst];

/// Surveys on one page.
const PAGE_SIZE: u32 = 200;

/// A survey status as the pages show it.
pub(crate) fn status_label(status: i32) -> &'static str {
    match pb::SurveyStatus::try_from(status) {
        Ok(pb::SurveyStatus::Draft) => "Brouillon",
        Ok(pb::SurveyStatus::Open) => "Ouverte",
        Ok(pb::SurveyStatus::Closed) => "Close",
        _ => "—",
    }
}

struct Row {
    id: String,
    title: String,
    status: &'static str,
    responses: String,
    opened: String,
    closed: String,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct Page {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    can_build: bool,
    rows: Vec<Row>,
    total: u64,
}

/// `GET /enquetes`.
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .list_surveys(pb::SurveyListRequest {
                page: first(PAGE_SIZE),
                ..Default::default()
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let (list, errors) = match listed(&state, &headers, answer) {
        Ok(shown) => shown,
        Err(response) => return *response,
    };
    let page = Page {
        nav: Nav::of(&session, "enquetes"),
        title: "Enquêtes".to_owned(),
        errors,
        can_build: session.any(&WRITERS),
        total: list.total,
        rows: list
            .items
            .into_iter()
            .map(|item| Row {
                id: item.survey_id,
                title: item.title,
                status: status_label(item.status),
                responses: labels::count(item.responses),
                opened: time::show_date(item.opened_at.as_ref()),
                closed: time::show_date(item.closed_at.as_ref()),
            })
            .collect(),
    };
    render(&page)
}
