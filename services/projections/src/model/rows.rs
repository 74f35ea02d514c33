//! The rows of the read-model tables. Each row is keyed by the id of the
//! aggregate (or fact) it describes and is written only by events of the one
//! context that owns that aggregate; joins across contexts happen at query time.
//!
//! Enum values are kept as the protobuf `i32`s; instants as microseconds since
//! the epoch (UTC). Sealed personal fields are never copied here.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::themes;
use serde::{Deserialize, Serialize};

/// A stakeholder (stakeholders context), keyed by stakeholder id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StakeholderRow {
    /// A person (else an organisation).
    pub person: bool,
    /// A person's kinds (`PersonKind`), sorted, no repeats.
    pub person_kinds: Vec<i32>,
    /// An organisation's kind label, e.g. `ORGANISATION_BUSINESS` (empty for a person).
    pub organisation_kind: String,
    /// INSEE code of its commune.
    pub commune: String,
    /// A business's size class (`BusinessSize`).
    pub business_size: i32,
    /// An élu's mandates by mandate id.
    pub mandates: BTreeMap<String, MandateRow>,
    /// Archived: no longer an active stakeholder (its history is kept).
    pub archived: bool,
    /// Its personal data was erased (right to erasure): sealed fields can no longer be opened.
    pub erased: bool,
    /// When it was erased, in microseconds since the epoch (UTC).
    pub erased_at: Option<i64>,
    /// When it was registered, in microseconds since the epoch (UTC) (the event's instant when the payload has none).
    pub registered_at: Option<i64>,
    /// The principal who registered it.
    pub registered_by: String,
    /// Whether a registration event was seen (rows may exist for other reasons).
    pub registered: bool,
    /// The latest assessment (stakeholder mapping), if any.
    #[serde(default)]
    pub assessment: Option<AssessmentRow>,
}

/// A stakeholder's assessment: influence and interest (1 to 5), position
/// (`ProjectPosition`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentRow {
    /// Influence on the project, 1 to 5.
    pub influence: u32,
    /// Interest in the project, 1 to 5.
    pub interest: u32,
    /// Position towards the project (`ProjectPosition`).
    pub position: i32,
}

/// An élu's mandate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MandateRow {
    /// `MandateOffice`.
    pub office: i32,
    /// The authority's `TerritoryLevel` and code.
    pub authority_level: i32,
    /// The authority's code at that level (INSEE code, EPCI SIREN…).
    pub authority_code: String,
    /// When the mandate began, in microseconds since the epoch (UTC).
    pub started_at: Option<i64>,
    /// When the mandate ended, in microseconds since the epoch (UTC) (`None`: still held).
    pub ended_at: Option<i64>,
}

/// One correction of an interaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorrectionRow {
    /// When the correction was made, in microseconds since the epoch (UTC).
    pub corrected_at: Option<i64>,
    /// Who made the correction: the event's metadata actor.
    pub corrected_by: String,
    /// The fields superseded, e.g. `channel`, `subject`.
    pub fields: Vec<String>,
    /// New values of the non-sealed fields, e.g. `channel=INTERACTION_CHANNEL_PHONE`.
    pub values: Vec<String>,
}

