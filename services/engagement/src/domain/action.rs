//! The Action aggregate: an awareness session, roundtable, thematic workshop,
//! exchange visit or foresight workshop, from planning to minutes and outcomes.
//!
//! Lifecycle: planned → scheduled → held → reported, or cancelled before it is
//! held. Invitations and answers happen before it is held; attendance, minutes
//! and outcomes after.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1::{
    self as pb, ActionInvitationAnswer, ActionKind, ActionStatus, EngagementAudience, Theme,
};
use uuid::Uuid;

use super::{instant, timestamp};

/// Where an action takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Venue {
    /// A current commune, by INSEE code (validated against the COG).
    Commune(String),
    /// Online.
    Online,
}

impl Venue {
    /// The venue as its protobuf message.
    pub fn to_proto(&self) -> pb::ActionVenue {
        use pb::action_venue::Place;
        pb::ActionVenue {
            place: Some(match self {
                Venue::Commune(code) => Place::CommuneCode(code.clone()),
                Venue::Online => Place::Online(true),
            }),
        }
    }
}

/// What to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The new action's id (from the server).
    pub action_id: Uuid,
    /// Its kind.
    pub kind: ActionKind,
    /// Its title (non-empty).
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its themes (non-empty, distinct).
    pub themes: Vec<Theme>,
    /// Its target audiences (non-empty, distinct).
    pub audiences: Vec<EngagementAudience>,
    /// Where.
    pub venue: Venue,
    /// The territory it is for, when not held in it (validated).
    pub target_territory: Option<pb::TerritoryRef>,
    /// Organising stakeholders.
    pub organiser_ids: Vec<Uuid>,
    /// The programme's axes it serves (checked by the service).
    pub axes: Vec<Uuid>,
    /// Whether a designated officer must approve it before it is scheduled
    /// (the service says so for a thematic action planned while an officer
    /// is designated for the programme or one of its axes).
    pub approval_required: bool,
    /// The principal planning it.
    pub actor: String,
}

/// A request about an action: planning it, or changing one that exists (two
/// types, so that the decider's changes never meet a `Plan`).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Plans a new action.
    Plan(Plan),
    /// Changes an action already planned.
    Change(Change),
}

impl From<Plan> for Command {
    fn from(command: Plan) -> Self {
        Command::Plan(command)
    }
}

impl From<Change> for Command {
    fn from(change: Change) -> Self {
        Command::Change(change)
    }
}

/// A change to an action already planned.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Sets the dates of a planned action.
    Schedule {
        /// Start.
        starts_at: SystemTime,
        /// End (after the start).
        ends_at: SystemTime,
    },
    /// Moves a scheduled action (and maybe its venue) before it is held.
    Reschedule {
        /// New start.
        starts_at: SystemTime,
        /// New end.
        ends_at: SystemTime,
        /// New venue, if it changes.
        venue: Option<Venue>,
        /// Why.
        reason: String,
    },
    /// Invites stakeholders.
    Invite {
        /// Who.
        stakeholder_ids: Vec<Uuid>,
    },
    /// Records an invitee's answer.
    Answer {
        /// The invitee.
        stakeholder_id: Uuid,
        /// Accepted, declined or tentative.
        answer: ActionInvitationAnswer,
    },
    /// Records who came.
    RecordAttendance {
        /// Named attendees.
        attendee_ids: Vec<Uuid>,
        /// Anonymous head counts (distinct audiences).
        head_counts: Vec<(EngagementAudience, u32)>,
    },
    /// Records that the action took place.
    MarkHeld {
        /// The current time.
        now: SystemTime,
    },
    /// Publishes (or republishes) the minutes.
    PublishMinutes {
        /// Summary.
        summary: String,
        /// Key points.
        key_points: Vec<String>,
    },
    /// Records proposals that came out of the action.
    RecordOutcomes {
        /// The proposals, with their server-given ids.
        outcomes: Vec<pb::ActionOutcome>,
    },
    /// Cancels an action not held yet.
    Cancel {
        /// Why.
        reason: String,
    },
    /// A designated officer approves an action that needs it.
    Approve {
        /// The caller (principal).
        by: String,
        /// Whether the caller is designated for the programme or one of the
        /// action's axes, as the service found in the programme.
        designated: bool,
        /// What the concertation decided.
        note: String,
        /// The current time.
        now: SystemTime,
    },
    /// A designated officer sends an action that needs approval back.
    SendBack {
        /// The caller (principal).
        by: String,
        /// As for [`Change::Approve`].
        designated: bool,
        /// Why (non-empty, checked by the service).
        reason: String,
    },
}

