//! The end-to-end scenario, run through the gRPC clients against either shape
//! of the platform, and the projection queries whose answers the tests check.
//!
//! The territory is CC du Val d'Argent (EPCI 246800395, Haut-Rhin): Lièpvre
//! 68185 (pop. 1,632), Rombach-le-Franc 68283 (775), Sainte-Croix-aux-Mines
//! 68294 (1,742), Sainte-Marie-aux-Mines 68298 (4,851): 9,000 inhabitants.
//!
//! Stakeholders (facilitator `alice`):
//! - E1 élu, maire of Lièpvre; E2 élu, adjoint of Sainte-Marie; E3 élu,
//!   conseiller municipal of Rombach (never contacted); E4 élu of Colmar
//!   68066 (outside the EPCI);
//! - B1 business TPE in Sainte-Marie; B2 business PME in Lièpvre; BL business
//!   leader in Rombach (never contacted);
//! - L1 the EPCI as local authority, seat in Sainte-Marie; T1 a coworking
//!   tiers-lieu in Sainte-Croix; P1 an inhabitant of Sainte-Croix.
//!
//! Contacts: I1 E1+B2 in person (day 10), I2 E2 phone (day 12), I3 B1+L1
//! email (day 14), I4 E1 video (day 20) corrected to phone, I5 E4 phone
//! (day 22, outside).
//!
//! Engagement: roundtable A1 in Sainte-Marie (themes business convergence,
//! telework; audiences élus, businesses), organised by L1, day 15; invited E1,
//! E2, B1, B2, T1; E1, E2, B1, T1 accept, B2 declines; held; attended by E1,
//! B1, T1 plus 8 inhabitants and 3 association members. A2, a public meeting
//! in Sainte-Croix, is cancelled. Survey S1 (5 questions) opened, 5 responses
//! (R1..R5, see [`responses`]), closed; a late sixth response is refused.
//!
//! Governance (secretary `sam`): consortium C1 founded by L1 for the EPCI;
//! colleges collectivites 40, entreprises 30, tiers-lieux 30; general assembly
//! `ag` of all three (quorum 1/2, simple majority, one proxy per member); L1,
//! B1, T1 admitted, B2's application pending; E2 represents L1. Meeting M1
//! (day 30): L1 and B1 present, T1 represented by L1; resolution R on item 1:
//! L1 for, T1 for (by proxy), B1 against → adopted. Commitments K1 (owner T1,
//! due day 60, 40 % done: overdue) and K2 (owner L1, due 2030, completed);
//! minutes approved.

use maillage_service_kit::Role;
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Context};
use maillage_proto::v1 as pb;
use prost_types::Timestamp;
use tonic::{Code, Request};
use uuid::Uuid;

use crate::clients::{bearer, Clients};

/// SIREN of the CC du Val d'Argent, the scenario's EPCI.
pub const EPCI: &str = "246800395";
/// INSEE code of Lièpvre (in the EPCI).
pub const LIEPVRE: &str = "68185";
/// INSEE code of Rombach-le-Franc (in the EPCI).
pub const ROMBACH: &str = "68283";
/// INSEE code of Sainte-Croix-aux-Mines (in the EPCI).
pub const SAINTE_CROIX: &str = "68294";
/// INSEE code of Sainte-Marie-aux-Mines (in the EPCI, its seat).
pub const SAINTE_MARIE: &str = "68298";
/// INSEE code of Colmar (outside the EPCI).
pub const COLMAR: &str = "68066";

/// How long the projections may take to catch up with the scenario.
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);

/// 2026-03-01T00:00:00Z plus `days` days and `hours` hours.
pub fn day(days: i64, hours: i64) -> Timestamp {
    Timestamp {
        seconds: 1_772_323_200 + days * 86_400 + hours * 3_600,
        nanos: 0,
    }
}

/// What the scenario created: names (E1, I1, A1, S1, C1, M1, R, K1...) to
/// server-issued ids, and the position of the last event of each context.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Server-issued id of each scenario name (`E1`, `I1`, `S1`…).
    pub ids: BTreeMap<String, String>,
    /// Log position of the last event of each context (by context name).
    pub heads: BTreeMap<String, u64>,
}

impl Outcome {
    /// The id of `name`.
    pub fn id(&self, name: &str) -> String {
        self.ids.get(name).cloned().unwrap_or_default()
    }

    fn record(&mut self, context: &str, reply: &pb::CommandReply) {
        let head = self.heads.entry(context.to_owned()).or_default();
        *head = (*head).max(reply.position);
    }

