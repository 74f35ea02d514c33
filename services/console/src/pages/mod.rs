//! The console's routes and what every page shares: the menu the
//! principal's roles allow, the sign-in guard, the CSRF check of forms, the
//! form fields with the service's refusal next to the one it names.

mod action;
mod action_steps;
mod actions;
mod administration;
mod audit;
mod codebook;
mod consortium;
mod contacts;
mod correct_contact;
mod diagnostics;
mod edit_person;
mod erase_person;
mod follow_ups;
mod interviews;
mod meeting;
mod organisation;
mod picker;
mod plan_action;
mod qr;
mod register;
mod sign_in;
mod stakeholders;
mod survey;
mod survey_builder;
mod survey_chart;
mod survey_detail;
mod surveys;
mod territory;

use std::sync::Arc;

use askama::Template;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;

use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::State;

/// Roles that may read the register (admin always may).
pub(crate) const REGISTER_READERS: [Role; 3] = [Role::Facilitator, Role::Analyst, Role::Auditor];
/// Roles that may write the register and log contacts (admin always may).
pub(crate) const WRITERS: [Role; 1] = [Role::Facilitator];
/// Roles that may read the territory's figures (admin always may).
pub(crate) const ANALYSTS: [Role; 1] = [Role::Analyst];

/// Every route.
pub(crate) fn routes(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/connexion", get(sign_in::form).post(sign_in::submit))
        .route("/deconnexion", post(sign_in::sign_out))
        .route("/territoire", get(territory::page))
        .route("/territoire/export", get(territory::export))
        .route("/administration", get(administration::page))
        .route("/administration/jetons", post(administration::add))
        .route(
            "/administration/jetons/revoquer",
            post(administration::revoke),
        )
        .route("/audit", get(audit::page))
        .route("/audit/export", get(audit::export))
        .route("/acteurs", get(stakeholders::list))
        .route(
            "/acteurs/nouveau",
            get(register::form).post(register::submit),
        )
        .route("/acteurs/{id}", get(stakeholders::page))
        .route(
            "/acteurs/{id}/modifier",
            get(edit_person::form).post(edit_person::submit),
        )
        .route(
            "/acteurs/{id}/effacer",
            get(erase_person::form).post(erase_person::submit),
        )
        .route(
            "/organisations/nouvelle",
            get(organisation::form).post(organisation::submit),
        )
        .route(
            "/contacts/nouveau",
            get(contacts::form).post(contacts::submit),
        )
        .route("/consortium", get(consortium::pick))
        .route("/consortium/{id}", get(consortium::page))
        .route("/consortium/{id}/reunions", post(consortium::convene))
        .route("/reunions", get(meeting::pick))
        .route("/reunions/{id}", get(meeting::page))
        .route("/reunions/{id}/{action}", post(meeting::act))
        .route("/contacts/relances", get(follow_ups::page))
        .route("/contacts/{id}", get(contacts::page))
        .route("/contacts/{id}/corriger", post(correct_contact::submit))
        .route("/enquetes", get(surveys::page))
        .route(
            "/enquetes/nouvelle",
            get(survey_builder::form).post(survey_builder::submit),
        )
        .route("/enquetes/{id}", get(survey_detail::page))
        .route(
            "/enquetes/{id}/questions",
            get(survey_builder::revise_form).post(survey_builder::revise),
        )
        .route("/enquetes/{id}/ouvrir", post(survey_detail::open))
        .route("/enquetes/{id}/fermer", post(survey_detail::close))
        .route("/enquetes/{id}/affiche", get(survey_detail::poster))
        .route("/enquete/{id}", get(survey::form).post(survey::submit))
        .route("/enquete/{id}/merci", get(survey::thanks))
        .route("/actions", get(actions::list))
        .route(
            "/actions/nouvelle",
            get(plan_action::form).post(plan_action::submit),
        )
        .route("/actions/{id}", get(action::page))
        .route(
            "/actions/{id}/{step}",
            get(action_steps::show).post(action_steps::submit),
        )
        .route("/entretiens", get(interviews::list))
        .route(
            "/entretiens/nouveau",
            get(interviews::form).post(interviews::submit),
        )
        .route("/diagnostics", get(diagnostics::list))
        .route(
            "/diagnostics/nouveau",
            get(diagnostics::form).post(diagnostics::submit),
        )
        .route("/grille", get(codebook::page).post(codebook::define))
        .route("/grille/{id}", get(codebook::code))
        .route("/grille/{id}/{action}", post(codebook::change))
        .route("/static/console.css", get(crate::assets::stylesheet))
        .fallback(not_found)
        .layer(axum::middleware::map_response(protect))
        .with_state(state)
}

/// What every answer carries: pages (personal data) are never cached, and
/// the browser loads nothing but the console's own stylesheet, runs no
/// script, submits forms only to the console and shows it in no frame.
async fn protect(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}

