//! A survey's page for facilitators and analysts: its information text,
//! campaign and questions (`Engagement.GetSurvey`), its public link and a
//! printable notice once open, opening (`OpenSurvey`: refused before its
//! information campaign was held, the service's message is shown with the
//! override field for the reason) and closing (`CloseSurvey`), both at the
//! version read; and its live results (`Projections.GetSurveyResults`: counts
//! and a bar chart per question), with the free-text answers
//! (`Engagement.ListSurveyTextAnswers`) for facilitators only: analysts read
//! counts. The public link uses the survey's slug when it has one
//! (`/enquete/<id>` answers as well).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::survey_chart::Chart;
use super::surveys::{status_label, READERS};
use super::{check_csrf, ended, guard, message, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, State};

/// One question's results.
struct QuestionResult {
    text: String,
    kind: &'static str,
    answered: String,
    chart: Option<Chart>,
    rows: Vec<(String, String)>,
    summary: String,
    texts: Vec<String>,
}

#[derive(Template)]
#[template(path = "survey_detail.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    errors: Vec<String>,
    notice: String,
    status: &'static str,
    draft: bool,
    open: bool,
    can_write: bool,
    version: u64,
    request_id: String,
    information: String,
    campaign: Vec<(String, bool)>,
    override_reason: String,
    overridden_by: String,
    axes: Vec<String>,
    questions: Vec<String>,
    response_count: String,
    public_link: String,
    show_override: bool,
    reason: Input,
    results_note: String,
    responses: String,
    results: Vec<QuestionResult>,
    by_commune: Vec<(String, String)>,
    free_text_hidden: bool,
}

#[derive(Template)]
#[template(path = "survey_poster.html")]
struct Poster {
    nav: Nav,
    title: String,
    information: String,
    public_link: String,
    /// The link's QR code (inline SVG; empty when it cannot be made).
    qr: String,
}

/// The question types as the results show them.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "SINGLE_CHOICE" => "choix unique",
        "MULTIPLE_CHOICE" => "choix multiples",
        "SCALE" => "échelle",
        "FREE_TEXT" => "texte libre",
        "RANKING" => "classement",
        _ => "",
    }
}