    /// `message` as `token`'s, asking each service to have seen every event
    /// the scenario's commands produced so far (`maillage-after`): a command
    /// naming a stakeholder registered a moment ago in another service waits
    /// for that service's replica to have seen the registration.
    fn bearer<T>(&self, token: &str, message: T) -> anyhow::Result<Request<T>> {
        let mut request = bearer(token, message)?;
        let after: Vec<String> = self
            .heads
            .iter()
            .map(|(context, head)| format!("{context}={head}"))
            .collect();
        if !after.is_empty() {
            request
                .metadata_mut()
                .insert("maillage-after", after.join(",").parse()?);
        }
        Ok(request)
    }

    fn name(&mut self, name: &str, id: &str) {
        self.ids.insert(name.to_owned(), id.to_owned());
    }
}

fn rid() -> String {
    Uuid::now_v7().to_string()
}

fn commune(code: &str) -> Option<pb::TerritoryRef> {
    Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Commune as i32,
        code: code.into(),
    })
}

/// The EPCI as a territory reference.
pub fn epci() -> Option<pb::TerritoryRef> {
    Some(pb::TerritoryRef {
        level: pb::TerritoryLevel::Epci as i32,
        code: EPCI.into(),
    })
}

/// Runs the whole scenario; returns the ids and the heads of the three logs.
pub async fn run(clients: &mut Clients) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    stakeholders(clients, &mut out).await?;
    engagement(clients, &mut out).await?;
    governance(clients, &mut out).await?;
    Ok(out)
}

async fn person(
    clients: &mut Clients,
    out: &mut Outcome,
    name: &str,
    kind: pb::PersonKind,
    commune_code: &str,
    mandate: Option<pb::MandateOffice>,
) -> anyhow::Result<()> {
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let request = pb::RegisterPersonRequest {
        request_id: rid(),
        profile: Some(pb::PersonProfile {
            given_name: format!("Prénom {name}"),
            family_name: format!("Nom {name}"),
            kinds: vec![kind as i32],
            commune_code: commune_code.into(),
            email: format!("{}@example.org", name.to_lowercase()),
            ..Default::default()
        }),
        mandates: mandate
            .map(|office| pb::MandateInput {
                office: office as i32,
                authority: commune(commune_code),
                started_at: Some(day(-700, 0)),
                ended_at: None,
            })
            .into_iter()
            .collect(),
    };
    let reply = clients
        .stakeholders
        .register_person(out.bearer(&token, request)?)
        .await
        .with_context(|| format!("register {name}"))?
        .into_inner();
    out.record("stakeholders", &reply);
    out.name(name, &reply.id);
    Ok(())
}

async fn organisation(
    clients: &mut Clients,
    out: &mut Outcome,
    name: &str,
    commune_code: &str,
    details: pb::organisation_profile::Details,
) -> anyhow::Result<()> {
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let request = pb::RegisterOrganisationRequest {
        request_id: rid(),
        profile: Some(pb::OrganisationProfile {
            name: format!("Organisation {name}"),
            commune_code: commune_code.into(),
            siren: String::new(),
            details: Some(details),
        }),
    };
    let reply = clients
        .stakeholders
        .register_organisation(out.bearer(&token, request)?)
        .await
        .with_context(|| format!("register {name}"))?
        .into_inner();
    out.record("stakeholders", &reply);
    out.name(name, &reply.id);
    Ok(())
}

async fn contact(
    clients: &mut Clients,
    out: &mut Outcome,
    name: &str,
    who: &[&str],
    channel: pb::InteractionChannel,
    at: Timestamp,
) -> anyhow::Result<()> {
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let request = pb::LogInteractionRequest {
        axis_ids: Default::default(),
        topics: Default::default(),
        request_id: rid(),
        participant_ids: who.iter().map(|w| out.id(w)).collect(),
        channel: channel as i32,
        direction: pb::InteractionDirection::Outbound as i32,
        occurred_at: Some(at),
        subject: format!("Projet de tiers-lieu ({name})"),
        notes: "Intéressé par un espace de coworking.".into(),
        themes: vec![pb::InteractionTheme::TiersLieuxKinds as i32],
        follow_ups: vec![],
    };
    let reply = clients
        .stakeholders
        .log_interaction(out.bearer(&token, request)?)
        .await
        .with_context(|| format!("log {name}"))?
        .into_inner();
    out.record("stakeholders", &reply);
    out.name(name, &reply.id);
    Ok(())
}

