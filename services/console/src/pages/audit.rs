//! *Audit* (auditor): the contact audit of a territory's élus and
//! businesses over a period (`Projections.GetContactAudit`): who contacted
//! whom, when, how, logged by whom, and the corrections shown as such; the
//! same audit as CSV (`ExportReport`).

use std::sync::Arc;

use askama::Template;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use maillage_proto::v1::export_report_request::Report;
use maillage_service_kit::Role;
use tonic::Code;

use super::territory::{level_input, LEVELS};
use super::{ended, guard, place, render, Input, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

/// Roles that may read the contact audit (admin always may).
pub(crate) const AUDITORS: [Role; 1] = [Role::Auditor];

/// Rows on one page.
const PAGE_SIZE: u32 = 200;

struct Row {
    id: String,
    occurred: String,
    channel: String,
    participants: Vec<(String, String)>,
    logged: String,
    corrections: Vec<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct Page {
    nav: Nav,
    title: String,
    level: Input,
    code: Input,
    from: Input,
    to: Input,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
    download: String,
    shown: bool,
}

/// The audit the query asks for, or None before a territory is chosen.
fn request(query: &Fields) -> Result<Option<pb::ContactAuditRequest>, Refusal> {
    let code = query.get("code");
    if code.is_empty() {
        return Ok(None);
    }
    let level = LEVELS
        .iter()
        .find(|(value, _, _)| *value == query.get("niveau"))
        .map(|(_, level, _)| *level)
        .unwrap_or(pb::TerritoryLevel::Unspecified);
    let day = |name: &str| match query.get(name) {
        text if text.is_empty() => Ok(None),
        text => time::day_start(&text)
            .map(Some)
            .ok_or_else(|| Refusal::field(name, "Date invalide.")),
    };
    Ok(Some(pb::ContactAuditRequest {
        scope: Some(pb::contact_audit_request::Scope::Territory(
            pb::TerritoryRef {
                level: level as i32,
                code,
            },
        )),
        from: day("du")?,
        // The end date is included: the audit runs to the next day's start.
        to: match query.get("au") {
            text if text.is_empty() => None,
            text => {
                Some(time::day_end(&text).ok_or_else(|| Refusal::field("au", "Date invalide."))?)
            }
        },
        as_of: None,
        page: Some(pb::PageRequest {
            page_size: PAGE_SIZE,
            page_token: String::new(),
        }),
    }))
}

/// The refusal with the request's field named as the form names it.
fn form_field(mut refusal: Refusal) -> Refusal {
    refusal.field = refusal.field.map(|field| {
        let input = if field.starts_with("territory.level") {
            "niveau"
        } else if field.starts_with("territory") {
            "code"
        } else if field == "from" {
            "du"
        } else if field == "to" {
            "au"
        } else {
            return field;
        };
        input.to_owned()
    });
    refusal
}

fn row(row: pb::ContactAuditRow) -> Row {
    Row {
        occurred: time::show(row.occurred_at.as_ref()),
        channel: pb::InteractionChannel::from_str_name(&row.channel)
            .map(labels::channel)
            .unwrap_or(&row.channel)
            .to_owned(),
        participants: row
            .participants
            .into_iter()
            .map(|participant| (participant.stakeholder_id, participant.display))
            .collect(),
        logged: format!(
            "{} par {}",
            time::show(row.logged_at.as_ref()),
            row.logged_by
        ),
        corrections: row
            .corrections
            .iter()
            .map(|correction| {
                format!(
                    "corrigé le {} par {} ({})",
                    time::show(correction.corrected_at.as_ref()),
                    correction.corrected_by,
                    correction.fields.join(", ")
                )
            })
            .collect(),
        id: row.interaction_id,
    }
}

/// `GET /audit?niveau=epci&code=…&du=…&au=…` (auditor).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &AUDITORS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query_text = uri.query().unwrap_or("");
    let query = Fields::parse(query_text.as_bytes());
    let mut level = level_input(&query);
    let mut code = Input::text("code", "Code du territoire", &query);
    let mut from = Input::text("du", "Du", &query).kind("date");
    let mut to = Input::text("au", "Au", &query).kind("date");
    let (mut rows, mut total, mut errors, mut shown) = (Vec::new(), 0, Vec::new(), false);
    let answer = match request(&query) {
        Ok(None) => None,
        Ok(Some(request)) => Some(match state.backend.projections(&session.token) {
            Ok(mut client) => client
                .get_contact_audit(request)
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        }),
        Err(refusal) => Some(Err(refusal)),
    };
    match answer {
        None => {}
        Some(Ok(report)) => {
            let report = report.into_inner();
            total = report.total;
            rows = report.rows.into_iter().map(row).collect();
            shown = true;
        }
        Some(Err(refusal)) if refusal.code == Code::Unauthenticated => {
            return ended(&state, &headers)
        }
        Some(Err(refusal)) => {
            errors = place(
                &form_field(refusal),
                &mut [&mut level, &mut code, &mut from, &mut to],
            )
        }
    }
    render(&Page {
        nav: Nav::of(&session, "audit"),
        title: "Audit des contacts".to_owned(),
        level,
        code,
        from,
        to,
        errors,
        rows,
        total,
        download: query_text.to_owned(),
        shown,
    })
}

/// `GET /audit/export?niveau=…&code=…&du=…&au=…`: the audit as CSV (auditor).
pub(super) async fn export(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &AUDITORS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let report = request(&query).map(|request| request.map(Report::ContactAudit));
    super::download(
        &state,
        &headers,
        &session,
        "audit",
        pb::ExportFormat::Csv,
        report,
    )
    .await
}
