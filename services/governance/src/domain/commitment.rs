//! The commitment aggregate (stream `commitment-<id>`): one item of the
//! consortium's action plan, owned by an admitted member, from an adopted
//! resolution or a roundtable outcome, with its progress until completed or dropped.

use std::sync::Arc;

use maillage_es::Decider;
use maillage_proto::v1 as pv1;
use uuid::Uuid;

use super::consortium::ConsortiumState;
use super::meeting::MeetingState;
use super::{earlier, DomainError, Refusal, Timestamp};

/// Where a commitment comes from, as the command states it.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A resolution of a meeting, with the meeting's state to check it against.
    Resolution {
        /// The meeting.
        meeting_id: Uuid,
        /// The resolution.
        resolution_id: Uuid,
        /// The meeting now (default state if it does not exist).
        meeting: Arc<MeetingState>,
    },
    /// A roundtable outcome of the engagement context.
    RoundtableOutcome(Uuid),
}

/// Where a commitment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    /// Under way.
    #[default]
    Open,
    /// Done.
    Completed,
    /// Abandoned.
    Dropped,
}

/// The commitment's state, folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitmentState {
    /// What the commitment recorded when made (`None` until then).
    pub made: Option<pv1::CommitmentMade>,
    /// Where it stands.
    pub status: Status,
    /// Last reported percentage (100 once completed).
    pub percent: u32,
    /// Last progress note.
    pub last_note: String,
    /// Why it was dropped.
    pub drop_reason: String,
}

impl CommitmentState {
    /// Open and past its due date at `now`.
    pub fn is_overdue(&self, now: &Timestamp) -> bool {
        self.status == Status::Open
            && self
                .made
                .as_ref()
                .and_then(|made| made.due_at.as_ref())
                .is_some_and(|due| earlier(due, now))
    }
}

/// A request about a commitment, validated by the gRPC layer: making one, or
/// changing one that exists. Two types, so that the decider's changes never
/// meet a `Make`.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitmentCommand {
    /// Make a commitment.
    Make(MakeCommitment),
    /// Change a commitment already made.
    Change(CommitmentChange),
}

impl From<MakeCommitment> for CommitmentCommand {
    fn from(make: MakeCommitment) -> Self {
        CommitmentCommand::Make(make)
    }
}

impl From<CommitmentChange> for CommitmentCommand {
    fn from(change: CommitmentChange) -> Self {
        CommitmentCommand::Change(change)
    }
}

/// Make a commitment.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCommitment {
    /// The new commitment's id.
    pub commitment_id: Uuid,
    /// The consortium's id.
    pub consortium_id: Uuid,
    /// The consortium now.
    pub consortium: Arc<ConsortiumState>,
    /// Title.
    pub title: String,
    /// Owner (an admitted member).
    pub owner_member_id: Uuid,
    /// Due date.
    pub due_at: Timestamp,
    /// Theme: its label and its value in the shared vocabulary.
    pub theme: String,
    /// Its theme in the shared vocabulary (`Theme`).
    pub topic: pv1::Theme,
    /// Origin.
    pub origin: Origin,
    /// The programme's axes it serves (checked against the programme
    /// replica by the gRPC layer).
    pub axis_ids: Vec<Uuid>,
    /// Now.
    pub now: Timestamp,
}

/// A change to a commitment already made.
#[derive(Debug, Clone, PartialEq)]
pub enum CommitmentChange {
    /// Report progress.
    ReportProgress {
        /// 0 to 100.
        percent: u32,
        /// Note.
        note: String,
        /// Now.
        now: Timestamp,
    },
    /// Complete it.
    Complete {
        /// Now.
        now: Timestamp,
    },
    /// Drop it.
    Drop {
        /// Why.
        reason: String,
        /// Now.
        now: Timestamp,
    },
}

maillage_es::proto_events! {
    /// What happens to a commitment.
    CommitmentEvent {
        /// Made.
        Made(CommitmentMade),
        /// Progress reported.
        ProgressReported(CommitmentProgressReported),
        /// Completed.
        Completed(CommitmentCompleted),
        /// Dropped.
        Dropped(CommitmentDropped),
    }
}

