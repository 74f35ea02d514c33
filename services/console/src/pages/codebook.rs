//! *Grille de codage*: the codebook the team codes interviews and diagnostics
//! against (`Engagement.GetCodebook`), its codes grouped by kind, and for
//! facilitators the forms that define, relabel and retire a code
//! (`DefineCode`, `RelabelCode`, `RetireCode`, at the codebook version read).
//! The interview and diagnostic forms offer the codes in use through
//! [`codes`] and [`options`].

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;

use super::{check_csrf, ended, guard, message, place, render, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, State};

/// Roles that may read the codebook (admin always may).
const READERS: [Role; 2] = [Role::Facilitator, Role::Analyst];

/// Every kind of code, in the order the page lists them.
const KINDS: [pb::CodeKind; 5] = [
    pb::CodeKind::Motivation,
    pb::CodeKind::Expectation,
    pb::CodeKind::Need,
    pb::CodeKind::Refusal,
    pb::CodeKind::Priority,
];

/// A kind of code as the pages name it.
fn kind_label(kind: pb::CodeKind) -> &'static str {
    match kind {
        pb::CodeKind::Motivation => "Motivations",
        pb::CodeKind::Expectation => "Attentes",
        pb::CodeKind::Need => "Besoins",
        pb::CodeKind::Refusal => "Activités refusées",
        pb::CodeKind::Priority => "Priorités de développement",
        pb::CodeKind::Unspecified => "—",
    }
}

/// The codebook (every code, retired ones too), or why it cannot be read.
async fn read(state: &State, session: &Session) -> Result<pb::CodebookView, Refusal> {
    let mut client = state.backend.engagement(&session.token)?;
    client
        .get_codebook(pb::GetCodebookRequest {})
        .await
        .map(tonic::Response::into_inner)
        .map_err(Refusal::from)
}

/// The codes in use, or none when the codebook cannot be read (the forms
/// then offer no code and keep their free-text fields).
pub(super) async fn codes(state: &State, session: &Session) -> Vec<pb::CodebookCode> {
    read(state, session)
        .await
        .map(|codebook| {
            codebook
                .codes
                .into_iter()
                .filter(|code| !code.retired)
                .collect()
        })
        .unwrap_or_default()
}

/// The codes of `kind` among `codes` as checkbox options (id, label).
pub(super) fn options(codes: &[pb::CodebookCode], kind: pb::CodeKind) -> Vec<(String, String)> {
    codes
        .iter()
        .filter(|code| code.kind() == kind)
        .map(|code| (code.code_id.clone(), code.label.clone()))
        .collect()
}

/// One code as the page lists it.
struct Row {
    id: String,
    label: String,
    description: String,
    topic: &'static str,
    retired: bool,
    reason: String,
}

impl Row {
    fn of(code: &pb::CodebookCode) -> Self {
        Self {
            id: code.code_id.clone(),
            label: code.label.clone(),
            description: code.description.clone(),
            topic: match code.topic() {
                pb::Theme::Unspecified => "",
                theme => labels::theme(theme),
            },
            retired: code.retired,
            reason: code.retirement_reason.clone(),
        }
    }
}

/// The codes of one kind.
struct Group {
    label: &'static str,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "codebook.html")]
struct Page {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    can_edit: bool,
    version: u64,
    request_id: String,
    groups: Vec<Group>,
    kind: Input,
    label: Input,
    description: Input,
    topic: Input,
}

impl Page {
    /// The page over `codebook`, the define form filled with `typed`.
    fn new(session: &Session, codebook: &pb::CodebookView, typed: &Fields) -> Self {
        let kinds = std::iter::once((String::new(), "—".to_owned()))
            .chain(KINDS.map(|kind| (kind.as_str_name().to_owned(), kind_label(kind).to_owned())));
        let topics = std::iter::once((String::new(), "—".to_owned())).chain(
            labels::all_themes().into_iter().map(|theme| {
                (
                    theme.as_str_name().to_owned(),
                    labels::theme(theme).to_owned(),
                )
            }),
        );
        let groups = KINDS
            .iter()
            .map(|&kind| Group {
                label: kind_label(kind),
                rows: codebook
                    .codes
                    .iter()
                    .filter(|code| code.kind() == kind)
                    .map(Row::of)
                    .collect(),
            })
            .collect();
        Self {
            nav: Nav::of(session, "grille"),
            title: "Grille de codage".to_owned(),
            errors: Vec::new(),
            can_edit: session.any(&WRITERS),
            version: codebook.version,
            request_id: uuid::Uuid::new_v4().to_string(),
            groups,
            kind: Input::choices("kind", "Type", kinds, typed).required(),
            label: Input::text("label", "Libellé", typed).required(),
            description: Input::text("description", "Description", typed).kind("textarea"),
            topic: Input::choices("topic", "Thème", topics, typed),
        }
    }
}

/// One code with its relabel and retire forms (facilitator).
#[derive(Template)]
#[template(path = "codebook_code.html")]
struct CodePage {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    version: u64,
    request_id: String,
    kind: &'static str,
    code: Row,
    label: Input,
    description: Input,
    reason: Input,
}

impl CodePage {
    /// The page of `code`, the form a refusal came from refilled with `typed`.
    fn new(session: &Session, version: u64, code: &pb::CodebookCode, typed: &Typed<'_>) -> Self {
        let current = Fields::parse(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("label", &code.label)
                .append_pair("description", &code.description)
                .finish()
                .as_bytes(),
        );
        let empty = Fields::default();
        let (relabel, retire) = match typed {
            Typed::Relabel(fields) => (*fields, &empty),
            Typed::Retire(fields) => (&current, *fields),
            Typed::Define(_) | Typed::Nothing => (&current, &empty),
        };
        Self {
            nav: Nav::of(session, "grille"),
            title: format!("Code « {} »", code.label),
            errors: Vec::new(),
            version,
            request_id: uuid::Uuid::new_v4().to_string(),
            kind: kind_label(code.kind()),
            code: Row::of(code),
            label: Input::text("label", "Nouveau libellé", relabel).required(),
            description: Input::text("description", "Description", relabel).kind("textarea"),
            reason: Input::text("reason", "Pourquoi le retirer", retire).required(),
        }
    }
}

/// Which form was sent, with what was typed in it.
enum Typed<'a> {
    Nothing,
    Define(&'a Fields),
    Relabel(&'a Fields),
    Retire(&'a Fields),
}

/// `GET /grille` (facilitator, analyst).
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match read(&state, &session).await {
        Ok(codebook) => render(&Page::new(&session, &codebook, &Fields::default())),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            let mut page = Page::new(&session, &pb::CodebookView::default(), &Fields::default());
            page.errors = vec![refusal.message];
            render(&page)
        }
    }
}

/// The code `id` of `codebook`.
fn find<'a>(codebook: &'a pb::CodebookView, id: &str) -> Option<&'a pb::CodebookCode> {
    codebook.codes.iter().find(|code| code.code_id == id)
}

