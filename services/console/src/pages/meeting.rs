//! A consortium meeting (`Governance.GetMeeting`): its agenda, attendance and
//! proxies, its resolutions with every ballot and the weighted tally the
//! service counts (while a vote is open, as closing it now would count it:
//! the page shows it anew after each ballot), and the minutes; with the
//! secretary's forms recording attendance and a proxy, tabling a resolution
//! (its vote opens), recording a member's ballot, closing a vote and
//! approving the minutes.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::consortium::{
    majority, member_names, named, resolution_status, share, READERS, SECRETARIES,
};
use super::{check_csrf, ended, guard, message, place, render, Choice, Input, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{time, State};

/// A weight as people read it: exact, with a decimal value when it is a
/// fraction ("40/3 ≈ 13,33").
fn weight(ratio: Option<&pb::WeightRatio>) -> String {
    let Some(ratio) = ratio else {
        return "—".to_owned();
    };
    match (
        ratio.numerator.parse::<u128>(),
        ratio.denominator.parse::<u128>(),
    ) {
        (Ok(numerator), Ok(1)) => numerator.to_string(),
        (Ok(numerator), Ok(denominator)) if denominator > 0 => {
            let hundredths = (numerator * 100 + denominator / 2) / denominator;
            format!(
                "{numerator}/{denominator} ≈ {},{:02}",
                hundredths / 100,
                hundredths % 100
            )
        }
        _ => format!("{}/{}", ratio.numerator, ratio.denominator),
    }
}

/// A ballot's choice as people say it.
fn choice(value: pb::VoteChoice) -> &'static str {
    match value {
        pb::VoteChoice::For => "pour",
        pb::VoteChoice::Against => "contre",
        pb::VoteChoice::Abstain => "abstention",
        pb::VoteChoice::Unspecified => "—",
    }
}

struct Ballot {
    member: String,
    choice: &'static str,
    weight: String,
    proxy: String,
}

/// A tally as shown (the running one, or the one recorded at closing).
struct Tally {
    total: String,
    attending: String,
    quorum: String,
    quorum_reached: bool,
    majority: &'static str,
    votes_for: String,
    votes_against: String,
    abstentions: String,
    votes_cast: String,
    majority_reached: bool,
    count_for: u32,
    count_against: u32,
    count_abstain: u32,
    present: u32,
    represented: u32,
}

impl Tally {
    fn of(tally: &pb::VoteTally) -> Self {
        Self {
            total: weight(tally.total_rights.as_ref()),
            attending: weight(tally.present_or_represented.as_ref()),
            quorum: share(tally.quorum.as_ref()),
            quorum_reached: tally.quorum_reached,
            majority: majority(tally.majority()),
            votes_for: weight(tally.votes_for.as_ref()),
            votes_against: weight(tally.votes_against.as_ref()),
            abstentions: weight(tally.abstentions.as_ref()),
            votes_cast: weight(tally.votes_cast.as_ref()),
            majority_reached: tally.majority_reached,
            count_for: tally.count_for,
            count_against: tally.count_against,
            count_abstain: tally.count_abstain,
            present: tally.members_present,
            represented: tally.members_represented,
        }
    }
}

struct Resolution {
    id: String,
    /// Its position on the page (unique form field ids).
    index: usize,
    agenda_item: u32,
    title: String,
    text: String,
    open: bool,
    status: &'static str,
    ballots: Vec<Ballot>,
    tally: Option<Tally>,
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    consortium: String,
    scheduled: String,
    venue: String,
    rules: String,
    agenda: Vec<String>,
    present: Vec<String>,
    proxies: Vec<String>,
    resolutions: Vec<Resolution>,
    minutes_approved: bool,
    minutes_uri: String,
    minutes_digest: String,
    errors: Vec<String>,
    /// Secretary, minutes not approved yet: the forms are shown.
    can_run: bool,
    request_id: String,
    members: Vec<Choice>,
    choices: Vec<Choice>,
    present_input: Input,
    giver: Input,
    holder: Input,
    agenda_item: Input,
    resolution_title: Input,
    resolution_text: Input,
    minutes_uri_input: Input,
    minutes_digest_input: Input,
}

