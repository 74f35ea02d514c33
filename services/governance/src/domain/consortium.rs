//! The consortium aggregate (stream `consortium-<id>`): its founding, colleges
//! and their weights, bodies and their rules, memberships and representatives.

use std::collections::BTreeMap;

use maillage_es::Decider;
use maillage_proto::v1 as pv1;
use uuid::Uuid;

use super::vote::{CollegeRights, Electorate, Majority, Ratio};
use super::{DomainError, Refusal, Timestamp};

/// A college: a name and a positive weight (its share of the voting rights).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct College {
    /// Display name.
    pub name: String,
    /// Weight (> 0).
    pub weight: u64,
}

/// How a body decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRules {
    /// Quorum numerator (0 < numerator <= denominator).
    pub quorum_numerator: u64,
    /// Quorum denominator.
    pub quorum_denominator: u64,
    /// The majority required.
    pub majority: Majority,
    /// Proxies one present member may hold.
    pub max_proxies_per_member: u32,
}

impl BodyRules {
    /// The quorum as a ratio.
    pub fn quorum(&self) -> Ratio {
        // Invariant: the gRPC layer refuses a zero denominator; 1 is a safe fallback.
        Ratio::new(
            u128::from(self.quorum_numerator),
            u128::from(self.quorum_denominator.max(1)),
        )
        .unwrap_or(Ratio::ZERO)
    }

    /// The rules as recorded on the wire.
    pub fn to_proto(&self) -> pv1::BodyRules {
        pv1::BodyRules {
            quorum: Some(pv1::ShareFraction {
                numerator: self.quorum_numerator,
                denominator: self.quorum_denominator,
            }),
            majority: majority_to_proto(self.majority) as i32,
            max_proxies_per_member: self.max_proxies_per_member,
        }
    }

    /// Rules read back from an event (the service wrote them valid).
    pub fn from_proto(rules: &pv1::BodyRules) -> BodyRules {
        let quorum = rules.quorum.unwrap_or_default();
        BodyRules {
            quorum_numerator: quorum.numerator,
            quorum_denominator: quorum.denominator,
            majority: majority_from_proto(rules.majority).unwrap_or(Majority::Simple),
            max_proxies_per_member: rules.max_proxies_per_member,
        }
    }
}

/// The wire value of a majority rule.
pub fn majority_to_proto(majority: Majority) -> pv1::MajorityRule {
    match majority {
        Majority::Simple => pv1::MajorityRule::Simple,
        Majority::Absolute => pv1::MajorityRule::Absolute,
        Majority::TwoThirds => pv1::MajorityRule::TwoThirds,
    }
}

/// The majority rule of a wire value (`None` for unspecified or unknown).
pub fn majority_from_proto(value: i32) -> Option<Majority> {
    match pv1::MajorityRule::try_from(value).ok()? {
        pv1::MajorityRule::Simple => Some(Majority::Simple),
        pv1::MajorityRule::Absolute => Some(Majority::Absolute),
        pv1::MajorityRule::TwoThirds => Some(Majority::TwoThirds),
        pv1::MajorityRule::Unspecified => None,
    }
}

/// A body (general assembly, committee).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Its kind.
    pub kind: pv1::BodyKind,
    /// Display name.
    pub name: String,
    /// The colleges that sit in it.
    pub colleges: Vec<String>,
    /// Its rules.
    pub rules: BodyRules,
}

/// Where a membership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipStatus {
    /// Applied, not yet decided.
    Applied,
    /// A member.
    Admitted,
    /// Refused.
    Refused,
    /// Was a member, withdrew.
    Withdrawn,
}

impl MembershipStatus {
    /// The wire value.
    pub fn to_proto(self) -> pv1::MembershipStatus {
        match self {
            MembershipStatus::Applied => pv1::MembershipStatus::Applied,
            MembershipStatus::Admitted => pv1::MembershipStatus::Admitted,
            MembershipStatus::Refused => pv1::MembershipStatus::Refused,
            MembershipStatus::Withdrawn => pv1::MembershipStatus::Withdrawn,
        }
    }
}

