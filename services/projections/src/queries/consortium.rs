//! A consortium's state: colleges with their admitted members, every
//! membership, bodies, meetings with their resolutions and tallies, and the
//! commitments with their progress and which are overdue at a given instant.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;
use prost::Message;

use crate::model::ReadModel;
use crate::time::{opt_timestamp, timestamp};

/// The state of `consortium_id`, judging "overdue" at `now` (µs); `None` if
/// no such consortium was founded.
pub fn state(model: &ReadModel, consortium_id: &str, now: i64) -> Option<pb::ConsortiumState> {
    let consortium = model.consortia.get(consortium_id)?;
    let mut colleges: BTreeMap<&str, pb::ConsortiumCollegeState> = consortium
        .colleges
        .iter()
        .map(|(code, college)| {
            (
                code.as_str(),
                pb::ConsortiumCollegeState {
                    college_code: code.clone(),
                    name: college.name.clone(),
                    weight: college.weight,
                    ..Default::default()
                },
            )
        })
        .collect();
    for (member_id, member) in &consortium.members {
        let college = colleges
            .entry(member.college_code.as_str())
            .or_insert_with(|| pb::ConsortiumCollegeState {
                college_code: member.college_code.clone(),
                ..Default::default()
            });
        if member.status == pb::MembershipStatus::Admitted as i32 {
            college.member_ids.push(member_id.clone());
        } else if member.status == pb::MembershipStatus::Applied as i32 {
            college.applied += 1;
        }
    }
    let memberships = consortium
        .members
        .iter()
        .map(|(member_id, member)| pb::ConsortiumMemberState {
            member_id: member_id.clone(),
            college_code: member.college_code.clone(),
            status: member.status,
            representative_id: member.representative_id.clone(),
        })
        .collect();
    let bodies = consortium
        .bodies
        .values()
        .filter_map(|bytes| pb::ConsortiumBody::decode(bytes.as_slice()).ok())
        .collect();

    let mut meetings: Vec<(Option<i64>, &str, pb::ConsortiumMeetingState)> = model
        .meetings
        .iter()
        .filter(|(_, meeting)| meeting.consortium_id == consortium_id)
        .map(|(meeting_id, meeting)| {
            let mut resolutions: Vec<_> = meeting.resolutions.iter().collect();
            resolutions.sort_by_key(|(id, resolution)| {
                (resolution.agenda_item, resolution.tabled_at, id.as_str())
            });
            let resolutions = resolutions
                .into_iter()
                .map(
                    |(resolution_id, resolution)| pb::ConsortiumResolutionState {
                        resolution_id: resolution_id.clone(),
                        agenda_item: resolution.agenda_item,
                        title: resolution.title.clone(),
                        status: resolution.status,
                        ballots: resolution.votes.len() as u64,
                        tally: if resolution.tally.is_empty() {
                            None
                        } else {
                            pb::VoteTally::decode(resolution.tally.as_slice()).ok()
                        },
                    },
                )
                .collect();
            (
                meeting.scheduled_at,
                meeting_id.as_str(),
                pb::ConsortiumMeetingState {
                    meeting_id: meeting_id.clone(),
                    body_code: meeting.body_code.clone(),
                    scheduled_at: opt_timestamp(meeting.scheduled_at),
                    members_present: meeting.present.len() as u64,
                    proxies: meeting.proxies.len() as u64,
                    minutes_approved: meeting.minutes_approved,
                    resolutions,
                },
            )
        })
        .collect();
    meetings.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

    let mut commitments: Vec<(Option<i64>, &str, pb::ConsortiumCommitmentState)> = model
        .commitments
        .iter()
        .filter(|(_, commitment)| commitment.consortium_id == consortium_id)
        .map(|(commitment_id, commitment)| {
            let overdue = commitment.status == pb::CommitmentStatus::Open as i32
                && commitment.due_at.is_some_and(|due| due < now);
            (
                commitment.due_at,
                commitment_id.as_str(),
                pb::ConsortiumCommitmentState {
                    commitment_id: commitment_id.clone(),
                    title: commitment.title.clone(),
                    owner_member_id: commitment.owner_member_id.clone(),
                    due_at: opt_timestamp(commitment.due_at),
                    theme: commitment.theme.clone(),
                    status: commitment.status,
                    percent: commitment.percent,
                    last_reported_at: opt_timestamp(commitment.last_reported_at),
                    progress_reports: commitment.progress_reports,
                    overdue,
                },
            )
        })
        .collect();
    commitments.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let commitments: Vec<_> = commitments.into_iter().map(|(_, _, c)| c).collect();

    Some(pb::ConsortiumState {
        consortium_id: consortium_id.to_owned(),
        name: consortium.name.clone(),
        founding_collectivite_id: consortium.founding_collectivite_id.clone(),
        territory: consortium
            .territory
            .iter()
            .map(|(level, code)| pb::TerritoryRef {
                level: *level,
                code: code.clone(),
            })
            .collect(),
        founded_at: opt_timestamp(consortium.founded_at),
        colleges: colleges.into_values().collect(),
        memberships,
        bodies,
        meetings: meetings.into_iter().map(|(_, _, m)| m).collect(),
        overdue_commitment_ids: commitments
            .iter()
            .filter(|c| c.overdue)
            .map(|c| c.commitment_id.clone())
            .collect(),
        commitments,
        evaluated_at: Some(timestamp(now)),
    })
}