impl Page {
    /// The page of meeting `id` for `session`, its forms filled from
    /// `fields`; `Err` is the response when it cannot be read.
    async fn load(
        state: &State,
        headers: &HeaderMap,
        session: &Session,
        id: &str,
        fields: &Fields,
    ) -> Result<Self, Box<Response>> {
        let mut governance = match state.backend.governance(&session.token) {
            Ok(client) => client,
            Err(refusal) => {
                return Err(Box::new(message(
                    StatusCode::BAD_GATEWAY,
                    Nav::of(session, "consortium"),
                    "Réunion indisponible",
                    &refusal.message,
                )))
            }
        };
        let answer = governance
            .get_meeting(pb::GetMeetingRequest {
                meeting_id: id.to_owned(),
            })
            .await
            .map(tonic::Response::into_inner)
            .map_err(Refusal::from);
        let meeting = match answer {
            Ok(meeting) => meeting,
            Err(refusal) if refusal.code == Code::Unauthenticated => {
                return Err(Box::new(ended(state, headers)))
            }
            Err(refusal) => {
                return Err(Box::new(message(
                    StatusCode::NOT_FOUND,
                    Nav::of(session, "consortium"),
                    "Réunion introuvable",
                    &refusal.message,
                )))
            }
        };
        // The admitted members, offered by the forms (the service judges
        // who may attend and vote).
        let members: Vec<pb::ConsortiumMember> = governance
            .get_consortium(pb::GetConsortiumRequest {
                consortium_id: meeting.consortium_id.clone(),
            })
            .await
            .map(|consortium| {
                consortium
                    .into_inner()
                    .colleges
                    .into_iter()
                    .flat_map(|college| college.members)
                    .collect()
            })
            .unwrap_or_default();
        let names = member_names(
            members
                .iter()
                .map(|member| (member.member_id.as_str(), member.display_name.as_str()))
                .chain(
                    meeting
                        .member_names
                        .iter()
                        .map(|named| (named.member_id.as_str(), named.display_name.as_str())),
                ),
        );
        let admitted: Vec<String> = members.into_iter().map(|member| member.member_id).collect();
        let rules = meeting.rules.unwrap_or_default();
        let venue = meeting.venue.clone().unwrap_or_default();
        let options = |fields: &Fields, name: &'static str, label: &'static str| {
            Input::choices(
                name,
                label,
                std::iter::once((String::new(), "—".to_owned())).chain(
                    admitted
                        .iter()
                        .map(|member| (member.clone(), named(&names, member))),
                ),
                fields,
            )
        };
        Ok(Self {
            nav: Nav::of(session, "consortium"),
            title: format!(
                "Réunion de l'instance {} du {}",
                meeting.body_code,
                time::show(meeting.scheduled_at.as_ref())
            ),
            id: meeting.meeting_id.clone(),
            consortium: meeting.consortium_id.clone(),
            scheduled: time::show(meeting.scheduled_at.as_ref()),
            venue: match (venue.online, venue.place.is_empty()) {
                (true, _) => "en ligne".to_owned(),
                (false, true) => venue.commune_code.clone(),
                (false, false) => format!("{} ({})", venue.place, venue.commune_code),
            },
            rules: format!(
                "quorum {}, {}, {} procuration(s) au plus par membre présent",
                share(rules.quorum.as_ref()),
                majority(rules.majority()),
                rules.max_proxies_per_member
            ),
            agenda: meeting
                .agenda
                .iter()
                .map(|item| format!("{}. {}", item.number, item.title))
                .collect(),
            present: meeting
                .present_member_ids
                .iter()
                .map(|member| named(&names, member))
                .collect(),
            proxies: meeting
                .proxies
                .iter()
                .map(|proxy| {
                    format!(
                        "{} représenté par {}",
                        named(&names, &proxy.giver_id),
                        named(&names, &proxy.holder_id)
                    )
                })
                .collect(),
            resolutions: meeting
                .resolutions
                .iter()
                .enumerate()
                .map(|(index, resolution)| resolution_of(index, resolution, &names))
                .collect(),
            minutes_approved: meeting.minutes_approved,
            minutes_uri: meeting.minutes_uri.clone(),
            minutes_digest: meeting.minutes_digest.clone(),
            errors: Vec::new(),
            can_run: session.any(&SECRETARIES) && !meeting.minutes_approved,
            request_id: uuid::Uuid::new_v4().to_string(),
            members: admitted
                .iter()
                .map(|member| Choice {
                    value: member.clone(),
                    label: named(&names, member),
                    selected: false,
                })
                .collect(),
            choices: [
                pb::VoteChoice::For,
                pb::VoteChoice::Against,
                pb::VoteChoice::Abstain,
            ]
            .map(|value| Choice {
                value: value.as_str_name().to_owned(),
                label: choice(value).to_owned(),
                selected: false,
            })
            .into(),
            present_input: Input::choices(
                "present_member_ids",
                "Membres présents",
                admitted
                    .iter()
                    .map(|member| (member.clone(), named(&names, member))),
                fields,
            ),
            giver: options(
                fields,
                "proxies.giver_id",
                "Membre absent qui donne procuration",
            ),
            holder: options(fields, "proxies.holder_id", "Membre présent qui la reçoit"),
            agenda_item: Input::choices(
                "agenda_item",
                "Point de l'ordre du jour",
                meeting.agenda.iter().map(|item| {
                    (
                        item.number.to_string(),
                        format!("{}. {}", item.number, item.title),
                    )
                }),
                fields,
            )
            .required(),
            resolution_title: Input::text("title", "Intitulé de la résolution", fields).required(),
            resolution_text: Input::text("text", "Texte soumis au vote", fields)
                .kind("textarea")
                .required(),
            minutes_uri_input: Input::text(
                "minutes_uri",
                "Adresse du procès-verbal archivé",
                fields,
            )
            .required(),
            minutes_digest_input: Input::text("minutes_digest", "Empreinte du document", fields)
                .required()
                .hint("(par exemple sha256:…)"),
        })
    }