/// A contact (stakeholders context), keyed by interaction id: its current
/// state after corrections, what was first logged, and every correction.
///
/// Held in its binary form ([`super::DiskTable`]: in the database only, for
/// the live model on sled): its first fields, in this order, are those the
/// counting queries read in place without decoding the rest
/// ([`InteractionHead`], [`ContactHead`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionRow {
    /// Whether the logging event was seen.
    pub logged: bool,
    /// When the contact took place, in microseconds since the epoch (UTC) (after corrections).
    pub occurred_at: Option<i64>,
    /// Current participants: stakeholder id and `StakeholderType`.
    pub participants: Vec<(String, i32)>,
    /// `Theme`s (empty in rows stored before them: see [`InteractionRow::topics`]).
    #[serde(default)]
    pub topics: Vec<i32>,
    /// `InteractionTheme`s (the older vocabulary, as logged).
    pub themes: Vec<i32>,
    /// Each follow-up by id (empty in rows stored before them: `maillage
    /// rebuild` fills it).
    #[serde(default)]
    pub follow_up_rows: BTreeMap<String, FollowUpRow>,
    /// `InteractionChannel`.
    pub channel: i32,
    /// `InteractionDirection`.
    pub direction: i32,
    /// Who logged it: the event's metadata actor.
    pub logged_by: String,
    /// When the log recorded it.
    pub logged_at: i64,
    /// The `InteractionChannel` first logged, before any correction.
    pub original_channel: i32,
    /// When the contact took place as first logged, in microseconds since the epoch (UTC).
    pub original_occurred_at: Option<i64>,
    /// Stakeholder ids of the participants as first logged.
    pub original_participants: Vec<String>,
    /// Every correction, in the order recorded.
    pub corrections: Vec<CorrectionRow>,
    /// Its free text can no longer be opened (a participant was erased).
    pub erased: bool,
    /// Number of follow-ups logged with the contact.
    pub follow_ups: u32,
    /// Number of those follow-ups completed.
    pub follow_ups_completed: u32,
}

/// The first fields of an [`InteractionRow`], read from its binary form
/// without the rest, borrowing its ids: what the territory report and the
/// follow-up lists read.
#[derive(Debug, Deserialize)]
pub struct InteractionHead<'a> {
    /// See [`InteractionRow::logged`].
    pub logged: bool,
    /// See [`InteractionRow::occurred_at`].
    pub occurred_at: Option<i64>,
    /// See [`InteractionRow::participants`].
    #[serde(borrow)]
    pub participants: Vec<(&'a str, i32)>,
    /// See [`InteractionRow::topics`].
    pub topics: Vec<i32>,
    /// See [`InteractionRow::themes`].
    pub themes: Vec<i32>,
    /// See [`InteractionRow::follow_up_rows`].
    #[serde(borrow)]
    pub follow_up_rows: BTreeMap<&'a str, FollowUpHead<'a>>,
}

/// A [`FollowUpRow`] read in place (see [`InteractionHead`]).
#[derive(Debug, Deserialize)]
pub struct FollowUpHead<'a> {
    /// See [`FollowUpRow::owner`].
    pub owner: &'a str,
    /// See [`FollowUpRow::due_at`].
    pub due_at: Option<i64>,
    /// See [`FollowUpRow::completed`].
    pub completed: bool,
}

/// The first three fields of an [`InteractionRow`] (see
/// [`InteractionHead`]): who took part, whether logged, and when — what the
/// per-stakeholder contact counts and lookups read.
#[derive(Debug, Deserialize)]
pub struct ContactHead<'a> {
    /// See [`InteractionRow::logged`].
    pub logged: bool,
    /// See [`InteractionRow::occurred_at`].
    pub occurred_at: Option<i64>,
    /// See [`InteractionRow::participants`].
    #[serde(borrow)]
    pub participants: Vec<(&'a str, i32)>,
}

impl ContactHead<'_> {
    /// Whether `stakeholder_id` is a current participant.
    pub fn with(&self, stakeholder_id: &str) -> bool {
        self.participants
            .iter()
            .any(|(id, _)| *id == stakeholder_id)
    }
}

impl InteractionHead<'_> {
    /// Its themes in the shared vocabulary (as [`InteractionRow::topics`]).
    pub fn topics(&self) -> Vec<i32> {
        themes::topics_or_older(&self.topics, &self.themes, themes::from_interaction_value)
    }
}

/// A follow-up of a contact (its description is sealed, never here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowUpRow {
    /// The principal who owns it.
    pub owner: String,
    /// When it is due, in microseconds since the epoch (UTC).
    pub due_at: Option<i64>,
    /// Whether it was completed.
    pub completed: bool,
}