/// The public address of the survey `key` (its slug, else its id): under
/// the console's public URL when one is set, else as the browser reached
/// the console.
fn public_link(state: &State, headers: &HeaderMap, key: &str) -> String {
    if let Some(base) = &state.public_url {
        return format!("{base}/enquete/{key}");
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/enquete/{key}")
}

/// The results of `survey` as the page shows them, `texts` (question id →
/// answers) under the free-text questions.
fn results(
    survey: &pb::SurveyResults,
    mut texts: BTreeMap<String, Vec<String>>,
) -> Vec<QuestionResult> {
    survey
        .questions
        .iter()
        .map(|question| {
            let mut result = QuestionResult {
                text: question.text.clone(),
                kind: kind_label(&question.kind),
                answered: labels::count(question.answered),
                chart: None,
                rows: Vec::new(),
                summary: String::new(),
                texts: texts.remove(&question.question_id).unwrap_or_default(),
            };
            let counts: Vec<(String, u64)> = match question.kind.as_str() {
                "SCALE" => question
                    .scale_distribution
                    .iter()
                    .map(|value| (value.value.to_string(), value.count))
                    .collect(),
                "FREE_TEXT" => Vec::new(),
                _ => question
                    .options
                    .iter()
                    .map(|option| (option.label.clone(), option.count))
                    .collect(),
            };
            result.rows = match question.kind.as_str() {
                "RANKING" => question
                    .options
                    .iter()
                    .map(|option| {
                        (
                            option.label.clone(),
                            format!(
                                "rang moyen {} ({} classements)",
                                labels::decimal(option.mean_position),
                                labels::count(option.count)
                            ),
                        )
                    })
                    .collect(),
                _ => counts
                    .iter()
                    .map(|(label, count)| (label.clone(), labels::count(*count)))
                    .collect(),
            };
            if question.kind == "SCALE" && question.answered > 0 {
                result.summary = format!("Moyenne : {}", labels::decimal(question.scale_mean));
            }
            if question.kind != "RANKING" {
                result.chart = Chart::of(format!("Réponses à « {} »", question.text), &counts);
            }
            result
        })
        .collect()
}

/// The survey's page, or the response saying why not.
async fn view(
    state: &State,
    headers: &HeaderMap,
    session: &Session,
    id: &str,
) -> Result<Page, Box<Response>> {
    let refused = |refusal: Refusal| -> Box<Response> {
        if refusal.code == Code::Unauthenticated {
            return Box::new(ended(state, headers));
        }
        let status = if refusal.code == Code::NotFound || refusal.code == Code::InvalidArgument {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        Box::new(message(
            status,
            Nav::of(session, "enquetes"),
            "Enquête introuvable",
            &refusal.message,
        ))
    };
    let mut engagement = state.backend.engagement(&session.token).map_err(refused)?;
    let survey = engagement
        .get_survey(pb::GetSurveyRequest {
            survey_id: id.to_owned(),
            slug: String::new(),
        })
        .await
        .map_err(|status| refused(Refusal::from(status)))?
        .into_inner();
    let can_write = session.any(&WRITERS);
    let axes = super::survey_builder::axes(state, session).await;
    let status = pb::SurveyStatus::try_from(survey.status).unwrap_or_default();
    let mut page = Page {
        nav: Nav::of(session, "enquetes"),
        title: survey.title.clone(),
        id: survey.survey_id.clone(),
        errors: Vec::new(),
        notice: String::new(),
        status: status_label(survey.status),
        draft: status == pb::SurveyStatus::Draft,
        open: status == pb::SurveyStatus::Open,
        can_write,
        version: survey.version,
        request_id: uuid::Uuid::new_v4().to_string(),
        information: survey.description.clone(),
        campaign: std::iter::once(&survey.campaign_action_id)
            .filter(|id| !id.is_empty())
            .chain(&survey.campaign_action_ids)
            .map(|action| {
                (
                    action.clone(),
                    survey.campaign_held_action_ids.contains(action),
                )
            })
            .collect(),
        override_reason: survey.campaign_override_reason.clone(),
        overridden_by: survey.campaign_overridden_by.clone(),
        axes: survey
            .axis_ids
            .iter()
            .map(|axis| {
                axes.iter()
                    .find(|(id, _)| id == axis)
                    .map(|(_, name)| name.clone())
                    .unwrap_or_else(|| axis.clone())
            })
            .collect(),
        questions: survey
            .questions
            .iter()
            .map(|question| question.text.clone())
            .collect(),
        response_count: labels::count(survey.response_count),
        public_link: if status == pb::SurveyStatus::Open {
            let key = Some(&survey.slug)
                .filter(|slug| !slug.is_empty())
                .unwrap_or(&survey.survey_id);
            public_link(state, headers, key)
        } else {
            String::new()
        },
        show_override: false,
        reason: Input::text(
            "campaign_override.reason",
            "Raison d'ouvrir avant la campagne",
            &Fields::default(),
        )
        .kind("textarea")
        .required(),
        results_note: String::new(),
        responses: String::new(),
        results: Vec::new(),
        by_commune: Vec::new(),
        free_text_hidden: !can_write,
    };
    if page.draft {
        return Ok(page);
    }
    let mut texts = BTreeMap::<String, Vec<String>>::new();
    if can_write {
        match engagement
            .list_survey_text_answers(pb::SurveyTextAnswersRequest {
                survey_id: survey.survey_id.clone(),
            })
            .await
        {
            Ok(answers) => {
                for answer in answers.into_inner().answers {
                    texts
                        .entry(answer.question_id)
                        .or_default()
                        .push(answer.text);
                }
            }
            Err(status) => page.errors.push(Refusal::from(status).message),
        }
    }
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .get_survey_results(pb::SurveyResultsRequest {
                survey_id: survey.survey_id.clone(),
                as_of: None,
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(results_of) => {
            let results_of = results_of.into_inner();
            page.responses = labels::count(results_of.responses);
            page.by_commune = results_of
                .responses_by_commune
                .iter()
                .map(|count| (count.label.clone(), labels::count(count.count)))
                .collect();
            page.results = results(&results_of, texts);
        }
        Err(refusal) if refusal.code == Code::NotFound => {
            page.results_note =
                "Les résultats ne sont pas encore calculés : rechargez la page dans un instant."
                    .to_owned();
        }
        Err(refusal) => page.errors.push(refusal.message),
    }
    Ok(page)
}

/// `GET /enquetes/{id}` (facilitator, analyst).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match view(&state, &headers, &session, &id).await {
        Ok(page) => render(&page),
        Err(response) => *response,
    }
}

/// `GET /enquetes/{id}/affiche` (facilitator): the notice to print.
pub(super) async fn poster(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match view(&state, &headers, &session, &id).await {
        Ok(page) if page.open => render(&Poster {
            nav: Nav::of(&session, "enquetes"),
            title: page.title,
            information: page.information,
            qr: super::qr::svg(&page.public_link).unwrap_or_default(),
            public_link: page.public_link,
        }),
        Ok(page) => message(
            StatusCode::CONFLICT,
            page.nav,
            "Enquête fermée aux réponses",
            "Seule une enquête ouverte a une adresse publique.",
        ),
        Err(response) => *response,
    }
}

/// What a state change (open, close) sends.
enum Change {
    Open,
    Close,
}

/// `POST /enquetes/{id}/ouvrir` and `/fermer` (facilitator), at the version read.
async fn change(
    state: Arc<State>,
    headers: HeaderMap,
    uri: Uri,
    id: String,
    body: Bytes,
    change: Change,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let expected_version = fields.get("version").parse::<u64>().ok();
    let overriding = fields.get("override") == "1";
    let mut client = match state.backend.engagement(&session.token) {
        Ok(client) => client,
        Err(refusal) => {
            return message(
                StatusCode::SERVICE_UNAVAILABLE,
                Nav::of(&session, "enquetes"),
                "Service indisponible",
                &refusal.message,
            )
        }
    };
    let answer = match change {
        Change::Open => {
            client
                .open_survey(pb::OpenSurveyRequest {
                    request_id: fields.get("request_id"),
                    survey_id: id.clone(),
                    expected_version,
                    campaign_override: overriding.then(|| pb::SurveyCampaignOverride {
                        reason: fields.raw("campaign_override.reason").trim().to_owned(),
                    }),
                })
                .await
        }
        Change::Close => {
            client
                .close_survey(pb::CloseSurveyRequest {
                    request_id: fields.get("request_id"),
                    survey_id: id.clone(),
                    expected_version,
                })
                .await
        }
    }
    .map_err(Refusal::from);
    let refusal = match answer {
        Ok(_) => return Redirect::to(&format!("/enquetes/{id}")).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    let mut page = match view(&state, &headers, &session, &id).await {
        Ok(page) => page,
        Err(response) => return *response,
    };
    page.reason.value = fields.raw("campaign_override.reason");
    // The service names `campaign_action_ids` when the campaign was not held.
    let campaign_refusal = refusal.code == Code::FailedPrecondition
        && refusal.field.as_deref() == Some("campaign_action_ids");
    if refusal.field.as_deref() == Some("campaign_override.reason") {
        page.show_override = true;
        page.reason.error = refusal.message.clone();
        page.errors
            .push("Un champ est à corriger : voyez le message à côté de lui.".to_owned());
    } else if matches!(change, Change::Open) && page.draft && campaign_refusal {
        page.show_override = true;
        page.errors.push(refusal.message.clone());
        page.notice = "La campagne d'information n'a pas encore eu lieu. Vous pouvez ouvrir l'enquête quand même en donnant la raison : elle sera enregistrée avec l'ouverture.".to_owned();
    } else {
        page.errors.push(refusal.message.clone());
    }
    let mut response = render(&page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// `POST /enquetes/{id}/ouvrir` (facilitator).
pub(super) async fn open(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    change(state, headers, uri, id, body, Change::Open).await
}

/// `POST /enquetes/{id}/fermer` (facilitator).
pub(super) async fn close(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    change(state, headers, uri, id, body, Change::Close).await
}
