//! The test scenario shared by the projection tests: real protobuf payloads of
//! the three contexts, across the communes of one real EPCI (CC du Val
//! d'Argent, 246800395: Lièpvre 68185 pop. 1,632; Rombach-le-Franc 68283 pop.
//! 775; Sainte-Croix-aux-Mines 68294 pop. 1,742; Sainte-Marie-aux-Mines 68298
//! pop. 4,851; 9,000 inhabitants in all), as envelopes or appended to real
//! event stores, and a gRPC harness.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, FixedClock, StoreOptions,
};
use maillage_projections::time::{system_time, timestamp};
use maillage_proto::v1 as pb;
use prost::{Message, Name};

pub const EPCI: &str = "246800395";
pub const LIEPVRE: &str = "68185";
pub const ROMBACH: &str = "68283";
pub const SAINTE_CROIX: &str = "68294";
pub const SAINTE_MARIE: &str = "68298";
pub const COLMAR: &str = "68066";

pub const E1: &str = "0190a000-0000-7000-8000-0000000000e1"; // élu, maire of Lièpvre
pub const E2: &str = "0190a000-0000-7000-8000-0000000000e2"; // élu, adjoint of Sainte-Marie; erased later
pub const E3: &str = "0190a000-0000-7000-8000-0000000000e3"; // élu in Rombach, never contacted
pub const E4: &str = "0190a000-0000-7000-8000-0000000000e4"; // élu in Colmar (outside)
pub const B1: &str = "0190a000-0000-7000-8000-0000000000b1"; // TPE in Sainte-Marie
pub const B2: &str = "0190a000-0000-7000-8000-0000000000b2"; // PME in Lièpvre, never contacted
pub const P1: &str = "0190a000-0000-7000-8000-0000000000f1"; // inhabitant of Sainte-Croix
pub const L1: &str = "0190a000-0000-7000-8000-0000000000c1"; // the collectivité, in Sainte-Marie
pub const I1: &str = "0190a000-0000-7000-8000-000000000101";
pub const I2: &str = "0190a000-0000-7000-8000-000000000102";
pub const I3: &str = "0190a000-0000-7000-8000-000000000103";
pub const A1: &str = "0190a000-0000-7000-8000-0000000000a1"; // roundtable, held
pub const A2: &str = "0190a000-0000-7000-8000-0000000000a2"; // cancelled
pub const S1: &str = "0190a000-0000-7000-8000-000000000051";
pub const C1: &str = "0190a000-0000-7000-8000-0000000000c0";
pub const M1: &str = "0190a000-0000-7000-8000-0000000000d1";
pub const R1: &str = "0190a000-0000-7000-8000-0000000000d2";
pub const K1: &str = "0190a000-0000-7000-8000-0000000000f5"; // due day 35, overdue by day 50
pub const K2: &str = "0190a000-0000-7000-8000-0000000000f6"; // due day 60

/// 2026-03-01T00:00:00Z plus `n` days, in µs.
pub fn day(n: i64) -> i64 {
    (1_772_323_200 + n * 86_400) * 1_000_000
}

/// One event of the scenario.
#[derive(Clone)]
pub struct Ev {
    pub context: &'static str,
    pub stream: String,
    pub at: i64,
    pub actor: &'static str,
    pub event_type: String,
    pub payload: Vec<u8>,
}

pub fn ev<M: Message + Name>(
    context: &'static str,
    stream: String,
    at: i64,
    actor: &'static str,
    m: M,
) -> Ev {
    Ev {
        context,
        stream,
        at,
        actor,
        event_type: M::full_name(),
        payload: m.encode_to_vec(),
    }
}

pub fn ts(at: i64) -> Option<prost_types::Timestamp> {
    Some(timestamp(at))
}

pub fn person(id: &str, kinds: &[pb::PersonKind], commune: &str, at: i64) -> Ev {
    ev(
        "stakeholders",
        format!("stakeholder-{id}"),
        at,
        "alice",
        pb::PersonRegistered {
            stakeholder_id: id.into(),
            profile: Some(pb::SealedPersonProfile {
                sealed_given_name: vec![1, 2, 3],
                sealed_family_name: vec![4, 5, 6],
                kinds: kinds.iter().map(|k| *k as i32).collect(),
                commune_code: commune.into(),
                ..Default::default()
            }),
            registered_at: ts(at),
            registered_by: "alice".into(),
        },
    )
}

