//! Act 3 of the demo: the engagement actions — awareness sessions, the information
//! campaign before the survey, a thematic workshop and two roundtables with
//! invitations, answers, attendance (named and head counts), minutes and outcomes.

use maillage_proto::v1 as pb;
use pb::{EngagementAudience as Audience, Theme};
use rand::Rng;

use super::calendar::{campaign_day, plus_minutes};
use super::cast::Cast;
use super::plan::Plan;
use super::player::Player;
use super::programme::Axes;

const ENGAGEMENT: &str = maillage_engagement::CONTEXT;

/// One action of the programme.
struct Spec<'a> {
    kind: pb::ActionKind,
    title: &'a str,
    themes: &'a [Theme],
    audiences: &'a [Audience],
    /// None: online.
    commune: Option<String>,
    day: i64,
    minutes: i64,
    organisers: Vec<String>,
    invitees: Vec<String>,
    /// Anonymous head counts by audience.
    head_counts: Vec<(Audience, u32)>,
    outcomes: Vec<(&'a str, Theme, String)>,
}

/// What the programme produced that later acts build on.
pub struct Programme {
    /// The information campaign that precedes the survey.
    pub campaign_id: String,
    /// Outcomes of the roundtables: (outcome id, proposal, suggested owner).
    pub roundtable_outcomes: Vec<(String, String, String)>,
    /// The thematic workshop and the foresight workshop held.
    pub workshops: Vec<String>,
}

async fn command(
    player: &mut Player,
    step: &str,
    result: Result<tonic::Response<pb::CommandReply>, tonic::Status>,
) -> anyhow::Result<String> {
    let reply = player.answer(step, result)?;
    Ok(player.done(ENGAGEMENT, reply))
}

/// Plans, schedules and holds one action; returns its id.
async fn hold(player: &mut Player, axes: &Axes, spec: Spec<'_>) -> anyhow::Result<String> {
    let venue = pb::ActionVenue {
        place: Some(match &spec.commune {
            Some(code) => pb::action_venue::Place::CommuneCode(code.clone()),
            None => pb::action_venue::Place::Online(true),
        }),
    };
    let request = pb::PlanActionRequest {
        axis_ids: axes.for_kind(spec.kind),
        request_id: player.request_id(),
        kind: spec.kind as i32,
        title: spec.title.to_owned(),
        description: String::new(),
        themes: Vec::new(),
        topics: spec.themes.iter().map(|t| *t as i32).collect(),
        audiences: spec.audiences.iter().map(|a| *a as i32).collect(),
        venue: Some(venue),
        organiser_ids: spec.organisers.clone(),
        // An online action is for the communauté de communes.
        target_territory: spec.commune.is_none().then(|| pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: super::plan::EPCI_SIREN.to_owned(),
        }),
    };
    let result = player.engagement.plan_action(request).await;
    let id = command(player, "action planifiée", result).await?;
    if spec.kind == pb::ActionKind::ThematicWorkshop {
        super::programme::approve(player, &id).await?;
    }
    let starts_at = campaign_day(spec.day, 18);
    let request = pb::ScheduleActionRequest {
        request_id: player.request_id(),
        action_id: id.clone(),
        expected_version: None,
        ends_at: Some(plus_minutes(&starts_at, spec.minutes)),
        starts_at: Some(starts_at),
    };
    let result = player.engagement.schedule_action(request).await;
    command(player, "action programmée", result).await?;

    let mut attendees = Vec::new();
    if !spec.invitees.is_empty() {
        let request = pb::InviteToActionRequest {
            request_id: player.request_id(),
            action_id: id.clone(),
            expected_version: None,
            stakeholder_ids: spec.invitees.clone(),
        };
        let result = player.engagement.invite_to_action(request).await;
        command(player, "invitations", result).await?;
        for invitee in &spec.invitees {
            let roll: f64 = player.rng.gen();
            let answer = if roll < 0.7 {
                pb::ActionInvitationAnswer::Accepted
            } else if roll < 0.85 {
                pb::ActionInvitationAnswer::Tentative
            } else {
                pb::ActionInvitationAnswer::Declined
            };
            let request = pb::RecordInvitationAnswerRequest {
                request_id: player.request_id(),
                action_id: id.clone(),
                expected_version: None,
                stakeholder_id: invitee.clone(),
                answer: answer as i32,
            };
            let result = player.engagement.record_invitation_answer(request).await;
            command(player, "réponse à une invitation", result).await?;
            let came = match answer {
                pb::ActionInvitationAnswer::Accepted => player.rng.gen_bool(0.9),
                pb::ActionInvitationAnswer::Tentative => player.rng.gen_bool(0.5),
                _ => false,
            };
            if came {
                attendees.push(invitee.clone());
            }
        }
    }
    let request = pb::MarkActionHeldRequest {
        request_id: player.request_id(),
        action_id: id.clone(),
        expected_version: None,
    };
    let result = player.engagement.mark_action_held(request).await;
    command(player, "action tenue", result).await?;
    if !attendees.is_empty() || !spec.head_counts.is_empty() {
        let request = pb::RecordAttendanceRequest {
            request_id: player.request_id(),
            action_id: id.clone(),
            expected_version: None,
            attendee_ids: attendees,
            head_counts: spec
                .head_counts
                .iter()
                .map(|(audience, count)| pb::AudienceHeadCount {
                    audience: *audience as i32,
                    count: *count,
                })
                .collect(),
        };
        let result = player.engagement.record_attendance(request).await;
        command(player, "présences", result).await?;
    }
    let request = pb::PublishMinutesRequest {
        request_id: player.request_id(),
        action_id: id.clone(),
        expected_version: None,
        minutes: Some(pb::ActionMinutes {
            summary: format!("Compte rendu : {}", spec.title),
            key_points: vec![
                "Attentes exprimées par les participants".to_owned(),
                "Suites proposées par l'équipe d'animation".to_owned(),
            ],
        }),
    };
    let result = player.engagement.publish_minutes(request).await;
    command(player, "compte rendu", result).await?;
    if !spec.outcomes.is_empty() {
        let request = pb::RecordOutcomesRequest {
            request_id: player.request_id(),
            action_id: id.clone(),
            expected_version: None,
            outcomes: spec
                .outcomes
                .iter()
                .map(|(proposal, theme, owner)| pb::ProposedOutcome {
                    proposal: (*proposal).to_owned(),
                    theme: 0,
                    topic: *theme as i32,
                    suggested_owner_id: owner.clone(),
                })
                .collect(),
        };
        let result = player.engagement.record_outcomes(request).await;
        command(player, "propositions", result).await?;
    }
    Ok(id)
}

