//! The rebuild bench's generator: realistic protobuf payloads of the three
//! contexts appended to real event stores (sled), deterministic for a seed.
//!
//! A [`Plan`] says where (the communes of an EPCI, or of every EPCI of a
//! région), over how long (`recorded_at` spread over one or more years
//! ending 2026-12-31, by a fixed clock) and how much (events, stakeholders).
//! Stakeholders register in the first 30 days (2/3 persons, 1 in 8 of them
//! élus with a mandate, 1/3 organisations; the first ones one per EPCI, so
//! that every EPCI of the plan has some); then, in slices of about 1,000
//! events so that the three logs advance together: contacts (45 %), a
//! roundtable of 200 events (20 %), survey responses (35 %); one consortium
//! over the plan's territory. Every id and byte comes from the seed: two
//! runs of the same plan write the same logs (event ids, payloads, times).
//!
//! Used by `examples/rebuild_bench` and by `tests/bench_generator.rs`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use maillage_eventstore::{
    EventData, EventMetadata, EventStore, ExpectedVersion, FixedClock, PendingAppend, StoreOptions,
};
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryLevel};
use prost::{Message, Name};
use uuid::Uuid;

/// CA du Pays Basque, the default territory.
pub const EPCI: &str = "200067106";
/// 2027-01-01T00:00:00Z, in seconds: the generated years end there.
pub const END: u64 = 1_798_761_600;
/// A year of the plan, in seconds.
pub const YEAR_SECONDS: u64 = 365 * 86_400;
/// Appends in flight before waiting for their outcomes.
const IN_FLIGHT: usize = 2_048;
/// Consortium memberships per append.
const MEMBERSHIPS_PER_APPEND: usize = 500;
/// The default seed (the bench's figures before seeds were an option).
pub const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// What to generate.
pub struct Plan {
    /// Events in the three logs (about: the last slice may pass it).
    pub events: u64,
    /// Stakeholders registered.
    pub stakeholders: usize,
    /// The territory the consortium covers and the report is asked of.
    pub territory: pb::TerritoryRef,
    /// The EPCIs (SIREN) of the plan, each with its member communes.
    pub epcis: Vec<(String, Vec<String>)>,
    /// First second of the generated time (1 January of the first year).
    pub start: u64,
    /// The seed of every random draw and id.
    pub seed: u64,
}

impl Plan {
    /// The communes of `epci` over `years` years ending 2026-12-31.
    pub fn epci(cog: &Territory, epci: &str, years: u64) -> anyhow::Result<Self> {
        let found = cog
            .epci(epci)
            .ok_or_else(|| anyhow::anyhow!("EPCI {epci} is not in the COG"))?;
        Ok(Self::new(
            pb::TerritoryLevel::Epci,
            epci,
            vec![(found.siren.clone(), found.members.clone())],
            years,
        ))
    }

    /// Every EPCI of région `code` (its communes that belong to one) over
    /// `years` years ending 2026-12-31.
    pub fn region(cog: &Territory, code: &str, years: u64) -> anyhow::Result<Self> {
        let communes = cog
            .communes_of_region(code)
            .ok_or_else(|| anyhow::anyhow!("région {code} is not in the COG"))?;
        let mut epcis: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for commune in communes {
            if let Some(epci) = &commune.epci {
                epcis
                    .entry(epci.clone())
                    .or_default()
                    .push(commune.code.clone());
            }
        }
        anyhow::ensure!(!epcis.is_empty(), "région {code} has no EPCI");
        Ok(Self::new(
            pb::TerritoryLevel::Region,
            code,
            epcis.into_iter().collect(),
            years,
        ))
    }

    fn new(
        level: pb::TerritoryLevel,
        code: &str,
        epcis: Vec<(String, Vec<String>)>,
        years: u64,
    ) -> Self {
        Self {
            events: 1_000_000,
            stakeholders: 4_000,
            territory: pb::TerritoryRef {
                level: level as i32,
                code: code.into(),
            },
            epcis,
            start: END - years.max(1) * YEAR_SECONDS,
            seed: SEED,
        }
    }

    /// Every commune of the plan.
    pub fn communes(&self) -> Vec<String> {
        self.epcis
            .iter()
            .flat_map(|(_, members)| members.iter().cloned())
            .collect()
    }

