//! *Entretiens*: the interviews recorded (`Projections.ListInterviews`: with
//! whom, by whom, when, about what) and the form that records one
//! (`Engagement.RecordInterview`): with a stakeholder picked from the
//! register, or an anonymous profile; motivations, expectations and notes
//! are personal data, sealed by the service before they are recorded. The
//! form also codes what was heard against the codebook (the motivation and
//! expectation codes in use, as checkboxes) and links the interview to the
//! survey it completes.

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
use super::plan_action::axes;
use super::{check_csrf, ended, first, guard, listed, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, time, State};

/// Interviews on one page.
const PAGE_SIZE: u32 = 100;

struct Row {
    when: String,
    /// A stakeholder's id (empty: anonymous).
    id: String,
    with: String,
    by: String,
    topics: String,
}

#[derive(Template)]
#[template(path = "interviews.html")]
struct List {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
}

/// `GET /entretiens` (facilitator).
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
            .list_interviews(pb::InterviewListRequest {
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
        .filter(|item| !item.stakeholder_id.is_empty())
        .map(|item| item.stakeholder_id.clone())
        .collect();
    let mut named = names(&state, &session, &ids).await.into_iter();
    let rows = items
        .into_iter()
        .map(|item| Row {
            when: time::show(item.conducted_at.as_ref()),
            with: if item.stakeholder_id.is_empty() {
                format!(
                    "anonyme : {}, commune {}",
                    labels::audience(item.anonymous_audience()),
                    item.anonymous_commune_code
                )
            } else {
                named
                    .next()
                    .map_or_else(|| item.stakeholder_id.clone(), |named| named.name)
            },
            by: item.interviewer.clone(),
            topics: item
                .topics()
                .map(labels::theme)
                .collect::<Vec<_>>()
                .join(", "),
            id: item.stakeholder_id,
        })
        .collect();
    render(&List {
        nav: Nav::of(&session, "entretiens"),
        title: "Entretiens".to_owned(),
        errors,
        rows,
        total,
    })
}

#[derive(Template)]
#[template(path = "interview_form.html")]
struct Form {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    request_id: String,
    picker: Picker,
    stakeholder: Input,
    audience: Input,
    commune: Input,
    conducted: Input,
    topics: Input,
    axes: Input,
    survey: Input,
    motivation_codes: Input,
    expectation_codes: Input,
    motivations: Input,
    expectations: Input,
    notes: Input,
}

/// What the form offers besides the fields: the programme's axes, the
/// codebook's codes in use and the surveys (id, title).
struct Offer {
    axes: Vec<(String, String)>,
    codes: Vec<pb::CodebookCode>,
    surveys: Vec<(String, String)>,
}

impl Offer {
    async fn read(state: &State, session: &Session) -> Self {
        Self {
            axes: axes(state, session).await,
            codes: codes(state, session).await,
            surveys: surveys(state, session).await,
        }
    }
}

/// The surveys an interview may complete (id, title), newest first, or none
/// when they cannot be listed.
async fn surveys(state: &State, session: &Session) -> Vec<(String, String)> {
    let Ok(mut client) = state.backend.projections(&session.token) else {
        return Vec::new();
    };
    client
        .list_surveys(pb::SurveyListRequest {
            page: Some(pb::PageRequest {
                page_size: PAGE_SIZE,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .map(|list| {
            list.into_inner()
                .items
                .into_iter()
                .map(|survey| (survey.survey_id, survey.title))
                .collect()
        })
        .unwrap_or_default()
}

impl Form {
    fn new(nav: Nav, fields: &Fields, picker: Picker, offer: Offer) -> Self {
        let audiences = std::iter::once((String::new(), "—".to_owned())).chain(
            labels::all_audiences().into_iter().map(|audience| {
                (
                    audience.as_str_name().to_owned(),
                    labels::audience(audience).to_owned(),
                )
            }),
        );
        let themes = labels::all_themes().into_iter().map(|theme| {
            (
                theme.as_str_name().to_owned(),
                labels::theme(theme).to_owned(),
            )
        });
        Self {
            nav,
            title: "Noter un entretien".to_owned(),
            errors: Vec::new(),
            request_id: uuid::Uuid::new_v4().to_string(),
            picker,
            stakeholder: Input::text("subject.stakeholder_id", "Acteur interrogé", fields)
                .hint("(identifiant ; choisissez-le par la recherche ci-dessus, ou laissez vide pour un profil anonyme)"),
            audience: Input::choices("subject.anonymous.audience", "Public", audiences, fields),
            commune: Input::text("subject.anonymous.commune_code", "Commune", fields)
                .hint("(code INSEE)"),
            conducted: Input::text("conducted_at", "Quand", fields)
                .kind("datetime-local")
                .required()
                .hint("(heure UTC)"),
            topics: Input::choices("topics", "Thèmes", themes, fields),
            axes: Input::choices("axis_ids", "Axes du programme", offer.axes, fields),
            survey: Input::choices(
                "survey_id",
                "Enquête qu'il complète",
                std::iter::once((String::new(), "— aucune —".to_owned())).chain(offer.surveys),
                fields,
            ),
            motivation_codes: Input::choices(
                "motivation_codes",
                "Motivations codées",
                options(&offer.codes, pb::CodeKind::Motivation),
                fields,
            ),
            expectation_codes: Input::choices(
                "expectation_codes",
                "Attentes codées",
                options(&offer.codes, pb::CodeKind::Expectation),
                fields,
            ),
            motivations: Input::text("motivations", "Motivations", fields)
                .kind("textarea")
                .hint("(une par ligne)"),
            expectations: Input::text("expectations", "Attentes", fields)
                .kind("textarea")
                .hint("(une par ligne)"),
            notes: Input::text("notes", "Notes", fields)
                .kind("textarea")
                .hint("(données personnelles : chiffrées par le service avant d'être enregistrées)"),
        }
    }

    fn inputs(&mut self) -> [&mut Input; 12] {
        [
            &mut self.stakeholder,
            &mut self.audience,
            &mut self.commune,
            &mut self.conducted,
            &mut self.topics,
            &mut self.axes,
            &mut self.survey,
            &mut self.motivation_codes,
            &mut self.expectation_codes,
            &mut self.motivations,
            &mut self.expectations,
            &mut self.notes,
        ]
    }
}

/// The stakeholder picker of the form, for the query string `query`.
async fn picker(state: &State, session: &Session, query: &Fields) -> Picker {
    pick(
        state,
        &session.token,
        "/entretiens/nouveau".to_owned(),
        "Avec qui",
        query,
        true,
        None,
    )
    .await
}

/// `GET /entretiens/nouveau?avec=<id>&nom=…` (facilitator).
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
            .append_pair("subject.stakeholder_id", &query.get("avec"))
            .append_pair("conducted_at", &time::now_input(state.clock.now()))
            .finish()
            .as_bytes(),
    );
    let picker = picker(&state, &session, &query).await;
    let offer = Offer::read(&state, &session).await;
    render(&Form::new(
        Nav::of(&session, "entretiens"),
        &fields,
        picker,
        offer,
    ))
}

fn request(fields: &Fields) -> Result<pb::RecordInterviewRequest, Refusal> {
    let conducted = fields.get("conducted_at");
    let conducted_at = if conducted.is_empty() {
        None
    } else {
        Some(
            time::date_time(&conducted)
                .ok_or_else(|| Refusal::field("conducted_at", "Date et heure invalides."))?,
        )
    };
    let stakeholder = fields.get("subject.stakeholder_id");
    let audience = fields.get("subject.anonymous.audience");
    let commune = fields.get("subject.anonymous.commune_code");
    let who = if !stakeholder.is_empty() {
        Some(pb::interview_subject::Who::StakeholderId(stakeholder))
    } else if audience.is_empty() && commune.is_empty() {
        None
    } else {
        Some(pb::interview_subject::Who::Anonymous(
            pb::AnonymousParticipant {
                audience: pb::EngagementAudience::from_str_name(&audience).unwrap_or_default()
                    as i32,
                commune_code: commune,
            },
        ))
    };
    Ok(pb::RecordInterviewRequest {
        request_id: fields.get("request_id"),
        subject: who.map(|who| pb::InterviewSubject { who: Some(who) }),
        conducted_at,
        topics: fields
            .all("topics")
            .iter()
            .filter_map(|theme| pb::Theme::from_str_name(theme))
            .map(|theme| theme as i32)
            .collect(),
        motivations: fields.lines("motivations"),
        expectations: fields.lines("expectations"),
        notes: fields.raw("notes").trim().to_owned(),
        axis_ids: fields.all("axis_ids"),
        survey_id: fields.get("survey_id"),
        motivation_codes: fields.all("motivation_codes"),
        expectation_codes: fields.all("expectation_codes"),
        ..Default::default()
    })
}

/// `POST /entretiens/nouveau` (facilitator).
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
                .record_interview(request)
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(_) => Redirect::to("/entretiens").into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(mut refusal) => {
            // Nobody given: the stakeholder is the field to fill.
            if refusal.field.as_deref() == Some("subject") {
                refusal.field = Some("subject.stakeholder_id".to_owned());
            }
            let query = Fields::parse(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("avec", &fields.get("subject.stakeholder_id"))
                    .finish()
                    .as_bytes(),
            );
            let picker = picker(&state, &session, &query).await;
            let offer = Offer::read(&state, &session).await;
            let mut form = Form::new(Nav::of(&session, "entretiens"), &fields, picker, offer);
            form.errors = place(&refusal, &mut form.inputs());
            let mut response = render(&form);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            response
        }
    }
}