/// One fact of a stakeholder's timeline recorded by the engagement or
/// governance context, keyed by stakeholder id, instant and log position.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// When the fact happened, in microseconds since the epoch (UTC).
    pub at: i64,
    /// What happened: a tag such as `INTERVIEW`, `VOTE`, `ATTENDANCE`.
    pub kind: String,
    /// The bounded context that recorded it (`engagement`, `governance`).
    pub context: String,
    /// Id of the aggregate the fact is about (action, interview, meeting…).
    pub reference_id: String,
    /// A short human-readable description of the fact.
    pub detail: String,
    /// Who caused it: the event's metadata actor.
    pub actor: String,
}

/// An action (engagement context), keyed by action id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionRow {
    /// `ActionKind`.
    pub kind: i32,
    /// `EngagementTheme`s (the older vocabulary) and `EngagementAudience`s.
    pub themes: Vec<i32>,
    /// `Theme`s (empty in rows stored before them: see [`ActionRow::topics`]).
    #[serde(default)]
    pub topics: Vec<i32>,
    /// `EngagementAudience`s it is aimed at.
    pub audiences: Vec<i32>,
    /// The venue's commune (empty when online or unknown).
    pub commune: String,
    /// Held online (no venue).
    pub online: bool,
    /// The territory it is for when not held in it (`TerritoryLevel`, code);
    /// level 0: none.
    #[serde(default)]
    pub target_level: i32,
    /// Code of the territory it is for (with `target_level`; empty: none).
    #[serde(default)]
    pub target_code: String,
    /// `ActionStatus`.
    pub status: i32,
    /// When it is scheduled to start, in microseconds since the epoch (UTC).
    pub starts_at: Option<i64>,
    /// When it was held, in microseconds since the epoch (UTC) (`None`: not held yet).
    pub held_at: Option<i64>,
    /// Invitee → `ActionInvitationAnswer` (0: no answer yet).
    pub invitations: BTreeMap<String, i32>,
    /// Named attendees.
    pub attendees: BTreeSet<String>,
    /// Anonymous head count by `EngagementAudience`.
    pub head_counts: BTreeMap<i32, u32>,
    /// Who planned it (the planner named in the event, else its actor).
    pub planned_by: String,
    /// Number of outcomes recorded for it.
    pub outcomes: u32,
}

/// A survey question as the projection needs it (no free text answers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuestionRow {
    /// The question's id within its survey.
    pub question_id: String,
    /// The question as asked.
    pub text: String,
    /// `SINGLE_CHOICE`, `MULTIPLE_CHOICE`, `SCALE`, `FREE_TEXT`, `RANKING`.
    pub kind: String,
    /// Option id and label, in the questionnaire's order.
    pub options: Vec<(String, String)>,
    /// Scale questions: the lowest value (0 for other kinds).
    pub scale_min: i32,
    /// Scale questions: the highest value (0 for other kinds).
    pub scale_max: i32,
}

/// The running tally of one question.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuestionTally {
    /// Number of responses that answered the question.
    pub answered: u64,
    /// Choice questions: times each option was chosen.
    pub chosen: BTreeMap<String, u64>,
    /// Scale questions: answers per value.
    pub scale: BTreeMap<i32, u64>,
    /// Ranking questions: sum of 1-based positions and answers per option.
    pub rank_sums: BTreeMap<String, u64>,
    /// Ranking questions: times each option was ranked (divides `rank_sums` into a mean).
    pub rank_counts: BTreeMap<String, u64>,
}

/// A survey and its tallies (engagement context), keyed by survey id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SurveyRow {
    /// The survey's title.
    pub title: String,
    /// `EngagementTheme`s (the older vocabulary).
    pub themes: Vec<i32>,
    /// `Theme`s (empty in rows stored before them: see [`SurveyRow::topics`]).
    #[serde(default)]
    pub topics: Vec<i32>,
    /// Its questions, in the questionnaire's order.
    pub questions: Vec<QuestionRow>,
    /// `SurveyStatus`.
    pub status: i32,
    /// When it opened for responses, in microseconds since the epoch (UTC).
    pub opened_at: Option<i64>,
    /// When it closed, in microseconds since the epoch (UTC) (`None`: not closed).
    pub closed_at: Option<i64>,
    /// Number of responses submitted.
    pub responses: u64,
    /// By question id.
    pub tallies: BTreeMap<String, QuestionTally>,
    /// Anonymous respondents by commune code and by `EngagementAudience`.
    pub anonymous_by_commune: BTreeMap<String, u64>,
    /// Anonymous respondents by `EngagementAudience`.
    pub anonymous_by_audience: BTreeMap<i32, u64>,
    /// Stakeholder respondents, in rows stored before they had a table of
    /// their own (empty since: see [`super::ReadModel::respondents`]); their
    /// commune is joined at query time.
    pub by_stakeholder: BTreeMap<String, u64>,
}

