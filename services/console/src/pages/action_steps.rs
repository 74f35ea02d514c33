//! The steps of an action, each its own form (`GET`/`POST
//! /actions/{id}/{step}`): schedule, reschedule, invite (stakeholders picked
//! by a search of the register), record an answer, record attendance, mark
//! it held, publish its minutes, record an outcome, cancel it, and, for a
//! designated officer, approve it or send it back. The service decides;
//! a refusal comes back next to the field it names, with what was typed.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use tonic::Code;

use super::action::{load, names, Named};
use super::picker::{pick, Picker};
use super::{check_csrf, ended, guard, message, place, render, Input, Nav, WRITERS};
use crate::backend::{Authed, Refusal};
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, time, State};

/// One step of an action's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Approve,
    SendBack,
    Schedule,
    Reschedule,
    Invite,
    Answer,
    Attendance,
    Held,
    Minutes,
    Outcomes,
    Cancel,
}

impl Step {
    /// Every step, in the order the action's page lists them.
    pub(super) const ALL: [Step; 11] = [
        Step::Approve,
        Step::SendBack,
        Step::Schedule,
        Step::Reschedule,
        Step::Invite,
        Step::Answer,
        Step::Attendance,
        Step::Held,
        Step::Minutes,
        Step::Outcomes,
        Step::Cancel,
    ];

