//! *Diagnostics*: the diagnostics of existing tiers-lieux
//! (`Projections.ListDiagnostics`: which tiers-lieu, by whom, when) and the
//! form that records one (`Engagement.RecordDiagnostic`): the tiers-lieu
//! picked from the register, its initial motivations, ranked development
//! priorities, activities out of scope, needs, and notes (sealed by the
//! service before they are recorded); the same findings coded against the
//! codebook (the codes in use of each kind, as checkboxes; the priority
//! codes each with a rank, since the service reads their order as one).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::action::names;
use super::codebook::{codes, options};
use super::picker::{pick, Picker};
use super::{check_csrf, ended, first, guard, listed, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{time, State};

/// Diagnostics on one page.
const PAGE_SIZE: u32 = 100;

struct Row {
    when: String,
    id: String,
    name: String,
    by: String,
    priorities: u32,
    revisions: u32,
}

#[derive(Template)]
#[template(path = "diagnostics.html")]
struct List {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
}

/// `GET /diagnostics` (facilitator).
pub(super) async fn list(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .list_diagnostics(pb::DiagnosticListRequest {
                as_of: None,
                page: first(PAGE_SIZE),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let (list, errors) = match listed(&state, &headers, answer) {
        Ok(shown) => shown,
        Err(response) => return *response,
    };
    let (items, total) = (list.items, list.total);
    let ids: Vec<String> = items
        .iter()
        .map(|item| item.tiers_lieu_id.clone())
        .collect();
    let rows = names(&state, &session, &ids)
        .await
        .into_iter()
        .zip(items)
        .map(|(named, item)| Row {
            when: time::show(item.conducted_at.as_ref()),
            id: named.id,
            name: named.name,
            by: item.conducted_by,
            priorities: item.development_priorities,
            revisions: item.revisions,
        })
        .collect();
    render(&List {
        nav: Nav::of(&session, "diagnostics"),
        title: "Diagnostics de tiers-lieux".to_owned(),
        errors,
        rows,
        total,
    })
}

#[derive(Template)]
#[template(path = "diagnostic_form.html")]
struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    request_id: String,
    picker: Picker,
    tiers_lieu: Input,
    conducted: Input,
    motivations: Input,
    priorities: Input,
    out_of_scope: Input,
    needs: Input,
    motivation_codes: Input,
    /// Holds the priority codes offered and the refusal of them; the page
    /// shows one rank select per code ([`Form::ranks`]).
    priority_codes: Input,
    ranks: Vec<Rank>,
    refusal_codes: Input,
    need_codes: Input,
    notes: Input,
}

impl Form {
    fn new(nav: Nav, fields: &Fields, picker: Picker, codes: &[pb::CodebookCode]) -> Self {
        let coded = |name, label, kind| Input::choices(name, label, options(codes, kind), fields);
        let lines = |name, label| {
            Input::text(name, label, fields)
                .kind("textarea")
                .hint("(une par ligne)")
        };
        Self {
            nav,
            title: "Noter un diagnostic".to_owned(),
            errors: Vec::new(),
            request_id: uuid::Uuid::new_v4().to_string(),
            picker,
            tiers_lieu: Input::text("tiers_lieu_id", "Tiers-lieu", fields)
                .required()
                .hint("(identifiant ; choisissez-le par la recherche ci-dessus)"),
            conducted: Input::text("conducted_at", "Quand", fields)
                .kind("datetime-local")
                .required()
                .hint("(heure UTC)"),
            motivations: lines("findings.initial_motivations", "Motivations de départ"),
            priorities: Input::text(
                "findings.development_priorities",
                "Priorités de développement",
                fields,
            )
            .kind("textarea")
            .hint("(une par ligne, la plus importante d'abord)"),
            out_of_scope: lines(
                "findings.out_of_scope_activities",
                "Activités que le lieu ne veut pas",
            ),
            needs: lines("findings.needs", "Besoins"),
            motivation_codes: coded(
                "findings.initial_motivation_codes",
                "Motivations de départ codées",
                pb::CodeKind::Motivation,
            ),
            priority_codes: coded(
                "findings.priority_codes",
                "Priorités codées",
                pb::CodeKind::Priority,
            ),
            ranks: ranks(&options(codes, pb::CodeKind::Priority), fields),
            refusal_codes: coded(
                "findings.refusal_codes",
                "Activités refusées codées",
                pb::CodeKind::Refusal,
            ),
            need_codes: coded("findings.need_codes", "Besoins codés", pb::CodeKind::Need),
            notes: Input::text("notes", "Notes", fields)
                .kind("textarea")
                .hint("(chiffrées par le service avant d'être enregistrées)"),
        }
    }

    fn inputs(&mut self) -> [&mut Input; 11] {
        [
            &mut self.tiers_lieu,
            &mut self.conducted,
            &mut self.motivations,
            &mut self.priorities,
            &mut self.out_of_scope,
            &mut self.needs,
            &mut self.motivation_codes,
            &mut self.priority_codes,
            &mut self.refusal_codes,
            &mut self.need_codes,
            &mut self.notes,
        ]
    }
}

/// A priority code with the rank chosen for it (empty: not retained).
struct Rank {
    label: String,
    /// The select's name, `findings.priority_codes.<code id>`.
    name: String,
    chosen: String,
    /// The ranks offered: empty (not retained), then 1 to the number of codes.
    choices: Vec<String>,
}

/// The rank selects of the priority `codes` (id, label), filled from `fields`.
fn ranks(codes: &[(String, String)], fields: &Fields) -> Vec<Rank> {
    let choices: Vec<String> = std::iter::once(String::new())
        .chain((1..=codes.len()).map(|rank| rank.to_string()))
        .collect();
    codes
        .iter()
        .map(|(id, label)| {
            let name = format!("{RANK_PREFIX}{id}");
            Rank {
                chosen: fields.get(&name),
                label: label.clone(),
                name,
                choices: choices.clone(),
            }
        })
        .collect()
}

/// What a rank select's name starts with.
const RANK_PREFIX: &str = "findings.priority_codes.";

/// The priority codes given a rank, best first (a rank that is no number
/// is not retained; equal ranks keep the page's order).
fn ranked(fields: &Fields) -> Vec<String> {
    let mut ranked: Vec<(u32, String)> = fields
        .pairs()
        .filter_map(|(name, value)| {
            let id = name.strip_prefix(RANK_PREFIX)?;
            Some((value.trim().parse().ok()?, id.to_owned()))
        })
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().map(|(_, id)| id).collect()
}

/// The tiers-lieu picker of the form, for the query string `query`.
async fn picker(state: &State, session: &Session, query: &Fields) -> Picker {
    pick(
        state,
        &session.token,
        "/diagnostics/nouveau".to_owned(),
        "Quel tiers-lieu",
        query,
        true,
        Some(pb::OrganisationType::TiersLieu),
    )
    .await
}

/// `GET /diagnostics/nouveau?avec=<id>&nom=…` (facilitator).
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
    let fields = Fields::parse(
        form_urlencoded::Serializer::new(String::new())
            .append_pair("tiers_lieu_id", &query.get("avec"))
            .append_pair("conducted_at", &time::now_input(state.clock.now()))
            .finish()
            .as_bytes(),
    );
    let picker = picker(&state, &session, &query).await;
    let codes = codes(&state, &session).await;
    render(&Form::new(
        Nav::of(&session, "diagnostics"),
        &fields,
        picker,
        &codes,
    ))
}

fn request(fields: &Fields) -> Result<pb::RecordDiagnosticRequest, Refusal> {
    let conducted = fields.get("conducted_at");
    let conducted_at = if conducted.is_empty() {
        None
    } else {
        Some(
            time::date_time(&conducted)
                .ok_or_else(|| Refusal::field("conducted_at", "Date et heure invalides."))?,
        )
    };
    Ok(pb::RecordDiagnosticRequest {
        request_id: fields.get("request_id"),
        tiers_lieu_id: fields.get("tiers_lieu_id"),
        conducted_at,
        findings: Some(pb::DiagnosticFindings {
            initial_motivations: fields.lines("findings.initial_motivations"),
            development_priorities: fields.lines("findings.development_priorities"),
            out_of_scope_activities: fields.lines("findings.out_of_scope_activities"),
            needs: fields.lines("findings.needs"),
            initial_motivation_codes: fields.all("findings.initial_motivation_codes"),
            priority_codes: ranked(fields),
            refusal_codes: fields.all("findings.refusal_codes"),
            need_codes: fields.all("findings.need_codes"),
        }),
        notes: fields.raw("notes").trim().to_owned(),
    })
}

/// `POST /diagnostics/nouveau` (facilitator).
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
        Ok(request) => match state.backend.engagement(&session.token) {
            Ok(mut client) => client
                .record_diagnostic(request)
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(_) => Redirect::to("/diagnostics").into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            let query = Fields::parse(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("avec", &fields.get("tiers_lieu_id"))
                    .finish()
                    .as_bytes(),
            );
            let picker = picker(&state, &session, &query).await;
            let codes = codes(&state, &session).await;
            let mut form = Form::new(Nav::of(&session, "diagnostics"), &fields, picker, &codes);
            form.errors = place(&refusal, &mut form.inputs());
            let mut response = render(&form);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}