/// Where an action stands as to its approval by a designated officer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Approval {
    /// It needs none (every action planned before approvals, and those
    /// planned with no officer to approve them).
    #[default]
    NotRequired,
    /// Proposed, waiting for an officer.
    Pending,
    /// Sent back, with the reason; still waiting.
    SentBack(String),
    /// Approved: by whom, when.
    Approved {
        /// The officer (principal).
        by: String,
        /// When.
        at: SystemTime,
    },
}

maillage_es::proto_events! {
    /// A fact recorded in an action's stream.
    Event {
        ActionPlanned(ActionPlanned),
        ActionScheduled(ActionScheduled),
        ActionRescheduled(ActionRescheduled),
        ActionInvitationsSent(ActionInvitationsSent),
        ActionInvitationAnswered(ActionInvitationAnswered),
        ActionAttendanceRecorded(ActionAttendanceRecorded),
        ActionHeld(ActionHeld),
        ActionMinutesPublished(ActionMinutesPublished),
        ActionOutcomesRecorded(ActionOutcomesRecorded),
        ActionCancelled(ActionCancelled),
        ActionApproved(ActionApproved),
        ActionSentBack(ActionSentBack),
    }
}

/// Why a command on an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Planning an id that already exists.
    #[error("the action already exists")]
    AlreadyExists,
    /// A command on an action that was never planned.
    #[error("no such action")]
    NotFound,
    /// The action is cancelled.
    #[error("the action is cancelled")]
    Cancelled,
    /// The action was already held.
    #[error("the action was already held")]
    AlreadyHeld,
    /// Scheduling an action that already has dates.
    #[error("the action is already scheduled: reschedule it")]
    AlreadyScheduled,
    /// The action has no dates yet.
    #[error("the action is not scheduled yet")]
    NotScheduled,
    /// Attendance, minutes or outcomes before the action was held.
    #[error("the action has not been held yet")]
    NotHeld,
    /// Marking held an action whose start is still in the future.
    #[error("the action has not started yet")]
    NotStarted,
    /// An answer from someone who was not invited.
    #[error("stakeholder {0} was not invited")]
    NotInvited(Uuid),
    /// The end is not after the start.
    #[error("the end must be after the start")]
    EndNotAfterStart,
    /// Scheduling an action a designated officer has not approved yet.
    #[error("the action must be approved by a designated officer before it is scheduled")]
    NotApproved,
    /// Approving or sending back an action that needs no approval.
    #[error("the action needs no approval")]
    ApprovalNotRequired,
    /// Approving or sending back an action approved already.
    #[error("the action is already approved")]
    AlreadyApproved,
    /// Approval or sending back by a principal not designated for it.
    #[error("{0} is not an officer designated for the programme or one of the action's axes")]
    NotDesignated(String),
}

/// An action as its events made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// ACTION_STATUS_UNSPECIFIED until planned.
    pub status: ActionStatus,
    /// What was planned (None until planned).
    pub planned: Option<pb::ActionPlanned>,
    /// Current venue.
    pub venue: Option<Venue>,
    /// Current dates.
    pub schedule: Option<(SystemTime, SystemTime)>,
    /// Invitees and their answers (UNSPECIFIED: none yet).
    pub invitations: BTreeMap<Uuid, ActionInvitationAnswer>,
    /// Named attendees.
    pub attendees: BTreeSet<Uuid>,
    /// Anonymous head count per audience.
    pub head_counts: BTreeMap<i32, u32>,
    /// When it was held.
    pub held_at: Option<SystemTime>,
    /// The latest minutes.
    pub minutes: Option<pb::ActionMinutes>,
    /// Every outcome recorded.
    pub outcomes: Vec<pb::ActionOutcome>,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Its approval by a designated officer.
    pub approval: Approval,
}

impl State {
    /// Whether the action was planned.
    pub fn exists(&self) -> bool {
        self.planned.is_some()
    }

    /// The action's id (nil before planning).
    pub fn id(&self) -> String {
        self.planned
            .as_ref()
            .map(|p| p.action_id.clone())
            .unwrap_or_default()
    }

    /// Ok while invitations, answers, rescheduling and cancellation are possible.
    fn before_held(&self) -> Result<(), Error> {
        match self.status {
            ActionStatus::Planned | ActionStatus::Scheduled => Ok(()),
            ActionStatus::Cancelled => Err(Error::Cancelled),
            ActionStatus::Held | ActionStatus::Reported => Err(Error::AlreadyHeld),
            ActionStatus::Unspecified => Err(Error::NotFound),
        }
    }

