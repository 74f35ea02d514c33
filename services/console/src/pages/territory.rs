//! *Territoire*: a territory's live engagement (key figures, the communes
//! with the white zones, themes) from the projections, as of a date when one
//! is picked, and its downloads (CSV, JSON) from `ExportReport`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{ended, guard, place, render, Input, Nav, ANALYSTS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

/// The levels the territory form offers: (query value, wire level, label).
pub(super) const LEVELS: [(&str, pb::TerritoryLevel, &str); 4] = [
    ("epci", pb::TerritoryLevel::Epci, "EPCI (SIREN)"),
    (
        "commune",
        pb::TerritoryLevel::Commune,
        "Commune (code INSEE)",
    ),
    (
        "departement",
        pb::TerritoryLevel::Departement,
        "Département",
    ),
    ("region", pb::TerritoryLevel::Region, "Région"),
];

/// Most communes on one page (the service's maximum).
const COMMUNES_PAGE: u32 = 1_000;

struct Figure {
    label: &'static str,
    value: String,
}

struct CommuneRow {
    code: String,
    name: String,
    population: String,
    stakeholders: String,
    contacted: String,
    elus: String,
    actions: String,
    reached: String,
    responses: String,
    white_zone: bool,
}

struct Line {
    label: String,
    count: u64,
}

struct Report {
    name: String,
    as_of: String,
    figures: Vec<Figure>,
    communes: Vec<CommuneRow>,
    white_zones: Vec<String>,
    kinds: Vec<Line>,
    themes: Vec<Line>,
    download: String,
}

#[derive(Template)]
#[template(path = "territory.html")]
struct Page {
    nav: Nav,
    title: String,
    level: Input,
    code: Input,
    date: Input,
    errors: Vec<String>,
    report: Option<Report>,
}