async fn stakeholders(clients: &mut Clients, out: &mut Outcome) -> anyhow::Result<()> {
    use pb::organisation_profile::Details;
    use pb::{MandateOffice as Office, PersonKind as Kind};
    person(
        clients,
        out,
        "E1",
        Kind::ElectedOfficial,
        LIEPVRE,
        Some(Office::Maire),
    )
    .await?;
    person(
        clients,
        out,
        "E2",
        Kind::ElectedOfficial,
        SAINTE_MARIE,
        Some(Office::Adjoint),
    )
    .await?;
    let conseiller = Some(Office::ConseillerMunicipal);
    person(
        clients,
        out,
        "E3",
        Kind::ElectedOfficial,
        ROMBACH,
        conseiller,
    )
    .await?;
    person(
        clients,
        out,
        "E4",
        Kind::ElectedOfficial,
        COLMAR,
        Some(Office::Maire),
    )
    .await?;
    person(clients, out, "BL", Kind::BusinessLeader, ROMBACH, None).await?;
    person(clients, out, "P1", Kind::Inhabitant, SAINTE_CROIX, None).await?;
    let business = |size: pb::BusinessSize| {
        Details::Business(pb::BusinessDetails {
            size: size as i32,
            sector: "menuiserie".into(),
        })
    };
    organisation(
        clients,
        out,
        "B1",
        SAINTE_MARIE,
        business(pb::BusinessSize::Tpe),
    )
    .await?;
    organisation(clients, out, "B2", LIEPVRE, business(pb::BusinessSize::Pme)).await?;
    let authority = Details::LocalAuthority(pb::LocalAuthorityDetails { authority: epci() });
    organisation(clients, out, "L1", SAINTE_MARIE, authority).await?;
    let tiers_lieu = Details::TiersLieu(pb::TiersLieuDetails {
        typologies: vec![pb::TiersLieuTypology::Coworking as i32],
        status: pb::TiersLieuStatus::Open as i32,
    });
    organisation(clients, out, "T1", SAINTE_CROIX, tiers_lieu).await?;

    use pb::InteractionChannel as Channel;
    contact(
        clients,
        out,
        "I1",
        &["E1", "B2"],
        Channel::InPerson,
        day(10, 9),
    )
    .await?;
    contact(clients, out, "I2", &["E2"], Channel::Phone, day(12, 9)).await?;
    contact(
        clients,
        out,
        "I3",
        &["B1", "L1"],
        Channel::Email,
        day(14, 9),
    )
    .await?;
    contact(clients, out, "I4", &["E1"], Channel::Video, day(20, 9)).await?;
    contact(clients, out, "I5", &["E4"], Channel::Phone, day(22, 9)).await?;
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let correction = pb::CorrectInteractionRequest {
        request_id: rid(),
        interaction_id: out.id("I4"),
        reason: "C'était un appel téléphonique".into(),
        channel: Some(Channel::Phone as i32),
        ..Default::default()
    };
    let reply = clients
        .stakeholders
        .correct_interaction(out.bearer(&token, correction)?)
        .await
        .context("correct I4")?
        .into_inner();
    out.record("stakeholders", &reply);
    Ok(())
}

fn options(ids: &[&str]) -> Vec<pb::SurveyOption> {
    ids.iter()
        .map(|id| pb::SurveyOption {
            option_id: (*id).into(),
            label: id.to_uppercase(),
        })
        .collect()
}

fn questions() -> Vec<pb::SurveyQuestion> {
    use pb::survey_question::Kind;
    let question = |id: &str, required: bool, kind: Kind| pb::SurveyQuestion {
        question_id: id.into(),
        text: format!("Question {id}"),
        required,
        kind: Some(kind),
    };
    vec![
        question(
            "q1",
            true,
            Kind::SingleChoice(pb::SurveySingleChoice {
                options: options(&["coworking", "fablab", "cafe"]),
            }),
        ),
        question(
            "q2",
            true,
            Kind::Scale(pb::SurveyScale {
                min: 1,
                max: 5,
                min_label: "pas du tout".into(),
                max_label: "tout à fait".into(),
            }),
        ),
        question(
            "q3",
            false,
            Kind::MultipleChoice(pb::SurveyMultipleChoice {
                options: options(&["telework", "repair", "training", "culture"]),
                max_selections: 0,
            }),
        ),
        question(
            "q4",
            true,
            Kind::Ranking(pb::SurveyRanking {
                options: options(&["a", "b", "c"]),
            }),
        ),
        question(
            "q5",
            false,
            Kind::FreeText(pb::SurveyFreeText { max_length: 500 }),
        ),
    ]
}

/// One survey response: respondent, q1 choice, q2 scale, q3 choices, q4 ranking, q5 text.
type Response = (
    Respondent,
    &'static str,
    i32,
    &'static [&'static str],
    [&'static str; 3],
    Option<&'static str>,
);