    fn inputs(&mut self) -> [&mut Input; 8] {
        [
            &mut self.present_input,
            &mut self.giver,
            &mut self.holder,
            &mut self.agenda_item,
            &mut self.resolution_title,
            &mut self.resolution_text,
            &mut self.minutes_uri_input,
            &mut self.minutes_digest_input,
        ]
    }
}

/// A resolution as shown: the closing tally once closed, else the running one.
fn resolution_of(
    index: usize,
    resolution: &pb::ResolutionView,
    names: &BTreeMap<String, String>,
) -> Resolution {
    let tally = resolution
        .tally
        .as_ref()
        .or(resolution.running_tally.as_ref());
    let weights: BTreeMap<&str, String> = tally
        .map(|tally| {
            tally
                .ballots
                .iter()
                .map(|ballot| (ballot.member_id.as_str(), weight(ballot.weight.as_ref())))
                .collect()
        })
        .unwrap_or_default();
    Resolution {
        id: resolution.resolution_id.clone(),
        index,
        agenda_item: resolution.agenda_item,
        title: resolution.title.clone(),
        text: resolution.text.clone(),
        open: resolution.status() == pb::ResolutionStatus::Open,
        status: resolution_status(resolution.status()),
        ballots: resolution
            .votes
            .iter()
            .map(|vote| Ballot {
                member: named(names, &vote.member_id),
                choice: choice(vote.choice()),
                weight: weights
                    .get(vote.member_id.as_str())
                    .cloned()
                    .unwrap_or_else(|| "—".to_owned()),
                proxy: if vote.proxy_holder_id.is_empty() {
                    String::new()
                } else {
                    named(names, &vote.proxy_holder_id)
                },
            })
            .collect(),
        tally: tally.map(Tally::of),
    }
}

/// `GET /reunions?id=<id>`: on to that meeting's page.
pub(super) async fn pick(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    if let Err(response) = guard(&state, &headers, &uri, &READERS) {
        return *response;
    }
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let id: String = form_urlencoded::byte_serialize(query.get("id").as_bytes()).collect();
    Redirect::to(&format!("/reunions/{id}")).into_response()
}

/// `GET /reunions/{id}`.
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