/// An organisation's membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Its college.
    pub college: String,
    /// Where it stands.
    pub status: MembershipStatus,
    /// Its representative (a person stakeholder id), if appointed.
    pub representative: Option<String>,
    /// Reason of a refusal or withdrawal.
    pub reason: String,
}

/// What the consortium's founding recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Founding {
    /// The consortium's id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The founding collectivité (stakeholder id).
    pub founding_collectivite_id: String,
    /// Its territory.
    pub territory: Vec<pv1::TerritoryRef>,
    /// Purpose.
    pub purpose: String,
    /// Charter text.
    pub charter: String,
    /// When.
    pub founded_at: Timestamp,
}

/// The consortium's state, folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsortiumState {
    /// `None` until founded.
    pub founding: Option<Founding>,
    /// Colleges by code.
    pub colleges: BTreeMap<String, College>,
    /// Bodies by code.
    pub bodies: BTreeMap<String, Body>,
    /// Memberships by member (organisation stakeholder) id.
    pub members: BTreeMap<String, Membership>,
}

impl ConsortiumState {
    /// The consortium's id, once founded.
    pub fn id(&self) -> Option<&str> {
        self.founding.as_ref().map(|founding| founding.id.as_str())
    }

    /// Whether `member` is an admitted member.
    pub fn is_admitted(&self, member: &str) -> bool {
        self.members
            .get(member)
            .is_some_and(|m| m.status == MembershipStatus::Admitted)
    }

    /// The admitted members of a college.
    pub fn admitted_in<'a>(&'a self, college: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.members
            .iter()
            .filter(move |(_, m)| m.status == MembershipStatus::Admitted && m.college == college)
            .map(|(id, _)| id.as_str())
    }

    /// Who may vote in a body made of `colleges`, with the weights of now.
    pub fn electorate(&self, colleges: &[String]) -> Electorate {
        let mut electorate = Electorate::default();
        for code in colleges {
            let Some(college) = self.colleges.get(code) else {
                continue;
            };
            let members: Vec<&str> = self.admitted_in(code).collect();
            electorate.colleges.insert(
                code.clone(),
                CollegeRights {
                    weight: college.weight,
                    admitted_members: members.len() as u32,
                },
            );
            for member in members {
                electorate.voters.insert(member.to_string(), code.clone());
            }
        }
        electorate
    }
}

/// A request about a consortium, validated by the gRPC layer: founding it, or
/// changing one that exists. Two types, so that the decider's changes never
/// meet a `Found`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsortiumCommand {
    /// Found it.
    Found(FoundConsortium),
    /// A change to a consortium already founded.
    Change(ConsortiumChange),
}

impl From<FoundConsortium> for ConsortiumCommand {
    fn from(command: FoundConsortium) -> Self {
        ConsortiumCommand::Found(command)
    }
}

impl From<ConsortiumChange> for ConsortiumCommand {
    fn from(change: ConsortiumChange) -> Self {
        ConsortiumCommand::Change(change)
    }
}

/// Found it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundConsortium {
    /// The new consortium's id.
    pub consortium_id: Uuid,
    /// Name.
    pub name: String,
    /// The founding collectivité.
    pub founding_collectivite_id: Uuid,
    /// Territory (checked against the COG).
    pub territory: Vec<pv1::TerritoryRef>,
    /// Purpose.
    pub purpose: String,
    /// Charter.
    pub charter: String,
    /// Now.
    pub now: Timestamp,
}