    /// The last segment of its path.
    pub(super) fn slug(self) -> &'static str {
        match self {
            Step::Approve => "approuver",
            Step::SendBack => "renvoyer",
            Step::Schedule => "programmer",
            Step::Reschedule => "reprogrammer",
            Step::Invite => "inviter",
            Step::Answer => "reponse",
            Step::Attendance => "presences",
            Step::Held => "tenue",
            Step::Minutes => "compte-rendu",
            Step::Outcomes => "resultats",
            Step::Cancel => "annuler",
        }
    }

    fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.slug() == slug)
    }

    /// What the step does, as its link and heading say it.
    pub(super) fn title(self) -> &'static str {
        match self {
            Step::Approve => "Approuver",
            Step::SendBack => "Renvoyer avec un motif",
            Step::Schedule => "Programmer",
            Step::Reschedule => "Reprogrammer",
            Step::Invite => "Inviter",
            Step::Answer => "Noter une réponse",
            Step::Attendance => "Noter les présences",
            Step::Held => "Marquer comme tenue",
            Step::Minutes => "Publier le compte rendu",
            Step::Outcomes => "Noter une proposition",
            Step::Cancel => "Annuler l'action",
        }
    }

    /// Whether the action's page offers it now (the service decides anyway).
    pub(super) fn applies(self, view: &pb::ActionView) -> bool {
        use pb::ActionStatus as S;
        let status = view.status();
        let awaiting = view.approval_required && view.approved_by.is_empty();
        let invited = !view.invitations.is_empty();
        match self {
            Step::Approve | Step::SendBack => awaiting && status == S::Planned,
            Step::Schedule => status == S::Planned && !awaiting,
            Step::Reschedule | Step::Held => status == S::Scheduled,
            Step::Invite => matches!(status, S::Planned | S::Scheduled),
            Step::Answer => invited && matches!(status, S::Planned | S::Scheduled),
            Step::Attendance | Step::Minutes | Step::Outcomes => {
                matches!(status, S::Held | S::Reported)
            }
            Step::Cancel => matches!(status, S::Planned | S::Scheduled),
        }
    }

    /// Its fields, filled from `fields`; `invitees` feed the choices of an
    /// answer and of attendance.
    fn inputs(self, view: &pb::ActionView, fields: &Fields, invitees: &[Named]) -> Vec<Input> {
        let who = || {
            invitees
                .iter()
                .map(|named| (named.id.clone(), named.name.clone()))
                .collect::<Vec<_>>()
        };
        let when = |name, label| {
            Input::text(name, label, fields)
                .kind("datetime-local")
                .required()
                .hint("(heure UTC)")
        };
        match self {
            Step::Approve => vec![Input::text("note", "Ce que la concertation a décidé", fields)
                .kind("textarea")
                .hint("(facultatif)")],
            Step::SendBack | Step::Cancel => {
                vec![Input::text("reason", "Motif", fields)
                    .kind("textarea")
                    .required()]
            }
            Step::Schedule => vec![when("starts_at", "Début"), when("ends_at", "Fin")],
            Step::Reschedule => vec![
                when("starts_at", "Nouveau début"),
                when("ends_at", "Nouvelle fin"),
                Input::text("venue.commune_code", "Nouvelle commune du lieu", fields)
                    .hint("(code INSEE ; vide : lieu inchangé)"),
                Input::text("reason", "Motif", fields).kind("textarea"),
            ],
            Step::Invite => vec![Input::text("stakeholder_ids", "Invité·es", fields)
                .required()
                .hint("(identifiants des acteurs, séparés par des espaces : choisissez-les par la recherche ci-dessus)")],
            Step::Answer => {
                let answers = [
                    pb::ActionInvitationAnswer::Accepted,
                    pb::ActionInvitationAnswer::Declined,
                    pb::ActionInvitationAnswer::Tentative,
                ]
                .map(|answer| {
                    (
                        answer.as_str_name().to_owned(),
                        labels::invitation_answer(answer).to_owned(),
                    )
                });
                vec![
                    Input::choices("stakeholder_id", "Invité·e", who(), fields)
                        .kind("select")
                        .required(),
                    Input::choices("answer", "Réponse", answers, fields)
                        .kind("select")
                        .required(),
                ]
            }
            Step::Attendance => {
                let audiences = view.audiences().map(|audience| {
                    (
                        audience.as_str_name().to_owned(),
                        labels::audience(audience).to_owned(),
                    )
                });
                vec![
                    Input::choices("attendee_ids", "Présent·es parmi les invité·es", who(), fields)
                        .kind("checkboxes"),
                    Input::choices(
                        "head_counts[0].audience",
                        "Public des personnes sans nom",
                        audiences,
                        fields,
                    )
                    .kind("select"),
                    Input::text("head_counts[0].count", "Nombre de personnes sans nom", fields)
                        .kind("number")
                        .hint("(vide : aucune)"),
                ]
            }
            Step::Held => Vec::new(),
            Step::Minutes => vec![
                Input::text("minutes.summary", "Résumé", fields)
                    .kind("textarea")
                    .required(),
                Input::text("minutes.key_points", "Points clés", fields)
                    .kind("textarea")
                    .hint("(un par ligne)"),
            ],
            Step::Outcomes => {
                let themes = labels::all_themes().into_iter().map(|theme| {
                    (
                        theme.as_str_name().to_owned(),
                        labels::theme(theme).to_owned(),
                    )
                });
                vec![
                    Input::text("outcomes[0].proposal", "Proposition", fields)
                        .kind("textarea")
                        .required(),
                    Input::choices("outcomes[0].topic", "Thème", themes, fields)
                        .kind("select")
                        .required(),
                    Input::text(
                        "outcomes[0].suggested_owner_id",
                        "Porteur suggéré",
                        fields,
                    )
                    .hint("(identifiant d'un acteur ; vide : aucun)"),
                ]
            }
        }
    }

    /// What the form shows before anything is typed (the current minutes,
    /// the picked invitees).
    fn prefilled(self, view: &pb::ActionView, query: &Fields) -> Fields {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        match self {
            Step::Invite => {
                pairs.append_pair("stakeholder_ids", &query.all("avec").join(" "));
            }
            Step::Minutes => {
                let minutes = view.minutes.clone().unwrap_or_default();
                pairs
                    .append_pair("minutes.summary", &minutes.summary)
                    .append_pair("minutes.key_points", &minutes.key_points.join("\n"));
            }
            _ => {}
        }
        Fields::parse(pairs.finish().as_bytes())
    }

    /// Sends the step's command for `fields` to the action `id` at `version`.
    async fn send(
        self,
        client: &mut EngagementClient<Authed>,
        action_id: String,
        fields: &Fields,
    ) -> Result<(), Refusal> {
        let request_id = fields.get("request_id");
        let expected_version = fields.get("version").parse().ok();
        let slot = || -> Result<_, Refusal> {
            let at = |name: &str| {
                let text = fields.get(name);
                if text.is_empty() {
                    return Ok(None);
                }
                time::date_time(&text)
                    .map(Some)
                    .ok_or_else(|| Refusal::field(name, "Date et heure invalides."))
            };
            Ok((at("starts_at")?, at("ends_at")?))
        };
        let sent = match self {
            Step::Approve => {
                client
                    .approve_action(pb::ApproveActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        note: fields.raw("note").trim().to_owned(),
                    })
                    .await
            }
            Step::SendBack => {
                client
                    .send_back_action(pb::SendBackActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        reason: fields.raw("reason").trim().to_owned(),
                    })
                    .await
            }
            Step::Schedule => {
                let (starts_at, ends_at) = slot()?;
                client
                    .schedule_action(pb::ScheduleActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        starts_at,
                        ends_at,
                    })
                    .await
            }
            Step::Reschedule => {
                let (starts_at, ends_at) = slot()?;
                let commune = fields.get("venue.commune_code");
                client
                    .reschedule_action(pb::RescheduleActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        starts_at,
                        ends_at,
                        venue: (!commune.is_empty()).then_some(pb::ActionVenue {
                            place: Some(pb::action_venue::Place::CommuneCode(commune)),
                        }),
                        reason: fields.raw("reason").trim().to_owned(),
                    })
                    .await
            }
            Step::Invite => {
                client
                    .invite_to_action(pb::InviteToActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        stakeholder_ids: fields
                            .get("stakeholder_ids")
                            .split([' ', ',', '\n'])
                            .filter(|id| !id.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    })
                    .await
            }
            Step::Answer => {
                client
                    .record_invitation_answer(pb::RecordInvitationAnswerRequest {
                        request_id,
                        action_id,
                        expected_version,
                        stakeholder_id: fields.get("stakeholder_id"),
                        answer: pb::ActionInvitationAnswer::from_str_name(&fields.get("answer"))
                            .unwrap_or_default() as i32,
                    })
                    .await
            }
            Step::Attendance => {
                let count = fields.get("head_counts[0].count");
                let head_counts = if count.is_empty() {
                    Vec::new()
                } else {
                    vec![pb::AudienceHeadCount {
                        audience: pb::EngagementAudience::from_str_name(
                            &fields.get("head_counts[0].audience"),
                        )
                        .unwrap_or_default() as i32,
                        count: count.parse().map_err(|_| {
                            Refusal::field(
                                "head_counts[0].count",
                                "Un nombre entier positif est attendu.",
                            )
                        })?,
                    }]
                };
                client
                    .record_attendance(pb::RecordAttendanceRequest {
                        request_id,
                        action_id,
                        expected_version,
                        attendee_ids: fields.all("attendee_ids"),
                        head_counts,
                    })
                    .await
            }
            Step::Held => {
                client
                    .mark_action_held(pb::MarkActionHeldRequest {
                        request_id,
                        action_id,
                        expected_version,
                    })
                    .await
            }
            Step::Minutes => {
                client
                    .publish_minutes(pb::PublishMinutesRequest {
                        request_id,
                        action_id,
                        expected_version,
                        minutes: Some(pb::ActionMinutes {
                            summary: fields.raw("minutes.summary").trim().to_owned(),
                            key_points: fields.lines("minutes.key_points"),
                        }),
                    })
                    .await
            }
            Step::Outcomes => {
                client
                    .record_outcomes(pb::RecordOutcomesRequest {
                        request_id,
                        action_id,
                        expected_version,
                        outcomes: vec![pb::ProposedOutcome {
                            proposal: fields.raw("outcomes[0].proposal").trim().to_owned(),
                            topic: pb::Theme::from_str_name(&fields.get("outcomes[0].topic"))
                                .unwrap_or_default() as i32,
                            suggested_owner_id: fields.get("outcomes[0].suggested_owner_id"),
                            ..Default::default()
                        }],
                    })
                    .await
            }
            Step::Cancel => {
                client
                    .cancel_action(pb::CancelActionRequest {
                        request_id,
                        action_id,
                        expected_version,
                        reason: fields.raw("reason").trim().to_owned(),
                    })
                    .await
            }
        };
        sent.map(|_| ()).map_err(Refusal::from)
    }
}