/// Who answered.
#[derive(Debug, Clone, Copy)]
pub enum Respondent {
    /// Anonymous: audience and commune.
    Anonymous(pb::EngagementAudience, &'static str),
    /// A stakeholder, by scenario name.
    Stakeholder(&'static str),
}

/// R1..R5.
pub fn responses() -> [Response; 5] {
    use pb::EngagementAudience as A;
    use Respondent::*;
    [
        (
            Anonymous(A::Population, LIEPVRE),
            "coworking",
            4,
            &["telework", "training"],
            ["a", "b", "c"],
            None,
        ),
        (
            Anonymous(A::Population, SAINTE_CROIX),
            "fablab",
            5,
            &["repair"],
            ["b", "a", "c"],
            None,
        ),
        (
            Anonymous(A::Businesses, SAINTE_MARIE),
            "coworking",
            3,
            &["telework"],
            ["a", "c", "b"],
            None,
        ),
        (
            Stakeholder("P1"),
            "coworking",
            2,
            &["telework", "culture"],
            ["c", "a", "b"],
            Some("Un lieu ouvert le soir"),
        ),
        (Stakeholder("B1"), "cafe", 5, &[], ["a", "b", "c"], None),
    ]
}

fn response_request(
    out: &Outcome,
    survey_id: &str,
    response: &Response,
) -> pb::SubmitSurveyResponseRequest {
    use pb::survey_answer::Value;
    let (respondent, q1, q2, q3, q4, q5) = response;
    let who = match respondent {
        Respondent::Anonymous(audience, commune_code) => {
            pb::survey_respondent::Who::Anonymous(pb::AnonymousParticipant {
                audience: *audience as i32,
                commune_code: (*commune_code).into(),
            })
        }
        Respondent::Stakeholder(name) => pb::survey_respondent::Who::StakeholderId(out.id(name)),
    };
    let answer = |question: &str, value: Value| pb::SurveyAnswer {
        question_id: question.into(),
        value: Some(value),
    };
    let list = |ids: &[&str]| pb::SurveyOptionList {
        option_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
    };
    let mut answers = vec![
        answer("q1", Value::Choice((*q1).into())),
        answer("q2", Value::Scale(*q2)),
    ];
    if !q3.is_empty() {
        answers.push(answer("q3", Value::Choices(list(q3))));
    }
    answers.push(answer("q4", Value::Ranking(list(q4))));
    if let Some(text) = q5 {
        answers.push(answer("q5", Value::Text((*text).into())));
    }
    pb::SubmitSurveyResponseRequest {
        request_id: rid(),
        survey_id: survey_id.into(),
        respondent: Some(pb::SurveyRespondent { who: Some(who) }),
        respondent_token: String::new(),
        answers,
    }
}

async fn engagement(clients: &mut Clients, out: &mut Outcome) -> anyhow::Result<()> {
    use pb::{EngagementAudience as Audience, EngagementTheme as Theme};
    let token = clients.tokens.of(Role::Facilitator).to_owned();
    let e = &mut clients.engagement;

    // A1: the roundtable.
    let plan = pb::PlanActionRequest {
        axis_ids: Vec::new(),
        topics: Default::default(),
        request_id: rid(),
        kind: pb::ActionKind::Roundtable as i32,
        title: "Table ronde entreprises et tiers-lieux".into(),
        description: "Convergence des entreprises et du télétravail".into(),
        themes: vec![Theme::BusinessConvergence as i32, Theme::Telework as i32],
        audiences: vec![Audience::Elus as i32, Audience::Businesses as i32],
        venue: Some(pb::ActionVenue {
            place: Some(pb::action_venue::Place::CommuneCode(SAINTE_MARIE.into())),
        }),
        organiser_ids: vec![out.id("L1")],
        target_territory: None,
    };
    let reply = e
        .plan_action(out.bearer(&token, plan)?)
        .await
        .context("plan A1")?
        .into_inner();
    out.record("engagement", &reply);
    out.name("A1", &reply.id);
    let a1 = reply.id;
    let schedule = pb::ScheduleActionRequest {
        request_id: rid(),
        action_id: a1.clone(),
        expected_version: None,
        starts_at: Some(day(15, 14)),
        ends_at: Some(day(15, 17)),
    };
    let reply = e
        .schedule_action(out.bearer(&token, schedule)?)
        .await
        .context("schedule A1")?;
    out.record("engagement", reply.get_ref());
    let invite = pb::InviteToActionRequest {
        request_id: rid(),
        action_id: a1.clone(),
        expected_version: None,
        stakeholder_ids: ["E1", "E2", "B1", "B2", "T1"]
            .iter()
            .map(|n| out.id(n))
            .collect(),
    };
    let reply = e
        .invite_to_action(out.bearer(&token, invite)?)
        .await
        .context("invite")?;
    out.record("engagement", reply.get_ref());
    use pb::ActionInvitationAnswer as Answer;
    for (name, answer) in [
        ("E1", Answer::Accepted),
        ("E2", Answer::Accepted),
        ("B1", Answer::Accepted),
        ("B2", Answer::Declined),
        ("T1", Answer::Accepted),
    ] {
        let request = pb::RecordInvitationAnswerRequest {
            request_id: rid(),
            action_id: a1.clone(),
            expected_version: None,
            stakeholder_id: out.id(name),
            answer: answer as i32,
        };
        let reply = e
            .record_invitation_answer(out.bearer(&token, request)?)
            .await
            .with_context(|| format!("answer of {name}"))?;
        out.record("engagement", reply.get_ref());
    }
    let held = pb::MarkActionHeldRequest {
        request_id: rid(),
        action_id: a1.clone(),
        expected_version: None,
    };
    let reply = e
        .mark_action_held(out.bearer(&token, held)?)
        .await
        .context("held")?;
    out.record("engagement", reply.get_ref());
    let attendance = pb::RecordAttendanceRequest {
        request_id: rid(),
        action_id: a1.clone(),
        expected_version: None,
        attendee_ids: ["E1", "B1", "T1"].iter().map(|n| out.id(n)).collect(),
        head_counts: vec![
            pb::AudienceHeadCount {
                audience: Audience::Population as i32,
                count: 8,
            },
            pb::AudienceHeadCount {
                audience: Audience::Associations as i32,
                count: 3,
            },
        ],
    };
    let reply = e
        .record_attendance(out.bearer(&token, attendance)?)
        .await
        .context("attendance")?;
    out.record("engagement", reply.get_ref());

    // A2: a public meeting, cancelled.
    let plan = pb::PlanActionRequest {
        axis_ids: Vec::new(),
        topics: Default::default(),
        request_id: rid(),
        kind: pb::ActionKind::AwarenessPublicMeeting as i32,
        title: "Réunion publique".into(),
        description: String::new(),
        themes: vec![Theme::QuelsTla as i32],
        audiences: vec![Audience::Population as i32],
        venue: Some(pb::ActionVenue {
            place: Some(pb::action_venue::Place::CommuneCode(SAINTE_CROIX.into())),
        }),
        organiser_ids: vec![],
        target_territory: None,
    };
    let reply = e
        .plan_action(out.bearer(&token, plan)?)
        .await
        .context("plan A2")?
        .into_inner();
    out.record("engagement", &reply);
    out.name("A2", &reply.id);
    let cancel = pb::CancelActionRequest {
        request_id: rid(),
        action_id: reply.id,
        expected_version: None,
        reason: "Salle indisponible".into(),
    };
    let reply = e
        .cancel_action(out.bearer(&token, cancel)?)
        .await
        .context("cancel A2")?;
    out.record("engagement", reply.get_ref());

    // S1: the survey.
    let draft = pb::DraftSurveyRequest {
        axis_ids: Vec::new(),
        campaign_action_ids: Vec::new(),
        topics: Default::default(),
        request_id: rid(),
        title: "Vos attentes d'un tiers-lieu".into(),
        description: "Enquête auprès de la population".into(),
        campaign_action_id: String::new(),
        themes: vec![Theme::QuelsTla as i32],
        questions: questions(),
        slug: String::new(),
    };
    let reply = e
        .draft_survey(out.bearer(&token, draft)?)
        .await
        .context("draft")?
        .into_inner();
    out.record("engagement", &reply);
    out.name("S1", &reply.id);
    let s1 = reply.id;
    let open = pb::OpenSurveyRequest {
        campaign_override: None,
        request_id: rid(),
        survey_id: s1.clone(),
        expected_version: None,
    };
    let reply = e
        .open_survey(out.bearer(&token, open)?)
        .await
        .context("open")?;
    out.record("engagement", reply.get_ref());
    for (n, response) in responses().iter().enumerate() {
        let request = response_request(out, &s1, response);
        let reply = e
            .submit_survey_response(out.bearer(&token, request)?)
            .await
            .with_context(|| format!("response R{}", n + 1))?;
        out.record("engagement", reply.get_ref());
    }
    let close = pb::CloseSurveyRequest {
        request_id: rid(),
        survey_id: s1.clone(),
        expected_version: None,
    };
    let reply = e
        .close_survey(out.bearer(&token, close)?)
        .await
        .context("close")?;
    out.record("engagement", reply.get_ref());
    // A response after closing is refused and records nothing.
    let late = response_request(out, &s1, &responses()[0]);
    match e.submit_survey_response(out.bearer(&token, late)?).await {
        Err(status) if status.code() == Code::FailedPrecondition => {}
        other => bail!("a response to a closed survey was not refused: {other:?}"),
    }
    Ok(())
}

async fn governance(clients: &mut Clients, out: &mut Outcome) -> anyhow::Result<()> {
    let token = clients.tokens.of(Role::Secretary).to_owned();
    let g = &mut clients.governance;
    let found = pb::FoundConsortiumRequest {
        request_id: rid(),
        name: "Consortium des tiers-lieux du Val d'Argent".into(),
        founding_collectivite_id: out.id("L1"),
        territory: vec![epci().context("EPCI")?],
        purpose: "Animer le réseau des tiers-lieux du Val d'Argent".into(),
        charter: "Charte du consortium".into(),
    };
    let reply = g
        .found_consortium(out.bearer(&token, found)?)
        .await
        .context("found")?
        .into_inner();
    out.record("governance", &reply);
    out.name("C1", &reply.id);
    let c1 = reply.id;
    for (code, weight) in [
        ("collectivites", 40),
        ("entreprises", 30),
        ("tiers-lieux", 30),
    ] {
        let request = pb::DefineCollegeRequest {
            request_id: rid(),
            consortium_id: c1.clone(),
            expected_version: None,
            college_code: code.into(),
            name: format!("Collège {code}"),
            weight,
        };
        let reply = g
            .define_college(out.bearer(&token, request)?)
            .await
            .context("college")?;
        out.record("governance", reply.get_ref());
    }
    let body = pb::EstablishBodyRequest {
        request_id: rid(),
        consortium_id: c1.clone(),
        expected_version: None,
        body_code: "ag".into(),
        kind: pb::BodyKind::GeneralAssembly as i32,
        name: "Assemblée générale".into(),
        college_codes: vec![
            "collectivites".into(),
            "entreprises".into(),
            "tiers-lieux".into(),
        ],
        rules: Some(pb::BodyRules {
            quorum: Some(pb::ShareFraction {
                numerator: 1,
                denominator: 2,
            }),
            majority: pb::MajorityRule::Simple as i32,
            max_proxies_per_member: 1,
        }),
    };
    let reply = g
        .establish_body(out.bearer(&token, body)?)
        .await
        .context("body")?;
    out.record("governance", reply.get_ref());
    for (name, college, admit) in [
        ("L1", "collectivites", true),
        ("B1", "entreprises", true),
        ("B2", "entreprises", false),
        ("T1", "tiers-lieux", true),
    ] {
        let apply = pb::ApplyForMembershipRequest {
            request_id: rid(),
            consortium_id: c1.clone(),
            expected_version: None,
            organisation_id: out.id(name),
            college_code: college.into(),
        };
        let reply = g
            .apply_for_membership(out.bearer(&token, apply)?)
            .await
            .context("apply")?;
        out.record("governance", reply.get_ref());
        if admit {
            let request = pb::AdmitMemberRequest {
                request_id: rid(),
                consortium_id: c1.clone(),
                expected_version: None,
                member_id: out.id(name),
            };
            let reply = g
                .admit_member(out.bearer(&token, request)?)
                .await
                .context("admit")?;
            out.record("governance", reply.get_ref());
        }
    }
    let appoint = pb::AppointRepresentativeRequest {
        request_id: rid(),
        consortium_id: c1.clone(),
        expected_version: None,
        member_id: out.id("L1"),
        person_id: out.id("E2"),
    };
    let reply = g
        .appoint_representative(out.bearer(&token, appoint)?)
        .await
        .context("appoint")?;
    out.record("governance", reply.get_ref());

    let convene = pb::ConveneMeetingRequest {
        request_id: rid(),
        consortium_id: c1.clone(),
        body_code: "ag".into(),
        scheduled_at: Some(day(30, 18)),
        venue: Some(pb::MeetingVenue {
            commune_code: SAINTE_MARIE.into(),
            place: "Salle du conseil communautaire".into(),
            online: false,
        }),
        agenda: vec!["Plan d'action 2026".into(), "Questions diverses".into()],
    };
    let reply = g
        .convene_meeting(out.bearer(&token, convene)?)
        .await
        .context("convene")?
        .into_inner();
    out.record("governance", &reply);
    out.name("M1", &reply.id);
    let m1 = reply.id;
    let attendance = pb::RecordMeetingAttendanceRequest {
        request_id: rid(),
        meeting_id: m1.clone(),
        expected_version: None,
        present_member_ids: vec![out.id("L1"), out.id("B1")],
        proxies: vec![pb::ProxyGrant {
            giver_id: out.id("T1"),
            holder_id: out.id("L1"),
        }],
    };
    let reply = g
        .record_meeting_attendance(out.bearer(&token, attendance)?)
        .await
        .context("meeting attendance")?;
    out.record("governance", reply.get_ref());
    let table = pb::TableResolutionRequest {
        request_id: rid(),
        meeting_id: m1.clone(),
        expected_version: None,
        agenda_item: 1,
        title: "Adoption du plan d'action".into(),
        text: "Le consortium adopte le plan d'action 2026.".into(),
    };
    let tabled = g
        .table_resolution(out.bearer(&token, table)?)
        .await
        .context("table")?
        .into_inner();
    out.record("governance", &tabled.reply.unwrap_or_default());
    out.name("R", &tabled.resolution_id);
    use pb::VoteChoice as Choice;
    for (member, choice) in [
        ("L1", Choice::For),
        ("T1", Choice::For),
        ("B1", Choice::Against),
    ] {
        let vote = pb::RecordVoteRequest {
            request_id: rid(),
            meeting_id: m1.clone(),
            expected_version: None,
            resolution_id: tabled.resolution_id.clone(),
            member_id: out.id(member),
            choice: choice as i32,
        };
        let reply = g
            .record_vote(out.bearer(&token, vote)?)
            .await
            .context("vote")?;
        out.record("governance", reply.get_ref());
    }
    let close = pb::CloseVoteRequest {
        request_id: rid(),
        meeting_id: m1.clone(),
        expected_version: None,
        resolution_id: tabled.resolution_id.clone(),
    };
    let closed = g
        .close_vote(out.bearer(&token, close)?)
        .await
        .context("close vote")?
        .into_inner();
    out.record("governance", &closed.reply.unwrap_or_default());

    let origin = Some(pb::make_commitment_request::Origin::Resolution(
        pb::ResolutionRef {
            meeting_id: m1.clone(),
            resolution_id: tabled.resolution_id.clone(),
        },
    ));
    let k1 = pb::MakeCommitmentRequest {
        axis_ids: Default::default(),
        topic: Default::default(),
        request_id: rid(),
        consortium_id: c1.clone(),
        title: "Ouvrir un espace de télétravail à Sainte-Croix".into(),
        owner_member_id: out.id("T1"),
        due_at: Some(day(60, 0)),
        theme: "telework".into(),
        origin: origin.clone(),
    };
    let reply = g
        .make_commitment(out.bearer(&token, k1)?)
        .await
        .context("K1")?
        .into_inner();
    out.record("governance", &reply);
    out.name("K1", &reply.id);
    let progress = pb::ReportCommitmentProgressRequest {
        request_id: rid(),
        commitment_id: reply.id,
        expected_version: None,
        percent: 40,
        note: "Local identifié".into(),
    };
    let reply = g
        .report_commitment_progress(out.bearer(&token, progress)?)
        .await
        .context("K1 progress")?;
    out.record("governance", reply.get_ref());
    let k2 = pb::MakeCommitmentRequest {
        axis_ids: Default::default(),
        topic: Default::default(),
        request_id: rid(),
        consortium_id: c1.clone(),
        title: "Publier la carte des tiers-lieux".into(),
        owner_member_id: out.id("L1"),
        due_at: Some(Timestamp {
            seconds: 1_893_456_000, // 2030-01-01
            nanos: 0,
        }),
        theme: "quels-tla".into(),
        origin,
    };
    let reply = g
        .make_commitment(out.bearer(&token, k2)?)
        .await
        .context("K2")?
        .into_inner();
    out.record("governance", &reply);
    out.name("K2", &reply.id);
    let complete = pb::CompleteCommitmentRequest {
        request_id: rid(),
        commitment_id: reply.id,
        expected_version: None,
    };
    let reply = g
        .complete_commitment(out.bearer(&token, complete)?)
        .await
        .context("K2 done")?;
    out.record("governance", reply.get_ref());
    let minutes = pb::ApproveMeetingMinutesRequest {
        request_id: rid(),
        meeting_id: m1,
        expected_version: None,
        minutes_uri: "https://ccva.example/pv/ag-2026.pdf".into(),
        minutes_digest: "sha256:4f2a".into(),
    };
    let reply = g
        .approve_meeting_minutes(out.bearer(&token, minutes)?)
        .await
        .context("minutes")?;
    out.record("governance", reply.get_ref());
    Ok(())
}

/// The projections' checkpoints, by context.
pub async fn checkpoints(clients: &mut Clients) -> anyhow::Result<BTreeMap<String, u64>> {
    let token = clients.tokens.of(Role::Analyst).to_owned();
    let status = clients
        .projections
        .get_projection_status(bearer(&token, pb::ProjectionStatusRequest {})?)
        .await?
        .into_inner();
    Ok(status
        .checkpoints
        .into_iter()
        .map(|c| (c.context, c.position))
        .collect())
}

/// Polls the projections' status until every context's checkpoint reaches
/// `heads`, for at most `timeout`.
pub async fn wait_for_projections(
    clients: &mut Clients,
    heads: &BTreeMap<String, u64>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let applied = checkpoints(clients).await?;
        let behind = heads
            .iter()
            .any(|(context, head)| applied.get(context).copied().unwrap_or(0) < *head);
        if !behind {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the projections did not catch up within {timeout:?}: applied {applied:?}, expected {heads:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The projection answers the tests check.
#[derive(Debug, Clone)]
pub struct Answers {
    /// Territory engagement report of the EPCI.
    pub territory: pb::TerritoryEngagementReport,
    /// Contact audit of the EPCI's élus and businesses.
    pub audit_territory: pb::ContactAuditReport,
    /// Contact audit of stakeholder E1.
    pub audit_e1: pb::ContactAuditReport,
    /// Results of survey S1.
    pub survey: pb::SurveyResults,
    /// Action statistics of the EPCI.
    pub actions: pb::ActionStatistics,
    /// State of consortium C1.
    pub consortium: pb::ConsortiumState,
}

/// The territory engagement request of the EPCI.
pub fn territory_request(as_of: Option<Timestamp>) -> pb::TerritoryEngagementRequest {
    pb::TerritoryEngagementRequest {
        territory: epci(),
        as_of,
        page: None,
    }
}

/// Asks every query of [`Answers`].
pub async fn query(clients: &mut Clients, out: &Outcome) -> anyhow::Result<Answers> {
    let analyst = clients.tokens.of(Role::Analyst).to_owned();
    let auditor = clients.tokens.of(Role::Auditor).to_owned();
    let p = &mut clients.projections;
    let territory = p
        .get_territory_engagement(bearer(&analyst, territory_request(None))?)
        .await
        .context("territory")?
        .into_inner();
    let audit = |scope| pb::ContactAuditRequest {
        scope: Some(scope),
        from: None,
        to: None,
        as_of: None,
        page: None,
    };
    use pb::contact_audit_request::Scope;
    let audit_territory = p
        .get_contact_audit(bearer(
            &auditor,
            audit(Scope::Territory(epci().context("EPCI")?)),
        )?)
        .await
        .context("audit of the EPCI")?
        .into_inner();
    let audit_e1 = p
        .get_contact_audit(bearer(&auditor, audit(Scope::StakeholderId(out.id("E1"))))?)
        .await
        .context("audit of E1")?
        .into_inner();
    let survey = p
        .get_survey_results(bearer(
            &analyst,
            pb::SurveyResultsRequest {
                survey_id: out.id("S1"),
                as_of: None,
            },
        )?)
        .await
        .context("survey")?
        .into_inner();
    let actions = p
        .get_action_statistics(bearer(
            &analyst,
            pb::ActionStatisticsRequest {
                territory: epci(),
                as_of: None,
            },
        )?)
        .await
        .context("actions")?
        .into_inner();
    let consortium = p
        .get_consortium_state(bearer(
            &analyst,
            pb::ConsortiumStateRequest {
                consortium_id: out.id("C1"),
                as_of: None,
            },
        )?)
        .await
        .context("consortium")?
        .into_inner();
    Ok(Answers {
        territory,
        audit_territory,
        audit_e1,
        survey,
        actions,
        consortium,
    })
}

impl Answers {
    /// The answers with what depends on the wall clock cleared (when events
    /// were logged, corrected, opened, founded...; when "overdue" was judged),
    /// lists ordered by server-issued ids re-ordered by scenario name, printed,
    /// and every id replaced by its scenario name: equal for two runs of the
    /// scenario exactly when their answers agree.
    pub fn normalized(&self, out: &Outcome) -> String {
        let names: BTreeMap<&str, &str> = out
            .ids
            .iter()
            .map(|(name, id)| (id.as_str(), name.as_str()))
            .collect();
        let name_of = |id: &str| names.get(id).copied().unwrap_or(id).to_owned();
        let mut answers = self.clone();
        for report in [&mut answers.audit_territory, &mut answers.audit_e1] {
            for row in &mut report.rows {
                row.logged_at = None;
                for correction in &mut row.corrections {
                    correction.corrected_at = None;
                }
                row.participants.sort_by_key(|p| name_of(&p.stakeholder_id));
                row.original_participant_ids.sort_by_key(|id| name_of(id));
            }
        }
        answers.survey.opened_at = None;
        answers.survey.closed_at = None;
        let consortium = &mut answers.consortium;
        consortium.founded_at = None;
        consortium.evaluated_at = None;
        for college in &mut consortium.colleges {
            college.member_ids.sort_by_key(|id| name_of(id));
        }
        consortium
            .memberships
            .sort_by_key(|m| name_of(&m.member_id));
        for commitment in &mut consortium.commitments {
            commitment.last_reported_at = None;
        }
        for meeting in &mut consortium.meetings {
            for resolution in &mut meeting.resolutions {
                if let Some(tally) = &mut resolution.tally {
                    tally.ballots.sort_by_key(|b| name_of(&b.member_id));
                }
            }
        }
        let mut text = format!("{answers:#?}");
        for (id, name) in &names {
            text = text.replace(id, name);
        }
        text
    }
}
