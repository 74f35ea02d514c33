//! The engagement's working lists: its actions (most recently planned
//! first), its interviews and its tiers-lieux diagnostics (most recently
//! conducted first). Only what the read model holds: ids, kinds, states,
//! dates and counts; titles and sealed text are read from engagement.

use maillage_proto::v1 as pb;

use crate::model::ReadModel;
use crate::time::opt_timestamp;

/// Every action in `status` (`None`: every status), most recently planned
/// first (action ids are time-ordered UUIDs; ties cannot happen).
pub fn actions(model: &ReadModel, status: Option<i32>) -> Vec<pb::ActionListItem> {
    let mut items: Vec<pb::ActionListItem> = model
        .actions
        .iter()
        .filter(|(_, action)| status.is_none_or(|status| action.status == status))
        .map(|(id, action)| pb::ActionListItem {
            action_id: id.clone(),
            kind: action.kind,
            status: action.status,
            commune_code: action.commune.clone(),
            online: action.online,
            starts_at: opt_timestamp(action.starts_at),
            held_at: opt_timestamp(action.held_at),
            planned_by: action.planned_by.clone(),
            invited: action.invitations.len() as u64,
            attendees: action.attendees.len() as u64,
            anonymous_attendees: action.head_counts.values().map(|c| u64::from(*c)).sum(),
            topics: action.topics(),
        })
        .collect();
    items.sort_by(|a, b| b.action_id.cmp(&a.action_id));
    items
}

/// Every interview, most recently conducted first, then by id.
pub fn interviews(model: &ReadModel) -> Vec<pb::InterviewListItem> {
    let mut items: Vec<(Option<i64>, pb::InterviewListItem)> = model
        .interviews
        .iter()
        .map(|(id, interview)| {
            (
                interview.conducted_at,
                pb::InterviewListItem {
                    interview_id: id.clone(),
                    stakeholder_id: interview.stakeholder_id.clone(),
                    anonymous_audience: interview.anonymous_audience,
                    anonymous_commune_code: interview.anonymous_commune.clone(),
                    interviewer: interview.interviewer.clone(),
                    conducted_at: opt_timestamp(interview.conducted_at),
                    topics: interview.topics(),
                },
            )
        })
        .collect();
    items.sort_by(|(a_at, a), (b_at, b)| {
        b_at.cmp(a_at)
            .then_with(|| a.interview_id.cmp(&b.interview_id))
    });
    items.into_iter().map(|(_, item)| item).collect()
}

/// Every diagnostic, most recently conducted first, then by id.
pub fn diagnostics(model: &ReadModel) -> Vec<pb::DiagnosticListItem> {
    let mut items: Vec<(Option<i64>, pb::DiagnosticListItem)> = model
        .diagnostics
        .iter()
        .map(|(id, diagnostic)| {
            (
                diagnostic.conducted_at,
                pb::DiagnosticListItem {
                    diagnostic_id: id.clone(),
                    tiers_lieu_id: diagnostic.tiers_lieu_id.clone(),
                    conducted_by: diagnostic.conducted_by.clone(),
                    conducted_at: opt_timestamp(diagnostic.conducted_at),
                    development_priorities: diagnostic.development_priorities,
                    revisions: diagnostic.revisions,
                },
            )
        })
        .collect();
    items.sort_by(|(a_at, a), (b_at, b)| {
        b_at.cmp(a_at)
            .then_with(|| a.diagnostic_id.cmp(&b.diagnostic_id))
    });
    items.into_iter().map(|(_, item)| item).collect()
}
