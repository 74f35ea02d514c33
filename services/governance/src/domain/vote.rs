//! The vote computation, pure and exact: weighted voting rights, quorum and majority.
//!
//! Interpretation (the one consortium statutes with weighted colleges use):
//! a college's weight is its share of the body's voting rights, divided equally
//! among the college's admitted members. A member's weight is therefore
//! `college weight / admitted members of the college`; an absent member's share
//! is not redistributed. The body's total rights are the sum of the weights of
//! its colleges that have at least one admitted member.
//!
//! - Quorum: weight present or represented (a proxy counts for its giver)
//!   divided by the total rights, reached when `>=` the body's quorum.
//! - Votes cast: every ballot (for, against, abstain).
//! - Simple majority: for > against. Absolute: for > 1/2 of votes cast.
//!   Two-thirds: for >= 2/3 of votes cast. No ballot: not adopted.
//! - Adopted only when the quorum is reached and the majority is reached.
//!
//! Everything is a [`Ratio`] of `u128`s; comparisons use a continued-fraction
//! walk, so they never overflow, and sums report overflow instead of wrapping.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// An exact non-negative rational number, kept reduced with a positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: u128,
    den: u128,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// Zero.
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    /// `num / den`, reduced; `None` when `den` is 0.
    pub fn new(num: u128, den: u128) -> Option<Ratio> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Ratio {
            num: num / g,
            den: den / g,
        })
    }

    /// A whole number.
    pub fn integer(n: u128) -> Ratio {
        Ratio { num: n, den: 1 }
    }

    /// The numerator (reduced form).
    pub fn numerator(&self) -> u128 {
        self.num
    }

    /// The denominator (reduced form, never 0).
    pub fn denominator(&self) -> u128 {
        self.den
    }

    /// Whether it is 0.
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Ratio) -> Option<Ratio> {
        let g = gcd(self.den, other.den);
        let left = self.num.checked_mul(other.den / g)?;
        let right = other.num.checked_mul(self.den / g)?;
        let den = (self.den / g).checked_mul(other.den)?;
        Ratio::new(left.checked_add(right)?, den)
    }

    /// `self * other`, `None` on overflow.
    pub fn checked_mul(self, other: Ratio) -> Option<Ratio> {
        // Cross-reduce first so that products stay as small as they can.
        let g1 = gcd(self.num, other.den).max(1);
        let g2 = gcd(other.num, self.den).max(1);
        let num = (self.num / g1).checked_mul(other.num / g2)?;
        let den = (self.den / g2).checked_mul(other.den / g1)?;
        Ratio::new(num, den)
    }
}

impl Ord for Ratio {
    /// Exact comparison without multiplication: compare the integer parts, then
    /// the reciprocals of the remainders (a continued-fraction walk).
    fn cmp(&self, other: &Ratio) -> Ordering {
        let (mut a, mut b, mut c, mut d) = (self.num, self.den, other.num, other.den);
        loop {
            let (qa, qc) = (a / b, c / d);
            if qa != qc {
                return qa.cmp(&qc);
            }
            let (ra, rc) = (a % b, c % d);
            match (ra == 0, rc == 0) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                // a/b = q + ra/b and c/d = q + rc/d: ra/b vs rc/d orders like
                // d/rc vs b/ra (taking reciprocals reverses, swapping sides restores).
                (false, false) => (a, b, c, d) = (d, rc, b, ra),
            }
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// How a body decides a resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Majority {
    /// For > against.
    Simple,
    /// For > 1/2 of the votes cast.
    Absolute,
    /// For >= 2/3 of the votes cast.
    TwoThirds,
}

/// A ballot's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// In favour.
    For,
    /// Against.
    Against,
    /// Abstains (counts as cast).
    Abstain,
}

/// A college's voting rights when the vote opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollegeRights {
    /// The college's weight (> 0).
    pub weight: u64,
    /// Its admitted members then (each holds `weight / admitted_members`).
    pub admitted_members: u32,
}