    /// Ok while an officer may approve it or send it back: planned (not
    /// scheduled, cancelled nor held), needing approval and not approved,
    /// and `by` designated.
    fn awaiting_approval(&self, by: &str, designated: bool) -> Result<(), Error> {
        self.before_held()?;
        match self.approval {
            Approval::NotRequired => return Err(Error::ApprovalNotRequired),
            Approval::Approved { .. } => return Err(Error::AlreadyApproved),
            Approval::Pending | Approval::SentBack(_) => {}
        }
        if !designated {
            return Err(Error::NotDesignated(by.to_owned()));
        }
        Ok(())
    }

    /// Ok once held (attendance, minutes, outcomes).
    fn after_held(&self) -> Result<(), Error> {
        match self.status {
            ActionStatus::Held | ActionStatus::Reported => Ok(()),
            ActionStatus::Cancelled => Err(Error::Cancelled),
            ActionStatus::Planned | ActionStatus::Scheduled => Err(Error::NotHeld),
            ActionStatus::Unspecified => Err(Error::NotFound),
        }
    }
}

/// The Action decider.
pub struct Action;

impl Decider for Action {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match command {
            Command::Plan(plan) => plan_action(plan, state),
            Command::Change(change) => change_action(change, state),
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        match event {
            Event::ActionPlanned(planned) => {
                state.status = ActionStatus::Planned;
                if planned.approval_required {
                    state.approval = Approval::Pending;
                }
                state.venue = venue_of(&planned.venue);
                state.planned = Some(planned.clone());
            }
            Event::ActionScheduled(e) => {
                state.status = ActionStatus::Scheduled;
                state.schedule = Some((instant(&e.starts_at), instant(&e.ends_at)));
            }
            Event::ActionRescheduled(e) => {
                state.schedule = Some((instant(&e.starts_at), instant(&e.ends_at)));
                if let Some(venue) = venue_of(&e.venue) {
                    state.venue = Some(venue);
                }
            }
            Event::ActionInvitationsSent(e) => {
                for id in e.stakeholder_ids.iter().filter_map(|id| id.parse().ok()) {
                    state
                        .invitations
                        .entry(id)
                        .or_insert(ActionInvitationAnswer::Unspecified);
                }
            }
            Event::ActionInvitationAnswered(e) => {
                if let Ok(id) = e.stakeholder_id.parse() {
                    state.invitations.insert(
                        id,
                        ActionInvitationAnswer::try_from(e.answer)
                            .unwrap_or(ActionInvitationAnswer::Unspecified),
                    );
                }
            }
            Event::ActionAttendanceRecorded(e) => {
                state.attendees.extend(
                    e.attendee_ids
                        .iter()
                        .filter_map(|id| id.parse::<Uuid>().ok()),
                );
                for count in &e.head_counts {
                    state.head_counts.insert(count.audience, count.count);
                }
            }
            Event::ActionHeld(e) => {
                state.status = ActionStatus::Held;
                state.held_at = Some(instant(&e.held_at));
            }
            Event::ActionMinutesPublished(e) => {
                state.status = ActionStatus::Reported;
                state.minutes = e.minutes.clone();
            }
            Event::ActionOutcomesRecorded(e) => {
                state.outcomes.extend(e.outcomes.iter().cloned());
            }
            Event::ActionCancelled(e) => {
                state.status = ActionStatus::Cancelled;
                state.cancellation_reason = Some(e.reason.clone());
            }
            Event::ActionApproved(e) => {
                state.approval = Approval::Approved {
                    by: e.approved_by.clone(),
                    at: instant(&e.approved_at),
                };
            }
            Event::ActionSentBack(e) => {
                state.approval = Approval::SentBack(e.reason.clone());
            }
        }
    }
}

/// Plans an action, unless it already exists.
fn plan_action(plan: &Plan, state: &State) -> Result<Vec<Event>, Error> {
    if state.exists() {
        return Err(Error::AlreadyExists);
    }
    Ok(vec![Event::ActionPlanned(pb::ActionPlanned {
        action_id: plan.action_id.to_string(),
        kind: plan.kind as i32,
        title: plan.title.clone(),
        description: plan.description.clone(),
        themes: maillage_proto::themes::older_values(
            &plan.themes,
            maillage_proto::themes::as_engagement_theme,
        ),
        topics: plan.themes.iter().map(|t| *t as i32).collect(),
        audiences: plan.audiences.iter().map(|a| *a as i32).collect(),
        venue: Some(plan.venue.to_proto()),
        organiser_ids: plan.organiser_ids.iter().map(Uuid::to_string).collect(),
        planned_by: plan.actor.clone(),
        target_territory: plan.target_territory.clone(),
        axis_ids: plan.axes.iter().map(Uuid::to_string).collect(),
        approval_required: plan.approval_required,
    })])
}