/// The menu and the signed-in person, as the base template shows them.
pub(crate) struct Nav {
    pub(crate) signed_in: bool,
    pub(crate) principal: String,
    pub(crate) roles: String,
    pub(crate) csrf: String,
    pub(crate) current: &'static str,
    pub(crate) territory: bool,
    pub(crate) stakeholders: bool,
    pub(crate) contacts: bool,
    pub(crate) follow_ups: bool,
    pub(crate) surveys: bool,
    pub(crate) audit: bool,
    pub(crate) administration: bool,
    /// Actions, interviews and diagnostics (writers).
    pub(crate) engagement: bool,
    pub(crate) consortium: bool,
}

impl Nav {
    /// The menu of a signed-out visitor.
    pub(crate) fn public() -> Self {
        Self {
            signed_in: false,
            principal: String::new(),
            roles: String::new(),
            csrf: String::new(),
            current: "",
            territory: false,
            stakeholders: false,
            contacts: false,
            follow_ups: false,
            surveys: false,
            audit: false,
            administration: false,
            engagement: false,
            consortium: false,
        }
    }

    /// The menu `session`'s roles allow, `current` marked.
    pub(crate) fn of(session: &Session, current: &'static str) -> Self {
        Self {
            signed_in: true,
            principal: session.principal.clone(),
            roles: session
                .roles
                .iter()
                .map(|role| role.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            csrf: session.csrf.clone(),
            current,
            territory: session.any(&ANALYSTS),
            stakeholders: session.any(&REGISTER_READERS),
            contacts: session.any(&WRITERS),
            follow_ups: session.any(&follow_ups::READERS),
            surveys: session.any(&surveys::READERS),
            audit: session.any(&audit::AUDITORS),
            administration: session.any(&administration::ADMINS),
            engagement: session.any(&WRITERS),
            consortium: session.any(&consortium::READERS),
        }
    }
}

/// One option of a select or a group of checkboxes.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// A form field: what the person typed and the service's refusal of it.
pub(crate) struct Input {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) hint: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
    pub(crate) value: String,
    pub(crate) error: String,
    pub(crate) options: Vec<Choice>,
}

impl Input {
    /// A text input named `name` (the request field it fills).
    pub(crate) fn text(name: &'static str, label: &'static str, fields: &Fields) -> Self {
        Self {
            name,
            label,
            hint: "",
            kind: "text",
            required: false,
            value: fields.raw(name),
            error: String::new(),
            options: Vec::new(),
        }
    }

    /// Marks it required.
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets its input type (`date`, `datetime-local`, `textarea`...).
    pub(crate) fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    /// Adds a hint after its label.
    pub(crate) fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    /// A select or checkboxes named `name`, offering `options` (value, label).
    pub(crate) fn choices(
        name: &'static str,
        label: &'static str,
        options: impl IntoIterator<Item = (String, String)>,
        fields: &Fields,
    ) -> Self {
        let chosen = fields.all(name);
        Self {
            options: options
                .into_iter()
                .map(|(value, label)| Choice {
                    selected: chosen.contains(&value),
                    value,
                    label,
                })
                .collect(),
            ..Self::text(name, label, fields)
        }
    }
}

/// Puts `refusal` next to the field of `inputs` it names (the longest name
/// its field starts with), else in the returned list of general errors.
pub(crate) fn place(refusal: &Refusal, inputs: &mut [&mut Input]) -> Vec<String> {
    if let Some(field) = &refusal.field {
        let best = inputs
            .iter_mut()
            .filter(|input| {
                field == input.name
                    || field.starts_with(&format!("{}.", input.name))
                    || field.starts_with(&format!("{}[", input.name))
            })
            .max_by_key(|input| input.name.len());
        if let Some(input) = best {
            input.error = refusal.message.clone();
            return vec!["Un champ est à corriger : voyez le message à côté de lui.".to_owned()];
        }
        return vec![format!("{} ({field})", refusal.message)];
    }
    vec![refusal.message.clone()]
}

/// Renders a template, or a 500 page saying it could not.
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "Erreur interne").into_response()
        }
    }
}

/// A page with a title and a message (errors, refusals).
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    pub(crate) nav: Nav,
    pub(crate) title: String,
    pub(crate) message: String,
}

/// A message page with `status`.
pub(crate) fn message(status: StatusCode, nav: Nav, title: &str, text: &str) -> Response {
    let mut response = render(&Message {
        nav,
        title: title.to_owned(),
        message: text.to_owned(),
    });
    *response.status_mut() = status;
    response
}