/// The request the query asks for (`niveau`, `code`, `date`), or None
/// when no territory is chosen yet.
fn request(query: &Fields) -> Result<Option<pb::TerritoryEngagementRequest>, Refusal> {
    let code = query.get("code");
    if code.is_empty() {
        return Ok(None);
    }
    let level = LEVELS
        .iter()
        .find(|(value, _, _)| *value == query.get("niveau"))
        .map(|(_, level, _)| *level)
        .unwrap_or(pb::TerritoryLevel::Unspecified);
    let date = query.get("date");
    let as_of = if date.is_empty() {
        None
    } else {
        Some(time::day_end(&date).ok_or_else(|| {
            Refusal::field("date", "Date invalide : choisissez une date du calendrier.")
        })?)
    };
    Ok(Some(pb::TerritoryEngagementRequest {
        territory: Some(pb::TerritoryRef {
            level: level as i32,
            code,
        }),
        as_of,
        page: Some(pb::PageRequest {
            page_size: COMMUNES_PAGE,
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
        } else if field.starts_with("as_of") {
            "date"
        } else {
            return field;
        };
        input.to_owned()
    });
    refusal
}

fn report(data: pb::TerritoryEngagementReport, query: &str) -> Report {
    let count = labels::count;
    let figures = vec![
        Figure {
            label: "Communes",
            value: count(data.communes_total),
        },
        Figure {
            label: "Population",
            value: count(data.population),
        },
        Figure {
            label: "Acteurs au registre",
            value: count(data.stakeholders_total),
        },
        Figure {
            label: "Élus contactés",
            value: format!("{} / {}", count(data.elus_engaged), count(data.elus)),
        },
        Figure {
            label: "Entreprises contactées",
            value: format!(
                "{} / {}",
                count(data.businesses_engaged),
                count(data.businesses)
            ),
        },
        Figure {
            label: "Contacts",
            value: count(data.contacts),
        },
        Figure {
            label: "Actions tenues",
            value: count(data.actions_held),
        },
        Figure {
            label: "Personnes touchées",
            value: count(data.people_reached),
        },
        Figure {
            label: "Réponses aux enquêtes",
            value: count(data.survey_responses),
        },
        Figure {
            label: "Communes avec un élu contacté",
            value: labels::percent(data.coverage),
        },
        Figure {
            label: "Relances ouvertes (en retard)",
            value: format!(
                "{} ({})",
                count(data.follow_ups_open),
                count(data.follow_ups_overdue)
            ),
        },
        Figure {
            label: "Dernier contact",
            value: time::show(data.last_contact_at.as_ref()),
        },
    ];
    let white: Vec<String> = data
        .communes
        .iter()
        .filter(|commune| commune.white_zone)
        .map(|commune| commune.name.clone())
        .collect();
    Report {
        name: data.name,
        as_of: time::show(data.as_of.as_ref()),
        figures,
        white_zones: white,
        communes: data
            .communes
            .into_iter()
            .map(|commune| CommuneRow {
                code: commune.code,
                name: commune.name,
                population: count(commune.population),
                stakeholders: count(commune.stakeholders),
                contacted: count(commune.stakeholders_contacted),
                elus: count(commune.elus_contacted),
                actions: count(commune.actions_held),
                reached: count(commune.people_reached),
                responses: count(commune.survey_responses),
                white_zone: commune.white_zone,
            })
            .collect(),
        kinds: data
            .stakeholders_by_kind
            .into_iter()
            .map(|line| Line {
                label: labels::stakeholder_kind(&line.label),
                count: line.count,
            })
            .collect(),
        themes: data
            .by_theme
            .into_iter()
            .map(|theme| Line {
                label: pb::Theme::from_str_name(&theme.theme)
                    .map(labels::theme)
                    .unwrap_or(&theme.theme)
                    .to_owned(),
                count: theme.contacts + theme.actions_held + theme.surveys + theme.interviews,
            })
            .collect(),
        download: query.to_owned(),
    }
}

/// The choice of a territory's level, as the query gives it (the first level
/// when it gives none).
pub(super) fn level_input(query: &Fields) -> Input {
    let mut level = Input::choices(
        "niveau",
        "Niveau",
        LEVELS
            .iter()
            .map(|(value, _, label)| (value.to_string(), label.to_string())),
        query,
    );
    if query.get("niveau").is_empty() {
        if let Some(first) = level.options.first_mut() {
            first.selected = true;
        }
    }
    level
}

/// `GET /territoire?niveau=epci&code=…&date=AAAA-MM-JJ` (analyst).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &ANALYSTS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query_text = uri.query().unwrap_or("");
    let query = Fields::parse(query_text.as_bytes());
    let mut level = level_input(&query);
    let mut code =
        Input::text("code", "Code du territoire", &query).hint("(SIREN de l'EPCI, code INSEE…)");
    let mut date = Input::text("date", "À la date du", &query)
        .kind("date")
        .hint("(vide : aujourd'hui, en direct)");
    let mut errors = Vec::new();
    let mut shown = None;
    match request(&query) {
        Ok(None) => {}
        Ok(Some(request)) => {
            let answer = match state.backend.projections(&session.token) {
                Ok(mut client) => client
                    .get_territory_engagement(request)
                    .await
                    .map_err(Refusal::from),
                Err(refusal) => Err(refusal),
            };
            match answer {
                Ok(data) => shown = Some(report(data.into_inner(), query_text)),
                Err(refusal) if refusal.code == Code::Unauthenticated => {
                    return ended(&state, &headers)
                }
                Err(refusal) => {
                    errors = place(
                        &form_field(refusal),
                        &mut [&mut level, &mut code, &mut date],
                    )
                }
            }
        }
        Err(refusal) => errors = place(&form_field(refusal), &mut [&mut date]),
    }
    let title = shown
        .as_ref()
        .map(|report| format!("Territoire : {}", report.name))
        .unwrap_or_else(|| "Territoire".to_owned());
    render(&Page {
        nav: Nav::of(&session, "territoire"),
        title,
        level,
        code,
        date,
        errors,
        report: shown,
    })
}

/// `GET /territoire/export?format=csv|json&niveau=…&code=…&date=…`: the
/// territory's report as a file (analyst).
pub(super) async fn export(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &ANALYSTS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let format = match query.get("format").as_str() {
        "json" => pb::ExportFormat::Json,
        _ => pb::ExportFormat::Csv,
    };
    let report = request(&query)
        .map(|request| request.map(pb::export_report_request::Report::TerritoryEngagement));
    super::download(&state, &headers, &session, "territoire", format, report).await
}
