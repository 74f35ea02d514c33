//! The count of a resolution's vote in a meeting, as recorded at its
//! closing: who attended (present, or represented by a present proxy holder),
//! the ballots, and the weighted count of [`super::vote`] turned into the
//! `VoteTally` of `ResolutionVoteClosed`; and the conversions between the
//! vote's values and their wire form.

use std::collections::BTreeSet;

use maillage_proto::v1 as pv1;

use super::consortium::BodyRules;
use super::meeting::{MeetingState, Resolution};
use super::vote::{self, Choice, CollegeRights, Electorate, Ratio};

/// A ratio as recorded.
pub(super) fn ratio(value: Ratio) -> pv1::WeightRatio {
    pv1::WeightRatio {
        numerator: value.numerator().to_string(),
        denominator: value.denominator().to_string(),
    }
}

/// A choice as recorded.
pub(super) fn choice_to_proto(choice: Choice) -> pv1::VoteChoice {
    match choice {
        Choice::For => pv1::VoteChoice::For,
        Choice::Against => pv1::VoteChoice::Against,
        Choice::Abstain => pv1::VoteChoice::Abstain,
    }
}

/// The choice of a wire value (`None` for unspecified or unknown).
pub fn choice_from_proto(value: i32) -> Option<Choice> {
    match pv1::VoteChoice::try_from(value).ok()? {
        pv1::VoteChoice::For => Some(Choice::For),
        pv1::VoteChoice::Against => Some(Choice::Against),
        pv1::VoteChoice::Abstain => Some(Choice::Abstain),
        pv1::VoteChoice::Unspecified => None,
    }
}

/// The voting rights of an electorate, as recorded.
pub(super) fn rights(electorate: &Electorate) -> Vec<pv1::CollegeVotingRights> {
    electorate
        .colleges
        .iter()
        .map(|(code, rights)| pv1::CollegeVotingRights {
            college_code: code.clone(),
            weight: rights.weight as i64,
            admitted_members: rights.admitted_members,
        })
        .collect()
}

/// Rebuilds an electorate from a `ResolutionTabled` event.
pub(super) fn electorate_of(event: &pv1::ResolutionTabled) -> Electorate {
    Electorate {
        colleges: event
            .rights
            .iter()
            .map(|r| {
                (
                    r.college_code.clone(),
                    CollegeRights {
                        weight: r.weight.max(0) as u64,
                        admitted_members: r.admitted_members,
                    },
                )
            })
            .collect(),
        voters: event
            .electorate
            .iter()
            .map(|v| (v.member_id.clone(), v.college_code.clone()))
            .collect(),
    }
}

/// Counts a resolution's vote in a meeting: the tally recorded at closing.
pub fn tally(
    meeting: &MeetingState,
    rules: &BodyRules,
    resolution: &Resolution,
) -> Result<(bool, pv1::VoteTally), vote::Overflow> {
    let electorate = &resolution.electorate;
    let entitled = |member: &str| electorate.voters.contains_key(member);
    let present: BTreeSet<String> = meeting
        .present
        .iter()
        .filter(|m| entitled(m))
        .cloned()
        .collect();
    let represented: BTreeSet<String> = meeting
        .proxies
        .iter()
        .filter(|(giver, holder)| entitled(giver) && present.contains(*holder))
        .map(|(giver, _)| giver.clone())
        .collect();
    let attending: BTreeSet<String> = present.union(&represented).cloned().collect();
    let ballots: Vec<(String, Choice)> = resolution
        .votes
        .iter()
        .filter_map(|v| Some((v.member_id.clone(), choice_from_proto(v.choice)?)))
        .collect();
    let count = vote::count(
        electorate,
        &vote::Rules {
            quorum: rules.quorum(),
            majority: rules.majority,
        },
        &attending,
        &ballots,
    )?;
    let heads = |choice: Choice| ballots.iter().filter(|(_, c)| *c == choice).count() as u32;
    let counted = count
        .ballots
        .iter()
        .map(|b| pv1::CountedBallot {
            member_id: b.member.clone(),
            college_code: electorate
                .voters
                .get(&b.member)
                .cloned()
                .unwrap_or_default(),
            choice: choice_to_proto(b.choice) as i32,
            weight: Some(ratio(b.weight)),
            proxy_holder_id: resolution
                .votes
                .iter()
                .find(|v| v.member_id == b.member)
                .map(|v| v.proxy_holder_id.clone())
                .unwrap_or_default(),
        })
        .collect();
    let proto_rules = rules.to_proto();
    Ok((
        count.adopted,
        pv1::VoteTally {
            total_rights: Some(ratio(count.total_rights)),
            present_or_represented: Some(ratio(count.present_or_represented)),
            quorum: proto_rules.quorum,
            quorum_reached: count.quorum_reached,
            majority: proto_rules.majority,
            votes_for: Some(ratio(count.votes_for)),
            votes_against: Some(ratio(count.votes_against)),
            abstentions: Some(ratio(count.abstentions)),
            votes_cast: Some(ratio(count.votes_cast)),
            majority_reached: count.majority_reached,
            count_for: heads(Choice::For),
            count_against: heads(Choice::Against),
            count_abstain: heads(Choice::Abstain),
            members_present: present.len() as u32,
            members_represented: represented.len() as u32,
            ballots: counted,
            rights: rights(electorate),
        },
    ))
}
