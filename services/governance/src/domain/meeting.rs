//! The meeting aggregate (stream `meeting-<id>`): a body's meeting convened
//! with an agenda, its attendance and proxies, the resolutions tabled, the
//! votes, the weighted count at closing, and the approval of the minutes.
//!
//! The body's rules are copied into the meeting when it is convened; the
//! voting rights (electorate and college weights) are copied into each
//! resolution when it is tabled, so that votes and counts need nothing else.
//! The checks of attendance and proxies are in [`super::attendance`], the
//! count at closing in [`super::tally`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use maillage_es::Decider;
use maillage_proto::v1 as pv1;
use uuid::Uuid;

use super::consortium::{BodyRules, ConsortiumState};
use super::tally::{choice_to_proto, electorate_of, rights, tally};
use super::vote::{self, Choice, Electorate};
use super::{DomainError, Refusal, Timestamp};

/// What the convening recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Convening {
    /// The meeting's id.
    pub id: String,
    /// The consortium.
    pub consortium_id: String,
    /// The body.
    pub body_code: String,
    /// The body's rules when convened.
    pub rules: BodyRules,
    /// The colleges sitting in the body when convened.
    pub colleges: Vec<String>,
    /// When it is held.
    pub scheduled_at: Timestamp,
    /// Where.
    pub venue: pv1::MeetingVenue,
    /// The agenda.
    pub agenda: Vec<pv1::MeetingAgendaItem>,
}

/// A resolution and its vote.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// Its id.
    pub id: String,
    /// The agenda item it is tabled on.
    pub agenda_item: u32,
    /// Title.
    pub title: String,
    /// Text.
    pub text: String,
    /// Who votes, with which weights (fixed when tabled).
    pub electorate: Electorate,
    /// The votes, in the order recorded.
    pub votes: Vec<pv1::VoteRecorded>,
    /// The closing, once closed.
    pub closed: Option<pv1::ResolutionVoteClosed>,
}

impl Resolution {
    fn has_voted(&self, member: &str) -> bool {
        self.votes.iter().any(|vote| vote.member_id == member)
    }
}

/// The meeting's state, folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeetingState {
    /// `None` until convened.
    pub convening: Option<Convening>,
    /// Members present.
    pub present: BTreeSet<String>,
    /// Proxies: giver → holder.
    pub proxies: BTreeMap<String, String>,
    /// Resolutions in the order tabled.
    pub resolutions: Vec<Resolution>,
    /// The approval of the minutes (the meeting is then closed).
    pub minutes: Option<pv1::MeetingMinutesApproved>,
}

impl MeetingState {
    /// A resolution by id.
    pub fn resolution(&self, id: &str) -> Option<&Resolution> {
        self.resolutions.iter().find(|r| r.id == id)
    }
}

/// A request about a meeting, validated by the gRPC layer: convening it, or
/// changing one that exists. Two types, so that the decider's changes never
/// meet a `Convene`.
#[derive(Debug, Clone, PartialEq)]
pub enum MeetingCommand {
    /// Convene a body's meeting.
    Convene(ConveneMeeting),
    /// A change to a meeting already convened.
    Change(MeetingChange),
}

impl From<ConveneMeeting> for MeetingCommand {
    fn from(command: ConveneMeeting) -> Self {
        MeetingCommand::Convene(command)
    }
}

impl From<MeetingChange> for MeetingCommand {
    fn from(change: MeetingChange) -> Self {
        MeetingCommand::Change(change)
    }
}

/// Convene a body's meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct ConveneMeeting {
    /// The new meeting's id.
    pub meeting_id: Uuid,
    /// The consortium's id.
    pub consortium_id: Uuid,
    /// The consortium now.
    pub consortium: Arc<ConsortiumState>,
    /// The body.
    pub body_code: String,
    /// When it is held.
    pub scheduled_at: Timestamp,
    /// Where.
    pub venue: pv1::MeetingVenue,
    /// Agenda item titles (at least one).
    pub agenda: Vec<String>,
    /// Now.
    pub now: Timestamp,
}