fn organisation(
    id: &str,
    details: pb::organisation_profile::Details,
    commune: &str,
    at: i64,
) -> Ev {
    ev(
        "stakeholders",
        format!("stakeholder-{id}"),
        at,
        "alice",
        pb::OrganisationRegistered {
            stakeholder_id: id.into(),
            profile: Some(pb::OrganisationProfile {
                name: "Org".into(),
                commune_code: commune.into(),
                siren: String::new(),
                details: Some(details),
            }),
            registered_at: ts(at),
            registered_by: "alice".into(),
        },
    )
}

fn mandate(id: &str, mandate_id: &str, office: pb::MandateOffice, commune: &str, at: i64) -> Ev {
    ev(
        "stakeholders",
        format!("stakeholder-{id}"),
        at,
        "alice",
        pb::MandateStarted {
            stakeholder_id: id.into(),
            mandate_id: mandate_id.into(),
            office: office as i32,
            authority: Some(pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: commune.into(),
            }),
            started_at: ts(day(-1000)),
            ended_at: None,
        },
    )
}

fn contact(
    id: &str,
    who: &[&str],
    channel: pb::InteractionChannel,
    at: i64,
    actor: &'static str,
) -> Ev {
    ev(
        "stakeholders",
        format!("interaction-{id}"),
        at,
        actor,
        pb::InteractionLogged {
            axis_ids: Default::default(),
            topics: Default::default(),
            interaction_id: id.into(),
            participants: who
                .iter()
                .map(|w| pb::InteractionParticipant {
                    stakeholder_id: (*w).into(),
                    r#type: if w.ends_with("b1") || w.ends_with("b2") || w.ends_with("c1") {
                        pb::StakeholderType::Organisation as i32
                    } else {
                        pb::StakeholderType::Person as i32
                    },
                })
                .collect(),
            channel: channel as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: ts(at),
            sealed_subject: vec![9, 9, 9],
            sealed_notes: vec![],
            themes: vec![pb::InteractionTheme::TiersLieuxKinds as i32],
            follow_ups: vec![],
            logged_at: ts(at),
            facilitator: actor.into(),
        },
    )
}

fn option(id: &str) -> pb::SurveyOption {
    pb::SurveyOption {
        option_id: id.into(),
        label: id.to_uppercase(),
    }
}

fn response(n: u8, who: pb::survey_respondent::Who, q1: &str, q2: i32, q3: &[&str], at: i64) -> Ev {
    use pb::survey_answer::Value;
    ev(
        "engagement",
        format!("survey-{S1}"),
        at,
        "web",
        pb::SurveyResponseSubmitted {
            survey_id: S1.into(),
            response_id: format!("0190a000-0000-7000-8000-0000000005{n:02}"),
            respondent: Some(pb::SurveyRespondent { who: Some(who) }),
            respondent_token_hash: vec![],
            answers: vec![
                pb::SurveyAnswer {
                    question_id: "q1".into(),
                    value: Some(Value::Choice(q1.into())),
                },
                pb::SurveyAnswer {
                    question_id: "q2".into(),
                    value: Some(Value::Scale(q2)),
                },
                pb::SurveyAnswer {
                    question_id: "q3".into(),
                    value: Some(Value::Ranking(pb::SurveyOptionList {
                        option_ids: q3.iter().map(|o| (*o).into()).collect(),
                    })),
                },
            ],
            submitted_at: ts(at),
        },
    )
}

fn anonymous(audience: pb::EngagementAudience, commune: &str) -> pb::survey_respondent::Who {
    pb::survey_respondent::Who::Anonymous(pb::AnonymousParticipant {
        audience: audience as i32,
        commune_code: commune.into(),
    })
}

fn ratio(n: u64, d: u64) -> Option<pb::WeightRatio> {
    Some(pb::WeightRatio {
        numerator: n.to_string(),
        denominator: d.to_string(),
    })
}

