//! Property: for random colleges, weights, memberships, attendance with proxies
//! and votes, the outcome the meeting records at closing equals a
//! straightforward reference computation written here on its own terms:
//! every weight scaled to an integer by the product of the college sizes, and
//! the rules checked by integer cross-multiplication.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

use std::sync::Arc;

use maillage_es::Decider;
use maillage_governance::domain::consortium::{
    BodyRules, Consortium, ConsortiumChange, ConsortiumCommand, ConsortiumState, FoundConsortium,
};
use maillage_governance::domain::meeting::{
    ConveneMeeting, Meeting, MeetingChange, MeetingCommand, MeetingEvent, MeetingState,
};
use maillage_governance::domain::vote::{Choice, Majority};
use maillage_governance::domain::Timestamp;
use maillage_proto::v1 as pv1;
use proptest::prelude::*;
use uuid::Uuid;

const NOW: Timestamp = Timestamp {
    seconds: 1_780_000_000,
    nanos: 0,
};

/// One generated member: its college, whether admitted, its attendance
/// (0 absent, 1 present, 2 gives a proxy), a pick among holders, and its vote
/// (0 none, 1 for, 2 against, 3 abstain).
#[derive(Debug, Clone)]
struct GenMember {
    college: usize,
    admitted: bool,
    attendance: u8,
    holder_pick: usize,
    vote: u8,
}

#[derive(Debug, Clone)]
struct Case {
    weights: Vec<u64>,
    members: Vec<GenMember>,
    quorum: (u64, u64),
    majority: Majority,
    max_proxies: u32,
}

fn case() -> impl Strategy<Value = Case> {
    let weights = prop::collection::vec(1u64..=1000, 1..=5);
    weights.prop_flat_map(|weights| {
        let colleges = weights.len();
        let member = (
            0..colleges,
            prop::bool::weighted(0.85),
            0u8..3,
            0usize..100,
            0u8..4,
        )
            .prop_map(
                |(college, admitted, attendance, holder_pick, vote)| GenMember {
                    college,
                    admitted,
                    attendance,
                    holder_pick,
                    vote,
                },
            );
        let quorum = (1u64..=12).prop_flat_map(|den| (1..=den, Just(den)));
        let majority = prop_oneof![
            Just(Majority::Simple),
            Just(Majority::Absolute),
            Just(Majority::TwoThirds)
        ];
        (
            Just(weights),
            prop::collection::vec(member, 0..=24),
            quorum,
            majority,
            0u32..=3,
        )
            .prop_map(|(weights, members, quorum, majority, max_proxies)| Case {
                weights,
                members,
                quorum,
                majority,
                max_proxies,
            })
    })
}

fn member_id(index: usize) -> Uuid {
    Uuid::from_u128(0x1000 + index as u128)
}

fn college_code(index: usize) -> String {
    format!("college-{index}")
}

fn run_consortium(state: &mut ConsortiumState, command: impl Into<ConsortiumCommand>) {
    for event in Consortium::decide(&command.into(), state).expect("consortium command") {
        Consortium::evolve(state, &event);
    }
}

fn run_meeting(state: &mut MeetingState, command: impl Into<MeetingCommand>) -> Vec<MeetingEvent> {
    let events = Meeting::decide(&command.into(), state).expect("meeting command");
    for event in &events {
        Meeting::evolve(state, event);
    }
    events
}

/// What the reference computes.
#[derive(Debug, PartialEq, Eq)]
struct Expected {
    quorum_reached: bool,
    majority_reached: bool,
    adopted: bool,
    /// (numerator scaled by `scale`, scale) of: total, present, for, against, abstain.
    scaled: [u128; 5],
    scale: u128,
}

/// Attendance the generator settles on: who is present and who gives a proxy to whom.
fn settle(case: &Case) -> (Vec<usize>, Vec<(usize, usize)>) {
    let present: Vec<usize> = (0..case.members.len())
        .filter(|&i| case.members[i].admitted && case.members[i].attendance == 1)
        .collect();
    let mut held = vec![0u32; case.members.len()];
    let mut proxies = Vec::new();
    for (i, m) in case.members.iter().enumerate() {
        if m.admitted && m.attendance == 2 && !present.is_empty() {
            let holder = present[m.holder_pick % present.len()];
            if held[holder] < case.max_proxies {
                held[holder] += 1;
                proxies.push((i, holder));
            }
        }
    }
    (present, proxies)
}

fn reference(case: &Case) -> Expected {
    let (present, proxies) = settle(case);
    let sizes: Vec<u128> = (0..case.weights.len())
        .map(|c| {
            case.members
                .iter()
                .filter(|m| m.admitted && m.college == c)
                .count() as u128
        })
        .collect();
    // Every member weight w_c / n_c becomes the integer w_c × (scale / n_c).
    let scale: u128 = sizes.iter().map(|&n| n.max(1)).product();
    let units = |i: usize| {
        let c = case.members[i].college;
        u128::from(case.weights[c]) * (scale / sizes[c])
    };
    let total: u128 = (0..case.weights.len())
        .filter(|&c| sizes[c] > 0)
        .map(|c| u128::from(case.weights[c]) * scale)
        .sum();
    let attending: Vec<usize> = present
        .iter()
        .copied()
        .chain(proxies.iter().map(|(giver, _)| *giver))
        .collect();
    let present_units: u128 = attending.iter().map(|&i| units(i)).sum();
    let mut sums = [0u128; 3];
    for &i in &attending {
        match case.members[i].vote {
            1 => sums[0] += units(i),
            2 => sums[1] += units(i),
            3 => sums[2] += units(i),
            _ => {}
        }
    }
    let [yes, no, abstain] = sums;
    let cast = yes + no + abstain;
    let (qn, qd) = (u128::from(case.quorum.0), u128::from(case.quorum.1));
    let quorum_reached = total > 0 && present_units * qd >= qn * total;
    let majority_reached = cast > 0
        && match case.majority {
            Majority::Simple => yes > no,
            Majority::Absolute => 2 * yes > cast,
            Majority::TwoThirds => 3 * yes >= 2 * cast,
        };
    Expected {
        quorum_reached,
        majority_reached,
        adopted: quorum_reached && majority_reached,
        scaled: [total, present_units, yes, no, abstain],
        scale,
    }
}

