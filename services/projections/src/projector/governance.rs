//! Projection of the governance context: consortia (colleges, bodies,
//! memberships, representatives), meetings (attendance, proxies,
//! resolutions, ballots, tallies) and commitments (progress, status), and the
//! timeline facts they add to the members and representatives involved.

use maillage_proto::v1 as pb;
use prost::Message;

use super::{add_timeline, Event};
use crate::labels;
use crate::model::{AxisTagsRow, CollegeRow, ReadModel};
use crate::time::opt_micros;

pub(super) fn consortium_founded(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::ConsortiumFounded,
) {
    let row = model.consortia.upsert(&p.consortium_id);
    row.name = p.name;
    row.founding_collectivite_id = p.founding_collectivite_id;
    row.territory = p
        .territory
        .into_iter()
        .map(|territory| (territory.level, territory.code))
        .collect();
    row.founded_at = Some(opt_micros(p.founded_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn college_defined(model: &mut ReadModel, _event: &Event<'_>, p: pb::CollegeDefined) {
    model.consortia.upsert(&p.consortium_id).colleges.insert(
        p.college_code,
        CollegeRow {
            name: p.name,
            weight: p.weight,
        },
    );
}

pub(super) fn body_established(model: &mut ReadModel, _event: &Event<'_>, p: pb::BodyEstablished) {
    let body = pb::ConsortiumBody {
        body_code: p.body_code.clone(),
        kind: p.kind,
        name: p.name,
        college_codes: p.college_codes,
        rules: p.rules,
    };
    model
        .consortia
        .upsert(&p.consortium_id)
        .bodies
        .insert(p.body_code, body.encode_to_vec());
}

#[allow(clippy::too_many_arguments)] // one helper for the four membership events
fn membership(
    model: &mut ReadModel,
    event: &Event<'_>,
    consortium_id: &str,
    member_id: &str,
    college_code: Option<String>,
    status: pb::MembershipStatus,
    at: Option<&prost_types::Timestamp>,
    kind: &str,
) {
    let member = model
        .consortia
        .upsert(consortium_id)
        .members
        .entry(member_id.to_owned())
        .or_default();
    if let Some(college_code) = college_code {
        member.college_code = college_code;
    }
    member.status = status as i32;
    add_timeline(
        model,
        event,
        member_id,
        opt_micros(at).unwrap_or(event.at),
        kind,
        consortium_id,
        String::new(),
    );
}

pub(super) fn membership_applied(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::MembershipApplied,
) {
    membership(
        model,
        event,
        &p.consortium_id,
        &p.member_id,
        Some(p.college_code),
        pb::MembershipStatus::Applied,
        p.applied_at.as_ref(),
        "MEMBERSHIP_APPLIED",
    );
}

pub(super) fn member_admitted(model: &mut ReadModel, event: &Event<'_>, p: pb::MemberAdmitted) {
    membership(
        model,
        event,
        &p.consortium_id,
        &p.member_id,
        Some(p.college_code),
        pb::MembershipStatus::Admitted,
        p.admitted_at.as_ref(),
        "MEMBERSHIP_ADMITTED",
    );
}

pub(super) fn membership_refused(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::MembershipRefused,
) {
    membership(
        model,
        event,
        &p.consortium_id,
        &p.member_id,
        None,
        pb::MembershipStatus::Refused,
        p.refused_at.as_ref(),
        "MEMBERSHIP_REFUSED",
    );
}

pub(super) fn member_withdrawn(model: &mut ReadModel, event: &Event<'_>, p: pb::MemberWithdrawn) {
    membership(
        model,
        event,
        &p.consortium_id,
        &p.member_id,
        None,
        pb::MembershipStatus::Withdrawn,
        p.withdrawn_at.as_ref(),
        "MEMBERSHIP_WITHDRAWN",
    );
}

pub(super) fn representative_appointed(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::RepresentativeAppointed,
) {
    model
        .consortia
        .upsert(&p.consortium_id)
        .members
        .entry(p.member_id.clone())
        .or_default()
        .representative_id = p.person_id.clone();
    let at = opt_micros(p.appointed_at.as_ref()).unwrap_or(event.at);
    add_timeline(
        model,
        event,
        &p.person_id,
        at,
        "REPRESENTATIVE_APPOINTED",
        &p.consortium_id,
        p.member_id,
    );
}

pub(super) fn meeting_convened(model: &mut ReadModel, _event: &Event<'_>, p: pb::MeetingConvened) {
    let row = model.meetings.upsert(&p.meeting_id);
    row.consortium_id = p.consortium_id;
    row.body_code = p.body_code;
    row.scheduled_at = opt_micros(p.scheduled_at.as_ref());
}

pub(super) fn meeting_attendance_recorded(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::MeetingAttendanceRecorded,
) {
    let row = model.meetings.upsert(&p.meeting_id);
    for member in &p.present_member_ids {
        row.present.insert(member.clone());
    }
    for proxy in &p.proxies {
        row.proxies
            .insert(proxy.giver_id.clone(), proxy.holder_id.clone());
    }
    let at = opt_micros(p.recorded_at.as_ref()).unwrap_or(event.at);
    for member in &p.present_member_ids {
        add_timeline(
            model,
            event,
            member,
            at,
            "MEETING_ATTENDANCE",
            &p.meeting_id,
            "PRESENT".into(),
        );
    }
    for proxy in &p.proxies {
        add_timeline(
            model,
            event,
            &proxy.giver_id,
            at,
            "MEETING_ATTENDANCE",
            &p.meeting_id,
            format!("REPRESENTED_BY {}", proxy.holder_id),
        );
    }
}

pub(super) fn resolution_tabled(model: &mut ReadModel, event: &Event<'_>, p: pb::ResolutionTabled) {
    let resolution = model
        .meetings
        .upsert(&p.meeting_id)
        .resolutions
        .entry(p.resolution_id)
        .or_default();
    resolution.agenda_item = p.agenda_item;
    resolution.title = p.title;
    resolution.status = pb::ResolutionStatus::Open as i32;
    resolution.tabled_at = Some(opt_micros(p.tabled_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn vote_recorded(model: &mut ReadModel, event: &Event<'_>, p: pb::VoteRecorded) {
    model
        .meetings
        .upsert(&p.meeting_id)
        .resolutions
        .entry(p.resolution_id.clone())
        .or_default()
        .votes
        .insert(p.member_id.clone(), (p.choice, p.proxy_holder_id.clone()));
    let at = opt_micros(p.recorded_at.as_ref()).unwrap_or(event.at);
    let detail = labels::vote_choice(p.choice).to_owned();
    add_timeline(
        model,
        event,
        &p.member_id,
        at,
        "VOTE",
        &p.resolution_id,
        detail.clone(),
    );
    if !p.proxy_holder_id.is_empty() {
        add_timeline(
            model,
            event,
            &p.proxy_holder_id,
            at,
            "VOTE",
            &p.resolution_id,
            format!("{detail} FOR {}", p.member_id),
        );
    }
}

pub(super) fn vote_closed(model: &mut ReadModel, _event: &Event<'_>, p: pb::ResolutionVoteClosed) {
    let resolution = model
        .meetings
        .upsert(&p.meeting_id)
        .resolutions
        .entry(p.resolution_id)
        .or_default();
    resolution.status = p.outcome;
    resolution.tally = p
        .tally
        .map(|tally| tally.encode_to_vec())
        .unwrap_or_default();
}

pub(super) fn minutes_approved(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::MeetingMinutesApproved,
) {
    model.meetings.upsert(&p.meeting_id).minutes_approved = true;
}

pub(super) fn commitment_made(model: &mut ReadModel, _event: &Event<'_>, p: pb::CommitmentMade) {
    if !p.axis_ids.is_empty() {
        model.commitment_axes.put(
            p.commitment_id.clone(),
            AxisTagsRow {
                axis_ids: p.axis_ids.clone(),
            },
        );
    }
    let row = model.commitments.upsert(&p.commitment_id);
    row.consortium_id = p.consortium_id;
    row.title = p.title;
    row.owner_member_id = p.owner_member_id;
    row.due_at = opt_micros(p.due_at.as_ref());
    row.theme = p.theme;
    row.topic = p.topic;
    row.status = pb::CommitmentStatus::Open as i32;
}

pub(super) fn commitment_progress(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::CommitmentProgressReported,
) {
    let row = model.commitments.upsert(&p.commitment_id);
    row.percent = p.percent;
    row.progress_reports += 1;
    row.last_reported_at = Some(opt_micros(p.reported_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn commitment_completed(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::CommitmentCompleted,
) {
    let row = model.commitments.upsert(&p.commitment_id);
    row.status = pb::CommitmentStatus::Completed as i32;
    row.percent = 100;
}

pub(super) fn commitment_dropped(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::CommitmentDropped,
) {
    model.commitments.upsert(&p.commitment_id).status = pb::CommitmentStatus::Dropped as i32;
}