/// Why a commitment command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitmentError {
    /// Making an existing commitment.
    #[error("commitment {0} already exists")]
    AlreadyMade(String),
    /// The commitment does not exist.
    #[error("commitment not found")]
    NotFound,
    /// The consortium does not exist.
    #[error("consortium {0} not found")]
    ConsortiumNotFound(String),
    /// The owner is not an admitted member.
    #[error("owner_member_id: {0} is not an admitted member of the consortium")]
    OwnerNotAdmitted(String),
    /// The origin meeting is not a meeting of this consortium.
    #[error("resolution.meeting_id: {0} is not a meeting of this consortium")]
    UnknownMeeting(String),
    /// The origin resolution does not exist in the meeting.
    #[error("resolution.resolution_id: no resolution {0} in the meeting")]
    UnknownResolution(String),
    /// The origin resolution was not adopted.
    #[error("resolution.resolution_id: resolution {0} was not adopted")]
    ResolutionNotAdopted(String),
    /// Progress on a percentage over 100.
    #[error("percent: {0} is over 100")]
    PercentOutOfRange(u32),
    /// A completed commitment does not move.
    #[error("the commitment is completed")]
    Completed,
    /// A dropped commitment does not move.
    #[error("the commitment is dropped")]
    Dropped,
}

impl DomainError for CommitmentError {
    fn refusal(&self) -> Refusal {
        use CommitmentError as E;
        match self {
            E::AlreadyMade(id) => Refusal::AlreadyExists {
                what: "commitment",
                id: id.clone(),
            },
            E::NotFound => Refusal::NotFound {
                what: "commitment",
                id: String::new(),
            },
            E::ConsortiumNotFound(id) => Refusal::NotFound {
                what: "consortium",
                id: id.clone(),
            },
            E::UnknownMeeting(_) => Refusal::InvalidArgument {
                field: "resolution.meeting_id".into(),
            },
            E::UnknownResolution(_) => Refusal::InvalidArgument {
                field: "resolution.resolution_id".into(),
            },
            E::PercentOutOfRange(_) => Refusal::InvalidArgument {
                field: "percent".into(),
            },
            E::OwnerNotAdmitted(_) | E::ResolutionNotAdopted(_) | E::Completed | E::Dropped => {
                Refusal::FailedPrecondition
            }
        }
    }
}

/// The commitment decider.
pub struct Commitment;

impl Decider for Commitment {
    type State = CommitmentState;
    type Command = CommitmentCommand;
    type Event = CommitmentEvent;
    type Error = CommitmentError;

    fn decide(
        command: &CommitmentCommand,
        state: &CommitmentState,
    ) -> Result<Vec<CommitmentEvent>, CommitmentError> {
        match command {
            CommitmentCommand::Make(make) => Self::make(make, state),
            CommitmentCommand::Change(change) => Self::change(change, state),
        }
    }

    fn evolve(state: &mut CommitmentState, event: &CommitmentEvent) {
        match event {
            CommitmentEvent::Made(e) => state.made = Some(e.clone()),
            CommitmentEvent::ProgressReported(e) => {
                state.percent = e.percent;
                state.last_note = e.note.clone();
            }
            CommitmentEvent::Completed(_) => {
                state.status = Status::Completed;
                state.percent = 100;
            }
            CommitmentEvent::Dropped(e) => {
                state.status = Status::Dropped;
                state.drop_reason = e.reason.clone();
            }
        }
    }
}