/// An interview (engagement context), keyed by interview id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterviewRow {
    /// The stakeholder interviewed (empty: an anonymous profile).
    pub stakeholder_id: String,
    /// An anonymous profile's commune (INSEE code; empty for a stakeholder).
    pub anonymous_commune: String,
    /// An anonymous profile's `EngagementAudience` (0 for a stakeholder).
    pub anonymous_audience: i32,
    /// Who conducted it (the interviewer named in the event, else its actor).
    pub interviewer: String,
    /// When it was conducted, in microseconds since the epoch (UTC).
    pub conducted_at: Option<i64>,
    /// `EngagementTheme`s (the older vocabulary).
    pub themes: Vec<i32>,
    /// `Theme`s (empty in rows stored before them: see [`InterviewRow::topics`]).
    #[serde(default)]
    pub topics: Vec<i32>,
    /// The survey it completes (empty: none).
    #[serde(default)]
    pub survey_id: String,
    /// Its coded motivations (code ids).
    #[serde(default)]
    pub motivation_codes: Vec<String>,
    /// Its coded expectations (code ids).
    #[serde(default)]
    pub expectation_codes: Vec<String>,
}

/// A tiers-lieu diagnostic (engagement context), keyed by diagnostic id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticRow {
    /// The stakeholder id of the tiers-lieu diagnosed.
    pub tiers_lieu_id: String,
    /// Who conducted it (named in the event, else its actor).
    pub conducted_by: String,
    /// When it was conducted, in microseconds since the epoch (UTC).
    pub conducted_at: Option<i64>,
    /// Number of development priorities in its latest findings.
    pub development_priorities: u32,
    /// Number of times it was revised since recorded.
    pub revisions: u32,
    /// The codes of its latest findings, every list in turn (initial
    /// motivations, priorities, refusals, needs); a code's kind says which.
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A lesson of the lessons-learned register (engagement context), keyed by lesson id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LessonRow {
    /// `LessonOutcome`.
    pub outcome: i32,
    /// What was learned.
    pub title: String,
    /// More about it.
    pub detail: String,
    /// `Theme`s.
    pub topics: Vec<i32>,
    /// The programme's axes it concerns.
    pub axis_ids: Vec<String>,
    /// "action", "interview" or "diagnostic".
    pub source_kind: String,
    /// The source's id.
    pub source_id: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When, in microseconds since the epoch (UTC).
    pub recorded_at: Option<i64>,
    /// Whether it was withdrawn.
    pub withdrawn: bool,
}

/// A code of the codebook (engagement context), keyed by code id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeRow {
    /// `CodeKind`.
    pub kind: i32,
    /// Its label.
    pub label: String,
    /// The `Theme` it belongs to (0: none).
    pub topic: i32,
    /// Whether it was retired.
    pub retired: bool,
}

/// A membership of a consortium.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    /// Code of the college the member sits in.
    pub college_code: String,
    /// `MembershipStatus`.
    pub status: i32,
    /// Stakeholder id of the person representing the member.
    pub representative_id: String,
}

/// A college of a consortium.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollegeRow {
    /// The college's name.
    pub name: String,
    /// Its voting weight in the consortium's bodies.
    pub weight: i64,
}

