//! A meeting's attendance: who is present and who holds whose proxy, checked
//! against the consortium's memberships and the body's rules when recorded.

use std::collections::BTreeMap;

use maillage_proto::v1 as pv1;
use uuid::Uuid;

use super::consortium::{ConsortiumState, MembershipStatus};
use super::meeting::{Convening, Meeting, MeetingError, MeetingEvent, MeetingState};
use super::Timestamp;

/// Checks that `member` may attend (and give or hold a proxy when `proxy`).
fn check_member(
    consortium: &ConsortiumState,
    colleges: &[String],
    member: &str,
    field: String,
    proxy: bool,
) -> Result<(), MeetingError> {
    match consortium.members.get(member) {
        Some(m) if m.status == MembershipStatus::Withdrawn && proxy => {
            Err(MeetingError::WithdrawnProxy {
                field,
                member: member.to_string(),
            })
        }
        Some(m) if m.status == MembershipStatus::Admitted && colleges.contains(&m.college) => {
            Ok(())
        }
        _ => Err(MeetingError::NotABodyMember {
            field,
            member: member.to_string(),
        }),
    }
}

impl Meeting {
    /// Records who attends and who holds whose proxy: each member admitted to
    /// one of the body's colleges, given once; a proxy from an absent member
    /// to a present one, no chains, within the body's limit per holder.
    pub(super) fn record_attendance(
        state: &MeetingState,
        convening: &Convening,
        consortium: &ConsortiumState,
        present: &[Uuid],
        proxies: &[(Uuid, Uuid)],
        now: &Timestamp,
    ) -> Result<Vec<MeetingEvent>, MeetingError> {
        let colleges = &convening.colleges;
        let mut new_present = Vec::new();
        for (index, member) in present.iter().enumerate() {
            let member = member.to_string();
            let field = format!("present_member_ids[{index}]");
            check_member(consortium, colleges, &member, field.clone(), false)?;
            if state.proxies.contains_key(&member) {
                return Err(MeetingError::GiverPresent { field, member });
            }
            if !state.present.contains(&member) && !new_present.contains(&member) {
                new_present.push(member);
            }
        }
        let is_present = |m: &str| state.present.contains(m) || new_present.iter().any(|p| p == m);
        let requested: Vec<(String, String)> = proxies
            .iter()
            .map(|(giver, holder)| (giver.to_string(), holder.to_string()))
            .collect();
        let gives =
            |m: &str| state.proxies.contains_key(m) || requested.iter().any(|(g, _)| g == m);
        let holds = |m: &str| {
            state.proxies.values().any(|h| h == m) || requested.iter().any(|(_, h)| h == m)
        };
        let mut held: BTreeMap<String, u32> = BTreeMap::new();
        for holder in state.proxies.values() {
            *held.entry(holder.clone()).or_default() += 1;
        }
        let mut new_proxies: Vec<(String, String)> = Vec::new();
        for (index, (giver, holder)) in requested.iter().enumerate() {
            let giver_field = format!("proxies[{index}].giver_id");
            let holder_field = format!("proxies[{index}].holder_id");
            check_member(consortium, colleges, giver, giver_field.clone(), true)?;
            check_member(consortium, colleges, holder, holder_field.clone(), true)?;
            if state.proxies.get(giver) == Some(holder) {
                continue; // Recorded already.
            }
            if gives(holder) {
                return Err(MeetingError::ProxyChain {
                    field: holder_field,
                    member: holder.clone(),
                });
            }
            if holds(giver) {
                return Err(MeetingError::ProxyChain {
                    field: giver_field,
                    member: giver.clone(),
                });
            }
            if state.proxies.contains_key(giver) || new_proxies.iter().any(|(g, _)| g == giver) {
                return Err(MeetingError::ProxyAlreadyGiven {
                    field: giver_field,
                    member: giver.clone(),
                });
            }
            if is_present(giver) {
                return Err(MeetingError::GiverPresent {
                    field: giver_field,
                    member: giver.clone(),
                });
            }
            if !is_present(holder) {
                return Err(MeetingError::HolderAbsent {
                    field: holder_field,
                    member: holder.clone(),
                });
            }
            let count = held.entry(holder.clone()).or_default();
            *count += 1;
            let max = convening.rules.max_proxies_per_member;
            if *count > max {
                return Err(MeetingError::TooManyProxies {
                    field: holder_field,
                    member: holder.clone(),
                    max,
                });
            }
            new_proxies.push((giver.clone(), holder.clone()));
        }
        if new_present.is_empty() && new_proxies.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![MeetingEvent::AttendanceRecorded(
            pv1::MeetingAttendanceRecorded {
                meeting_id: convening.id.clone(),
                present_member_ids: new_present,
                proxies: new_proxies
                    .into_iter()
                    .map(|(giver_id, holder_id)| pv1::ProxyGrant {
                        giver_id,
                        holder_id,
                    })
                    .collect(),
                recorded_at: Some(*now),
            },
        )])
    }
}