impl Commitment {
    /// Makes the commitment, unless it already exists.
    fn make(
        make: &MakeCommitment,
        state: &CommitmentState,
    ) -> Result<Vec<CommitmentEvent>, CommitmentError> {
        let MakeCommitment {
            commitment_id,
            consortium_id,
            consortium,
            title,
            owner_member_id,
            due_at,
            theme,
            topic,
            origin,
            axis_ids,
            now,
        } = make;
        if let Some(made) = &state.made {
            return Err(CommitmentError::AlreadyMade(made.commitment_id.clone()));
        }
        let consortium_id = consortium_id.to_string();
        if consortium.id() != Some(consortium_id.as_str()) {
            return Err(CommitmentError::ConsortiumNotFound(consortium_id));
        }
        let owner = owner_member_id.to_string();
        if !consortium.is_admitted(&owner) {
            return Err(CommitmentError::OwnerNotAdmitted(owner));
        }
        let origin = match origin {
            Origin::Resolution {
                meeting_id,
                resolution_id,
                meeting,
            } => {
                let of_consortium = meeting
                    .convening
                    .as_ref()
                    .is_some_and(|c| c.consortium_id == consortium_id);
                if !of_consortium {
                    return Err(CommitmentError::UnknownMeeting(meeting_id.to_string()));
                }
                let id = resolution_id.to_string();
                let resolution = meeting
                    .resolution(&id)
                    .ok_or_else(|| CommitmentError::UnknownResolution(id.clone()))?;
                let adopted = resolution
                    .closed
                    .as_ref()
                    .is_some_and(|c| c.outcome == pv1::ResolutionStatus::Adopted as i32);
                if !adopted {
                    return Err(CommitmentError::ResolutionNotAdopted(id));
                }
                pv1::commitment_made::Origin::Resolution(pv1::ResolutionRef {
                    meeting_id: meeting_id.to_string(),
                    resolution_id: id,
                })
            }
            Origin::RoundtableOutcome(outcome) => {
                pv1::commitment_made::Origin::RoundtableOutcomeId(outcome.to_string())
            }
        };
        Ok(vec![CommitmentEvent::Made(pv1::CommitmentMade {
            commitment_id: commitment_id.to_string(),
            consortium_id,
            title: title.clone(),
            owner_member_id: owner,
            due_at: Some(*due_at),
            theme: theme.clone(),
            topic: *topic as i32,
            origin: Some(origin),
            made_at: Some(*now),
            axis_ids: axis_ids.iter().map(Uuid::to_string).collect(),
        })])
    }