fn count(player: &mut Player, low: u32, high: u32) -> u32 {
    player.rng.gen_range(low..=high)
}

/// Plays the programme of actions.
pub async fn play(
    player: &mut Player,
    plan: &Plan,
    cast: &Cast,
    axes: &Axes,
) -> anyhow::Result<Programme> {
    player.phase("Actions de sensibilisation et tables rondes");
    let epci = cast.epci()?.id.clone();
    let seat = plan.active[0].code.clone();
    let venue = |index: usize| plan.active[index % plan.active.len()].code.clone();

    // Awareness sessions.
    let public_meeting = Spec {
        kind: pb::ActionKind::AwarenessPublicMeeting,
        title: "Réunion publique : un tiers-lieu près de chez vous ?",
        themes: &[Theme::QuelsTla, Theme::RelevanceSustainability],
        audiences: &[Audience::Population, Audience::Elus, Audience::Associations],
        commune: Some(seat.clone()),
        day: 17,
        minutes: 120,
        organisers: vec![epci.clone()],
        invitees: cast.elus.iter().take(6).map(|e| e.id.clone()).collect(),
        head_counts: vec![
            (Audience::Population, count(player, 35, 70)),
            (Audience::Associations, count(player, 4, 12)),
        ],
        outcomes: Vec::new(),
    };
    hold(player, axes, public_meeting).await?;
    let webinar = Spec {
        kind: pb::ActionKind::AwarenessWebinar,
        title: "Webinaire : télétravailler dans un tiers-lieu rural",
        themes: &[Theme::Telework, Theme::DigitalInclusion],
        audiences: &[Audience::Population, Audience::Businesses],
        commune: None,
        day: 31,
        minutes: 90,
        organisers: vec![epci.clone()],
        invitees: Vec::new(),
        head_counts: vec![
            (Audience::Population, count(player, 20, 45)),
            (Audience::Businesses, count(player, 5, 15)),
        ],
        outcomes: Vec::new(),
    };
    hold(player, axes, webinar).await?;
    let stand = Spec {
        kind: pb::ActionKind::AwarenessStand,
        title: "Stand au marché : à quoi servirait un tiers-lieu ?",
        themes: &[Theme::QuelsTla, Theme::CultureCommunity],
        audiences: &[Audience::Population],
        commune: Some(venue(2)),
        day: 45,
        minutes: 240,
        organisers: vec![epci.clone()],
        invitees: Vec::new(),
        head_counts: vec![(Audience::Population, count(player, 60, 120))],
        outcomes: Vec::new(),
    };
    hold(player, axes, stand).await?;
    let visit = Spec {
        kind: pb::ActionKind::AwarenessSiteVisit,
        title: "Visite de La Fabrique du Castelrenaudais",
        themes: &[Theme::QuelsTla, Theme::EconomicModel],
        audiences: &[Audience::Elus, Audience::TiersLieux],
        commune: Some(seat.clone()),
        day: 52,
        minutes: 150,
        organisers: cast
            .tiers_lieux
            .iter()
            .take(1)
            .map(|t| t.id.clone())
            .collect(),
        invitees: cast
            .elus
            .iter()
            .skip(1)
            .take(8)
            .map(|e| e.id.clone())
            .collect(),
        head_counts: Vec::new(),
        outcomes: Vec::new(),
    };
    hold(player, axes, visit).await?;

    // The information campaign that precedes the survey.
    let campaign = Spec {
        kind: pb::ActionKind::AwarenessNewsletter,
        title: "Campagne d'information : donnez votre avis sur les tiers-lieux",
        themes: &[Theme::QuelsTla],
        audiences: &[
            Audience::Population,
            Audience::Businesses,
            Audience::Associations,
        ],
        commune: None,
        day: 58,
        minutes: 60,
        organisers: vec![epci.clone()],
        invitees: Vec::new(),
        head_counts: Vec::new(),
        outcomes: Vec::new(),
    };
    let campaign_id = hold(player, axes, campaign).await?;

    // Thematic workshop.
    let workshop = Spec {
        kind: pb::ActionKind::ThematicWorkshop,
        title: "Atelier : pertinence et pérennité des tiers-lieux ruraux",
        themes: &[Theme::RelevanceSustainability, Theme::EconomicModel],
        audiences: &[Audience::TiersLieux, Audience::Associations, Audience::Elus],
        commune: Some(venue(1)),
        day: 110,
        minutes: 180,
        organisers: cast.tiers_lieux.iter().map(|t| t.id.clone()).collect(),
        invitees: cast
            .managers
            .iter()
            .map(|m| m.id.clone())
            .chain(cast.associations.iter().map(|a| a.id.clone()))
            .collect(),
        head_counts: vec![(Audience::Associations, count(player, 3, 9))],
        outcomes: Vec::new(),
    };
    let workshop_id = hold(player, axes, workshop).await?;

    // Roundtables.
    let cci = cast
        .chambers
        .first()
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let cma = cast
        .chambers
        .get(1)
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let first_tiers_lieu = cast
        .tiers_lieux
        .first()
        .map(|t| t.id.clone())
        .unwrap_or_default();
    let economic = Spec {
        kind: pb::ActionKind::Roundtable,
        title: "Table ronde : entreprises, chambres consulaires et tiers-lieux",
        themes: &[Theme::BusinessConvergence, Theme::SkillsTraining],
        audiences: &[
            Audience::Businesses,
            Audience::Chambers,
            Audience::TiersLieux,
        ],
        commune: Some(seat.clone()),
        day: 136,
        minutes: 180,
        organisers: vec![epci.clone(), cci.clone()],
        invitees: cast
            .leaders
            .iter()
            .map(|l| l.id.clone())
            .chain(cast.chambers.iter().map(|c| c.id.clone()))
            .chain(cast.managers.iter().map(|m| m.id.clone()))
            .collect(),
        head_counts: vec![(Audience::Businesses, count(player, 3, 8))],
        outcomes: vec![
            (
                "Créer un parcours de formations numériques pour les artisans au tiers-lieu",
                Theme::SkillsTraining,
                cma.clone(),
            ),
            (
                "Mutualiser un atelier équipé entre entreprises et fablab",
                Theme::BusinessConvergence,
                first_tiers_lieu.clone(),
            ),
        ],
    };
    let economic_id = hold(player, axes, economic).await?;
    let services = Spec {
        kind: pb::ActionKind::Roundtable,
        title: "Table ronde : télétravail, services publics et vie associative",
        themes: &[
            Theme::Telework,
            Theme::DigitalInclusion,
            Theme::CultureCommunity,
        ],
        audiences: &[
            Audience::Elus,
            Audience::Associations,
            Audience::Administrations,
        ],
        commune: Some(venue(1)),
        day: 149,
        minutes: 150,
        organisers: vec![epci.clone()],
        invitees: cast
            .elus
            .iter()
            .take(7)
            .map(|e| e.id.clone())
            .chain(cast.associations.iter().map(|a| a.id.clone()))
            .chain(cast.agents.iter().map(|a| a.id.clone()))
            .collect(),
        head_counts: vec![(Audience::Associations, count(player, 6, 15))],
        outcomes: vec![(
            "Ouvrir un point France services itinérant dans les tiers-lieux",
            Theme::DigitalInclusion,
            epci.clone(),
        )],
    };
    let services_id = hold(player, axes, services).await?;

    // A foresight workshop planned then cancelled (its venue was unavailable).
    let request = pb::PlanActionRequest {
        axis_ids: axes.for_kind(pb::ActionKind::ForesightWorkshop),
        request_id: player.request_id(),
        kind: pb::ActionKind::ForesightWorkshop as i32,
        title: "Atelier prospectif : le territoire en 2035".to_owned(),
        description: String::new(),
        themes: Vec::new(),
        topics: vec![Theme::Mobility as i32],
        audiences: vec![Audience::Elus as i32, Audience::Associations as i32],
        venue: Some(pb::ActionVenue {
            place: Some(pb::action_venue::Place::CommuneCode(venue(3))),
        }),
        organiser_ids: vec![epci],
        target_territory: None,
    };
    let result = player.engagement.plan_action(request).await;
    let cancelled = command(player, "atelier prospectif", result).await?;
    let request = pb::CancelActionRequest {
        request_id: player.request_id(),
        action_id: cancelled,
        expected_version: None,
        reason: "Salle indisponible, reporté en octobre".to_owned(),
    };
    let result = player.engagement.cancel_action(request).await;
    command(player, "annulation", result).await?;
    let foresight_id = foresight(player, axes, cast, venue(1)).await?;

    let mut roundtable_outcomes = Vec::new();
    for id in [economic_id, services_id] {
        let result = player
            .engagement
            .get_action(pb::GetActionRequest { action_id: id })
            .await;
        let action = player.answer("lecture d'une table ronde", result)?;
        for outcome in action.outcomes {
            roundtable_outcomes.push((
                outcome.outcome_id,
                outcome.proposal,
                outcome.suggested_owner_id,
            ));
        }
    }
    Ok(Programme {
        campaign_id,
        roundtable_outcomes,
        workshops: vec![workshop_id, foresight_id],
    })
}