/// The signed-in session the request carries, holding one of `roles`; else
/// the response to send: to the sign-in page when signed out (or when the
/// services no longer accept the token), 403 when the roles do not allow it.
pub(crate) fn guard(
    state: &State,
    headers: &HeaderMap,
    uri: &Uri,
    roles: &[Role],
) -> Result<Session, Box<Response>> {
    let Some(session) = state.sessions.get(headers) else {
        let next = uri
            .path_and_query()
            .map(|path| path.as_str())
            .unwrap_or("/");
        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Err(Box::new(
            Redirect::to(&format!("/connexion?suite={next}")).into_response(),
        ));
    };
    if !session.any(roles) {
        return Err(Box::new(message(
            StatusCode::FORBIDDEN,
            Nav::of(&session, ""),
            "Accès refusé",
            "Vos rôles ne donnent pas accès à cette page.",
        )));
    }
    Ok(session)
}

/// Checks a signed-in form's CSRF token: the 403 page when it is missing or
/// wrong (nothing is sent to any service).
pub(crate) fn check_csrf(session: &Session, fields: &Fields) -> Result<(), Box<Response>> {
    if crate::csrf::same(&fields.get("csrf"), &session.csrf) {
        Ok(())
    } else {
        Err(Box::new(forged(Nav::of(session, ""))))
    }
}

/// The answer to a form without its CSRF token.
pub(crate) fn forged(nav: Nav) -> Response {
    message(
        StatusCode::FORBIDDEN,
        nav,
        "Formulaire refusé",
        "Ce formulaire n'a pas été envoyé depuis la console, ou il a expiré : rechargez la page et recommencez. Rien n'a été enregistré.",
    )
}

/// A report of the projections as a file download (`ExportReport`, its file
/// name kept to safe characters), or the page saying why not; `tab` is the
/// menu entry that page shows, `report` what the query asked for (none: no
/// territory chosen yet).
pub(crate) async fn download(
    state: &State,
    headers: &HeaderMap,
    session: &Session,
    tab: &'static str,
    format: pb::ExportFormat,
    report: Result<Option<pb::export_report_request::Report>, Refusal>,
) -> Response {
    let refused = |refusal: Refusal| {
        message(
            StatusCode::BAD_REQUEST,
            Nav::of(session, tab),
            "Téléchargement impossible",
            &refusal.message,
        )
    };
    let report = match report {
        Ok(Some(report)) => report,
        Ok(None) => return refused(Refusal::general("Choisissez d'abord un territoire.")),
        Err(refusal) => return refused(refusal),
    };
    let answer = match state.backend.projections(&session.token) {
        Ok(mut client) => client
            .export_report(pb::ExportReportRequest {
                with_provenance: true,
                format: format as i32,
                report: Some(report),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(export) => {
            let export = export.into_inner();
            let filename: String = export
                .filename
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            (
                [
                    (header::CONTENT_TYPE, export.content_type),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                ],
                export.content,
            )
                .into_response()
        }
        Err(refusal) if refusal.code == tonic::Code::Unauthenticated => ended(state, headers),
        Err(refusal) => refused(refusal),
    }
}

/// What a list page shows of its list call's answer: the list, or an empty
/// one and the refusal's message; `Err`: the session ended (the sign-in
/// page, [`ended`]).
pub(crate) fn listed<T: Default>(
    state: &State,
    headers: &HeaderMap,
    answer: Result<tonic::Response<T>, Refusal>,
) -> Result<(T, Vec<String>), Box<Response>> {
    match answer {
        Ok(list) => Ok((list.into_inner(), Vec::new())),
        Err(refusal) if refusal.code == tonic::Code::Unauthenticated => {
            Err(Box::new(ended(state, headers)))
        }
        Err(refusal) => Ok((T::default(), vec![refusal.message])),
    }
}

/// The first `size` items of a list.
pub(crate) fn first(size: u32) -> Option<pb::PageRequest> {
    Some(pb::PageRequest {
        page_size: size,
        page_token: String::new(),
    })
}

/// The answer to a call the services refused as unauthenticated (the
/// token was revoked or expired): the session ends.
pub(crate) fn ended(state: &State, headers: &HeaderMap) -> Response {
    state.sessions.close(headers);
    (
        [(
            header::SET_COOKIE,
            crate::session::clear_cookie(state.secure_cookies),
        )],
        Redirect::to("/connexion"),
    )
        .into_response()
}

/// `GET /`: the first page the roles allow.
async fn home(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: HeaderMap,
) -> Response {
    match state.sessions.get(&headers) {
        None => Redirect::to("/connexion").into_response(),
        Some(session) if session.any(&ANALYSTS) => Redirect::to("/territoire").into_response(),
        Some(session) if !session.any(&REGISTER_READERS) => {
            Redirect::to("/consortium").into_response()
        }
        Some(_) => Redirect::to("/acteurs").into_response(),
    }
}

/// Anything else: 404, or the sign-in page for a signed-out visitor (who
/// learns nothing of which pages exist).
async fn not_found(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match guard(&state, &headers, &uri, &Role::ALL) {
        Err(response) => *response,
        Ok(session) => message(
            StatusCode::NOT_FOUND,
            Nav::of(&session, ""),
            "Page introuvable",
            "Cette page n'existe pas.",
        ),
    }
}