    /// Changes the commitment, once made and while open.
    fn change(
        change: &CommitmentChange,
        state: &CommitmentState,
    ) -> Result<Vec<CommitmentEvent>, CommitmentError> {
        use CommitmentChange as C;
        use CommitmentEvent as E;
        let made = state.made.as_ref().ok_or(CommitmentError::NotFound)?;
        match state.status {
            Status::Completed => return Err(CommitmentError::Completed),
            Status::Dropped => return Err(CommitmentError::Dropped),
            Status::Open => {}
        }
        let commitment_id = made.commitment_id.clone();
        match change {
            C::ReportProgress { percent, note, now } => {
                if *percent > 100 {
                    return Err(CommitmentError::PercentOutOfRange(*percent));
                }
                Ok(vec![E::ProgressReported(pv1::CommitmentProgressReported {
                    commitment_id,
                    percent: *percent,
                    note: note.clone(),
                    reported_at: Some(*now),
                })])
            }
            C::Complete { now } => Ok(vec![E::Completed(pv1::CommitmentCompleted {
                commitment_id,
                completed_at: Some(*now),
            })]),
            C::Drop { reason, now } => Ok(vec![E::Dropped(pv1::CommitmentDropped {
                commitment_id,
                reason: reason.clone(),
                dropped_at: Some(*now),
            })]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::consortium::fixtures::{self, id, now};
    use crate::domain::consortium::ConsortiumChange;
    use crate::domain::meeting::{ConveneMeeting, Meeting, MeetingChange, MeetingCommand};
    use crate::domain::vote::Choice;

    fn apply(state: &mut CommitmentState, command: impl Into<CommitmentCommand>) {
        *state = maillage_es::testing::given_state::<Commitment>(state.clone())
            .after([command.into()])
            .into_state();
    }

    fn make(consortium: &ConsortiumState, owner: &str, origin: Origin) -> CommitmentCommand {
        CommitmentCommand::Make(MakeCommitment {
            commitment_id: id("commitment"),
            consortium_id: id("consortium"),
            consortium: Arc::new(consortium.clone()),
            title: "Ouvrir un tiers-lieu à Limoux".into(),
            owner_member_id: id(owner),
            due_at: Timestamp {
                seconds: now().seconds + 86_400 * 90,
                nanos: 0,
            },
            theme: "quels-tla".into(),
            topic: pv1::Theme::QuelsTla,
            origin,
            axis_ids: vec![id("axis")],
            now: now(),
        })
    }

    fn roundtable() -> Origin {
        Origin::RoundtableOutcome(id("outcome"))
    }

    fn made() -> CommitmentState {
        let mut state = CommitmentState::default();
        apply(&mut state, make(&fixtures::example(), "d1", roundtable()));
        state
    }

    fn progress(percent: u32) -> CommitmentCommand {
        CommitmentChange::ReportProgress {
            percent,
            note: "étude de faisabilité".into(),
            now: now(),
        }
        .into()
    }

    /// A meeting of the example consortium: a1, a2, b1 present (20 + 20 + 10 = 50 of
    /// 100 ≥ 1/2, quorum reached); r1: all three for (50 > 0) → adopted; r2: no ballot → rejected.
    fn meeting(consortium: &ConsortiumState) -> MeetingState {
        let mut meeting = MeetingState::default();
        let shared = Arc::new(consortium.clone());
        let commands = vec![
            MeetingCommand::Convene(ConveneMeeting {
                meeting_id: id("meeting"),
                consortium_id: id("consortium"),
                consortium: shared.clone(),
                body_code: "ag".into(),
                scheduled_at: now(),
                venue: pv1::MeetingVenue {
                    commune_code: String::new(),
                    place: String::new(),
                    online: true,
                },
                agenda: vec!["Plan".into()],
                now: now(),
            }),
            MeetingChange::RecordAttendance {
                consortium: shared.clone(),
                present: vec![id("a1"), id("a2"), id("b1")],
                proxies: vec![],
                now: now(),
            }
            .into(),
            MeetingChange::TableResolution {
                resolution_id: id("r1"),
                consortium: shared.clone(),
                agenda_item: 1,
                title: "Plan".into(),
                text: "Adopter".into(),
                now: now(),
            }
            .into(),
            MeetingChange::TableResolution {
                resolution_id: id("r2"),
                consortium: shared,
                agenda_item: 1,
                title: "Autre".into(),
                text: "Rejeter".into(),
                now: now(),
            }
            .into(),
        ];
        let mut run = |command: MeetingCommand| {
            for event in Meeting::decide(&command, &meeting).expect("accepted") {
                Meeting::evolve(&mut meeting, &event);
            }
        };
        for command in commands {
            run(command);
        }
        for member in ["a1", "a2", "b1"] {
            run(MeetingChange::RecordVote {
                resolution_id: id("r1"),
                member_id: id(member),
                choice: Choice::For,
                now: now(),
            }
            .into());
        }
        run(MeetingChange::CloseVote {
            resolution_id: id("r1"),
            now: now(),
        }
        .into());
        run(MeetingChange::CloseVote {
            resolution_id: id("r2"),
            now: now(),
        }
        .into());
        meeting
    }

    #[test]
    fn a_commitment_is_made_by_an_admitted_member_once() {
        let mut consortium = fixtures::example();
        let state = made();
        assert_eq!(
            state.made.as_ref().unwrap().owner_member_id,
            id("d1").to_string()
        );
        assert_eq!(
            Commitment::decide(&make(&consortium, "d1", roundtable()), &state),
            Err(CommitmentError::AlreadyMade(id("commitment").to_string()))
        );
        fixtures::run(
            &mut consortium,
            vec![ConsortiumChange::Withdraw {
                member_id: id("d1"),
                reason: String::new(),
                now: now(),
            }
            .into()],
        );
        assert_eq!(
            Commitment::decide(
                &make(&consortium, "d1", roundtable()),
                &CommitmentState::default()
            ),
            Err(CommitmentError::OwnerNotAdmitted(id("d1").to_string()))
        );
        assert_eq!(
            Commitment::decide(
                &make(&consortium, "stranger", roundtable()),
                &CommitmentState::default()
            ),
            Err(CommitmentError::OwnerNotAdmitted(
                id("stranger").to_string()
            ))
        );
        assert_eq!(
            Commitment::decide(
                &make(&ConsortiumState::default(), "d1", roundtable()),
                &CommitmentState::default()
            ),
            Err(CommitmentError::ConsortiumNotFound(
                id("consortium").to_string()
            ))
        );
    }

    #[test]
    fn a_commitment_from_a_resolution_needs_that_resolution_adopted() {
        let consortium = fixtures::example();
        let meeting = Arc::new(meeting(&consortium));
        let from = |resolution: &str, meeting: Arc<MeetingState>| Origin::Resolution {
            meeting_id: id("meeting"),
            resolution_id: id(resolution),
            meeting,
        };
        let fresh = CommitmentState::default();
        assert!(Commitment::decide(
            &make(&consortium, "a1", from("r1", meeting.clone())),
            &fresh
        )
        .is_ok());
        assert_eq!(
            Commitment::decide(
                &make(&consortium, "a1", from("r2", meeting.clone())),
                &fresh
            ),
            Err(CommitmentError::ResolutionNotAdopted(id("r2").to_string()))
        );
        assert_eq!(
            Commitment::decide(
                &make(&consortium, "a1", from("r9", meeting.clone())),
                &fresh
            ),
            Err(CommitmentError::UnknownResolution(id("r9").to_string()))
        );
        assert_eq!(
            Commitment::decide(&make(&consortium, "a1", from("r1", Arc::default())), &fresh),
            Err(CommitmentError::UnknownMeeting(id("meeting").to_string()))
        );
    }

    #[test]
    fn progress_is_between_0_and_100() {
        let mut state = made();
        apply(&mut state, progress(40));
        assert_eq!(
            (state.percent, state.last_note.as_str()),
            (40, "étude de faisabilité")
        );
        assert_eq!(
            Commitment::decide(&progress(101), &state),
            Err(CommitmentError::PercentOutOfRange(101))
        );
        apply(&mut state, progress(0));
        assert_eq!(state.percent, 0);
    }

    #[test]
    fn progress_never_moves_a_completed_commitment() {
        let mut state = made();
        apply(&mut state, CommitmentChange::Complete { now: now() });
        assert_eq!((state.status, state.percent), (Status::Completed, 100));
        assert_eq!(
            Commitment::decide(&progress(50), &state),
            Err(CommitmentError::Completed)
        );
        assert_eq!(
            Commitment::decide(
                &CommitmentChange::Drop {
                    reason: "x".into(),
                    now: now()
                }
                .into(),
                &state
            ),
            Err(CommitmentError::Completed)
        );
    }

    #[test]
    fn a_dropped_commitment_does_not_move_either() {
        let mut state = made();
        apply(
            &mut state,
            CommitmentChange::Drop {
                reason: "plus de financement".into(),
                now: now(),
            },
        );
        assert_eq!(state.status, Status::Dropped);
        assert_eq!(
            Commitment::decide(&progress(10), &state),
            Err(CommitmentError::Dropped)
        );
        assert_eq!(
            Commitment::decide(&CommitmentChange::Complete { now: now() }.into(), &state),
            Err(CommitmentError::Dropped)
        );
    }

    #[test]
    fn nothing_happens_to_a_commitment_not_made() {
        assert_eq!(
            Commitment::decide(&progress(10), &CommitmentState::default()),
            Err(CommitmentError::NotFound)
        );
    }

    #[test]
    fn an_open_commitment_past_its_due_date_is_overdue() {
        let mut state = made();
        let due = state.made.as_ref().unwrap().due_at.unwrap();
        let after = Timestamp {
            seconds: due.seconds + 1,
            nanos: 0,
        };
        assert!(!state.is_overdue(&now()));
        assert!(state.is_overdue(&after));
        apply(&mut state, CommitmentChange::Complete { now: now() });
        assert!(!state.is_overdue(&after));
    }
}
