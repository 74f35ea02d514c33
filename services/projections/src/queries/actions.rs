//! Action statistics by theme, audience and kind, optionally for the actions
//! held in one territory. Invitations, answers and attendance count for held
//! (or reported) actions only; the attendance rate is the share of accepted
//! invitees who attended.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;

use super::ratio;
use crate::labels;
use crate::model::{ActionRow, ReadModel};

#[derive(Default, Clone)]
struct Acc {
    actions: u64,
    held: u64,
    cancelled: u64,
    invited: u64,
    accepted: u64,
    declined: u64,
    attended: u64,
    accepted_attended: u64,
    anonymous: u64,
}

impl Acc {
    fn add(&mut self, action: &ActionRow) {
        self.actions += 1;
        if action.status == pb::ActionStatus::Cancelled as i32 {
            self.cancelled += 1;
        }
        let held = action.status == pb::ActionStatus::Held as i32
            || action.status == pb::ActionStatus::Reported as i32;
        if !held {
            return;
        }
        self.held += 1;
        self.invited += action.invitations.len() as u64;
        for (invitee, answer) in &action.invitations {
            if *answer == pb::ActionInvitationAnswer::Accepted as i32 {
                self.accepted += 1;
                if action.attendees.contains(invitee) {
                    self.accepted_attended += 1;
                }
            } else if *answer == pb::ActionInvitationAnswer::Declined as i32 {
                self.declined += 1;
            }
        }
        self.attended += action.attendees.len() as u64;
        self.anonymous += action
            .head_counts
            .values()
            .map(|c| u64::from(*c))
            .sum::<u64>();
    }

    fn into_pb(self, group: &str) -> pb::ActionGroupStatistics {
        pb::ActionGroupStatistics {
            group: group.to_owned(),
            actions: self.actions,
            held: self.held,
            cancelled: self.cancelled,
            invited: self.invited,
            accepted: self.accepted,
            declined: self.declined,
            attended: self.attended,
            accepted_attended: self.accepted_attended,
            anonymous_attendees: self.anonymous,
            attendance_rate: ratio(self.accepted_attended, self.accepted),
        }
    }
}

/// Statistics of the actions whose venue is in `communes` (`None`: every action).
pub fn statistics(model: &ReadModel, communes: Option<&BTreeSet<&str>>) -> pb::ActionStatistics {
    let mut overall = Acc::default();
    let mut by_theme = BTreeMap::<&str, Acc>::new();
    let mut by_audience = BTreeMap::<&str, Acc>::new();
    let mut by_kind = BTreeMap::<&str, Acc>::new();
    for (_, action) in model.actions.iter() {
        if communes.is_some_and(|communes| !communes.contains(action.commune.as_str())) {
            continue;
        }
        overall.add(action);
        for theme in &action.themes {
            by_theme
                .entry(labels::engagement_theme(*theme))
                .or_default()
                .add(action);
        }
        for audience in &action.audiences {
            by_audience
                .entry(labels::engagement_audience(*audience))
                .or_default()
                .add(action);
        }
        by_kind
            .entry(labels::action_kind(action.kind))
            .or_default()
            .add(action);
    }
    let list = |groups: BTreeMap<&str, Acc>| {
        groups
            .into_iter()
            .map(|(group, acc)| acc.into_pb(group))
            .collect()
    };
    pb::ActionStatistics {
        overall: Some(overall.into_pb("ALL")),
        by_theme: list(by_theme),
        by_audience: list(by_audience),
        by_kind: list(by_kind),
    }
}