/// The answer for a code the codebook does not have.
fn unknown(session: &Session) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Nav::of(session, "grille"),
        "Code introuvable",
        "La grille de codage n'a pas ce code.",
    )
}

/// `GET /grille/{id}` (facilitator): one code and its forms.
pub(super) async fn code(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    match read(&state, &session).await {
        Ok(codebook) => match find(&codebook, &id) {
            Some(code) => render(&CodePage::new(
                &session,
                codebook.version,
                code,
                &Typed::Nothing,
            )),
            None => unknown(&session),
        },
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => message(
            StatusCode::SERVICE_UNAVAILABLE,
            Nav::of(&session, "grille"),
            "Grille de codage indisponible",
            &refusal.message,
        ),
    }
}

/// What a form sends for the code `id` (empty: a new code).
async fn send(
    state: &State,
    session: &Session,
    id: &str,
    typed: &Typed<'_>,
) -> Result<(), Refusal> {
    let mut client = state.backend.engagement(&session.token)?;
    let answer = match typed {
        Typed::Nothing => return Ok(()),
        Typed::Define(fields) => {
            client
                .define_code(pb::DefineCodeRequest {
                    request_id: fields.get("request_id"),
                    expected_version: fields.get("version").parse().ok(),
                    kind: pb::CodeKind::from_str_name(&fields.get("kind")).unwrap_or_default()
                        as i32,
                    label: fields.get("label"),
                    description: fields.raw("description").trim().to_owned(),
                    topic: pb::Theme::from_str_name(&fields.get("topic")).unwrap_or_default()
                        as i32,
                })
                .await
        }
        Typed::Relabel(fields) => {
            client
                .relabel_code(pb::RelabelCodeRequest {
                    request_id: fields.get("request_id"),
                    code_id: id.to_owned(),
                    expected_version: fields.get("version").parse().ok(),
                    label: fields.get("label"),
                    description: fields.raw("description").trim().to_owned(),
                })
                .await
        }
        Typed::Retire(fields) => {
            client
                .retire_code(pb::RetireCodeRequest {
                    request_id: fields.get("request_id"),
                    code_id: id.to_owned(),
                    expected_version: fields.get("version").parse().ok(),
                    reason: fields.get("reason"),
                })
                .await
        }
    };
    answer.map(|_| ()).map_err(Refusal::from)
}

/// `POST /grille` (facilitator): defines a code; back to the codebook, or
/// the page again with the refusal next to the field it names.
pub(super) async fn define(
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
    let refusal = match send(&state, &session, "", &Typed::Define(&fields)).await {
        Ok(()) => return Redirect::to("/grille").into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    let codebook = read(&state, &session).await.unwrap_or_default();
    let mut page = Page::new(&session, &codebook, &fields);
    page.errors = place(
        &refusal,
        &mut [
            &mut page.kind,
            &mut page.label,
            &mut page.description,
            &mut page.topic,
        ],
    );
    let mut response = render(&page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// `POST /grille/{id}/{action}` (facilitator): `renommer` relabels the
/// code, `retirer` retires it; back to the codebook, or the code's page
/// again with the refusal next to the field it names.
pub(super) async fn change(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path((id, action)): Path<(String, String)>,
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
    let typed = match action.as_str() {
        "renommer" => Typed::Relabel(&fields),
        "retirer" => Typed::Retire(&fields),
        _ => return unknown(&session),
    };
    let refusal = match send(&state, &session, &id, &typed).await {
        Ok(()) => return Redirect::to("/grille").into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    let codebook = read(&state, &session).await.unwrap_or_default();
    let Some(code) = find(&codebook, &id) else {
        return message(
            StatusCode::NOT_FOUND,
            Nav::of(&session, "grille"),
            "Code introuvable",
            &refusal.message,
        );
    };
    let mut page = CodePage::new(&session, codebook.version, code, &typed);
    page.errors = place(
        &refusal,
        &mut [&mut page.label, &mut page.description, &mut page.reason],
    );
    let mut response = render(&page);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}