/// The whole scenario, in the order the story happened (`at` increasing per context).
pub fn scenario() -> Vec<Ev> {
    use pb::organisation_profile::Details;
    let s = "stakeholders";
    let e = "engagement";
    let g = "governance";
    let mut events = vec![
        person(E1, &[pb::PersonKind::ElectedOfficial], LIEPVRE, day(1)),
        mandate(E1, "m1", pb::MandateOffice::Maire, LIEPVRE, day(1)),
        person(E2, &[pb::PersonKind::ElectedOfficial], SAINTE_MARIE, day(1)),
        mandate(E2, "m2", pb::MandateOffice::Adjoint, SAINTE_MARIE, day(1)),
        person(E3, &[pb::PersonKind::ElectedOfficial], ROMBACH, day(2)),
        person(E4, &[pb::PersonKind::ElectedOfficial], COLMAR, day(2)),
        organisation(
            B1,
            Details::Business(pb::BusinessDetails {
                size: pb::BusinessSize::Tpe as i32,
                sector: "menuiserie".into(),
            }),
            SAINTE_MARIE,
            day(2),
        ),
        organisation(
            B2,
            Details::Business(pb::BusinessDetails {
                size: pb::BusinessSize::Pme as i32,
                sector: String::new(),
            }),
            LIEPVRE,
            day(2),
        ),
        person(P1, &[pb::PersonKind::Inhabitant], SAINTE_CROIX, day(3)),
        organisation(
            L1,
            Details::LocalAuthority(pb::LocalAuthorityDetails {
                authority: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Epci as i32,
                    code: EPCI.into(),
                }),
            }),
            SAINTE_MARIE,
            day(3),
        ),
        contact(
            I1,
            &[E1, B1],
            pb::InteractionChannel::InPerson,
            day(10),
            "alice",
        ),
        contact(I2, &[E2], pb::InteractionChannel::Email, day(12), "alice"),
        contact(I3, &[E4], pb::InteractionChannel::Phone, day(20), "bob"),
        ev(
            s,
            format!("interaction-{I1}"),
            day(25),
            "bob",
            pb::InteractionCorrected {
                interaction_id: I1.into(),
                sealed_reason: vec![7],
                channel: Some(pb::InteractionChannel::Phone as i32),
                corrected_at: ts(day(25)),
                corrected_by: "bob".into(),
                ..Default::default()
            },
        ),
        ev(
            s,
            format!("stakeholder-{E2}"),
            day(40),
            "admin",
            pb::PersonErased {
                stakeholder_id: E2.into(),
                erased_at: ts(day(40)),
                reason: "RGPD art. 17 #1".into(),
                interaction_ids: vec![I2.into()],
                erased_by: "admin".into(),
            },
        ),
        // Engagement: a roundtable in Sainte-Marie, a cancelled meeting, a survey.
        ev(
            e,
            format!("action-{A1}"),
            day(5),
            "alice",
            pb::ActionPlanned {
                axis_ids: Vec::new(),
                approval_required: false,
                topics: Default::default(),
                action_id: A1.into(),
                kind: pb::ActionKind::Roundtable as i32,
                title: "Table ronde".into(),
                description: String::new(),
                themes: vec![
                    pb::EngagementTheme::BusinessConvergence as i32,
                    pb::EngagementTheme::Telework as i32,
                ],
                audiences: vec![
                    pb::EngagementAudience::Elus as i32,
                    pb::EngagementAudience::Businesses as i32,
                ],
                venue: Some(pb::ActionVenue {
                    place: Some(pb::action_venue::Place::CommuneCode(SAINTE_MARIE.into())),
                }),
                organiser_ids: vec![L1.into()],
                planned_by: "alice".into(),
                target_territory: None,
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(6),
            "alice",
            pb::ActionScheduled {
                action_id: A1.into(),
                starts_at: ts(day(15)),
                ends_at: ts(day(15) + 7_200_000_000),
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(6),
            "alice",
            pb::ActionInvitationsSent {
                action_id: A1.into(),
                stakeholder_ids: vec![E1.into(), E2.into(), B1.into(), B2.into()],
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(7),
            "alice",
            pb::ActionInvitationAnswered {
                action_id: A1.into(),
                stakeholder_id: E1.into(),
                answer: pb::ActionInvitationAnswer::Accepted as i32,
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(7),
            "alice",
            pb::ActionInvitationAnswered {
                action_id: A1.into(),
                stakeholder_id: E2.into(),
                answer: pb::ActionInvitationAnswer::Accepted as i32,
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(8),
            "alice",
            pb::ActionInvitationAnswered {
                action_id: A1.into(),
                stakeholder_id: B1.into(),
                answer: pb::ActionInvitationAnswer::Accepted as i32,
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(8),
            "alice",
            pb::ActionInvitationAnswered {
                action_id: A1.into(),
                stakeholder_id: B2.into(),
                answer: pb::ActionInvitationAnswer::Declined as i32,
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(15),
            "alice",
            pb::ActionHeld {
                action_id: A1.into(),
                held_at: ts(day(15)),
            },
        ),
        ev(
            e,
            format!("action-{A1}"),
            day(15),
            "alice",
            pb::ActionAttendanceRecorded {
                action_id: A1.into(),
                attendee_ids: vec![E1.into(), B1.into()],
                head_counts: vec![pb::AudienceHeadCount {
                    audience: pb::EngagementAudience::Population as i32,
                    count: 12,
                }],
                named_total: 2,
                anonymous_total: 12,
            },
        ),
        ev(
            e,
            format!("action-{A2}"),
            day(9),
            "alice",
            pb::ActionPlanned {
                axis_ids: Vec::new(),
                approval_required: false,
                topics: Default::default(),
                action_id: A2.into(),
                kind: pb::ActionKind::AwarenessPublicMeeting as i32,
                title: "Réunion publique".into(),
                description: String::new(),
                themes: vec![pb::EngagementTheme::QuelsTla as i32],
                audiences: vec![pb::EngagementAudience::Population as i32],
                venue: Some(pb::ActionVenue {
                    place: Some(pb::action_venue::Place::CommuneCode(LIEPVRE.into())),
                }),
                organiser_ids: vec![],
                planned_by: "alice".into(),
                target_territory: None,
            },
        ),
        ev(
            e,
            format!("action-{A2}"),
            day(11),
            "alice",
            pb::ActionCancelled {
                action_id: A2.into(),
                reason: "météo".into(),
            },
        ),
        ev(
            e,
            format!("survey-{S1}"),
            day(11),
            "alice",
            pb::SurveyDrafted {
                axis_ids: Vec::new(),
                campaign_action_ids: Vec::new(),
                topics: Default::default(),
                survey_id: S1.into(),
                title: "Vos attentes".into(),
                description: String::new(),
                campaign_action_id: String::new(),
                themes: vec![pb::EngagementTheme::QuelsTla as i32],
                questions: vec![
                    pb::SurveyQuestion {
                        question_id: "q1".into(),
                        text: "Quel lieu ?".into(),
                        required: true,
                        kind: Some(pb::survey_question::Kind::SingleChoice(
                            pb::SurveySingleChoice {
                                options: vec![option("cowork"), option("fablab")],
                            },
                        )),
                    },
                    pb::SurveyQuestion {
                        question_id: "q2".into(),
                        text: "Intérêt ?".into(),
                        required: true,
                        kind: Some(pb::survey_question::Kind::Scale(pb::SurveyScale {
                            min: 1,
                            max: 5,
                            min_label: String::new(),
                            max_label: String::new(),
                        })),
                    },
                    pb::SurveyQuestion {
                        question_id: "q3".into(),
                        text: "Priorités".into(),
                        required: true,
                        kind: Some(pb::survey_question::Kind::Ranking(pb::SurveyRanking {
                            options: vec![option("a"), option("b"), option("c")],
                        })),
                    },
                ],
                slug: String::new(),
            },
        ),
        ev(
            e,
            format!("survey-{S1}"),
            day(13),
            "alice",
            pb::SurveyOpened {
                campaign_held_action_ids: Vec::new(),
                campaign_override_reason: String::new(),
                campaign_overridden_by: String::new(),
                survey_id: S1.into(),
                opened_at: ts(day(13)),
            },
        ),
        response(
            1,
            anonymous(pb::EngagementAudience::Population, LIEPVRE),
            "cowork",
            4,
            &["a", "b", "c"],
            day(14),
        ),
        response(
            2,
            anonymous(pb::EngagementAudience::Population, ROMBACH),
            "fablab",
            5,
            &["b", "a", "c"],
            day(16),
        ),
        response(
            3,
            pb::survey_respondent::Who::StakeholderId(B1.into()),
            "cowork",
            3,
            &["a", "c", "b"],
            day(18),
        ),
        ev(
            e,
            format!("survey-{S1}"),
            day(30),
            "alice",
            pb::SurveyClosed {
                survey_id: S1.into(),
                closed_at: ts(day(30)),
                response_count: 3,
            },
        ),
        // Governance: the consortium, a vote, two commitments.
        ev(
            g,
            format!("consortium-{C1}"),
            day(4),
            "sec",
            pb::ConsortiumFounded {
                consortium_id: C1.into(),
                name: "Consortium Val d'Argent".into(),
                founding_collectivite_id: L1.into(),
                territory: vec![pb::TerritoryRef {
                    level: pb::TerritoryLevel::Epci as i32,
                    code: EPCI.into(),
                }],
                purpose: String::new(),
                charter: String::new(),
                founded_at: ts(day(4)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(4),
            "sec",
            pb::CollegeDefined {
                consortium_id: C1.into(),
                college_code: "collectivites".into(),
                name: "Collectivités".into(),
                weight: 60,
                defined_at: ts(day(4)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(4),
            "sec",
            pb::CollegeDefined {
                consortium_id: C1.into(),
                college_code: "entreprises".into(),
                name: "Entreprises".into(),
                weight: 40,
                defined_at: ts(day(4)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(4),
            "sec",
            pb::BodyEstablished {
                consortium_id: C1.into(),
                body_code: "ag".into(),
                kind: pb::BodyKind::GeneralAssembly as i32,
                name: "Assemblée générale".into(),
                college_codes: vec!["collectivites".into(), "entreprises".into()],
                rules: Some(pb::BodyRules {
                    quorum: Some(pb::ShareFraction {
                        numerator: 1,
                        denominator: 2,
                    }),
                    majority: pb::MajorityRule::Simple as i32,
                    max_proxies_per_member: 1,
                }),
                established_at: ts(day(4)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(5),
            "sec",
            pb::MembershipApplied {
                consortium_id: C1.into(),
                member_id: L1.into(),
                college_code: "collectivites".into(),
                applied_at: ts(day(5)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(5),
            "sec",
            pb::MemberAdmitted {
                consortium_id: C1.into(),
                member_id: L1.into(),
                college_code: "collectivites".into(),
                admitted_at: ts(day(5)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(6),
            "sec",
            pb::MembershipApplied {
                consortium_id: C1.into(),
                member_id: B1.into(),
                college_code: "entreprises".into(),
                applied_at: ts(day(6)),
            },
        ),
        ev(
            g,
            format!("consortium-{C1}"),
            day(7),
            "sec",
            pb::MemberAdmitted {
                consortium_id: C1.into(),
                member_id: B1.into(),
                college_code: "entreprises".into(),
                admitted_at: ts(day(7)),
            },
        ),
        ev(
            g,
            format!("meeting-{M1}"),
            day(20),
            "sec",
            pb::MeetingConvened {
                meeting_id: M1.into(),
                consortium_id: C1.into(),
                body_code: "ag".into(),
                rules: None,
                college_codes: vec!["collectivites".into(), "entreprises".into()],
                scheduled_at: ts(day(30)),
                venue: Some(pb::MeetingVenue {
                    commune_code: SAINTE_MARIE.into(),
                    place: "Mairie".into(),
                    online: false,
                }),
                agenda: vec![pb::MeetingAgendaItem {
                    number: 1,
                    title: "Plan d'action".into(),
                }],
                convened_at: ts(day(20)),
            },
        ),
        ev(
            g,
            format!("meeting-{M1}"),
            day(30),
            "sec",
            pb::MeetingAttendanceRecorded {
                meeting_id: M1.into(),
                present_member_ids: vec![L1.into(), B1.into()],
                proxies: vec![],
                recorded_at: ts(day(30)),
            },
        ),
        ev(
            g,
            format!("meeting-{M1}"),
            day(30),
            "sec",
            pb::ResolutionTabled {
                meeting_id: M1.into(),
                resolution_id: R1.into(),
                agenda_item: 1,
                title: "Adopter le plan".into(),
                text: String::new(),
                electorate: vec![],
                rights: vec![],
                tabled_at: ts(day(30)),
            },
        ),
        ev(
            g,
            format!("meeting-{M1}"),
            day(30),
            "sec",
            pb::VoteRecorded {
                meeting_id: M1.into(),
                resolution_id: R1.into(),
                member_id: L1.into(),
                choice: pb::VoteChoice::For as i32,
                proxy_holder_id: String::new(),
                recorded_at: ts(day(30)),
            },
        ),
        ev(
            g,
            format!("meeting-{M1}"),
            day(30),
            "sec",
            pb::VoteRecorded {
                meeting_id: M1.into(),
                resolution_id: R1.into(),
                member_id: B1.into(),
                choice: pb::VoteChoice::Against as i32,
                proxy_holder_id: String::new(),
                recorded_at: ts(day(30)),
            },
        ),
        // The tally by hand: L1 carries the collectivités' 60 alone, B1 the
        // entreprises' 40; present 100 of 100 >= 1/2; for 60 > against 40: adopted.
        ev(
            g,
            format!("meeting-{M1}"),
            day(30),
            "sec",
            pb::ResolutionVoteClosed {
                meeting_id: M1.into(),
                resolution_id: R1.into(),
                outcome: pb::ResolutionStatus::Adopted as i32,
                tally: Some(pb::VoteTally {
                    total_rights: ratio(100, 1),
                    present_or_represented: ratio(100, 1),
                    quorum: Some(pb::ShareFraction {
                        numerator: 1,
                        denominator: 2,
                    }),
                    quorum_reached: true,
                    majority: pb::MajorityRule::Simple as i32,
                    votes_for: ratio(60, 1),
                    votes_against: ratio(40, 1),
                    abstentions: ratio(0, 1),
                    votes_cast: ratio(100, 1),
                    majority_reached: true,
                    count_for: 1,
                    count_against: 1,
                    count_abstain: 0,
                    members_present: 2,
                    members_represented: 0,
                    ballots: vec![],
                    rights: vec![],
                }),
                closed_at: ts(day(30)),
            },
        ),
        ev(
            g,
            format!("commitment-{K1}"),
            day(31),
            "sec",
            pb::CommitmentMade {
                axis_ids: Default::default(),
                topic: Default::default(),
                commitment_id: K1.into(),
                consortium_id: C1.into(),
                title: "Étude de faisabilité".into(),
                owner_member_id: L1.into(),
                due_at: ts(day(35)),
                theme: "telework".into(),
                origin: Some(pb::commitment_made::Origin::Resolution(pb::ResolutionRef {
                    meeting_id: M1.into(),
                    resolution_id: R1.into(),
                })),
                made_at: ts(day(31)),
            },
        ),
        ev(
            g,
            format!("commitment-{K1}"),
            day(33),
            "sec",
            pb::CommitmentProgressReported {
                commitment_id: K1.into(),
                percent: 50,
                note: String::new(),
                reported_at: ts(day(33)),
            },
        ),
        ev(
            g,
            format!("commitment-{K2}"),
            day(31),
            "sec",
            pb::CommitmentMade {
                axis_ids: Default::default(),
                topic: Default::default(),
                commitment_id: K2.into(),
                consortium_id: C1.into(),
                title: "Ouverture".into(),
                owner_member_id: B1.into(),
                due_at: ts(day(60)),
                theme: "open".into(),
                origin: None,
                made_at: ts(day(31)),
            },
        ),
    ];
    // Each context's log is in time order (stable for equal instants).
    events.sort_by_key(|event| event.at);
    events
}

/// The scenario as each context's envelopes: dense positions, stream versions.
pub fn envelopes(events: &[Ev]) -> BTreeMap<&'static str, Vec<pb::EventEnvelope>> {
    let mut logs = BTreeMap::<&'static str, Vec<pb::EventEnvelope>>::new();
    let mut versions = BTreeMap::<String, u64>::new();
    for (index, event) in events.iter().enumerate() {
        let log = logs.entry(event.context).or_default();
        let version = versions.entry(event.stream.clone()).or_default();
        *version += 1;
        log.push(pb::EventEnvelope {
            context: event.context.into(),
            position: log.len() as u64 + 1,
            stream_id: event.stream.clone(),
            version: *version,
            event_id: format!("0190a000-0000-7000-9000-{index:012}"),
            event_type: event.event_type.clone(),
            payload: event.payload.clone(),
            metadata: Some(pb::EventMetadata {
                actor: event.actor.into(),
                ..Default::default()
            }),
            recorded_at: Some(timestamp(event.at)),
            prev_hash: vec![0; 32],
            hash: vec![0; 32],
        });
    }
    logs
}

/// The three command services' logs: real stores in `dir`, on one fixed clock.
pub struct Logs {
    pub clock: Arc<FixedClock>,
    pub stakeholders: EventStore,
    pub engagement: EventStore,
    pub governance: EventStore,
}

impl Logs {
    pub fn open(dir: &Path) -> Logs {
        let clock = Arc::new(FixedClock::new(SystemTime::UNIX_EPOCH));
        let open = |name: &str| {
            EventStore::open(
                &dir.join(name),
                StoreOptions {
                    clock: clock.clone(),
                    ..StoreOptions::default()
                },
            )
            .expect("open store")
        };
        Logs {
            stakeholders: open("stakeholders"),
            engagement: open("engagement"),
            governance: open("governance"),
            clock,
        }
    }

    pub fn store(&self, context: &str) -> &EventStore {
        match context {
            "stakeholders" => &self.stakeholders,
            "engagement" => &self.engagement,
            _ => &self.governance,
        }
    }

    pub fn pairs(&self) -> [(&'static str, EventStore); 3] {
        [
            ("stakeholders", self.stakeholders.clone()),
            ("engagement", self.engagement.clone()),
            ("governance", self.governance.clone()),
        ]
    }

    /// Appends `events` in order, each recorded at its `at`.
    pub async fn append(&self, events: &[Ev]) {
        for event in events {
            self.clock.set(system_time(event.at));
            self.store(event.context)
                .append(
                    &event.stream,
                    ExpectedVersion::Any,
                    vec![EventData {
                        event_id: uuid::Uuid::now_v7(),
                        event_type: event.event_type.clone(),
                        payload: event.payload.clone(),
                        metadata: EventMetadata {
                            actor: event.actor.into(),
                            ..Default::default()
                        },
                    }],
                )
                .await
                .expect("append");
        }
    }

    /// The head position of each log.
    pub fn heads(&self) -> BTreeMap<&'static str, u64> {
        self.pairs()
            .into_iter()
            .map(|(context, store)| (context, store.head().position))
            .collect()
    }
}

/// The scenario appended to real stores in `dir`, its envelopes by context,
/// and the model a replay of them in memory builds (the reference answers).
pub async fn scenario_and_its_replay(
    dir: &Path,
) -> (
    Logs,
    BTreeMap<&'static str, Vec<pb::EventEnvelope>>,
    maillage_projections::model::ReadModel,
) {
    let events = scenario();
    let logs = Logs::open(dir);
    logs.append(&events).await;
    let envelopes = envelopes(&events);
    let mut reference = maillage_projections::model::ReadModel::for_replay();
    for envelope in envelopes.values().flatten() {
        reference.apply(envelope);
    }
    (logs, envelopes, reference)
}

/// A live projection on a sled read-model database in `path`, fed each log
/// of `envelopes` `batch` events at a time, as the consumer does.
pub fn followed_on_sled(
    path: &Path,
    envelopes: &BTreeMap<&'static str, Vec<pb::EventEnvelope>>,
    batch: usize,
) -> maillage_projections::LiveProjection {
    let storage = maillage_projections::SledStorage::open(path).expect("open the read models");
    let live =
        maillage_projections::LiveProjection::open(Arc::new(storage)).expect("open the projection");
    for log in envelopes.values() {
        for events in log.chunks(batch) {
            live.apply_batch(events).expect("apply a batch");
        }
    }
    live
}

/// Removes every row of `table` from the current tree of the read-model
/// database of `storage`; says how many there were.
pub fn remove_rows(storage: &maillage_projections::SledStorage, table: &str) -> usize {
    let tree = storage
        .db()
        .open_tree(maillage_projections::storage::TREE)
        .expect("the current tree");
    let keys: Vec<_> = tree
        .scan_prefix(maillage_projections::model::storage_key(table, ""))
        .keys()
        .map(|key| key.expect("a stored key"))
        .collect();
    for key in &keys {
        tree.remove(key).expect("remove a row");
    }
    keys.len()
}