    /// The territory as the crate's reference.
    pub fn reference(&self) -> anyhow::Result<maillage_territory::TerritoryRef> {
        let level = if self.territory.level == pb::TerritoryLevel::Region as i32 {
            TerritoryLevel::Region
        } else {
            TerritoryLevel::Epci
        };
        Ok(maillage_territory::TerritoryRef::new(
            level,
            &self.territory.code,
        )?)
    }
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
pub struct Rng(pub u64);

impl Rng {
    /// The next draw.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// A random (version 4) UUID drawn from the sequence.
    fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
    fn id(&mut self) -> String {
        self.uuid().to_string()
    }
    fn event<M: Message + Name>(&mut self, message: &M, actor: &str) -> EventData {
        EventData {
            event_id: self.uuid(),
            event_type: M::full_name(),
            payload: message.encode_to_vec(),
            metadata: EventMetadata {
                actor: actor.into(),
                request_id: self.id(),
                ..Default::default()
            },
        }
    }
}

fn ts(seconds: u64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: seconds as i64,
        nanos: 0,
    })
}

/// Bytes of the record `event` becomes in `stream` (as the store encodes it).
fn record_bytes(stream: &str, event: &EventData) -> u64 {
    maillage_eventstore::record_len(stream, event) as u64
}

/// One context's log being filled: its store, clock, and appends in flight.
pub struct Writer {
    /// The log.
    pub store: EventStore,
    clock: Arc<FixedClock>,
    /// The clock's time, in seconds.
    at: u64,
    pending: Vec<PendingAppend>,
    /// Events appended.
    pub written: u64,
    /// Their record bytes ([`record_bytes`]).
    pub record_bytes: u64,
}

impl Writer {
    /// Opens (or creates) the log in `dir`.
    pub fn open(dir: &std::path::Path) -> anyhow::Result<Self> {
        let clock = Arc::new(FixedClock::new(SystemTime::UNIX_EPOCH));
        let store = EventStore::open(
            dir,
            StoreOptions {
                clock: clock.clone(),
                ..StoreOptions::default()
            },
        )?;
        Ok(Self {
            store,
            clock,
            at: 0,
            pending: Vec::new(),
            written: 0,
            record_bytes: 0,
        })
    }

    /// Queues one append, recorded at `at` (seconds; never earlier than
    /// before). The store's writer reads the clock when it commits, so the
    /// appends in flight are waited for before the clock moves: each record
    /// is recorded at its own `at`, whatever the timing.
    async fn append(
        &mut self,
        stream: String,
        at: u64,
        events: Vec<EventData>,
    ) -> anyhow::Result<()> {
        if at != self.at {
            self.drain().await?;
            self.at = at;
            self.clock
                .set(SystemTime::UNIX_EPOCH + Duration::from_secs(at));
        }
        self.written += events.len() as u64;
        self.record_bytes += events
            .iter()
            .map(|event| record_bytes(&stream, event))
            .sum::<u64>();
        let pending = self
            .store
            .submit(&stream, ExpectedVersion::Any, events)
            .await?;
        self.pending.push(pending);
        if self.pending.len() >= IN_FLIGHT {
            self.drain().await?;
        }
        Ok(())
    }

    async fn drain(&mut self) -> anyhow::Result<()> {
        for pending in self.pending.drain(..) {
            pending.outcome().await?;
        }
        Ok(())
    }
}

/// A stakeholder of the generated population.
struct Who {
    id: String,
    person: bool,
}