#[derive(Template)]
#[template(path = "action_step.html")]
struct Form {
    nav: Nav,
    title: String,
    action: String,
    id: String,
    slug: &'static str,
    button: &'static str,
    version: u64,
    request_id: String,
    errors: Vec<String>,
    picker: Option<Picker>,
    inputs: Vec<Input>,
}

/// The step's form for the action `view`, filled from `fields`.
async fn form(
    state: &State,
    session: &Session,
    step: Step,
    view: &pb::ActionView,
    fields: &Fields,
    picker: Option<Picker>,
) -> Form {
    let invitees: Vec<String> = view
        .invitations
        .iter()
        .map(|invitation| invitation.stakeholder_id.clone())
        .collect();
    let invitees = match step {
        Step::Answer | Step::Attendance => names(state, session, &invitees).await,
        _ => Vec::new(),
    };
    Form {
        nav: Nav::of(session, "actions"),
        title: format!("{} : {}", step.title(), view.title),
        action: view.title.clone(),
        id: view.action_id.clone(),
        slug: step.slug(),
        button: step.title(),
        version: view.version,
        request_id: uuid::Uuid::new_v4().to_string(),
        errors: Vec::new(),
        picker,
        inputs: step.inputs(view, fields, &invitees),
    }
}

/// The picker of the stakeholders to invite to `view`, for the query string `query`.
async fn invitees(
    state: &State,
    session: &Session,
    view: &pb::ActionView,
    query: &Fields,
) -> Picker {
    pick(
        state,
        &session.token,
        format!("/actions/{}/{}", view.action_id, Step::Invite.slug()),
        "Qui inviter",
        query,
        false,
        None,
    )
    .await
}