/// A change to a consortium already founded.
#[derive(Debug, Clone, PartialEq)]
pub enum ConsortiumChange {
    /// Define or redefine a college.
    DefineCollege {
        /// Slug.
        code: String,
        /// Name.
        name: String,
        /// Weight (> 0).
        weight: u64,
        /// Now.
        now: Timestamp,
    },
    /// Establish a body.
    EstablishBody {
        /// Slug.
        code: String,
        /// Kind.
        kind: pv1::BodyKind,
        /// Name.
        name: String,
        /// Sitting colleges (distinct, at least one).
        colleges: Vec<String>,
        /// Rules.
        rules: BodyRules,
        /// Now.
        now: Timestamp,
    },
    /// Receive an application.
    Apply {
        /// The organisation.
        member_id: Uuid,
        /// Its college.
        college: String,
        /// Now.
        now: Timestamp,
    },
    /// Admit an applicant.
    Admit {
        /// The applicant.
        member_id: Uuid,
        /// Now.
        now: Timestamp,
    },
    /// Refuse an applicant.
    Refuse {
        /// The applicant.
        member_id: Uuid,
        /// Why.
        reason: String,
        /// Now.
        now: Timestamp,
    },
    /// Record a member's withdrawal.
    Withdraw {
        /// The member.
        member_id: Uuid,
        /// Why (may be empty).
        reason: String,
        /// Now.
        now: Timestamp,
    },
    /// Appoint or replace a member's representative.
    AppointRepresentative {
        /// The member.
        member_id: Uuid,
        /// The person.
        person_id: Uuid,
        /// Now.
        now: Timestamp,
    },
}

maillage_es::proto_events! {
    /// What happens to a consortium.
    ConsortiumEvent {
        /// Founded.
        Founded(ConsortiumFounded),
        /// A college defined or redefined.
        CollegeDefined(CollegeDefined),
        /// A body established.
        BodyEstablished(BodyEstablished),
        /// An application received.
        MembershipApplied(MembershipApplied),
        /// An applicant admitted.
        MemberAdmitted(MemberAdmitted),
        /// An applicant refused.
        MembershipRefused(MembershipRefused),
        /// A member withdrawn.
        MemberWithdrawn(MemberWithdrawn),
        /// A representative appointed or replaced.
        RepresentativeAppointed(RepresentativeAppointed),
    }
}

/// Why a consortium command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsortiumError {
    /// Founding an existing consortium.
    #[error("consortium {0} already exists")]
    AlreadyFounded(String),
    /// The consortium does not exist.
    #[error("consortium not found")]
    NotFound,
    /// A college code that the consortium has not defined.
    #[error("{field}: unknown college {code}")]
    UnknownCollege {
        /// The request field.
        field: String,
        /// The code.
        code: String,
    },
    /// A body code already used.
    #[error("body {0} already exists")]
    BodyExists(String),
    /// An organisation that has applied or is a member already.
    #[error("organisation_id: {0} has already applied or is a member")]
    AlreadyMember(String),
    /// No membership for this id.
    #[error("member_id: no membership for {0}")]
    UnknownMember(String),
    /// Admitting or refusing someone who is not an applicant.
    #[error("member_id: {0} is not an applicant")]
    NotApplicant(String),
    /// Withdrawing, or appointing for, someone who is not an admitted member.
    #[error("member_id: {0} is not an admitted member")]
    NotAdmitted(String),
}

impl DomainError for ConsortiumError {
    fn refusal(&self) -> Refusal {
        match self {
            ConsortiumError::AlreadyFounded(id) => Refusal::AlreadyExists {
                what: "consortium",
                id: id.clone(),
            },
            ConsortiumError::NotFound => Refusal::NotFound {
                what: "consortium",
                id: String::new(),
            },
            ConsortiumError::UnknownCollege { field, .. } => Refusal::InvalidArgument {
                field: field.clone(),
            },
            ConsortiumError::BodyExists(code) => Refusal::AlreadyExists {
                what: "body",
                id: code.clone(),
            },
            ConsortiumError::AlreadyMember(id) => Refusal::AlreadyExists {
                what: "membership of",
                id: id.clone(),
            },
            ConsortiumError::UnknownMember(id) => Refusal::NotFound {
                what: "member",
                id: id.clone(),
            },
            ConsortiumError::NotApplicant(_) | ConsortiumError::NotAdmitted(_) => {
                Refusal::FailedPrecondition
            }
        }
    }
}

/// The consortium decider.
pub struct Consortium;

impl Decider for Consortium {
    type State = ConsortiumState;
    type Command = ConsortiumCommand;
    type Event = ConsortiumEvent;
    type Error = ConsortiumError;