/// Who may vote on a resolution and with which weights: fixed when it is tabled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Electorate {
    /// The colleges sitting in the body, by code.
    pub colleges: BTreeMap<String, CollegeRights>,
    /// Each voter (member id) and its college.
    pub voters: BTreeMap<String, String>,
}

impl Electorate {
    /// A voter's weight: its college's weight over the college's admitted members.
    pub fn weight_of(&self, member: &str) -> Option<Ratio> {
        let college = self.colleges.get(self.voters.get(member)?)?;
        Ratio::new(
            u128::from(college.weight),
            u128::from(college.admitted_members),
        )
    }

    /// The body's total rights: weights of the colleges with at least one admitted member.
    pub fn total_rights(&self) -> Option<Ratio> {
        self.colleges
            .values()
            .filter(|college| college.admitted_members > 0)
            .try_fold(Ratio::ZERO, |sum, college| {
                sum.checked_add(Ratio::integer(u128::from(college.weight)))
            })
    }
}

/// What the count needs besides the electorate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Share of the total rights present or represented, in (0, 1].
    pub quorum: Ratio,
    /// The majority required.
    pub majority: Majority,
}

/// A counted ballot with its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedBallot {
    /// The member whose vote it is.
    pub member: String,
    /// Its choice.
    pub choice: Choice,
    /// Its weight.
    pub weight: Ratio,
}

/// The result of a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// The body's total rights.
    pub total_rights: Ratio,
    /// Weight present or represented.
    pub present_or_represented: Ratio,
    /// Whether the quorum is reached.
    pub quorum_reached: bool,
    /// Weighted for.
    pub votes_for: Ratio,
    /// Weighted against.
    pub votes_against: Ratio,
    /// Weighted abstentions.
    pub abstentions: Ratio,
    /// For + against + abstentions.
    pub votes_cast: Ratio,
    /// Whether the majority rule is met by the votes.
    pub majority_reached: bool,
    /// Quorum and majority both reached.
    pub adopted: bool,
    /// Every counted ballot with its weight.
    pub ballots: Vec<WeightedBallot>,
}

/// A weighted sum left the range of `u128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the weighted tally exceeds the exact arithmetic's range")]
pub struct Overflow;