/// A change to a meeting already convened.
#[derive(Debug, Clone, PartialEq)]
pub enum MeetingChange {
    /// Record members present and proxies.
    RecordAttendance {
        /// The consortium now.
        consortium: Arc<ConsortiumState>,
        /// Members present.
        present: Vec<Uuid>,
        /// Proxies (giver, holder).
        proxies: Vec<(Uuid, Uuid)>,
        /// Now.
        now: Timestamp,
    },
    /// Table a resolution: its vote opens with the voting rights of now.
    TableResolution {
        /// The new resolution's id.
        resolution_id: Uuid,
        /// The consortium now.
        consortium: Arc<ConsortiumState>,
        /// Agenda item number.
        agenda_item: u32,
        /// Title.
        title: String,
        /// Text.
        text: String,
        /// Now.
        now: Timestamp,
    },
    /// Record a member's vote.
    RecordVote {
        /// The resolution.
        resolution_id: Uuid,
        /// The member whose vote it is.
        member_id: Uuid,
        /// Its choice.
        choice: Choice,
        /// Now.
        now: Timestamp,
    },
    /// Close a resolution's vote and count it.
    CloseVote {
        /// The resolution.
        resolution_id: Uuid,
        /// Now.
        now: Timestamp,
    },
    /// Approve the minutes (closes the meeting).
    ApproveMinutes {
        /// Where the document is archived.
        uri: String,
        /// Its digest.
        digest: String,
        /// Now.
        now: Timestamp,
    },
}

maillage_es::proto_events! {
    /// What happens to a meeting.
    MeetingEvent {
        /// Convened.
        Convened(MeetingConvened),
        /// Attendance and proxies recorded.
        AttendanceRecorded(MeetingAttendanceRecorded),
        /// A resolution tabled, its vote open.
        ResolutionTabled(ResolutionTabled),
        /// A vote recorded.
        VoteRecorded(VoteRecorded),
        /// A vote closed and counted.
        VoteClosed(ResolutionVoteClosed),
        /// Minutes approved.
        MinutesApproved(MeetingMinutesApproved),
    }
}