/// The foresight workshop, held in October in `commune`, and its outputs;
/// returns its id.
async fn foresight(
    player: &mut Player,
    axes: &Axes,
    cast: &Cast,
    commune: String,
) -> anyhow::Result<String> {
    let workshop = Spec {
        kind: pb::ActionKind::ForesightWorkshop,
        title: "Atelier prospectif : le territoire en 2035",
        themes: &[Theme::Mobility, Theme::RelevanceSustainability],
        audiences: &[Audience::Elus, Audience::Associations],
        commune: Some(commune),
        day: 163,
        minutes: 180,
        organisers: cast.epci.iter().map(|e| e.id.clone()).collect(),
        invitees: Vec::new(),
        // A fixed count: no draw, so what the story draws after stays the same.
        head_counts: vec![(Audience::Associations, 7)],
        outcomes: Vec::new(),
    };
    let id = hold(player, axes, workshop).await?;
    let request = pb::RecordForesightOutputsRequest {
        request_id: player.request_id(),
        action_id: id.clone(),
        expected_version: None,
        scenarios: vec![
            pb::ForesightScenario {
                title: "Un tiers-lieu par bassin de vie".to_owned(),
                horizon_year: 2035,
                narrative:
                    "Trois lieux reliés par le transport à la demande, un animateur mutualisé."
                        .to_owned(),
            },
            pb::ForesightScenario {
                title: "Des tiers-lieux itinérants".to_owned(),
                horizon_year: 2030,
                narrative: "Un véhicule aménagé passe chaque semaine dans les petites communes."
                    .to_owned(),
            },
        ],
        signals: vec![
            "Le télétravail deux jours par semaine s'installe chez les actifs".to_owned(),
            "Des bâtiments communaux se libèrent dans les bourgs".to_owned(),
        ],
        recommendations: vec!["Mutualiser un poste d'animateur entre les tiers-lieux".to_owned()],
    };
    let result = player.engagement.record_foresight_outputs(request).await;
    command(player, "résultats de l'atelier prospectif", result).await?;
    Ok(id)
}