/// Changes an action, once planned.
fn change_action(change: &Change, state: &State) -> Result<Vec<Event>, Error> {
    if !state.exists() {
        return Err(Error::NotFound);
    }
    let action_id = state.id();
    match change {
        Change::Schedule { starts_at, ends_at } => {
            state.before_held()?;
            if state.status == ActionStatus::Scheduled {
                return Err(Error::AlreadyScheduled);
            }
            if matches!(state.approval, Approval::Pending | Approval::SentBack(_)) {
                return Err(Error::NotApproved);
            }
            if ends_at <= starts_at {
                return Err(Error::EndNotAfterStart);
            }
            Ok(vec![Event::ActionScheduled(pb::ActionScheduled {
                action_id,
                starts_at: Some(timestamp(*starts_at)),
                ends_at: Some(timestamp(*ends_at)),
            })])
        }
        Change::Reschedule {
            starts_at,
            ends_at,
            venue,
            reason,
        } => {
            state.before_held()?;
            if state.status == ActionStatus::Planned {
                return Err(Error::NotScheduled);
            }
            if ends_at <= starts_at {
                return Err(Error::EndNotAfterStart);
            }
            let venue_change = venue.as_ref().filter(|v| state.venue.as_ref() != Some(*v));
            if state.schedule == Some((*starts_at, *ends_at)) && venue_change.is_none() {
                return Ok(vec![]);
            }
            Ok(vec![Event::ActionRescheduled(pb::ActionRescheduled {
                action_id,
                starts_at: Some(timestamp(*starts_at)),
                ends_at: Some(timestamp(*ends_at)),
                venue: venue_change.map(Venue::to_proto),
                reason: reason.clone(),
            })])
        }
        Change::Invite { stakeholder_ids } => {
            state.before_held()?;
            let mut seen = BTreeSet::new();
            let new: Vec<String> = stakeholder_ids
                .iter()
                .filter(|id| !state.invitations.contains_key(id) && seen.insert(**id))
                .map(Uuid::to_string)
                .collect();
            if new.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![Event::ActionInvitationsSent(
                pb::ActionInvitationsSent {
                    action_id,
                    stakeholder_ids: new,
                },
            )])
        }
        Change::Answer {
            stakeholder_id,
            answer,
        } => {
            state.before_held()?;
            match state.invitations.get(stakeholder_id) {
                None => Err(Error::NotInvited(*stakeholder_id)),
                Some(current) if current == answer => Ok(vec![]),
                Some(_) => Ok(vec![Event::ActionInvitationAnswered(
                    pb::ActionInvitationAnswered {
                        action_id,
                        stakeholder_id: stakeholder_id.to_string(),
                        answer: *answer as i32,
                    },
                )]),
            }
        }
        Change::RecordAttendance {
            attendee_ids,
            head_counts,
        } => {
            state.after_held()?;
            let mut attendees = state.attendees.clone();
            let new: Vec<String> = attendee_ids
                .iter()
                .filter(|id| attendees.insert(**id))
                .map(Uuid::to_string)
                .collect();
            let mut counts = state.head_counts.clone();
            let changed: Vec<pb::AudienceHeadCount> = head_counts
                .iter()
                .filter(|(audience, count)| counts.insert(*audience as i32, *count) != Some(*count))
                .map(|(audience, count)| pb::AudienceHeadCount {
                    audience: *audience as i32,
                    count: *count,
                })
                .collect();
            if new.is_empty() && changed.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![Event::ActionAttendanceRecorded(
                pb::ActionAttendanceRecorded {
                    action_id,
                    attendee_ids: new,
                    head_counts: changed,
                    named_total: u32::try_from(attendees.len()).unwrap_or(u32::MAX),
                    anonymous_total: counts.values().fold(0u32, |a, c| a.saturating_add(*c)),
                },
            )])
        }
        Change::MarkHeld { now } => {
            match state.status {
                ActionStatus::Scheduled => {}
                ActionStatus::Planned => return Err(Error::NotScheduled),
                _ => state.before_held()?,
            }
            if let Some((starts_at, _)) = state.schedule {
                if starts_at > *now {
                    return Err(Error::NotStarted);
                }
            }
            Ok(vec![Event::ActionHeld(pb::ActionHeld {
                action_id,
                held_at: Some(timestamp(*now)),
            })])
        }
        Change::PublishMinutes {
            summary,
            key_points,
        } => {
            state.after_held()?;
            let minutes = pb::ActionMinutes {
                summary: summary.clone(),
                key_points: key_points.clone(),
            };
            if state.minutes.as_ref() == Some(&minutes) {
                return Ok(vec![]);
            }
            Ok(vec![Event::ActionMinutesPublished(
                pb::ActionMinutesPublished {
                    action_id,
                    minutes: Some(minutes),
                },
            )])
        }
        Change::RecordOutcomes { outcomes } => {
            state.after_held()?;
            if outcomes.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![Event::ActionOutcomesRecorded(
                pb::ActionOutcomesRecorded {
                    action_id,
                    outcomes: outcomes.clone(),
                },
            )])
        }
        Change::Cancel { reason } => {
            state.before_held()?;
            Ok(vec![Event::ActionCancelled(pb::ActionCancelled {
                action_id,
                reason: reason.clone(),
            })])
        }
        Change::Approve {
            by,
            designated,
            note,
            now,
        } => {
            state.awaiting_approval(by, *designated)?;
            Ok(vec![Event::ActionApproved(pb::ActionApproved {
                action_id,
                approved_by: by.clone(),
                approved_at: Some(timestamp(*now)),
                note: note.clone(),
            })])
        }
        Change::SendBack {
            by,
            designated,
            reason,
        } => {
            state.awaiting_approval(by, *designated)?;
            Ok(vec![Event::ActionSentBack(pb::ActionSentBack {
                action_id,
                sent_back_by: by.clone(),
                reason: reason.clone(),
            })])
        }
    }
}