    fn decide(
        command: &ConsortiumCommand,
        state: &ConsortiumState,
    ) -> Result<Vec<ConsortiumEvent>, ConsortiumError> {
        match command {
            ConsortiumCommand::Found(command) => Self::found(command, state),
            ConsortiumCommand::Change(change) => Self::change(change, state),
        }
    }

    fn evolve(state: &mut ConsortiumState, event: &ConsortiumEvent) {
        match event {
            ConsortiumEvent::Founded(e) => {
                state.founding = Some(Founding {
                    id: e.consortium_id.clone(),
                    name: e.name.clone(),
                    founding_collectivite_id: e.founding_collectivite_id.clone(),
                    territory: e.territory.clone(),
                    purpose: e.purpose.clone(),
                    charter: e.charter.clone(),
                    founded_at: e.founded_at.unwrap_or_default(),
                });
            }
            ConsortiumEvent::CollegeDefined(e) => {
                state.colleges.insert(
                    e.college_code.clone(),
                    College {
                        name: e.name.clone(),
                        weight: e.weight.max(0) as u64,
                    },
                );
            }
            ConsortiumEvent::BodyEstablished(e) => {
                state.bodies.insert(
                    e.body_code.clone(),
                    Body {
                        kind: pv1::BodyKind::try_from(e.kind).unwrap_or(pv1::BodyKind::Other),
                        name: e.name.clone(),
                        colleges: e.college_codes.clone(),
                        rules: BodyRules::from_proto(&e.rules.unwrap_or_default()),
                    },
                );
            }
            ConsortiumEvent::MembershipApplied(e) => {
                let representative = state
                    .members
                    .get(&e.member_id)
                    .and_then(|m| m.representative.clone());
                state.members.insert(
                    e.member_id.clone(),
                    Membership {
                        college: e.college_code.clone(),
                        status: MembershipStatus::Applied,
                        representative,
                        reason: String::new(),
                    },
                );
            }
            ConsortiumEvent::MemberAdmitted(e) => {
                if let Some(m) = state.members.get_mut(&e.member_id) {
                    m.status = MembershipStatus::Admitted;
                    m.college = e.college_code.clone();
                }
            }
            ConsortiumEvent::MembershipRefused(e) => {
                if let Some(m) = state.members.get_mut(&e.member_id) {
                    m.status = MembershipStatus::Refused;
                    m.reason = e.reason.clone();
                }
            }
            ConsortiumEvent::MemberWithdrawn(e) => {
                if let Some(m) = state.members.get_mut(&e.member_id) {
                    m.status = MembershipStatus::Withdrawn;
                    m.reason = e.reason.clone();
                }
            }
            ConsortiumEvent::RepresentativeAppointed(e) => {
                if let Some(m) = state.members.get_mut(&e.member_id) {
                    m.representative = Some(e.person_id.clone());
                }
            }
        }
    }
}

impl Consortium {
    /// Founds the consortium, unless it already exists.
    fn found(
        command: &FoundConsortium,
        state: &ConsortiumState,
    ) -> Result<Vec<ConsortiumEvent>, ConsortiumError> {
        use ConsortiumEvent as E;
        let FoundConsortium {
            consortium_id,
            name,
            founding_collectivite_id,
            territory,
            purpose,
            charter,
            now,
        } = command;
        if let Some(id) = state.id() {
            return Err(ConsortiumError::AlreadyFounded(id.to_string()));
        }
        Ok(vec![E::Founded(pv1::ConsortiumFounded {
            consortium_id: consortium_id.to_string(),
            name: name.clone(),
            founding_collectivite_id: founding_collectivite_id.to_string(),
            territory: territory.clone(),
            purpose: purpose.clone(),
            charter: charter.clone(),
            founded_at: Some(*now),
        })])
    }