/// The same case run through the consortium and meeting deciders.
fn computed(case: &Case) -> pv1::ResolutionVoteClosed {
    let mut consortium = ConsortiumState::default();
    run_consortium(
        &mut consortium,
        ConsortiumCommand::Found(FoundConsortium {
            consortium_id: Uuid::from_u128(1),
            name: "c".into(),
            founding_collectivite_id: Uuid::from_u128(2),
            territory: vec![],
            purpose: "p".into(),
            charter: String::new(),
            now: NOW,
        }),
    );
    for (c, weight) in case.weights.iter().enumerate() {
        run_consortium(
            &mut consortium,
            ConsortiumChange::DefineCollege {
                code: college_code(c),
                name: college_code(c),
                weight: *weight,
                now: NOW,
            },
        );
    }
    run_consortium(
        &mut consortium,
        ConsortiumChange::EstablishBody {
            code: "ag".into(),
            kind: pv1::BodyKind::GeneralAssembly,
            name: "AG".into(),
            colleges: (0..case.weights.len()).map(college_code).collect(),
            rules: BodyRules {
                quorum_numerator: case.quorum.0,
                quorum_denominator: case.quorum.1,
                majority: case.majority,
                max_proxies_per_member: case.max_proxies,
            },
            now: NOW,
        },
    );
    for (i, m) in case.members.iter().enumerate() {
        run_consortium(
            &mut consortium,
            ConsortiumChange::Apply {
                member_id: member_id(i),
                college: college_code(m.college),
                now: NOW,
            },
        );
        if m.admitted {
            run_consortium(
                &mut consortium,
                ConsortiumChange::Admit {
                    member_id: member_id(i),
                    now: NOW,
                },
            );
        }
    }
    let consortium = Arc::new(consortium);
    let mut meeting = MeetingState::default();
    run_meeting(
        &mut meeting,
        MeetingCommand::Convene(ConveneMeeting {
            meeting_id: Uuid::from_u128(3),
            consortium_id: Uuid::from_u128(1),
            consortium: consortium.clone(),
            body_code: "ag".into(),
            scheduled_at: NOW,
            venue: pv1::MeetingVenue::default(),
            agenda: vec!["x".into()],
            now: NOW,
        }),
    );
    let (present, proxies) = settle(case);
    if !present.is_empty() || !proxies.is_empty() {
        run_meeting(
            &mut meeting,
            MeetingChange::RecordAttendance {
                consortium: consortium.clone(),
                present: present.iter().map(|&i| member_id(i)).collect(),
                proxies: proxies
                    .iter()
                    .map(|&(g, h)| (member_id(g), member_id(h)))
                    .collect(),
                now: NOW,
            },
        );
    }
    let resolution = Uuid::from_u128(4);
    run_meeting(
        &mut meeting,
        MeetingChange::TableResolution {
            resolution_id: resolution,
            consortium,
            agenda_item: 1,
            title: "t".into(),
            text: "x".into(),
            now: NOW,
        },
    );
    let attending = present
        .iter()
        .copied()
        .chain(proxies.iter().map(|(g, _)| *g));
    for i in attending {
        let choice = match case.members[i].vote {
            1 => Choice::For,
            2 => Choice::Against,
            3 => Choice::Abstain,
            _ => continue,
        };
        run_meeting(
            &mut meeting,
            MeetingChange::RecordVote {
                resolution_id: resolution,
                member_id: member_id(i),
                choice,
                now: NOW,
            },
        );
    }
    let events = run_meeting(
        &mut meeting,
        MeetingChange::CloseVote {
            resolution_id: resolution,
            now: NOW,
        },
    );
    match events.as_slice() {
        [MeetingEvent::VoteClosed(closed)] => closed.clone(),
        other => panic!("{other:?}"),
    }
}

/// Whether the recorded ratio equals `scaled / scale`.
fn same_ratio(recorded: &Option<pv1::WeightRatio>, scaled: u128, scale: u128) -> bool {
    let ratio = recorded.as_ref().expect("ratio");
    let numerator: u128 = ratio.numerator.parse().expect("numerator");
    let denominator: u128 = ratio.denominator.parse().expect("denominator");
    numerator * scale == scaled * denominator
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_recorded_outcome_equals_the_reference(case in case()) {
        let expected = reference(&case);
        let closed = computed(&case);
        let tally = closed.tally.clone().expect("tally");
        prop_assert_eq!(tally.quorum_reached, expected.quorum_reached);
        prop_assert_eq!(tally.majority_reached, expected.majority_reached);
        let outcome = if expected.adopted {
            pv1::ResolutionStatus::Adopted
        } else {
            pv1::ResolutionStatus::Rejected
        };
        prop_assert_eq!(closed.outcome, outcome as i32);
        let recorded = [
            &tally.total_rights,
            &tally.present_or_represented,
            &tally.votes_for,
            &tally.votes_against,
            &tally.abstentions,
        ];
        for (value, scaled) in recorded.into_iter().zip(expected.scaled) {
            prop_assert!(same_ratio(value, scaled, expected.scale), "{:?} vs {}/{}", value, scaled, expected.scale);
        }
    }
}
