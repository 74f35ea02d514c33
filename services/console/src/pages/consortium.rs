//! *Consortium*: a consortium's colleges with their weights and members, its
//! memberships and bodies (`Governance.GetConsortium`), its meetings and
//! commitments board (`Projections.GetConsortiumState`, for the roles that
//! may read it), and the secretary's form convening a meeting
//! (`ConveneMeeting`). Members are shown by the organisation's name that
//! governance's views carry (from its replica of the register: an
//! organisation's name is not personal data), to every reader, the
//! secretary included; a representative (a person) stays an id. The menu
//! entry lists the consortia (`ListConsortia`).

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use maillage_service_kit::Role;
use tonic::Code;

use super::{check_csrf, ended, guard, listed, message, place, render, Input, Nav, ANALYSTS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{time, State};

/// Roles that may read the consortium (governance's readers; admin always may).
pub(crate) const READERS: [Role; 4] = [
    Role::Secretary,
    Role::Analyst,
    Role::Auditor,
    Role::Facilitator,
];
/// Roles that may run its meetings (governance's writers; admin always may).
pub(crate) const SECRETARIES: [Role; 1] = [Role::Secretary];

/// A body kind as people say it.
fn body_kind(kind: pb::BodyKind) -> &'static str {
    match kind {
        pb::BodyKind::GeneralAssembly => "assemblée générale",
        pb::BodyKind::SteeringCommittee => "comité de pilotage",
        pb::BodyKind::TechnicalCommittee => "comité technique",
        pb::BodyKind::Other | pb::BodyKind::Unspecified => "autre instance",
    }
}

/// A majority rule as people say it.
pub(super) fn majority(rule: pb::MajorityRule) -> &'static str {
    match rule {
        pb::MajorityRule::Simple => "majorité simple",
        pb::MajorityRule::Absolute => "majorité absolue",
        pb::MajorityRule::TwoThirds => "majorité des deux tiers",
        pb::MajorityRule::Unspecified => "non précisée",
    }
}

/// A membership status as people say it.
fn membership(status: pb::MembershipStatus) -> &'static str {
    match status {
        pb::MembershipStatus::Applied => "candidat",
        pb::MembershipStatus::Admitted => "admis",
        pb::MembershipStatus::Refused => "refusé",
        pb::MembershipStatus::Withdrawn => "retiré",
        pb::MembershipStatus::Unspecified => "inconnu",
    }
}

/// A resolution's status as people say it.
pub(super) fn resolution_status(status: pb::ResolutionStatus) -> &'static str {
    match status {
        pb::ResolutionStatus::Open => "vote ouvert",
        pb::ResolutionStatus::Adopted => "adoptée",
        pb::ResolutionStatus::Rejected => "rejetée",
        pb::ResolutionStatus::Unspecified => "inconnu",
    }
}

/// A commitment's status as people say it.
fn commitment_status(status: pb::CommitmentStatus) -> &'static str {
    match status {
        pb::CommitmentStatus::Open => "en cours",
        pb::CommitmentStatus::Completed => "tenu",
        pb::CommitmentStatus::Dropped => "abandonné",
        pb::CommitmentStatus::Unspecified => "inconnu",
    }
}

/// A share (the quorum) as people read it: "1/2".
pub(super) fn share(fraction: Option<&pb::ShareFraction>) -> String {
    fraction.map_or_else(
        || "—".to_owned(),
        |share| format!("{}/{}", share.numerator, share.denominator),
    )
}

/// The members' names by id, from the (member id, display name) pairs of
/// governance's views (unknown names left out).
pub(super) fn member_names<'a>(
    members: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::collections::BTreeMap<String, String> {
    members
        .into_iter()
        .filter(|(_, name)| !name.is_empty())
        .map(|(id, name)| (id.to_owned(), name.to_owned()))
        .collect()
}

/// A member as shown: its name when known, and its id.
pub(super) fn named(names: &std::collections::BTreeMap<String, String>, id: &str) -> String {
    match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_owned(),
    }
}

/// One consortium of the list.
struct Listed {
    id: String,
    name: String,
    members: u32,
}

#[derive(Template)]
#[template(path = "consortium_pick.html")]
struct Pick {
    nav: Nav,
    title: String,
    errors: Vec<String>,
    consortia: Vec<Listed>,
}