    /// Changes the consortium, once founded.
    fn change(
        change: &ConsortiumChange,
        state: &ConsortiumState,
    ) -> Result<Vec<ConsortiumEvent>, ConsortiumError> {
        use ConsortiumChange as C;
        use ConsortiumEvent as E;
        let consortium_id = state.id().ok_or(ConsortiumError::NotFound)?.to_string();
        let membership = |member_id: &Uuid| {
            let id = member_id.to_string();
            state
                .members
                .get(&id)
                .map(|m| (id.clone(), m))
                .ok_or(ConsortiumError::UnknownMember(id))
        };
        match change {
            C::DefineCollege {
                code,
                name,
                weight,
                now,
            } => {
                let unchanged = state
                    .colleges
                    .get(code)
                    .is_some_and(|c| c.name == *name && c.weight == *weight);
                if unchanged {
                    return Ok(vec![]);
                }
                Ok(vec![E::CollegeDefined(pv1::CollegeDefined {
                    consortium_id,
                    college_code: code.clone(),
                    name: name.clone(),
                    weight: *weight as i64,
                    defined_at: Some(*now),
                })])
            }
            C::EstablishBody {
                code,
                kind,
                name,
                colleges,
                rules,
                now,
            } => {
                if state.bodies.contains_key(code) {
                    return Err(ConsortiumError::BodyExists(code.clone()));
                }
                if let Some((index, unknown)) = colleges
                    .iter()
                    .enumerate()
                    .find(|(_, c)| !state.colleges.contains_key(*c))
                {
                    return Err(ConsortiumError::UnknownCollege {
                        field: format!("college_codes[{index}]"),
                        code: unknown.clone(),
                    });
                }
                Ok(vec![E::BodyEstablished(pv1::BodyEstablished {
                    consortium_id,
                    body_code: code.clone(),
                    kind: *kind as i32,
                    name: name.clone(),
                    college_codes: colleges.clone(),
                    rules: Some(rules.to_proto()),
                    established_at: Some(*now),
                })])
            }
            C::Apply {
                member_id,
                college,
                now,
            } => {
                if !state.colleges.contains_key(college) {
                    return Err(ConsortiumError::UnknownCollege {
                        field: "college_code".into(),
                        code: college.clone(),
                    });
                }
                let id = member_id.to_string();
                if let Some(existing) = state.members.get(&id) {
                    if matches!(
                        existing.status,
                        MembershipStatus::Applied | MembershipStatus::Admitted
                    ) {
                        return Err(ConsortiumError::AlreadyMember(id));
                    }
                }
                Ok(vec![E::MembershipApplied(pv1::MembershipApplied {
                    consortium_id,
                    member_id: id,
                    college_code: college.clone(),
                    applied_at: Some(*now),
                })])
            }
            C::Admit { member_id, now } => {
                let (id, m) = membership(member_id)?;
                if m.status != MembershipStatus::Applied {
                    return Err(ConsortiumError::NotApplicant(id));
                }
                Ok(vec![E::MemberAdmitted(pv1::MemberAdmitted {
                    consortium_id,
                    member_id: id,
                    college_code: m.college.clone(),
                    admitted_at: Some(*now),
                })])
            }
            C::Refuse {
                member_id,
                reason,
                now,
            } => {
                let (id, m) = membership(member_id)?;
                if m.status != MembershipStatus::Applied {
                    return Err(ConsortiumError::NotApplicant(id));
                }
                Ok(vec![E::MembershipRefused(pv1::MembershipRefused {
                    consortium_id,
                    member_id: id,
                    reason: reason.clone(),
                    refused_at: Some(*now),
                })])
            }
            C::Withdraw {
                member_id,
                reason,
                now,
            } => {
                let (id, m) = membership(member_id)?;
                if m.status != MembershipStatus::Admitted {
                    return Err(ConsortiumError::NotAdmitted(id));
                }
                Ok(vec![E::MemberWithdrawn(pv1::MemberWithdrawn {
                    consortium_id,
                    member_id: id,
                    reason: reason.clone(),
                    withdrawn_at: Some(*now),
                })])
            }
            C::AppointRepresentative {
                member_id,
                person_id,
                now,
            } => {
                let (id, m) = membership(member_id)?;
                if m.status != MembershipStatus::Admitted {
                    return Err(ConsortiumError::NotAdmitted(id));
                }
                let person = person_id.to_string();
                if m.representative.as_deref() == Some(person.as_str()) {
                    return Ok(vec![]);
                }
                Ok(vec![E::RepresentativeAppointed(
                    pv1::RepresentativeAppointed {
                        consortium_id,
                        member_id: id,
                        person_id: person,
                        previous_person_id: m.representative.clone().unwrap_or_default(),
                        appointed_at: Some(*now),
                    },
                )])
            }
        }
    }
}