/// The domain venue of a stored venue message.
pub fn venue_of(venue: &Option<pb::ActionVenue>) -> Option<Venue> {
    use pb::action_venue::Place;
    match venue.as_ref()?.place.as_ref()? {
        Place::CommuneCode(code) => Some(Venue::Commune(code.clone())),
        Place::Online(_) => Some(Venue::Online),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use maillage_es::EventPayload;

    use super::*;
    use crate::domain::testing;

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + hours * 3600)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn plan() -> Command {
        Command::Plan(Plan {
            action_id: id(1),
            kind: ActionKind::Roundtable,
            title: "Table ronde télétravail".into(),
            description: String::new(),
            themes: vec![Theme::Telework, Theme::Awareness],
            audiences: vec![EngagementAudience::Businesses, EngagementAudience::Chambers],
            venue: Venue::Commune("15014".into()),
            target_territory: None,
            organiser_ids: vec![id(100)],
            axes: vec![id(200)],
            approval_required: false,
            actor: "alice".into(),
        })
    }

    /// Given `commands` applied in turn (each must succeed), the resulting state.
    fn given(commands: &[Command]) -> State {
        testing::given::<Action>(commands)
    }

    fn when(given_commands: &[Command], command: Command) -> Result<Vec<Event>, Error> {
        Action::decide(&command, &given(given_commands))
    }

    fn schedule() -> Command {
        Change::Schedule {
            starts_at: at(10),
            ends_at: at(12),
        }
        .into()
    }

    fn held() -> Vec<Command> {
        vec![plan(), schedule(), Change::MarkHeld { now: at(11) }.into()]
    }

    fn cancelled() -> Vec<Command> {
        vec![
            plan(),
            Change::Cancel {
                reason: "salle indisponible".into(),
            }
            .into(),
        ]
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let event = &when(&[], plan()).unwrap()[0];
        testing::assert_events_encode(event);
    }

    #[test]
    fn events_round_trip_through_their_payload() {
        let events = when(&[], plan()).unwrap();
        let event = &events[0];
        let decoded = Event::decode(event.event_type(), &event.encode()).unwrap();
        assert_eq!(&decoded, event);
        assert!(Event::decode("maillage.v1.Nope", &[]).is_err());
    }

    #[test]
    fn planning_records_the_action_and_its_planner() {
        let events = when(&[], plan()).unwrap();
        let Event::ActionPlanned(planned) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(planned.action_id, id(1).to_string());
        assert_eq!(planned.planned_by, "alice");
        // Both vocabularies: the older one lacks the missions.
        assert_eq!(
            planned.topics,
            vec![Theme::Telework as i32, Theme::Awareness as i32]
        );
        assert_eq!(planned.themes, vec![pb::EngagementTheme::Telework as i32]);
        let state = given(&[plan()]);
        assert_eq!(state.status, ActionStatus::Planned);
        assert_eq!(state.venue, Some(Venue::Commune("15014".into())));
    }

    #[test]
    fn planning_twice_is_refused() {
        assert_eq!(when(&[plan()], plan()), Err(Error::AlreadyExists));
    }

    #[test]
    fn commands_on_an_unplanned_action_are_not_found() {
        assert_eq!(when(&[], schedule()), Err(Error::NotFound));
        assert_eq!(
            when(&[], Change::Cancel { reason: "x".into() }.into()),
            Err(Error::NotFound)
        );
    }

    #[test]
    fn scheduling_sets_the_dates() {
        let state = given(&[plan(), schedule()]);
        assert_eq!(state.status, ActionStatus::Scheduled);
        assert_eq!(state.schedule, Some((at(10), at(12))));
    }

    #[test]
    fn the_end_must_be_after_the_start() {
        let backwards = Change::Schedule {
            starts_at: at(12),
            ends_at: at(12),
        };
        assert_eq!(
            when(&[plan()], backwards.into()),
            Err(Error::EndNotAfterStart)
        );
        let backwards = Change::Reschedule {
            starts_at: at(13),
            ends_at: at(12),
            venue: None,
            reason: String::new(),
        };
        assert_eq!(
            when(&[plan(), schedule()], backwards.into()),
            Err(Error::EndNotAfterStart)
        );
    }

    #[test]
    fn scheduling_twice_asks_for_a_reschedule() {
        assert_eq!(
            when(&[plan(), schedule()], schedule()),
            Err(Error::AlreadyScheduled)
        );
    }

    #[test]
    fn rescheduling_moves_dates_and_venue_until_held() {
        let reschedule = Change::Reschedule {
            starts_at: at(20),
            ends_at: at(22),
            venue: Some(Venue::Online),
            reason: "grève".into(),
        };
        let state = given(&[plan(), schedule(), reschedule.clone().into()]);
        assert_eq!(state.schedule, Some((at(20), at(22))));
        assert_eq!(state.venue, Some(Venue::Online));
        assert_eq!(
            when(&held(), reschedule.clone().into()),
            Err(Error::AlreadyHeld)
        );
        assert_eq!(
            when(&[plan()], reschedule.clone().into()),
            Err(Error::NotScheduled)
        );
        assert_eq!(when(&cancelled(), reschedule.into()), Err(Error::Cancelled));
    }

    #[test]
    fn rescheduling_to_the_same_dates_and_venue_changes_nothing() {
        let same = Change::Reschedule {
            starts_at: at(10),
            ends_at: at(12),
            venue: Some(Venue::Commune("15014".into())),
            reason: String::new(),
        };
        assert_eq!(when(&[plan(), schedule()], same.into()), Ok(vec![]));
    }

    #[test]
    fn inviting_records_only_new_invitees() {
        let invite = Change::Invite {
            stakeholder_ids: vec![id(7), id(8), id(7)],
        };
        let events = when(&[plan()], invite.clone().into()).unwrap();
        let Event::ActionInvitationsSent(sent) = &events[0] else {
            panic!()
        };
        assert_eq!(
            sent.stakeholder_ids,
            vec![id(7).to_string(), id(8).to_string()]
        );
        assert_eq!(
            when(
                &[plan(), invite.into()],
                Change::Invite {
                    stakeholder_ids: vec![id(8)]
                }
                .into()
            ),
            Ok(vec![])
        );
    }

    #[test]
    fn no_invitation_once_held_or_cancelled() {
        let invite = Change::Invite {
            stakeholder_ids: vec![id(7)],
        };
        assert_eq!(
            when(&held(), invite.clone().into()),
            Err(Error::AlreadyHeld)
        );
        assert_eq!(when(&cancelled(), invite.into()), Err(Error::Cancelled));
    }

    #[test]
    fn an_answer_only_from_an_invitee() {
        let invite = Change::Invite {
            stakeholder_ids: vec![id(7)],
        };
        let answer = |who| Change::Answer {
            stakeholder_id: id(who),
            answer: ActionInvitationAnswer::Accepted,
        };
        assert_eq!(
            when(&[plan(), invite.clone().into()], answer(8).into()),
            Err(Error::NotInvited(id(8)))
        );
        let state = given(&[plan(), invite.clone().into(), answer(7).into()]);
        assert_eq!(state.invitations[&id(7)], ActionInvitationAnswer::Accepted);
        // The same answer again changes nothing; another replaces it.
        assert_eq!(
            when(
                &[plan(), invite.clone().into(), answer(7).into()],
                answer(7).into()
            ),
            Ok(vec![])
        );
        let declined = Change::Answer {
            stakeholder_id: id(7),
            answer: ActionInvitationAnswer::Declined,
        };
        let state = given(&[plan(), invite.into(), answer(7).into(), declined.into()]);
        assert_eq!(state.invitations[&id(7)], ActionInvitationAnswer::Declined);
    }

    #[test]
    fn marking_held_needs_a_started_scheduled_action() {
        assert_eq!(
            when(&[plan()], Change::MarkHeld { now: at(11) }.into()),
            Err(Error::NotScheduled)
        );
        assert_eq!(
            when(
                &[plan(), schedule()],
                Change::MarkHeld { now: at(9) }.into()
            ),
            Err(Error::NotStarted)
        );
        assert_eq!(
            when(&cancelled(), Change::MarkHeld { now: at(11) }.into()),
            Err(Error::Cancelled)
        );
        assert_eq!(
            when(&held(), Change::MarkHeld { now: at(11) }.into()),
            Err(Error::AlreadyHeld)
        );
        let state = given(&held());
        assert_eq!(state.status, ActionStatus::Held);
        assert_eq!(state.held_at, Some(at(11)));
    }

    fn attendance(ids: &[u128], counts: &[(EngagementAudience, u32)]) -> Command {
        Change::RecordAttendance {
            attendee_ids: ids.iter().map(|n| id(*n)).collect(),
            head_counts: counts.to_vec(),
        }
        .into()
    }

    #[test]
    fn no_attendance_before_held_or_for_a_cancelled_action() {
        let record = attendance(&[7], &[]);
        assert_eq!(when(&[plan()], record.clone()), Err(Error::NotHeld));
        assert_eq!(
            when(&[plan(), schedule()], record.clone()),
            Err(Error::NotHeld)
        );
        assert_eq!(when(&cancelled(), record), Err(Error::Cancelled));
    }

    #[test]
    fn attendance_adds_new_attendees_and_replaces_head_counts() {
        let first = attendance(&[7, 8], &[(EngagementAudience::Population, 30)]);
        let events = when(&held(), first.clone()).unwrap();
        let Event::ActionAttendanceRecorded(e) = &events[0] else {
            panic!()
        };
        assert_eq!((e.named_total, e.anonymous_total), (2, 30));
        let mut commands = held();
        commands.push(first);
        let second = attendance(
            &[8, 9],
            &[
                (EngagementAudience::Population, 25),
                (EngagementAudience::Elus, 3),
            ],
        );
        let events = when(&commands, second.clone()).unwrap();
        let Event::ActionAttendanceRecorded(e) = &events[0] else {
            panic!()
        };
        assert_eq!(e.attendee_ids, vec![id(9).to_string()]);
        assert_eq!((e.named_total, e.anonymous_total), (3, 28));
        commands.push(second.clone());
        assert_eq!(when(&commands, second), Ok(vec![]), "nothing new");
        let state = given(&commands);
        assert_eq!(
            state.head_counts[&(EngagementAudience::Population as i32)],
            25
        );
    }

    #[test]
    fn head_counts_may_be_zero() {
        let zero = attendance(&[], &[(EngagementAudience::Associations, 0)]);
        let events = when(&held(), zero).unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn minutes_only_once_held_and_they_report_the_action() {
        let minutes = Change::PublishMinutes {
            summary: "Synthèse".into(),
            key_points: vec!["Besoin d'un espace de coworking".into()],
        };
        assert_eq!(
            when(&[plan(), schedule()], minutes.clone().into()),
            Err(Error::NotHeld)
        );
        assert_eq!(
            when(&cancelled(), minutes.clone().into()),
            Err(Error::Cancelled)
        );
        let mut commands = held();
        commands.push(minutes.clone().into());
        let state = given(&commands);
        assert_eq!(state.status, ActionStatus::Reported);
        assert_eq!(
            when(&commands, minutes.into()),
            Ok(vec![]),
            "same minutes again"
        );
        let revised = Change::PublishMinutes {
            summary: "Synthèse révisée".into(),
            key_points: vec![],
        };
        assert_eq!(when(&commands, revised.into()).unwrap().len(), 1);
    }

    #[test]
    fn outcomes_only_once_held_and_they_accumulate() {
        let outcome = |n: u128| pb::ActionOutcome {
            outcome_id: id(n).to_string(),
            proposal: "Ouvrir un tiers-lieu à la gare".into(),
            theme: pb::EngagementTheme::QuelsTla as i32,
            topic: Theme::QuelsTla as i32,
            suggested_owner_id: String::new(),
        };
        let record = |n| Change::RecordOutcomes {
            outcomes: vec![outcome(n)],
        };
        assert_eq!(when(&[plan()], record(50).into()), Err(Error::NotHeld));
        let mut commands = held();
        commands.push(record(50).into());
        commands.push(record(51).into());
        assert_eq!(given(&commands).outcomes, vec![outcome(50), outcome(51)]);
    }

    #[test]
    fn cancelling_only_before_held_and_once() {
        let cancel = Change::Cancel {
            reason: "météo".into(),
        };
        let state = given(&cancelled());
        assert_eq!(state.status, ActionStatus::Cancelled);
        assert_eq!(
            state.cancellation_reason.as_deref(),
            Some("salle indisponible")
        );
        assert_eq!(
            when(&cancelled(), cancel.clone().into()),
            Err(Error::Cancelled)
        );
        assert_eq!(
            when(&held(), cancel.clone().into()),
            Err(Error::AlreadyHeld)
        );
        assert!(when(&[plan(), schedule()], cancel.into()).is_ok());
    }

    /// A thematic workshop planned while an officer is designated.
    fn proposed() -> Command {
        let Command::Plan(plan) = plan() else {
            unreachable!("plan() plans")
        };
        Command::Plan(Plan {
            kind: ActionKind::ThematicWorkshop,
            approval_required: true,
            ..plan
        })
    }

    fn approve(by: &str, designated: bool) -> Command {
        Change::Approve {
            by: by.into(),
            designated,
            note: "validé en comité de pilotage".into(),
            now: at(2),
        }
        .into()
    }

    fn send_back(by: &str, designated: bool) -> Command {
        Change::SendBack {
            by: by.into(),
            designated,
            reason: "préciser le public visé".into(),
        }
        .into()
    }

    #[test]
    fn a_proposed_action_is_scheduled_only_once_a_designated_officer_approved_it() {
        let proposal = || maillage_es::testing::given_nothing::<Action>().after([proposed()]);
        assert_eq!(proposal().state().approval, Approval::Pending);
        proposal().when(schedule()).then_refused(Error::NotApproved);
        // Sent back with a reason: still not to be scheduled.
        let sent_back = proposal()
            .when(send_back("dgs", true))
            .then([Event::ActionSentBack(pb::ActionSentBack {
                action_id: id(1).to_string(),
                sent_back_by: "dgs".into(),
                reason: "préciser le public visé".into(),
            })]);
        assert_eq!(
            sent_back.state().approval,
            Approval::SentBack("préciser le public visé".into())
        );
        sent_back.when(schedule()).then_refused(Error::NotApproved);
        // Approved: who and when are recorded, and it may be scheduled.
        let approved = proposal()
            .after([send_back("dgs", true)])
            .when(approve("dgs", true))
            .then([Event::ActionApproved(pb::ActionApproved {
                action_id: id(1).to_string(),
                approved_by: "dgs".into(),
                approved_at: Some(timestamp(at(2))),
                note: "validé en comité de pilotage".into(),
            })]);
        assert_eq!(
            approved.state().approval,
            Approval::Approved {
                by: "dgs".into(),
                at: at(2)
            }
        );
        approved.when(schedule()).accepted();
    }

    #[test]
    fn only_a_designated_officer_approves_and_only_once() {
        let proposal = || maillage_es::testing::given_nothing::<Action>().after([proposed()]);
        proposal()
            .when(approve("claire", false))
            .then_refused(Error::NotDesignated("claire".into()));
        proposal()
            .when(send_back("claire", false))
            .then_refused(Error::NotDesignated("claire".into()));
        proposal()
            .after([approve("dgs", true)])
            .when(approve("dgs", true))
            .then_refused(Error::AlreadyApproved);
        // An action that needs no approval (as every action planned before
        // approvals existed) is scheduled as before, and approving it is refused.
        maillage_es::testing::given_nothing::<Action>()
            .after([plan()])
            .when(approve("dgs", true))
            .then_refused(Error::ApprovalNotRequired);
        assert!(when(&[plan()], schedule()).is_ok());
        let cancelled = [proposed(), Change::Cancel { reason: "x".into() }.into()];
        assert_eq!(
            when(&cancelled, approve("dgs", true)),
            Err(Error::Cancelled)
        );
    }
}