/// Why a meeting command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    /// Convening an existing meeting.
    #[error("meeting {0} already exists")]
    AlreadyConvened(String),
    /// The meeting does not exist.
    #[error("meeting not found")]
    NotFound,
    /// The consortium does not exist.
    #[error("consortium {0} not found")]
    ConsortiumNotFound(String),
    /// The consortium has no such body.
    #[error("body_code: unknown body {0}")]
    UnknownBody(String),
    /// The minutes are approved: nothing more happens in this meeting.
    #[error("the meeting is closed (minutes approved)")]
    MeetingClosed,
    /// Not an admitted member of a college sitting in the body.
    #[error("{field}: {member} is not an admitted member of a college sitting in the body")]
    NotABodyMember {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A withdrawn member named as a proxy's giver or holder.
    #[error("{field}: {member} has withdrawn and cannot give or hold a proxy")]
    WithdrawnProxy {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A proxy whose holder gave a proxy, or whose giver holds one.
    #[error("{field}: {member} would both give and hold a proxy (proxy chains are not allowed)")]
    ProxyChain {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A member who gave a proxy is present, or a present member gives one.
    #[error("{field}: {member} is present and cannot be represented")]
    GiverPresent {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A proxy holder who is not present.
    #[error("{field}: the proxy holder {member} is not present")]
    HolderAbsent {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A member gives a second proxy.
    #[error("{field}: {member} has already given a proxy")]
    ProxyAlreadyGiven {
        /// The request field.
        field: String,
        /// The member.
        member: String,
    },
    /// A holder over the body's limit of proxies.
    #[error("{field}: {member} would hold more than {max} proxies")]
    TooManyProxies {
        /// The request field.
        field: String,
        /// The member.
        member: String,
        /// The body's limit.
        max: u32,
    },
    /// No such agenda item.
    #[error("agenda_item: the agenda has no item {0}")]
    UnknownAgendaItem(u32),
    /// A resolution id used already.
    #[error("resolution {0} already exists")]
    ResolutionExists(String),
    /// No such resolution.
    #[error("resolution {0} not found")]
    UnknownResolution(String),
    /// The resolution's vote is closed.
    #[error("resolution_id: the vote on {0} is closed")]
    VoteClosed(String),
    /// Not entitled to vote on this resolution.
    #[error("member_id: {0} is not an admitted member of the body when the vote opened")]
    NotAVoter(String),
    /// Neither present nor represented.
    #[error("member_id: {0} is neither present nor represented")]
    NotAttending(String),
    /// Voting twice.
    #[error("member_id: {member} has already voted on resolution {resolution}")]
    AlreadyVoted {
        /// The member.
        member: String,
        /// The resolution.
        resolution: String,
    },
    /// Approving minutes while a vote is open.
    #[error("the vote on resolution {0} is still open")]
    OpenResolution(String),
    /// The weighted count does not fit the exact arithmetic.
    #[error("{0}")]
    Overflow(#[from] vote::Overflow),
}

impl DomainError for MeetingError {
    fn refusal(&self) -> Refusal {
        use MeetingError as E;
        match self {
            E::AlreadyConvened(id) => Refusal::AlreadyExists {
                what: "meeting",
                id: id.clone(),
            },
            E::NotFound => Refusal::NotFound {
                what: "meeting",
                id: String::new(),
            },
            E::ConsortiumNotFound(id) => Refusal::NotFound {
                what: "consortium",
                id: id.clone(),
            },
            E::UnknownBody(_) => Refusal::InvalidArgument {
                field: "body_code".into(),
            },
            E::UnknownAgendaItem(_) => Refusal::InvalidArgument {
                field: "agenda_item".into(),
            },
            E::ResolutionExists(id) => Refusal::AlreadyExists {
                what: "resolution",
                id: id.clone(),
            },
            E::UnknownResolution(id) => Refusal::NotFound {
                what: "resolution",
                id: id.clone(),
            },
            _ => Refusal::FailedPrecondition,
        }
    }
}

/// The meeting decider.
pub struct Meeting;

impl Decider for Meeting {
    type State = MeetingState;
    type Command = MeetingCommand;
    type Event = MeetingEvent;
    type Error = MeetingError;

    fn decide(
        command: &MeetingCommand,
        state: &MeetingState,
    ) -> Result<Vec<MeetingEvent>, MeetingError> {
        match command {
            MeetingCommand::Convene(command) => Self::convene(command, state),
            MeetingCommand::Change(change) => Self::change(change, state),
        }
    }

    fn evolve(state: &mut MeetingState, event: &MeetingEvent) {
        match event {
            MeetingEvent::Convened(e) => {
                state.convening = Some(Convening {
                    id: e.meeting_id.clone(),
                    consortium_id: e.consortium_id.clone(),
                    body_code: e.body_code.clone(),
                    rules: BodyRules::from_proto(&e.rules.unwrap_or_default()),
                    colleges: e.college_codes.clone(),
                    scheduled_at: e.scheduled_at.unwrap_or_default(),
                    venue: e.venue.clone().unwrap_or_default(),
                    agenda: e.agenda.clone(),
                });
            }
            MeetingEvent::AttendanceRecorded(e) => {
                state.present.extend(e.present_member_ids.iter().cloned());
                for proxy in &e.proxies {
                    state
                        .proxies
                        .insert(proxy.giver_id.clone(), proxy.holder_id.clone());
                }
            }
            MeetingEvent::ResolutionTabled(e) => state.resolutions.push(Resolution {
                id: e.resolution_id.clone(),
                agenda_item: e.agenda_item,
                title: e.title.clone(),
                text: e.text.clone(),
                electorate: electorate_of(e),
                votes: Vec::new(),
                closed: None,
            }),
            MeetingEvent::VoteRecorded(e) => {
                if let Some(r) = state
                    .resolutions
                    .iter_mut()
                    .find(|r| r.id == e.resolution_id)
                {
                    r.votes.push(e.clone());
                }
            }
            MeetingEvent::VoteClosed(e) => {
                if let Some(r) = state
                    .resolutions
                    .iter_mut()
                    .find(|r| r.id == e.resolution_id)
                {
                    r.closed = Some(e.clone());
                }
            }
            MeetingEvent::MinutesApproved(e) => state.minutes = Some(e.clone()),
        }
    }
}

impl Meeting {
    /// Convenes the meeting, unless it already exists.
    fn convene(
        command: &ConveneMeeting,
        state: &MeetingState,
    ) -> Result<Vec<MeetingEvent>, MeetingError> {
        use MeetingEvent as E;
        let ConveneMeeting {
            meeting_id,
            consortium_id,
            consortium,
            body_code,
            scheduled_at,
            venue,
            agenda,
            now,
        } = command;
        if let Some(convening) = &state.convening {
            return Err(MeetingError::AlreadyConvened(convening.id.clone()));
        }
        if consortium.id().is_none() {
            return Err(MeetingError::ConsortiumNotFound(consortium_id.to_string()));
        }
        let body = consortium
            .bodies
            .get(body_code)
            .ok_or_else(|| MeetingError::UnknownBody(body_code.clone()))?;
        Ok(vec![E::Convened(pv1::MeetingConvened {
            meeting_id: meeting_id.to_string(),
            consortium_id: consortium_id.to_string(),
            body_code: body_code.clone(),
            rules: Some(body.rules.to_proto()),
            college_codes: body.colleges.clone(),
            scheduled_at: Some(*scheduled_at),
            venue: Some(venue.clone()),
            agenda: agenda
                .iter()
                .enumerate()
                .map(|(index, title)| pv1::MeetingAgendaItem {
                    number: index as u32 + 1,
                    title: title.clone(),
                })
                .collect(),
            convened_at: Some(*now),
        })])
    }

    /// Changes the meeting, once convened.
    fn change(
        change: &MeetingChange,
        state: &MeetingState,
    ) -> Result<Vec<MeetingEvent>, MeetingError> {
        use MeetingChange as C;
        use MeetingEvent as E;
        let convening = state.convening.as_ref().ok_or(MeetingError::NotFound)?;
        let meeting_id = convening.id.clone();
        let open_resolution = |id: &Uuid| {
            let id = id.to_string();
            let resolution = state
                .resolution(&id)
                .ok_or_else(|| MeetingError::UnknownResolution(id.clone()))?;
            if resolution.closed.is_some() {
                return Err(MeetingError::VoteClosed(id));
            }
            Ok(resolution)
        };
        match change {
            // Votes under way may still be closed after the minutes? No: minutes
            // are approved only when every vote is closed, so the meeting is over.
            _ if state.minutes.is_some() => Err(MeetingError::MeetingClosed),
            C::RecordAttendance {
                consortium,
                present,
                proxies,
                now,
            } => Self::record_attendance(state, convening, consortium, present, proxies, now),
            C::TableResolution {
                resolution_id,
                consortium,
                agenda_item,
                title,
                text,
                now,
            } => {
                if !convening
                    .agenda
                    .iter()
                    .any(|item| item.number == *agenda_item)
                {
                    return Err(MeetingError::UnknownAgendaItem(*agenda_item));
                }
                let id = resolution_id.to_string();
                if state.resolution(&id).is_some() {
                    return Err(MeetingError::ResolutionExists(id));
                }
                let electorate = consortium.electorate(&convening.colleges);
                Ok(vec![E::ResolutionTabled(pv1::ResolutionTabled {
                    meeting_id,
                    resolution_id: id,
                    agenda_item: *agenda_item,
                    title: title.clone(),
                    text: text.clone(),
                    electorate: electorate
                        .voters
                        .iter()
                        .map(|(member, college)| pv1::ResolutionVoter {
                            member_id: member.clone(),
                            college_code: college.clone(),
                        })
                        .collect(),
                    rights: rights(&electorate),
                    tabled_at: Some(*now),
                })])
            }
            C::RecordVote {
                resolution_id,
                member_id,
                choice,
                now,
            } => {
                let resolution = open_resolution(resolution_id)?;
                let member = member_id.to_string();
                if !resolution.electorate.voters.contains_key(&member) {
                    return Err(MeetingError::NotAVoter(member));
                }
                if resolution.has_voted(&member) {
                    return Err(MeetingError::AlreadyVoted {
                        member,
                        resolution: resolution.id.clone(),
                    });
                }
                let proxy_holder_id = if state.present.contains(&member) {
                    String::new()
                } else {
                    match state.proxies.get(&member) {
                        Some(holder) if state.present.contains(holder) => {
                            if !resolution.electorate.voters.contains_key(holder) {
                                // The holder withdrew before the vote opened.
                                return Err(MeetingError::WithdrawnProxy {
                                    field: "member_id".into(),
                                    member: holder.clone(),
                                });
                            }
                            holder.clone()
                        }
                        _ => return Err(MeetingError::NotAttending(member)),
                    }
                };
                Ok(vec![E::VoteRecorded(pv1::VoteRecorded {
                    meeting_id,
                    resolution_id: resolution.id.clone(),
                    member_id: member,
                    choice: choice_to_proto(*choice) as i32,
                    proxy_holder_id,
                    recorded_at: Some(*now),
                })])
            }
            C::CloseVote { resolution_id, now } => {
                let resolution = open_resolution(resolution_id)?;
                let (adopted, tally) = tally(state, &convening.rules, resolution)?;
                let outcome = if adopted {
                    pv1::ResolutionStatus::Adopted
                } else {
                    pv1::ResolutionStatus::Rejected
                };
                Ok(vec![E::VoteClosed(pv1::ResolutionVoteClosed {
                    meeting_id,
                    resolution_id: resolution.id.clone(),
                    outcome: outcome as i32,
                    tally: Some(tally),
                    closed_at: Some(*now),
                })])
            }
            C::ApproveMinutes { uri, digest, now } => {
                if let Some(open) = state.resolutions.iter().find(|r| r.closed.is_none()) {
                    return Err(MeetingError::OpenResolution(open.id.clone()));
                }
                Ok(vec![E::MinutesApproved(pv1::MeetingMinutesApproved {
                    meeting_id,
                    minutes_uri: uri.clone(),
                    minutes_digest: digest.clone(),
                    approved_at: Some(*now),
                })])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consortium::fixtures::{self, id, now};
    use crate::domain::consortium::ConsortiumChange;
    use crate::domain::tally::ratio;
    use crate::domain::vote::{Majority, Ratio};
    use maillage_es::testing;

    fn s(name: &str) -> String {
        id(name).to_string()
    }

    fn apply(state: &mut MeetingState, command: MeetingCommand) -> Vec<MeetingEvent> {
        let (events, after) = testing::given_state::<Meeting>(state.clone())
            .when(command)
            .accepted();
        *state = after.into_state();
        events
    }

    fn convene(consortium: &ConsortiumState, body: &str) -> MeetingCommand {
        MeetingCommand::Convene(ConveneMeeting {
            meeting_id: id("meeting"),
            consortium_id: id("consortium"),
            consortium: Arc::new(consortium.clone()),
            body_code: body.into(),
            scheduled_at: now(),
            venue: pv1::MeetingVenue {
                commune_code: "11069".into(),
                place: "La Fabrique".into(),
                online: false,
            },
            agenda: vec!["Plan d'action".into(), "Budget".into()],
            now: now(),
        })
    }

    fn attendance(
        consortium: &ConsortiumState,
        present: &[&str],
        proxies: &[(&str, &str)],
    ) -> MeetingCommand {
        MeetingChange::RecordAttendance {
            consortium: Arc::new(consortium.clone()),
            present: present.iter().map(|m| id(m)).collect(),
            proxies: proxies.iter().map(|(g, h)| (id(g), id(h))).collect(),
            now: now(),
        }
        .into()
    }

    fn table(consortium: &ConsortiumState, resolution: &str) -> MeetingCommand {
        MeetingChange::TableResolution {
            resolution_id: id(resolution),
            consortium: Arc::new(consortium.clone()),
            agenda_item: 1,
            title: "Adoption du plan d'action".into(),
            text: "Le consortium adopte le plan d'action 2026.".into(),
            now: now(),
        }
        .into()
    }

    fn vote(resolution: &str, member: &str, choice: Choice) -> MeetingCommand {
        MeetingChange::RecordVote {
            resolution_id: id(resolution),
            member_id: id(member),
            choice,
            now: now(),
        }
        .into()
    }

    fn close(resolution: &str) -> MeetingCommand {
        MeetingChange::CloseVote {
            resolution_id: id(resolution),
            now: now(),
        }
        .into()
    }

    /// The example consortium's general assembly, convened.
    fn convened() -> (ConsortiumState, MeetingState) {
        let consortium = fixtures::example();
        let mut meeting = MeetingState::default();
        apply(&mut meeting, convene(&consortium, "ag"));
        (consortium, meeting)
    }

    fn closing(events: &[MeetingEvent]) -> &pv1::ResolutionVoteClosed {
        match events {
            [MeetingEvent::VoteClosed(closed)] => closed,
            other => panic!("{other:?}"),
        }
    }

    fn whole(n: u128) -> Option<pv1::WeightRatio> {
        Some(ratio(Ratio::integer(n)))
    }

    #[test]
    fn convening_copies_the_body_rules_and_numbers_the_agenda() {
        let (_, meeting) = convened();
        let convening = meeting.convening.unwrap();
        assert_eq!(convening.rules.majority, Majority::Simple);
        assert_eq!(convening.colleges.len(), 4);
        assert_eq!(convening.agenda[1].number, 2);
    }

    #[test]
    fn convening_needs_a_founded_consortium_and_a_known_body_and_happens_once() {
        let consortium = fixtures::example();
        assert_eq!(
            Meeting::decide(
                &convene(&ConsortiumState::default(), "ag"),
                &MeetingState::default()
            ),
            Err(MeetingError::ConsortiumNotFound(s("consortium")))
        );
        assert_eq!(
            Meeting::decide(&convene(&consortium, "copil"), &MeetingState::default()),
            Err(MeetingError::UnknownBody("copil".into()))
        );
        let (_, meeting) = convened();
        assert_eq!(
            Meeting::decide(&convene(&consortium, "ag"), &meeting),
            Err(MeetingError::AlreadyConvened(s("meeting")))
        );
        assert_eq!(
            Meeting::decide(&close("r"), &MeetingState::default()),
            Err(MeetingError::NotFound)
        );
    }

    #[test]
    fn attendance_adds_members_and_proxies_once() {
        let (consortium, mut meeting) = convened();
        apply(
            &mut meeting,
            attendance(&consortium, &["a1", "b1"], &[("c3", "b1")]),
        );
        assert_eq!(meeting.present.len(), 2);
        assert_eq!(meeting.proxies[&s("c3")], s("b1"));
        // Recording the same again changes nothing.
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &["a1"], &[("c3", "b1")]), &meeting),
            Ok(vec![])
        );
    }

    #[test]
    fn only_admitted_members_of_the_body_attend() {
        let (mut consortium, meeting) = convened();
        fixtures::run(
            &mut consortium,
            vec![ConsortiumChange::Apply {
                member_id: id("applicant"),
                college: "entreprises".into(),
                now: now(),
            }
            .into()],
        );
        assert_eq!(
            Meeting::decide(
                &attendance(&consortium, &["a1", "applicant"], &[]),
                &meeting
            ),
            Err(MeetingError::NotABodyMember {
                field: "present_member_ids[1]".into(),
                member: s("applicant")
            })
        );
    }

    #[test]
    fn a_withdrawn_member_cannot_give_or_hold_a_proxy() {
        let (mut consortium, meeting) = convened();
        fixtures::run(
            &mut consortium,
            vec![ConsortiumChange::Withdraw {
                member_id: id("c4"),
                reason: "dissolution".into(),
                now: now(),
            }
            .into()],
        );
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &["a1"], &[("c4", "a1")]), &meeting),
            Err(MeetingError::WithdrawnProxy {
                field: "proxies[0].giver_id".into(),
                member: s("c4")
            })
        );
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &[], &[("c1", "c4")]), &meeting),
            Err(MeetingError::WithdrawnProxy {
                field: "proxies[0].holder_id".into(),
                member: s("c4")
            })
        );
    }

    #[test]
    fn proxy_chains_are_refused_in_one_request_and_across_requests() {
        let (consortium, mut meeting) = convened();
        // c1 → c2 and c2 → a1: c2 would both hold and give.
        assert_eq!(
            Meeting::decide(
                &attendance(&consortium, &["a1"], &[("c1", "c2"), ("c2", "a1")]),
                &meeting
            ),
            Err(MeetingError::ProxyChain {
                field: "proxies[0].holder_id".into(),
                member: s("c2")
            })
        );
        apply(
            &mut meeting,
            attendance(&consortium, &["a1"], &[("c1", "a1")]),
        );
        // c2 gives to c1, who gave to a1 already.
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &[], &[("c2", "c1")]), &meeting),
            Err(MeetingError::ProxyChain {
                field: "proxies[0].holder_id".into(),
                member: s("c1")
            })
        );
    }

    #[test]
    fn a_proxy_goes_from_an_absent_member_to_a_present_one_within_the_limit() {
        let (consortium, mut meeting) = convened();
        apply(&mut meeting, attendance(&consortium, &["a1", "b1"], &[]));
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &[], &[("c1", "c2")]), &meeting),
            Err(MeetingError::HolderAbsent {
                field: "proxies[0].holder_id".into(),
                member: s("c2")
            })
        );
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &[], &[("b1", "a1")]), &meeting),
            Err(MeetingError::GiverPresent {
                field: "proxies[0].giver_id".into(),
                member: s("b1")
            })
        );
        // The body allows one proxy per member.
        assert_eq!(
            Meeting::decide(
                &attendance(&consortium, &[], &[("c1", "a1"), ("c2", "a1")]),
                &meeting
            ),
            Err(MeetingError::TooManyProxies {
                field: "proxies[1].holder_id".into(),
                member: s("a1"),
                max: 1
            })
        );
        apply(&mut meeting, attendance(&consortium, &[], &[("c1", "a1")]));
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &[], &[("c1", "b1")]), &meeting),
            Err(MeetingError::ProxyAlreadyGiven {
                field: "proxies[0].giver_id".into(),
                member: s("c1")
            })
        );
        // A member who gave a proxy cannot then be recorded present.
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &["c1"], &[]), &meeting),
            Err(MeetingError::GiverPresent {
                field: "present_member_ids[0]".into(),
                member: s("c1")
            })
        );
    }

    #[test]
    fn no_vote_before_the_resolution_is_tabled_or_after_it_is_closed() {
        let (consortium, mut meeting) = convened();
        apply(&mut meeting, attendance(&consortium, &["a1"], &[]));
        assert_eq!(
            Meeting::decide(&vote("r1", "a1", Choice::For), &meeting),
            Err(MeetingError::UnknownResolution(s("r1")))
        );
        apply(&mut meeting, table(&consortium, "r1"));
        apply(&mut meeting, vote("r1", "a1", Choice::For));
        apply(&mut meeting, close("r1"));
        assert_eq!(
            Meeting::decide(&vote("r1", "a2", Choice::For), &meeting),
            Err(MeetingError::VoteClosed(s("r1")))
        );
        assert_eq!(
            Meeting::decide(&close("r1"), &meeting),
            Err(MeetingError::VoteClosed(s("r1")))
        );
    }

    #[test]
    fn only_admitted_members_vote_once_and_only_if_present_or_represented() {
        let (mut consortium, mut meeting) = convened();
        fixtures::run(
            &mut consortium,
            vec![ConsortiumChange::Apply {
                member_id: id("applicant"),
                college: "entreprises".into(),
                now: now(),
            }
            .into()],
        );
        apply(
            &mut meeting,
            attendance(&consortium, &["a1", "b1"], &[("c1", "b1")]),
        );
        apply(&mut meeting, table(&consortium, "r1"));
        assert_eq!(
            Meeting::decide(&vote("r1", "applicant", Choice::For), &meeting),
            Err(MeetingError::NotAVoter(s("applicant")))
        );
        assert_eq!(
            Meeting::decide(&vote("r1", "d1", Choice::For), &meeting),
            Err(MeetingError::NotAttending(s("d1")))
        );
        apply(&mut meeting, vote("r1", "a1", Choice::For));
        assert_eq!(
            Meeting::decide(&vote("r1", "a1", Choice::Against), &meeting),
            Err(MeetingError::AlreadyVoted {
                member: s("a1"),
                resolution: s("r1")
            })
        );
        // c1 votes through its proxy holder b1.
        let events = apply(&mut meeting, vote("r1", "c1", Choice::Against));
        let [MeetingEvent::VoteRecorded(recorded)] = &events[..] else {
            panic!()
        };
        assert_eq!(recorded.proxy_holder_id, s("b1"));
    }

    /// The example general assembly (40/30/20/10 over 2/3/4/1 members, quorum 1/2, simple).
    /// Present a1 (20), b1 (10), b2 (10), c1 (5); c2 (5) represented by c1.
    /// Present or represented 50 of 100 ≥ 1/2: quorum reached.
    /// For a1 20 + c2 5 = 25; against b1 + b2 = 20; abstain c1 5.
    /// Simple: 25 > 20 → adopted. Heads: 2 for, 2 against, 1 abstain.
    #[test]
    fn a_weighted_vote_is_counted_and_recorded_with_its_weights() {
        let (consortium, mut meeting) = convened();
        apply(
            &mut meeting,
            attendance(&consortium, &["a1", "b1", "b2", "c1"], &[("c2", "c1")]),
        );
        apply(&mut meeting, table(&consortium, "r1"));
        for (member, choice) in [
            ("a1", Choice::For),
            ("c2", Choice::For),
            ("b1", Choice::Against),
            ("b2", Choice::Against),
            ("c1", Choice::Abstain),
        ] {
            apply(&mut meeting, vote("r1", member, choice));
        }
        let events = apply(&mut meeting, close("r1"));
        let closed = closing(&events);
        assert_eq!(closed.outcome, pv1::ResolutionStatus::Adopted as i32);
        let tally = closed.tally.as_ref().unwrap();
        assert_eq!(tally.total_rights, whole(100));
        assert_eq!(tally.present_or_represented, whole(50));
        assert!(tally.quorum_reached);
        assert_eq!(tally.votes_for, whole(25));
        assert_eq!(tally.votes_against, whole(20));
        assert_eq!(tally.abstentions, whole(5));
        assert_eq!(
            (tally.count_for, tally.count_against, tally.count_abstain),
            (2, 2, 1)
        );
        assert_eq!((tally.members_present, tally.members_represented), (4, 1));
        assert_eq!(tally.ballots.len(), 5);
        let c2 = tally
            .ballots
            .iter()
            .find(|b| b.member_id == s("c2"))
            .unwrap();
        assert_eq!(
            (c2.weight.clone(), c2.proxy_holder_id.clone()),
            (whole(5), s("c1"))
        );
        assert_eq!(tally.rights.len(), 4);
    }

    /// Quorum 1/2 of 100. Present a1 (20), b1 (10), d1 (10) = 40 < 50: not reached.
    /// All three vote for (40 to 0), and the resolution is still rejected.
    #[test]
    fn quorum_not_reached_means_the_resolution_cannot_be_adopted() {
        let (consortium, mut meeting) = convened();
        apply(
            &mut meeting,
            attendance(&consortium, &["a1", "b1", "d1"], &[]),
        );
        apply(&mut meeting, table(&consortium, "r1"));
        for member in ["a1", "b1", "d1"] {
            apply(&mut meeting, vote("r1", member, Choice::For));
        }
        let events = apply(&mut meeting, close("r1"));
        let closed = closing(&events);
        let tally = closed.tally.as_ref().unwrap();
        assert_eq!(tally.present_or_represented, whole(40));
        assert!(!tally.quorum_reached && tally.majority_reached);
        assert_eq!(closed.outcome, pv1::ResolutionStatus::Rejected as i32);
    }

    /// Weights are those of the college when the vote opens.
    /// Before r1 is tabled nothing changes: a1 weighs 40/2 = 20.
    /// After r1 is tabled, the collectivités are re-weighted 40 → 10 and a2 withdraws:
    /// r1 still counts a1 at 20 (total 100); r2, tabled after, counts a1 at 10/1 = 10
    /// (total 10 + 30 + 20 + 10 = 70).
    /// r1: present a1 20, b1 10 = 30 of 100 < 1/2: rejected (for a1 20 > against b1 10).
    /// r2: present a1 10, b1 10 = 20 of 70 < 1/2: rejected; for 10 = against 10: no majority.
    #[test]
    fn weights_are_those_of_the_college_when_the_vote_opens() {
        let (mut consortium, mut meeting) = convened();
        apply(&mut meeting, attendance(&consortium, &["a1", "b1"], &[]));
        apply(&mut meeting, table(&consortium, "r1"));
        fixtures::run(
            &mut consortium,
            vec![
                fixtures::college("collectivites", 10),
                ConsortiumChange::Withdraw {
                    member_id: id("a2"),
                    reason: String::new(),
                    now: now(),
                }
                .into(),
            ],
        );
        apply(&mut meeting, table(&consortium, "r2"));
        for resolution in ["r1", "r2"] {
            apply(&mut meeting, vote(resolution, "a1", Choice::For));
            apply(&mut meeting, vote(resolution, "b1", Choice::Against));
        }
        let r1 = apply(&mut meeting, close("r1"));
        let t1 = closing(&r1).tally.clone().unwrap();
        assert_eq!(
            (t1.total_rights, t1.votes_for, t1.votes_against),
            (whole(100), whole(20), whole(10))
        );
        assert!(t1.majority_reached && !t1.quorum_reached);
        let r2 = apply(&mut meeting, close("r2"));
        let t2 = closing(&r2).tally.clone().unwrap();
        assert_eq!(
            (t2.total_rights, t2.votes_for, t2.votes_against),
            (whole(70), whole(10), whole(10))
        );
        assert!(!t2.majority_reached);
        // a2, withdrawn before r2 opened, is not a voter of r2.
        assert!(!meeting.resolutions[1]
            .electorate
            .voters
            .contains_key(&s("a2")));
    }

    /// A two-thirds body: copil of collectivités (40, a1 a2) and tiers-lieux (10, d1), quorum 3/5.
    /// Total 50. Present a1 (20) and d1 (10); a2 (20) represented by a1: 50 ≥ 30, reached.
    /// For a1 + a2 = 40, against d1 10: cast 50, 40 ≥ 2/3 × 50 = 33.3 → adopted.
    #[test]
    fn a_two_thirds_body_counts_represented_votes() {
        let mut consortium = fixtures::example();
        fixtures::run(
            &mut consortium,
            vec![fixtures::body(
                "copil",
                &["collectivites", "tiers-lieux"],
                (3, 5),
                Majority::TwoThirds,
                2,
            )],
        );
        let mut meeting = MeetingState::default();
        apply(&mut meeting, convene(&consortium, "copil"));
        // b1 sits in no college of the copil.
        assert!(matches!(
            Meeting::decide(&attendance(&consortium, &["b1"], &[]), &meeting),
            Err(MeetingError::NotABodyMember { .. })
        ));
        apply(
            &mut meeting,
            attendance(&consortium, &["a1", "d1"], &[("a2", "a1")]),
        );
        apply(&mut meeting, table(&consortium, "r1"));
        apply(&mut meeting, vote("r1", "a1", Choice::For));
        apply(&mut meeting, vote("r1", "a2", Choice::For));
        apply(&mut meeting, vote("r1", "d1", Choice::Against));
        let events = apply(&mut meeting, close("r1"));
        let closed = closing(&events);
        let tally = closed.tally.as_ref().unwrap();
        assert_eq!(tally.total_rights, whole(50));
        assert_eq!(tally.votes_cast, whole(50));
        assert_eq!(closed.outcome, pv1::ResolutionStatus::Adopted as i32);
    }

    #[test]
    fn a_resolution_is_tabled_on_an_agenda_item() {
        let (consortium, meeting) = convened();
        let command = MeetingChange::TableResolution {
            resolution_id: id("r1"),
            consortium: Arc::new(consortium),
            agenda_item: 3,
            title: "x".into(),
            text: "y".into(),
            now: now(),
        };
        assert_eq!(
            Meeting::decide(&command.into(), &meeting),
            Err(MeetingError::UnknownAgendaItem(3))
        );
    }

    #[test]
    fn minutes_wait_for_every_vote_and_close_the_meeting() {
        let (consortium, mut meeting) = convened();
        apply(&mut meeting, table(&consortium, "r1"));
        let approve = MeetingChange::ApproveMinutes {
            uri: "https://archives.example/pv-1.pdf".into(),
            digest: "sha256:00".into(),
            now: now(),
        };
        assert_eq!(
            Meeting::decide(&approve.clone().into(), &meeting),
            Err(MeetingError::OpenResolution(s("r1")))
        );
        apply(&mut meeting, close("r1"));
        apply(&mut meeting, approve.clone().into());
        assert_eq!(
            Meeting::decide(&approve.into(), &meeting),
            Err(MeetingError::MeetingClosed)
        );
        assert_eq!(
            Meeting::decide(&attendance(&consortium, &["a1"], &[]), &meeting),
            Err(MeetingError::MeetingClosed)
        );
    }
}