/// `GET /consortium[?id=<id>]`: the form naming a consortium, or on to its page.
pub(super) async fn pick(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let id = query.get("id");
    if !id.is_empty() {
        let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        return Redirect::to(&format!("/consortium/{id}")).into_response();
    }
    let answer = match state.backend.governance(&session.token) {
        Ok(mut client) => client
            .list_consortia(pb::ListConsortiaRequest {})
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let (list, errors) = match listed(&state, &headers, answer) {
        Ok(shown) => shown,
        Err(response) => return *response,
    };
    let consortia = list
        .consortia
        .into_iter()
        .map(|consortium| Listed {
            id: consortium.consortium_id,
            name: consortium.name,
            members: consortium.member_count,
        })
        .collect();
    render(&Pick {
        nav: Nav::of(&session, "consortium"),
        title: "Consortium".to_owned(),
        errors,
        consortia,
    })
}

struct College {
    name: String,
    code: String,
    weight: i64,
    members: Vec<String>,
}

struct Membership {
    member: String,
    college: String,
    status: &'static str,
    representative: String,
    reason: String,
}

struct Body {
    name: String,
    code: String,
    kind: &'static str,
    colleges: String,
    quorum: String,
    majority: &'static str,
    proxies: u32,
}

struct MeetingRow {
    id: String,
    body: String,
    scheduled: String,
    present: u64,
    proxies: u64,
    minutes: bool,
    resolutions: Vec<String>,
}

struct CommitmentRow {
    title: String,
    owner: String,
    due: String,
    status: &'static str,
    percent: u32,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "consortium.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    purpose: String,
    founded: String,
    errors: Vec<String>,
    colleges: Vec<College>,
    memberships: Vec<Membership>,
    bodies: Vec<Body>,
    /// Whether the role may read the meetings and commitments (projections).
    board: bool,
    board_error: String,
    meetings: Vec<MeetingRow>,
    commitments: Vec<CommitmentRow>,
    can_convene: bool,
    request_id: String,
    body: Input,
    scheduled: Input,
    commune: Input,
    place: Input,
    online: bool,
    agenda: Input,
}

impl Page {
    /// The page of consortium `id` for `session`, the convening form filled
    /// from `fields`; `Err` is the response when it cannot be read.
    async fn load(
        state: &State,
        headers: &HeaderMap,
        session: &Session,
        id: &str,
        fields: &Fields,
    ) -> Result<Self, Box<Response>> {
        let answer = match state.backend.governance(&session.token) {
            Ok(mut client) => client
                .get_consortium(pb::GetConsortiumRequest {
                    consortium_id: id.to_owned(),
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        };
        let consortium = match answer {
            Ok(consortium) => consortium,
            Err(refusal) if refusal.code == Code::Unauthenticated => {
                return Err(Box::new(ended(state, headers)))
            }
            Err(refusal) => {
                return Err(Box::new(message(
                    StatusCode::NOT_FOUND,
                    Nav::of(session, "consortium"),
                    "Consortium introuvable",
                    &refusal.message,
                )))
            }
        };
        let names = member_names(
            consortium
                .memberships
                .iter()
                .map(|member| (member.member_id.as_str(), member.display_name.as_str())),
        );
        let board = session.any(&ANALYSTS);
        let mut page = Self {
            nav: Nav::of(session, "consortium"),
            title: format!("Consortium {}", consortium.name),
            id: consortium.consortium_id.clone(),
            purpose: consortium.purpose.clone(),
            founded: time::show_date(consortium.founded_at.as_ref()),
            errors: Vec::new(),
            colleges: consortium
                .colleges
                .iter()
                .map(|college| College {
                    name: college.name.clone(),
                    code: college.college_code.clone(),
                    weight: college.weight,
                    members: college
                        .members
                        .iter()
                        .map(|member| named(&names, &member.member_id))
                        .collect(),
                })
                .collect(),
            memberships: consortium
                .memberships
                .iter()
                .map(|member| Membership {
                    member: named(&names, &member.member_id),
                    college: member.college_code.clone(),
                    status: membership(member.status()),
                    representative: member.representative_id.clone(),
                    reason: member.reason.clone(),
                })
                .collect(),
            bodies: consortium
                .bodies
                .iter()
                .map(|body| {
                    let rules = body.rules.unwrap_or_default();
                    Body {
                        name: body.name.clone(),
                        code: body.body_code.clone(),
                        kind: body_kind(body.kind()),
                        colleges: body.college_codes.join(", "),
                        quorum: share(rules.quorum.as_ref()),
                        majority: majority(rules.majority()),
                        proxies: rules.max_proxies_per_member,
                    }
                })
                .collect(),
            board,
            board_error: String::new(),
            meetings: Vec::new(),
            commitments: Vec::new(),
            can_convene: session.any(&SECRETARIES),
            request_id: uuid::Uuid::new_v4().to_string(),
            body: Input::choices(
                "body_code",
                "Instance",
                consortium
                    .bodies
                    .iter()
                    .map(|body| (body.body_code.clone(), body.name.clone())),
                fields,
            )
            .required(),
            scheduled: Input::text("scheduled_at", "Date et heure", fields)
                .kind("datetime-local")
                .required()
                .hint("(heure UTC)"),
            commune: Input::text("venue.commune_code", "Commune (code INSEE)", fields)
                .hint("(sauf en ligne)"),
            place: Input::text("venue.place", "Lieu", fields)
                .hint("(un tiers-lieu, une salle ; pas d'adresse personnelle)"),
            online: fields.get("venue.online") == "1",
            agenda: Input::text("agenda", "Ordre du jour", fields)
                .kind("textarea")
                .required()
                .hint("(un point par ligne)"),
        };
        if board {
            page.read_board(state, session, id, &names).await;
        }
        Ok(page)
    }

    /// Fills the meetings and the commitments board from the projections.
    async fn read_board(
        &mut self,
        state: &State,
        session: &Session,
        id: &str,
        names: &std::collections::BTreeMap<String, String>,
    ) {
        let answer = match state.backend.projections(&session.token) {
            Ok(mut client) => client
                .get_consortium_state(pb::ConsortiumStateRequest {
                    consortium_id: id.to_owned(),
                    as_of: None,
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        };
        let board = match answer {
            Ok(board) => board,
            Err(refusal) => {
                self.board_error = refusal.message;
                return;
            }
        };
        self.meetings = board
            .meetings
            .iter()
            .map(|meeting| MeetingRow {
                id: meeting.meeting_id.clone(),
                body: meeting.body_code.clone(),
                scheduled: time::show(meeting.scheduled_at.as_ref()),
                present: meeting.members_present,
                proxies: meeting.proxies,
                minutes: meeting.minutes_approved,
                resolutions: meeting
                    .resolutions
                    .iter()
                    .map(|resolution| {
                        format!(
                            "{} — {} ({} bulletin(s))",
                            resolution.title,
                            resolution_status(resolution.status()),
                            resolution.ballots
                        )
                    })
                    .collect(),
            })
            .collect();
        self.commitments = board
            .commitments
            .iter()
            .map(|commitment| CommitmentRow {
                title: commitment.title.clone(),
                owner: named(names, &commitment.owner_member_id),
                due: time::show_date(commitment.due_at.as_ref()),
                status: commitment_status(commitment.status()),
                percent: commitment.percent,
                overdue: commitment.overdue,
            })
            .collect();
    }

    fn inputs(&mut self) -> [&mut Input; 5] {
        [
            &mut self.body,
            &mut self.scheduled,
            &mut self.commune,
            &mut self.place,
            &mut self.agenda,
        ]
    }
}

/// `GET /consortium/{id}`.
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
    match Page::load(&state, &headers, &session, &id, &Fields::default()).await {
        Ok(page) => render(&page),
        Err(response) => *response,
    }
}

fn convene_request(id: &str, fields: &Fields) -> Result<pb::ConveneMeetingRequest, Refusal> {
    let scheduled = fields.get("scheduled_at");
    let scheduled_at = if scheduled.is_empty() {
        None
    } else {
        Some(
            time::date_time(&scheduled)
                .ok_or_else(|| Refusal::field("scheduled_at", "Date et heure invalides."))?,
        )
    };
    Ok(pb::ConveneMeetingRequest {
        request_id: fields.get("request_id"),
        consortium_id: id.to_owned(),
        body_code: fields.get("body_code"),
        scheduled_at,
        venue: Some(pb::MeetingVenue {
            commune_code: fields.get("venue.commune_code"),
            place: fields.get("venue.place"),
            online: fields.get("venue.online") == "1",
        }),
        agenda: fields
            .raw("agenda")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// `POST /consortium/{id}/reunions` (secretary): convenes a meeting, then
/// shows it.
pub(super) async fn convene(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &SECRETARIES) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let answer = match convene_request(&id, &fields) {
        Ok(request) => match state.backend.governance(&session.token) {
            Ok(mut client) => client.convene_meeting(request).await.map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(reply) => Redirect::to(&format!("/reunions/{}", reply.into_inner().id)).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => match Page::load(&state, &headers, &session, &id, &fields).await {
            Ok(mut page) => {
                page.errors = place(&refusal, &mut page.inputs());
                let mut response = render(&page);
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                response
            }
            Err(response) => *response,
        },
    }
}