/// Counts a vote. `attending` holds the members present or represented;
/// attendees and ballots of members outside the electorate weigh nothing and
/// are left out (the meeting's rules refuse them before they get here).
pub fn count(
    electorate: &Electorate,
    rules: &Rules,
    attending: &BTreeSet<String>,
    ballots: &[(String, Choice)],
) -> Result<Count, Overflow> {
    let total_rights = electorate.total_rights().ok_or(Overflow)?;
    let mut present = Ratio::ZERO;
    for member in attending {
        if let Some(weight) = electorate.weight_of(member) {
            present = present.checked_add(weight).ok_or(Overflow)?;
        }
    }
    let quorum_reached = !total_rights.is_zero()
        && present >= total_rights.checked_mul(rules.quorum).ok_or(Overflow)?;

    let (mut votes_for, mut votes_against, mut abstentions) =
        (Ratio::ZERO, Ratio::ZERO, Ratio::ZERO);
    let mut counted = Vec::with_capacity(ballots.len());
    for (member, choice) in ballots {
        let Some(weight) = electorate.weight_of(member) else {
            continue;
        };
        let sum = match choice {
            Choice::For => &mut votes_for,
            Choice::Against => &mut votes_against,
            Choice::Abstain => &mut abstentions,
        };
        *sum = sum.checked_add(weight).ok_or(Overflow)?;
        counted.push(WeightedBallot {
            member: member.clone(),
            choice: *choice,
            weight,
        });
    }
    let votes_cast = votes_for
        .checked_add(votes_against)
        .and_then(|sum| sum.checked_add(abstentions))
        .ok_or(Overflow)?;
    let majority_reached = !votes_cast.is_zero()
        && match rules.majority {
            Majority::Simple => votes_for > votes_against,
            Majority::Absolute => {
                let half = votes_cast
                    .checked_mul(Ratio::new(1, 2).ok_or(Overflow)?)
                    .ok_or(Overflow)?;
                votes_for > half
            }
            Majority::TwoThirds => {
                let two_thirds = votes_cast
                    .checked_mul(Ratio::new(2, 3).ok_or(Overflow)?)
                    .ok_or(Overflow)?;
                votes_for >= two_thirds
            }
        };
    Ok(Count {
        total_rights,
        present_or_represented: present,
        quorum_reached,
        votes_for,
        votes_against,
        abstentions,
        votes_cast,
        majority_reached,
        adopted: quorum_reached && majority_reached,
        ballots: counted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(num: u128, den: u128) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    /// Four colleges weighing 40/30/20/10 with 2, 3, 4 and 1 admitted members:
    /// collectivités a1 a2 (20 each), businesses b1 b2 b3 (10 each),
    /// associations c1..c4 (5 each), tiers-lieux d1 (10). Total rights 100.
    fn electorate() -> Electorate {
        let mut e = Electorate::default();
        for (code, weight, members) in [
            ("collectivites", 40, &["a1", "a2"][..]),
            ("entreprises", 30, &["b1", "b2", "b3"][..]),
            ("associations", 20, &["c1", "c2", "c3", "c4"][..]),
            ("tiers-lieux", 10, &["d1"][..]),
        ] {
            e.colleges.insert(
                code.into(),
                CollegeRights {
                    weight,
                    admitted_members: members.len() as u32,
                },
            );
            for m in members {
                e.voters.insert(m.to_string(), code.into());
            }
        }
        e
    }

    fn set(members: &[&str]) -> BTreeSet<String> {
        members.iter().map(|m| m.to_string()).collect()
    }

    fn ballots(list: &[(&str, Choice)]) -> Vec<(String, Choice)> {
        list.iter().map(|(m, c)| (m.to_string(), *c)).collect()
    }

    fn rules(quorum: Ratio, majority: Majority) -> Rules {
        Rules { quorum, majority }
    }

    #[test]
    fn ratios_reduce_add_multiply_and_compare_exactly() {
        assert_eq!(r(10, 4), r(5, 2));
        assert_eq!(r(1, 3).checked_add(r(1, 6)).unwrap(), r(1, 2));
        assert_eq!(r(2, 3).checked_mul(r(9, 4)).unwrap(), r(3, 2));
        assert!(r(2, 3) > r(666_666, 1_000_000));
        assert!(r(2, 3) < r(666_667, 1_000_000));
        assert_eq!(r(4, 6).cmp(&r(2, 3)), Ordering::Equal);
        assert!(r(355, 113) < r(22, 7));
        assert!(Ratio::new(1, 0).is_none());
        // Comparison of huge values does not overflow.
        assert!(r(u128::MAX, u128::MAX - 1) < r(u128::MAX - 1, u128::MAX - 2));
        assert!(r(u128::MAX - 1, u128::MAX) < r(u128::MAX, u128::MAX));
    }

    #[test]
    fn weights_are_the_college_weight_shared_among_its_admitted_members() {
        let e = electorate();
        assert_eq!(e.weight_of("a1"), Some(r(20, 1)));
        assert_eq!(e.weight_of("b2"), Some(r(10, 1)));
        assert_eq!(e.weight_of("c3"), Some(r(5, 1)));
        assert_eq!(e.weight_of("d1"), Some(r(10, 1)));
        assert_eq!(e.weight_of("stranger"), None);
        assert_eq!(e.total_rights(), Some(r(100, 1)));
    }

    /// Present or represented: a1, b1, b2, c1, c2 (proxy c3 → c1 counted in attending)
    /// = 20 + 10 + 10 + 5 + 5 + 5 = 55 of 100 ≥ 1/2: quorum reached.
    /// Votes: for a1 (20) + c1 (5) + c3 (5) = 30; against b1 + b2 = 20;
    /// abstain c2 = 5. Cast 55.
    /// Simple: 30 > 20 → adopted. Absolute: 30 > 55/2 = 27.5 → adopted.
    /// Two-thirds: 30 ≥ 110/3 = 36.67? no → rejected.
    #[test]
    fn worked_example_with_the_three_majorities() {
        let e = electorate();
        let attending = set(&["a1", "b1", "b2", "c1", "c2", "c3"]);
        let votes = ballots(&[
            ("a1", Choice::For),
            ("c1", Choice::For),
            ("c3", Choice::For),
            ("b1", Choice::Against),
            ("b2", Choice::Against),
            ("c2", Choice::Abstain),
        ]);
        let simple = count(&e, &rules(r(1, 2), Majority::Simple), &attending, &votes).unwrap();
        assert_eq!(simple.present_or_represented, r(55, 1));
        assert!(simple.quorum_reached);
        assert_eq!(
            (
                simple.votes_for,
                simple.votes_against,
                simple.abstentions,
                simple.votes_cast
            ),
            (r(30, 1), r(20, 1), r(5, 1), r(55, 1))
        );
        assert!(simple.adopted);
        let absolute = count(&e, &rules(r(1, 2), Majority::Absolute), &attending, &votes).unwrap();
        assert!(absolute.adopted);
        let two_thirds =
            count(&e, &rules(r(1, 2), Majority::TwoThirds), &attending, &votes).unwrap();
        assert!(two_thirds.quorum_reached && !two_thirds.adopted);
    }

    /// Same electorate: heads and weights disagree. The four associations (4 × 5 = 20)
    /// vote for, the collectivité a1 (20) and the business b1 (10) vote against:
    /// 4 heads against 2, but weighted for 20 < against 30 → rejected (simple).
    #[test]
    fn weights_not_heads_decide() {
        let e = electorate();
        let attending = set(&["a1", "b1", "c1", "c2", "c3", "c4"]);
        let votes = ballots(&[
            ("c1", Choice::For),
            ("c2", Choice::For),
            ("c3", Choice::For),
            ("c4", Choice::For),
            ("a1", Choice::Against),
            ("b1", Choice::Against),
        ]);
        let count = count(&e, &rules(r(1, 2), Majority::Simple), &attending, &votes).unwrap();
        // Present 20 + 10 + 20 = 50 of 100 ≥ 1/2.
        assert!(count.quorum_reached);
        assert_eq!((count.votes_for, count.votes_against), (r(20, 1), r(30, 1)));
        assert!(!count.adopted);
    }

    /// Quorum 2/3 of 100: present a1 + a2 + b1 + b2 = 60 < 66.67 → not reached;
    /// every present member votes for (60 of 60 cast) and still it is rejected.
    #[test]
    fn quorum_not_reached_rejects_whatever_the_votes() {
        let e = electorate();
        let attending = set(&["a1", "a2", "b1", "b2"]);
        let votes = ballots(&[
            ("a1", Choice::For),
            ("a2", Choice::For),
            ("b1", Choice::For),
            ("b2", Choice::For),
        ]);
        let count = count(&e, &rules(r(2, 3), Majority::Simple), &attending, &votes).unwrap();
        assert_eq!(count.present_or_represented, r(60, 1));
        assert!(!count.quorum_reached);
        assert!(count.majority_reached);
        assert!(!count.adopted);
        // Add d1 (10): 70 ≥ 66.67 → reached and adopted.
        let attending = set(&["a1", "a2", "b1", "b2", "d1"]);
        let count =
            super::count(&e, &rules(r(2, 3), Majority::Simple), &attending, &votes).unwrap();
        assert!(count.quorum_reached && count.adopted);
    }

    /// Exact boundaries. Quorum exactly met: 1/2 of 100 = 50 present (a1 a2 b1) → reached.
    /// Two-thirds exactly: for a1 + a2 = 40, against b1 + b2 = 20: 40 ≥ 2/3 × 60 = 40 → adopted.
    /// Absolute tie: for 30 (a1 b1), against 30 (b2 b3 + c1 c2): 30 > 30? no → rejected;
    /// simple: 30 > 30? no → rejected.
    #[test]
    fn boundaries_are_exact() {
        let e = electorate();
        let count1 = count(
            &e,
            &rules(r(1, 2), Majority::Simple),
            &set(&["a1", "a2", "b1"]),
            &ballots(&[("a1", Choice::For)]),
        )
        .unwrap();
        assert_eq!(count1.present_or_represented, r(50, 1));
        assert!(count1.quorum_reached);

        let attending = set(&["a1", "a2", "b1", "b2", "b3", "c1", "c2"]);
        let two_thirds = ballots(&[
            ("a1", Choice::For),
            ("a2", Choice::For),
            ("b1", Choice::Against),
            ("b2", Choice::Against),
        ]);
        let c = count(
            &e,
            &rules(r(1, 2), Majority::TwoThirds),
            &attending,
            &two_thirds,
        )
        .unwrap();
        assert_eq!((c.votes_for, c.votes_cast), (r(40, 1), r(60, 1)));
        assert!(c.adopted);

        let tie = ballots(&[
            ("a1", Choice::For),
            ("b1", Choice::For),
            ("b2", Choice::Against),
            ("b3", Choice::Against),
            ("c1", Choice::Against),
            ("c2", Choice::Against),
        ]);
        for majority in [Majority::Simple, Majority::Absolute] {
            let c = count(&e, &rules(r(1, 2), majority), &attending, &tie).unwrap();
            assert_eq!((c.votes_for, c.votes_against), (r(30, 1), r(30, 1)));
            assert!(!c.adopted, "{majority:?}");
        }
    }

    /// Thirds that floats get wrong: college X weighs 1 with 3 members (1/3 each),
    /// college Y weighs 1 with 1 member. Total 2. For: x1 + x2 = 2/3; against: none;
    /// abstain: x3 = 1/3. Cast 1. Two-thirds: 2/3 ≥ 2/3 × 1 → adopted (exactly equal).
    /// Absolute: 2/3 > 1/2 → adopted. Present 1 of 2 with quorum 1/2 → reached.
    #[test]
    fn thirds_are_exact() {
        let mut e = Electorate::default();
        e.colleges.insert(
            "x".into(),
            CollegeRights {
                weight: 1,
                admitted_members: 3,
            },
        );
        e.colleges.insert(
            "y".into(),
            CollegeRights {
                weight: 1,
                admitted_members: 1,
            },
        );
        for (m, c) in [("x1", "x"), ("x2", "x"), ("x3", "x"), ("y1", "y")] {
            e.voters.insert(m.into(), c.into());
        }
        let votes = ballots(&[
            ("x1", Choice::For),
            ("x2", Choice::For),
            ("x3", Choice::Abstain),
        ]);
        let c = count(
            &e,
            &rules(r(1, 2), Majority::TwoThirds),
            &set(&["x1", "x2", "x3"]),
            &votes,
        )
        .unwrap();
        assert_eq!(c.votes_for, r(2, 3));
        assert_eq!(c.votes_cast, r(1, 1));
        assert!(c.quorum_reached && c.adopted);
    }

    #[test]
    fn no_ballot_or_no_rights_is_never_adopted() {
        let e = electorate();
        let c = count(&e, &rules(r(1, 10), Majority::Simple), &set(&["a1"]), &[]).unwrap();
        assert!(c.quorum_reached && !c.adopted);
        let empty = Electorate::default();
        let c = count(
            &empty,
            &rules(r(1, 10), Majority::Simple),
            &BTreeSet::new(),
            &[],
        )
        .unwrap();
        assert!(!c.quorum_reached && !c.adopted);
    }

    #[test]
    fn colleges_without_members_hold_no_rights() {
        let mut e = electorate();
        e.colleges.insert(
            "chambres".into(),
            CollegeRights {
                weight: 50,
                admitted_members: 0,
            },
        );
        assert_eq!(e.total_rights(), Some(r(100, 1)));
    }
}
