//! The consortium: members by college with their weights, meetings with their
//! resolutions and weighted votes, and the commitments of the action plan with their
//! progress. Rendered by `templates/report/consortium.html`.

use askama::Template;
use maillage_proto::v1 as pb;

use super::charts::{self, Progress};
use super::data::ReportData;
use super::dates::date_fr;
use super::labels::{commitment_status, percent, resolution_status};

fn ratio(value: Option<&pb::WeightRatio>) -> f64 {
    let Some(value) = value else { return 0.0 };
    let numerator: f64 = value.numerator.parse().unwrap_or(0.0);
    let denominator: f64 = value.denominator.parse().unwrap_or(1.0);
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

/// A college: its name, weight, members' names and pending applications.
pub struct CollegeRow<'a> {
    college: &'a pb::ConsortiumCollegeState,
    members: String,
}

/// A resolution's outcome with its weighted shares.
pub struct ResolutionRow<'a> {
    resolution: &'a pb::ConsortiumResolutionState,
    status: String,
    /// The CSS class of its outcome tag.
    class: &'static str,
    votes_for: String,
    votes_against: String,
    abstentions: String,
    quorum: &'static str,
}

/// A meeting: its body, date, attendance and resolutions.
pub struct MeetingRow<'a> {
    body: String,
    date: String,
    meeting: &'a pb::ConsortiumMeetingState,
    resolutions: Vec<ResolutionRow<'a>>,
}

/// A commitment of the action plan.
pub struct CommitmentRow<'a> {
    commitment: &'a pb::ConsortiumCommitmentState,
    owner: String,
    due: String,
    status: String,
    progress: Progress,
}

/// The consortium as the report shows it.
pub struct ConsortiumView<'a> {
    state: &'a pb::ConsortiumState,
    founder: String,
    admitted: usize,
    bodies: String,
    colleges: Vec<CollegeRow<'a>>,
    meetings: Vec<MeetingRow<'a>>,
    commitments: Vec<CommitmentRow<'a>>,
}

/// The consortium section (`templates/report/consortium.html`); none when the
/// territory has no consortium.
#[derive(Template)]
#[template(path = "report/consortium.html")]
pub struct ConsortiumSection<'a> {
    consortium: Option<ConsortiumView<'a>>,
}

fn resolution(resolution: &pb::ConsortiumResolutionState) -> ResolutionRow<'_> {
    let tally = resolution.tally.as_ref();
    let cast = ratio(tally.and_then(|t| t.votes_cast.as_ref()));
    let share = |value: Option<&pb::WeightRatio>| {
        if cast > 0.0 {
            percent(ratio(value) / cast)
        } else {
            "—".to_owned()
        }
    };
    ResolutionRow {
        resolution,
        status: resolution_status(resolution.status),
        class: match pb::ResolutionStatus::try_from(resolution.status) {
            Ok(pb::ResolutionStatus::Adopted) => "ok",
            Ok(pb::ResolutionStatus::Rejected) => "ko",
            _ => "",
        },
        votes_for: share(tally.and_then(|t| t.votes_for.as_ref())),
        votes_against: share(tally.and_then(|t| t.votes_against.as_ref())),
        abstentions: share(tally.and_then(|t| t.abstentions.as_ref())),
        quorum: if tally.is_some_and(|t| t.quorum_reached) {
            "atteint"
        } else {
            "non atteint"
        },
    }
}

fn view<'a>(data: &ReportData, state: &'a pb::ConsortiumState) -> ConsortiumView<'a> {
    let body_name = |code: &str| {
        state
            .bodies
            .iter()
            .find(|b| b.body_code == code)
            .map_or_else(|| code.to_owned(), |b| b.name.clone())
    };
    let bodies: Vec<&str> = state.bodies.iter().map(|b| b.name.as_str()).collect();
    ConsortiumView {
        state,
        founder: data.organisation(&state.founding_collectivite_id),
        admitted: state.colleges.iter().map(|c| c.member_ids.len()).sum(),
        bodies: bodies.join(", "),
        colleges: state
            .colleges
            .iter()
            .map(|college| {
                let members: Vec<String> = college
                    .member_ids
                    .iter()
                    .map(|id| data.organisation(id))
                    .collect();
                CollegeRow {
                    college,
                    members: members.join(", "),
                }
            })
            .collect(),
        meetings: state
            .meetings
            .iter()
            .map(|meeting| MeetingRow {
                body: body_name(&meeting.body_code),
                date: meeting
                    .scheduled_at
                    .as_ref()
                    .map(date_fr)
                    .unwrap_or_default(),
                meeting,
                resolutions: meeting.resolutions.iter().map(resolution).collect(),
            })
            .collect(),
        commitments: state
            .commitments
            .iter()
            .map(|commitment| CommitmentRow {
                commitment,
                owner: data.organisation(&commitment.owner_member_id),
                due: commitment.due_at.as_ref().map(date_fr).unwrap_or_default(),
                status: commitment_status(commitment.status),
                progress: charts::progress(commitment.percent),
            })
            .collect(),
    }
}

/// The consortium section.
pub fn section(data: &ReportData) -> ConsortiumSection<'_> {
    ConsortiumSection {
        consortium: data.consortium.as_ref().map(|state| view(data, state)),
    }
}