/// The three generated logs, by context.
pub type Logs = [(&'static str, Writer); 3];

/// Fills the three logs in `dir` (`stakeholders`, `engagement`,
/// `governance`, as `maillage up` lays out its data directory) with about
/// `plan.events` events; returns the logs.
pub async fn generate(dir: &std::path::Path, plan: &Plan) -> anyhow::Result<Logs> {
    anyhow::ensure!(plan.stakeholders > 0, "no stakeholders to generate");
    let mut rng = Rng(plan.seed.max(1));
    // Event and request ids have their own sequence, so that a message's
    // draws and its event's ids can be taken in one expression.
    let mut ids = Rng((plan.seed ^ 0x5851_f42d_4c95_7f2d).max(1));
    let communes = plan.communes();
    let mut stakeholders = Writer::open(&dir.join("stakeholders"))?;
    let mut engagement = Writer::open(&dir.join("engagement"))?;
    let mut governance = Writer::open(&dir.join("governance"))?;
    let total = plan.events;
    // The timeline: registrations in the first 30 days, the rest until the end.
    let start = plan.start;
    let at = |done: u64| start + 30 * 86_400 + done * (END - start - 31 * 86_400) / total.max(1);

    // Stakeholders: 2/3 persons (1 in 8 an élu with a commune mandate), 1/3 organisations.
    let mut people = Vec::with_capacity(plan.stakeholders);
    for n in 0..plan.stakeholders {
        let id = rng.id();
        // The first ones one per EPCI, so that every EPCI has stakeholders.
        let commune = match plan.epcis.get(n) {
            Some((_, members)) => members[rng.below(members.len())].clone(),
            None => communes[rng.below(communes.len())].clone(),
        };
        // To the hour, so that the clock moves (and the appends in flight
        // are waited for) at most 720 times.
        let registered = start + (n as u64 * 30 * 24) / plan.stakeholders as u64 * 3_600;
        let mut events = Vec::new();
        let person = n % 3 != 0;
        if person {
            let kind = match rng.below(8) {
                0 => pb::PersonKind::ElectedOfficial,
                1 | 2 => pb::PersonKind::BusinessLeader,
                3 => pb::PersonKind::AssociationMember,
                4 => pb::PersonKind::TiersLieuManager,
                _ => pb::PersonKind::Inhabitant,
            };
            events.push(ids.event(
                &pb::PersonRegistered {
                    stakeholder_id: id.clone(),
                    profile: Some(pb::SealedPersonProfile {
                        sealed_given_name: rng.bytes(48),
                        sealed_family_name: rng.bytes(48),
                        kinds: vec![kind as i32],
                        commune_code: commune.clone(),
                        sealed_email: rng.bytes(64),
                        ..Default::default()
                    }),
                    registered_at: ts(registered),
                    registered_by: "alice".into(),
                },
                "alice",
            ));
            if kind == pb::PersonKind::ElectedOfficial {
                events.push(ids.event(
                    &pb::MandateStarted {
                        stakeholder_id: id.clone(),
                        mandate_id: rng.id(),
                        office: pb::MandateOffice::ConseillerMunicipal as i32,
                        authority: Some(pb::TerritoryRef {
                            level: pb::TerritoryLevel::Commune as i32,
                            code: commune.clone(),
                        }),
                        started_at: ts(start - 600 * 86_400),
                        ended_at: None,
                    },
                    "alice",
                ));
            }
        } else {
            use pb::organisation_profile::Details;
            let details = match rng.below(4) {
                0 | 1 => Details::Business(pb::BusinessDetails {
                    size: pb::BusinessSize::Tpe as i32,
                    sector: "artisanat".into(),
                }),
                2 => Details::Association(pb::AssociationDetails {}),
                _ => Details::TiersLieu(pb::TiersLieuDetails {
                    typologies: vec![pb::TiersLieuTypology::Coworking as i32],
                    status: pb::TiersLieuStatus::Open as i32,
                }),
            };
            events.push(ids.event(
                &pb::OrganisationRegistered {
                    stakeholder_id: id.clone(),
                    profile: Some(pb::OrganisationProfile {
                        name: format!("Organisation {n}"),
                        commune_code: commune.clone(),
                        siren: String::new(),
                        details: Some(details),
                    }),
                    registered_at: ts(registered),
                    registered_by: "alice".into(),
                },
                "alice",
            ));
        }
        stakeholders
            .append(format!("stakeholder-{id}"), registered, events)
            .await?;
        people.push(Who { id, person });
    }

    // Governance: one consortium, a quarter of the organisations admitted.
    let consortium = rng.id();
    let mut events = vec![ids.event(
        &pb::ConsortiumFounded {
            consortium_id: consortium.clone(),
            name: "Consortium".into(),
            founding_collectivite_id: people[0].id.clone(),
            territory: vec![plan.territory.clone()],
            purpose: "Animer le réseau".into(),
            charter: "Charte".into(),
            founded_at: ts(start + 20 * 86_400),
        },
        "sam",
    )];
    for who in people.iter().filter(|w| !w.person).step_by(4) {
        events.push(ids.event(
            &pb::MembershipApplied {
                consortium_id: consortium.clone(),
                member_id: who.id.clone(),
                college_code: "membres".into(),
                applied_at: ts(start + 21 * 86_400),
            },
            "sam",
        ));
        events.push(ids.event(
            &pb::MemberAdmitted {
                consortium_id: consortium.clone(),
                member_id: who.id.clone(),
                college_code: "membres".into(),
                admitted_at: ts(start + 22 * 86_400),
            },
            "sam",
        ));
    }
    let mut rest = events.split_off(1);
    governance
        .append(
            format!("consortium-{consortium}"),
            start + 22 * 86_400,
            events,
        )
        .await?;
    while !rest.is_empty() {
        let next = rest.split_off(rest.len().min(MEMBERSHIPS_PER_APPEND));
        governance
            .append(
                format!("consortium-{consortium}"),
                start + 22 * 86_400,
                rest,
            )
            .await?;
        rest = next;
    }

    // Surveys: five, open throughout.
    let surveys: Vec<String> = (0..5).map(|_| rng.id()).collect();
    for survey in &surveys {
        let options = |names: &[&str]| {
            names
                .iter()
                .map(|id| pb::SurveyOption {
                    option_id: (*id).into(),
                    label: id.to_uppercase(),
                })
                .collect::<Vec<_>>()
        };
        use pb::survey_question::Kind;
        let drafted = pb::SurveyDrafted {
            slug: String::new(),
            axis_ids: Vec::new(),
            campaign_action_ids: Vec::new(),
            topics: Default::default(),
            survey_id: survey.clone(),
            title: "Vos attentes".into(),
            description: String::new(),
            campaign_action_id: String::new(),
            themes: vec![pb::EngagementTheme::QuelsTla as i32],
            questions: vec![
                pb::SurveyQuestion {
                    question_id: "q1".into(),
                    text: "Quel lieu ?".into(),
                    required: true,
                    kind: Some(Kind::SingleChoice(pb::SurveySingleChoice {
                        options: options(&["coworking", "fablab", "cafe"]),
                    })),
                },
                pb::SurveyQuestion {
                    question_id: "q2".into(),
                    text: "Intérêt".into(),
                    required: true,
                    kind: Some(Kind::Scale(pb::SurveyScale {
                        min: 1,
                        max: 5,
                        ..Default::default()
                    })),
                },
                pb::SurveyQuestion {
                    question_id: "q3".into(),
                    text: "Priorités".into(),
                    required: true,
                    kind: Some(Kind::Ranking(pb::SurveyRanking {
                        options: options(&["a", "b", "c"]),
                    })),
                },
            ],
        };
        let opened = pb::SurveyOpened {
            campaign_held_action_ids: Vec::new(),
            campaign_override_reason: String::new(),
            campaign_overridden_by: String::new(),
            survey_id: survey.clone(),
            opened_at: ts(start + 25 * 86_400),
        };
        engagement
            .append(
                format!("survey-{survey}"),
                start + 25 * 86_400,
                vec![ids.event(&drafted, "alice"), ids.event(&opened, "alice")],
            )
            .await?;
    }

    // The years: contacts (45 %), actions (20 %), survey responses (35 %), in
    // slices of 1,000 events so that the three logs advance together.
    let mut done = stakeholders.written + engagement.written + governance.written;
    while done < total {
        let when = at(done);
        // 450 contacts, one stream each, 1 in 20 corrected.
        for _ in 0..450 {
            let interaction = rng.id();
            let participants = (0..1 + rng.below(3))
                .map(|_| {
                    let who = &people[rng.below(people.len())];
                    pb::InteractionParticipant {
                        stakeholder_id: who.id.clone(),
                        r#type: if who.person {
                            pb::StakeholderType::Person as i32
                        } else {
                            pb::StakeholderType::Organisation as i32
                        },
                    }
                })
                .collect();
            let mut events = vec![ids.event(
                &pb::InteractionLogged {
                    axis_ids: Default::default(),
                    topics: Default::default(),
                    interaction_id: interaction.clone(),
                    participants,
                    channel: 1 + rng.below(6) as i32,
                    direction: pb::InteractionDirection::Outbound as i32,
                    occurred_at: ts(when),
                    sealed_subject: rng.bytes(80),
                    sealed_notes: rng.bytes(240),
                    themes: vec![1 + rng.below(8) as i32],
                    follow_ups: vec![],
                    logged_at: ts(when),
                    facilitator: "alice".into(),
                },
                "alice",
            )];
            if rng.below(20) == 0 {
                events.push(ids.event(
                    &pb::InteractionCorrected {
                        interaction_id: interaction.clone(),
                        sealed_reason: rng.bytes(60),
                        channel: Some(pb::InteractionChannel::Phone as i32),
                        corrected_at: ts(when),
                        corrected_by: "alice".into(),
                        ..Default::default()
                    },
                    "alice",
                ));
            }
            stakeholders
                .append(format!("interaction-{interaction}"), when, events)
                .await?;
        }
        // One action of 200 events: planned, scheduled, 40 invited, 40
        // answers, held, 156 attendance records.
        let action = rng.id();
        let commune = communes[rng.below(communes.len())].clone();
        let invited: Vec<String> = (0..40)
            .map(|_| people[rng.below(people.len())].id.clone())
            .collect();
        let mut events = vec![
            ids.event(
                &pb::ActionPlanned {
                    axis_ids: Vec::new(),
                    approval_required: false,
                    topics: Default::default(),
                    action_id: action.clone(),
                    kind: pb::ActionKind::Roundtable as i32,
                    title: "Table ronde".into(),
                    description: "Tiers-lieux et entreprises".into(),
                    themes: vec![1 + rng.below(4) as i32],
                    audiences: vec![pb::EngagementAudience::Businesses as i32],
                    venue: Some(pb::ActionVenue {
                        place: Some(pb::action_venue::Place::CommuneCode(commune)),
                    }),
                    organiser_ids: vec![],
                    planned_by: "alice".into(),
                    target_territory: None,
                },
                "alice",
            ),
            ids.event(
                &pb::ActionScheduled {
                    action_id: action.clone(),
                    starts_at: ts(when),
                    ends_at: ts(when + 7_200),
                },
                "alice",
            ),
            ids.event(
                &pb::ActionInvitationsSent {
                    action_id: action.clone(),
                    stakeholder_ids: invited.clone(),
                },
                "alice",
            ),
        ];
        for id in &invited {
            events.push(ids.event(
                &pb::ActionInvitationAnswered {
                    action_id: action.clone(),
                    stakeholder_id: id.clone(),
                    answer: 1 + rng.below(2) as i32,
                },
                "alice",
            ));
        }
        events.push(ids.event(
            &pb::ActionHeld {
                action_id: action.clone(),
                held_at: ts(when + 7_200),
            },
            "alice",
        ));
        while events.len() < 200 {
            events.push(ids.event(
                &pb::ActionAttendanceRecorded {
                    action_id: action.clone(),
                    attendee_ids: vec![people[rng.below(people.len())].id.clone()],
                    head_counts: vec![pb::AudienceHeadCount {
                        audience: pb::EngagementAudience::Population as i32,
                        count: rng.below(30) as u32,
                    }],
                    named_total: 0,
                    anonymous_total: 0,
                },
                "alice",
            ));
        }
        engagement
            .append(format!("action-{action}"), when, events)
            .await?;
        // 350 survey responses, in appends of 50 to a survey's stream.
        for _ in 0..7 {
            let survey = &surveys[rng.below(surveys.len())];
            let mut events = Vec::with_capacity(50);
            for _ in 0..50 {
                use pb::survey_answer::Value;
                let respondent = if rng.below(4) == 0 {
                    pb::survey_respondent::Who::StakeholderId(
                        people[rng.below(people.len())].id.clone(),
                    )
                } else {
                    pb::survey_respondent::Who::Anonymous(pb::AnonymousParticipant {
                        audience: pb::EngagementAudience::Population as i32,
                        commune_code: communes[rng.below(communes.len())].clone(),
                    })
                };
                let rankings = [["a", "b", "c"], ["b", "a", "c"], ["c", "a", "b"]];
                let ranking = rankings[rng.below(3)];
                events.push(ids.event(
                    &pb::SurveyResponseSubmitted {
                        survey_id: survey.clone(),
                        response_id: rng.id(),
                        respondent: Some(pb::SurveyRespondent {
                            who: Some(respondent),
                        }),
                        respondent_token_hash: rng.bytes(32),
                        answers: vec![
                            pb::SurveyAnswer {
                                question_id: "q1".into(),
                                value: Some(Value::Choice(
                                    ["coworking", "fablab", "cafe"][rng.below(3)].into(),
                                )),
                            },
                            pb::SurveyAnswer {
                                question_id: "q2".into(),
                                value: Some(Value::Scale(1 + rng.below(5) as i32)),
                            },
                            pb::SurveyAnswer {
                                question_id: "q3".into(),
                                value: Some(Value::Ranking(pb::SurveyOptionList {
                                    option_ids: ranking.iter().map(|s| (*s).into()).collect(),
                                })),
                            },
                        ],
                        submitted_at: ts(when),
                    },
                    "alice",
                ));
            }
            engagement
                .append(format!("survey-{survey}"), when, events)
                .await?;
        }
        done = stakeholders.written + engagement.written + governance.written;
    }
    stakeholders.drain().await?;
    engagement.drain().await?;
    governance.drain().await?;
    Ok([
        ("stakeholders", stakeholders),
        ("engagement", engagement),
        ("governance", governance),
    ])
}