/// A secretary's command on the meeting, built from the form.
enum Command {
    Attendance(pb::RecordMeetingAttendanceRequest),
    Table(pb::TableResolutionRequest),
    Vote(pb::RecordVoteRequest),
    Close(pb::CloseVoteRequest),
    Minutes(pb::ApproveMeetingMinutesRequest),
}

fn attendance(id: &str, fields: &Fields) -> Command {
    let giver = fields.get("proxies.giver_id");
    let holder = fields.get("proxies.holder_id");
    Command::Attendance(pb::RecordMeetingAttendanceRequest {
        request_id: fields.get("request_id"),
        meeting_id: id.to_owned(),
        expected_version: None,
        present_member_ids: fields.all("present_member_ids"),
        proxies: if giver.is_empty() && holder.is_empty() {
            Vec::new()
        } else {
            vec![pb::ProxyGrant {
                giver_id: giver,
                holder_id: holder,
            }]
        },
    })
}

fn table(id: &str, fields: &Fields) -> Result<Command, Refusal> {
    let item = fields.get("agenda_item");
    Ok(Command::Table(pb::TableResolutionRequest {
        request_id: fields.get("request_id"),
        meeting_id: id.to_owned(),
        expected_version: None,
        agenda_item: if item.is_empty() {
            0
        } else {
            item.parse()
                .map_err(|_| Refusal::field("agenda_item", "Point de l'ordre du jour invalide."))?
        },
        title: fields.get("title"),
        text: fields.raw("text").trim().to_owned(),
    }))
}

fn vote(id: &str, fields: &Fields) -> Command {
    Command::Vote(pb::RecordVoteRequest {
        request_id: fields.get("request_id"),
        meeting_id: id.to_owned(),
        expected_version: None,
        resolution_id: fields.get("resolution_id"),
        member_id: fields.get("member_id"),
        choice: pb::VoteChoice::from_str_name(&fields.get("choice")).unwrap_or_default() as i32,
    })
}

fn close(id: &str, fields: &Fields) -> Command {
    Command::Close(pb::CloseVoteRequest {
        request_id: fields.get("request_id"),
        meeting_id: id.to_owned(),
        expected_version: None,
        resolution_id: fields.get("resolution_id"),
    })
}

fn minutes(id: &str, fields: &Fields) -> Command {
    Command::Minutes(pb::ApproveMeetingMinutesRequest {
        request_id: fields.get("request_id"),
        meeting_id: id.to_owned(),
        expected_version: None,
        minutes_uri: fields.get("minutes_uri"),
        minutes_digest: fields.get("minutes_digest"),
    })
}

/// Sends `command` as the session's holder.
async fn send(state: &State, session: &Session, command: Command) -> Result<(), Refusal> {
    let mut client = state.backend.governance(&session.token)?;
    let sent = match command {
        Command::Attendance(request) => client.record_meeting_attendance(request).await.map(drop),
        Command::Table(request) => client.table_resolution(request).await.map(drop),
        Command::Vote(request) => client.record_vote(request).await.map(drop),
        Command::Close(request) => client.close_vote(request).await.map(drop),
        Command::Minutes(request) => client.approve_meeting_minutes(request).await.map(drop),
    };
    sent.map_err(Refusal::from)
}

/// `POST /reunions/{id}/{action}` (secretary): `presences`, `resolutions`,
/// `bulletins`, `cloture` or `proces-verbal`; back to the meeting's page, or
/// the page with the service's refusal and what was typed.
pub(super) async fn act(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path((id, action)): Path<(String, String)>,
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
    let command = match action.as_str() {
        "presences" => Ok(attendance(&id, &fields)),
        "resolutions" => table(&id, &fields),
        "bulletins" => Ok(vote(&id, &fields)),
        "cloture" => Ok(close(&id, &fields)),
        "proces-verbal" => Ok(minutes(&id, &fields)),
        _ => {
            return message(
                StatusCode::NOT_FOUND,
                Nav::of(&session, "consortium"),
                "Page introuvable",
                "Cette page n'existe pas.",
            )
        }
    };
    let answer = match command {
        Ok(command) => send(&state, &session, command).await,
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(()) => Redirect::to(&format!("/reunions/{id}")).into_response(),
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