/// The step named `slug`, or the 404 page.
fn step_of(session: &Session, slug: &str) -> Result<Step, Box<Response>> {
    Step::from_slug(slug).ok_or_else(|| {
        Box::new(message(
            StatusCode::NOT_FOUND,
            Nav::of(session, "actions"),
            "Page introuvable",
            "Cette étape n'existe pas.",
        ))
    })
}

/// `GET /actions/{id}/{step}` (facilitator; inviting also takes the
/// picker's `avec` and `nom`).
pub(super) async fn show(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path((id, slug)): Path<(String, String)>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let step = match step_of(&session, &slug) {
        Ok(step) => step,
        Err(response) => return *response,
    };
    let view = match load(&state, &headers, &session, id).await {
        Ok(view) => view,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let picker = match step {
        Step::Invite => Some(invitees(&state, &session, &view, &query).await),
        _ => None,
    };
    let fields = step.prefilled(&view, &query);
    render(&form(&state, &session, step, &view, &fields, picker).await)
}

/// `POST /actions/{id}/{step}` (facilitator).
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path((id, slug)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let step = match step_of(&session, &slug) {
        Ok(step) => step,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => step.send(&mut client, id.clone(), &fields).await,
        Err(refusal) => Err(refusal),
    };
    let refusal = match answer {
        Ok(()) => return Redirect::to(&format!("/actions/{id}")).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    let view = match load(&state, &headers, &session, id).await {
        Ok(view) => view,
        Err(response) => return *response,
    };
    // Inviting again shows who was picked: the ids typed. (The serializer
    // is not Send: it must not live across an await.)
    let chosen = {
        let mut chosen = form_urlencoded::Serializer::new(String::new());
        for id in fields.get("stakeholder_ids").split([' ', ',', '\n']) {
            if !id.is_empty() {
                chosen.append_pair("avec", id);
            }
        }
        Fields::parse(chosen.finish().as_bytes())
    };
    let picker = match step {
        Step::Invite => Some(invitees(&state, &session, &view, &chosen).await),
        _ => None,
    };
    let mut form = form(&state, &session, step, &view, &fields, picker).await;
    form.errors = place(&refusal, &mut form.inputs.iter_mut().collect::<Vec<_>>());
    let mut response = render(&form);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}