/// A consortium (governance context), keyed by consortium id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsortiumRow {
    /// The consortium's name.
    pub name: String,
    /// Stakeholder id of the collectivité that founded it.
    pub founding_collectivite_id: String,
    /// `TerritoryLevel` and code of each territory it covers.
    pub territory: Vec<(i32, String)>,
    /// When it was founded, in microseconds since the epoch (UTC).
    pub founded_at: Option<i64>,
    /// Its colleges by college code.
    pub colleges: BTreeMap<String, CollegeRow>,
    /// Encoded `ConsortiumBody` messages by body code.
    pub bodies: BTreeMap<String, Vec<u8>>,
    /// Its memberships by member id.
    pub members: BTreeMap<String, MemberRow>,
}

/// A resolution of a meeting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolutionRow {
    /// Number of the agenda item it was tabled under.
    pub agenda_item: u32,
    /// The resolution's title.
    pub title: String,
    /// `ResolutionStatus`.
    pub status: i32,
    /// When it was tabled, in microseconds since the epoch (UTC).
    pub tabled_at: Option<i64>,
    /// Member → (`VoteChoice`, proxy holder id).
    pub votes: BTreeMap<String, (i32, String)>,
    /// The encoded `VoteTally` once closed (empty before).
    pub tally: Vec<u8>,
}

/// A meeting (governance context), keyed by meeting id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeetingRow {
    /// The consortium holding the meeting.
    pub consortium_id: String,
    /// Code of the consortium body that meets (one of the consortium's `bodies`).
    pub body_code: String,
    /// When it is scheduled, in microseconds since the epoch (UTC).
    pub scheduled_at: Option<i64>,
    /// Member ids recorded as present.
    pub present: BTreeSet<String>,
    /// Giver → holder.
    pub proxies: BTreeMap<String, String>,
    /// Whether its minutes were approved.
    pub minutes_approved: bool,
    /// Its resolutions by resolution id.
    pub resolutions: BTreeMap<String, ResolutionRow>,
}

/// The axes of the collectivité's programme something is tagged with: a
/// contact (table `contact_axes`, keyed by interaction id, its axes after
/// corrections) or a commitment (`commitment_axes`, keyed by commitment id).
/// Only what is tagged has a row. Kept apart from [`InteractionRow`] and
/// [`CommitmentRow`] so that their stored binary rows stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AxisTagsRow {
    /// The axes' ids, as the event gave them.
    pub axis_ids: Vec<String>,
}

/// A commitment of the action plan (governance context), keyed by commitment id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitmentRow {
    /// The consortium whose action plan holds it.
    pub consortium_id: String,
    /// The commitment's title.
    pub title: String,
    /// Member id of the consortium member who owns it.
    pub owner_member_id: String,
    /// When it is due, in microseconds since the epoch (UTC).
    pub due_at: Option<i64>,
    /// Its label (free text before `topic` existed).
    pub theme: String,
    /// Its `Theme` (0 in rows stored before it: see [`CommitmentRow::topic`]).
    #[serde(default)]
    pub topic: i32,
    /// `CommitmentStatus`.
    pub status: i32,
    /// Progress, 0 to 100 (100 once completed).
    pub percent: u32,
    /// When progress was last reported, in microseconds since the epoch (UTC).
    pub last_reported_at: Option<i64>,
    /// Number of progress reports made.
    pub progress_reports: u64,
}

/// The `Theme`s of a row: its `topics`, else (a row stored before them) its
/// older `themes` mapped by `map_older`.
macro_rules! topics_of {
    ($($row:ident => $map_older:path),* $(,)?) => {
        $(
            impl $row {
                /// Its themes in the shared vocabulary (`Theme` values).
                pub fn topics(&self) -> Vec<i32> {
                    themes::topics_or_older(&self.topics, &self.themes, $map_older)
                }
            }
        )*
    };
}

topics_of! {
    InteractionRow => themes::from_interaction_value,
    ActionRow => themes::from_engagement_value,
    SurveyRow => themes::from_engagement_value,
    InterviewRow => themes::from_engagement_value,
}

impl CommitmentRow {
    /// Its theme in the shared vocabulary: `topic`, else (a row stored before
    /// it) read from its label.
    pub fn topic(&self) -> i32 {
        if self.topic != 0 {
            self.topic
        } else {
            themes::from_label(&self.theme) as i32
        }
    }
}