/// Builders of consortium states and commands for tests of every aggregate.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use maillage_es::testing;

    /// A fixed instant.
    pub fn now() -> Timestamp {
        Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }
    }

    /// A stable UUID for a short name (tests only).
    pub fn id(name: &str) -> Uuid {
        Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes())
    }

    /// Folds `events` from the default state.
    pub fn given(events: &[ConsortiumEvent]) -> ConsortiumState {
        testing::given::<Consortium>(events).into_state()
    }

    /// Runs `commands` one after the other, panicking on a refusal.
    pub fn run(state: &mut ConsortiumState, commands: Vec<ConsortiumCommand>) {
        *state = testing::given_state::<Consortium>(state.clone())
            .after(commands)
            .into_state();
    }

    /// Founding command.
    pub fn found() -> ConsortiumCommand {
        ConsortiumCommand::Found(FoundConsortium {
            consortium_id: id("consortium"),
            name: "Consortium des tiers-lieux de l'Aude".into(),
            founding_collectivite_id: id("departement-aude"),
            territory: vec![pv1::TerritoryRef {
                level: pv1::TerritoryLevel::Departement as i32,
                code: "11".into(),
            }],
            purpose: "Animer le réseau des tiers-lieux".into(),
            charter: "Charte".into(),
            now: now(),
        })
    }

    /// Defines a college.
    pub fn college(code: &str, weight: u64) -> ConsortiumCommand {
        ConsortiumChange::DefineCollege {
            code: code.into(),
            name: code.to_uppercase(),
            weight,
            now: now(),
        }
        .into()
    }

    /// Establishes a body over `colleges` with a quorum, majority and proxies per member.
    pub fn body(
        code: &str,
        colleges: &[&str],
        quorum: (u64, u64),
        majority: Majority,
        max_proxies: u32,
    ) -> ConsortiumCommand {
        ConsortiumChange::EstablishBody {
            code: code.into(),
            kind: pv1::BodyKind::GeneralAssembly,
            name: code.to_uppercase(),
            colleges: colleges.iter().map(|c| c.to_string()).collect(),
            rules: BodyRules {
                quorum_numerator: quorum.0,
                quorum_denominator: quorum.1,
                majority,
                max_proxies_per_member: max_proxies,
            },
            now: now(),
        }
        .into()
    }

    /// Applies and admits `member` to `college`.
    pub fn admitted(member: &str, college: &str) -> Vec<ConsortiumCommand> {
        vec![
            ConsortiumChange::Apply {
                member_id: id(member),
                college: college.into(),
                now: now(),
            }
            .into(),
            ConsortiumChange::Admit {
                member_id: id(member),
                now: now(),
            }
            .into(),
        ]
    }

    /// The example consortium of the tests: colleges 40/30/20/10 with
    /// collectivités a1 a2, businesses b1 b2 b3, associations c1..c4, tiers-lieux d1
    /// (weights 20, 10, 5 and 10 each), general assembly `ag` of every college with
    /// quorum 1/2, simple majority and one proxy per member.
    pub fn example() -> ConsortiumState {
        let mut state = ConsortiumState::default();
        let mut commands = vec![
            found(),
            college("collectivites", 40),
            college("entreprises", 30),
            college("associations", 20),
            college("tiers-lieux", 10),
            body(
                "ag",
                &[
                    "collectivites",
                    "entreprises",
                    "associations",
                    "tiers-lieux",
                ],
                (1, 2),
                Majority::Simple,
                1,
            ),
        ];
        for (member, college) in [
            ("a1", "collectivites"),
            ("a2", "collectivites"),
            ("b1", "entreprises"),
            ("b2", "entreprises"),
            ("b3", "entreprises"),
            ("c1", "associations"),
            ("c2", "associations"),
            ("c3", "associations"),
            ("c4", "associations"),
            ("d1", "tiers-lieux"),
        ] {
            commands.extend(admitted(member, college));
        }
        run(&mut state, commands);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;

    fn when(
        state: &ConsortiumState,
        command: ConsortiumCommand,
    ) -> Result<Vec<ConsortiumEvent>, ConsortiumError> {
        Consortium::decide(&command, state)
    }

    #[test]
    fn founding_records_the_consortium_once() {
        let events = when(&ConsortiumState::default(), found()).unwrap();
        let [ConsortiumEvent::Founded(founded)] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(founded.consortium_id, id("consortium").to_string());
        assert_eq!(founded.territory[0].code, "11");
        let state = given(&events);
        assert_eq!(
            when(&state, found()),
            Err(ConsortiumError::AlreadyFounded(
                id("consortium").to_string()
            ))
        );
    }

    #[test]
    fn nothing_happens_to_a_consortium_not_founded() {
        assert_eq!(
            when(&ConsortiumState::default(), college("x", 1)),
            Err(ConsortiumError::NotFound)
        );
    }

    #[test]
    fn a_college_is_defined_redefined_and_an_identical_definition_changes_nothing() {
        let mut state = ConsortiumState::default();
        run(&mut state, vec![found(), college("entreprises", 30)]);
        assert_eq!(state.colleges["entreprises"].weight, 30);
        assert_eq!(when(&state, college("entreprises", 30)), Ok(vec![]));
        run(&mut state, vec![college("entreprises", 25)]);
        assert_eq!(state.colleges["entreprises"].weight, 25);
    }

    #[test]
    fn a_body_needs_known_colleges_and_a_new_code() {
        let mut state = ConsortiumState::default();
        run(&mut state, vec![found(), college("a", 1)]);
        assert_eq!(
            when(
                &state,
                body("ag", &["a", "nope"], (1, 2), Majority::Simple, 1)
            ),
            Err(ConsortiumError::UnknownCollege {
                field: "college_codes[1]".into(),
                code: "nope".into()
            })
        );
        run(
            &mut state,
            vec![body("ag", &["a"], (1, 2), Majority::Absolute, 2)],
        );
        assert_eq!(state.bodies["ag"].rules.majority, Majority::Absolute);
        assert_eq!(
            when(&state, body("ag", &["a"], (1, 2), Majority::Simple, 1)),
            Err(ConsortiumError::BodyExists("ag".into()))
        );
    }

    #[test]
    fn an_application_names_a_known_college_and_is_not_duplicated() {
        let mut state = ConsortiumState::default();
        run(&mut state, vec![found(), college("a", 1)]);
        let apply = |college: &str| ConsortiumChange::Apply {
            member_id: id("m"),
            college: college.into(),
            now: now(),
        };
        assert_eq!(
            when(&state, apply("zz").into()),
            Err(ConsortiumError::UnknownCollege {
                field: "college_code".into(),
                code: "zz".into()
            })
        );
        run(&mut state, vec![apply("a").into()]);
        assert_eq!(
            when(&state, apply("a").into()),
            Err(ConsortiumError::AlreadyMember(id("m").to_string()))
        );
        run(
            &mut state,
            vec![ConsortiumChange::Admit {
                member_id: id("m"),
                now: now(),
            }
            .into()],
        );
        assert!(state.is_admitted(&id("m").to_string()));
        assert_eq!(
            when(&state, apply("a").into()),
            Err(ConsortiumError::AlreadyMember(id("m").to_string()))
        );
    }

    #[test]
    fn only_applicants_are_admitted_or_refused_and_refused_ones_may_apply_again() {
        let mut state = ConsortiumState::default();
        run(&mut state, vec![found(), college("a", 1)]);
        let admit = ConsortiumChange::Admit {
            member_id: id("m"),
            now: now(),
        };
        assert_eq!(
            when(&state, admit.clone().into()),
            Err(ConsortiumError::UnknownMember(id("m").to_string()))
        );
        run(
            &mut state,
            vec![
                ConsortiumChange::Apply {
                    member_id: id("m"),
                    college: "a".into(),
                    now: now(),
                }
                .into(),
                ConsortiumChange::Refuse {
                    member_id: id("m"),
                    reason: "hors territoire".into(),
                    now: now(),
                }
                .into(),
            ],
        );
        assert_eq!(
            state.members[&id("m").to_string()].status,
            MembershipStatus::Refused
        );
        assert_eq!(
            when(&state, admit.into()),
            Err(ConsortiumError::NotApplicant(id("m").to_string()))
        );
        run(
            &mut state,
            vec![ConsortiumChange::Apply {
                member_id: id("m"),
                college: "a".into(),
                now: now(),
            }
            .into()],
        );
        assert_eq!(
            state.members[&id("m").to_string()].status,
            MembershipStatus::Applied
        );
    }

    #[test]
    fn only_admitted_members_withdraw_and_withdrawn_members_are_not_admitted() {
        let mut state = example();
        let a1 = id("a1").to_string();
        run(
            &mut state,
            vec![ConsortiumChange::Withdraw {
                member_id: id("a1"),
                reason: String::new(),
                now: now(),
            }
            .into()],
        );
        assert!(!state.is_admitted(&a1));
        assert_eq!(
            when(
                &state,
                ConsortiumChange::Withdraw {
                    member_id: id("a1"),
                    reason: String::new(),
                    now: now()
                }
                .into()
            ),
            Err(ConsortiumError::NotAdmitted(a1))
        );
        // The collectivités' 40 now rest on a2 alone.
        let electorate = state.electorate(&["collectivites".into()]);
        assert_eq!(
            electorate.weight_of(&id("a2").to_string()),
            Ratio::new(40, 1)
        );
    }

    #[test]
    fn a_representative_is_appointed_then_replaced_with_the_previous_one_recorded() {
        let mut state = example();
        let appoint = |person: &str| ConsortiumChange::AppointRepresentative {
            member_id: id("b1"),
            person_id: id(person),
            now: now(),
        };
        run(&mut state, vec![appoint("alice").into()]);
        let events = when(&state, appoint("bob").into()).unwrap();
        let [ConsortiumEvent::RepresentativeAppointed(e)] = &events[..] else {
            panic!()
        };
        assert_eq!(e.previous_person_id, id("alice").to_string());
        assert_eq!(when(&state, appoint("alice").into()), Ok(vec![]));
        let not_member = ConsortiumChange::AppointRepresentative {
            member_id: id("stranger"),
            person_id: id("alice"),
            now: now(),
        };
        assert_eq!(
            when(&state, not_member.into()),
            Err(ConsortiumError::UnknownMember(id("stranger").to_string()))
        );
    }

    #[test]
    fn the_electorate_shares_each_college_weight_among_its_admitted_members() {
        let state = example();
        let all: Vec<String> = [
            "collectivites",
            "entreprises",
            "associations",
            "tiers-lieux",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        let electorate = state.electorate(&all);
        assert_eq!(electorate.voters.len(), 10);
        assert_eq!(
            electorate.weight_of(&id("a1").to_string()),
            Ratio::new(20, 1)
        );
        assert_eq!(
            electorate.weight_of(&id("b3").to_string()),
            Ratio::new(10, 1)
        );
        assert_eq!(
            electorate.weight_of(&id("c2").to_string()),
            Ratio::new(5, 1)
        );
        assert_eq!(electorate.total_rights(), Ratio::new(100, 1));
        // A body of two colleges only has their members and their weights.
        let copil = state.electorate(&["collectivites".into(), "tiers-lieux".into()]);
        assert_eq!(copil.voters.len(), 3);
        assert_eq!(copil.total_rights(), Ratio::new(50, 1));
    }
}
