//! Act 1b of the demo, right after the cast is registered: the collectivité
//! defines the three axes of its programme (issue 14), which the contacts,
//! the actions, the survey, the interviews and the commitments that follow
//! are tagged with, and designates its DGS as the officer who
//! approves the thematic actions of the third axis (she gets a token of her
//! own: [`OFFICER`]), linked to the person she is in the register.
//! [`approve`] plays her sign-off on a proposal; [`concertation`] records
//! the meeting the team held with her on the third axis, with two decisions.
//! [`plan`] sets the objectives of the axes (every commune reached by an
//! awareness action by June 2027, roundtables, interviews) and the missions
//! of the contract with their deliverables, one delivered.

use maillage_proto::v1 as pb;
use pb::admin_client::AdminClient;
use pb::engagement_client::EngagementClient;

use super::calendar::{at, campaign_day};
use super::cast::Cast;
use super::player::Player;
use crate::cli::client::{explain, Authed, Connection};

/// The principal of the collectivité's designated officer.
pub const OFFICER: &str = "dgs-castelrenaudais";

const ENGAGEMENT: &str = maillage_engagement::CONTEXT;

/// The axes of the demo's programme, by id.
pub struct Axes {
    /// "Sensibiliser et informer": the awareness actions and the campaign.
    pub inform: String,
    /// "Concerter les acteurs": roundtables, the survey, interviews.
    pub consult: String,
    /// "Structurer l'offre de tiers-lieux": workshops and foresight.
    pub structure: String,
}

impl Axes {
    /// The axes an action of `kind` serves.
    pub fn for_kind(&self, kind: pb::ActionKind) -> Vec<String> {
        use pb::ActionKind as K;
        let axis = match kind {
            K::AwarenessPublicMeeting
            | K::AwarenessWebinar
            | K::AwarenessStand
            | K::AwarenessSiteVisit
            | K::AwarenessNewsletter => &self.inform,
            K::Roundtable | K::ExchangeVisit => &self.consult,
            K::ThematicWorkshop | K::ForesightWorkshop | K::Unspecified => &self.structure,
        };
        vec![axis.clone()]
    }
}

/// Defines one axis; returns its id.
async fn define(player: &mut Player, name: &str, description: &str) -> anyhow::Result<String> {
    let request = pb::DefineProgrammeAxisRequest {
        request_id: player.request_id(),
        name: name.to_owned(),
        description: description.to_owned(),
        expected_version: None,
    };
    let result = player.engagement.define_programme_axis(request).await;
    let reply = player.answer("axe du programme", result)?;
    Ok(player.done(ENGAGEMENT, reply))
}

/// Gives the officer a token (facilitator: engagement's writers), designates
/// them for `axis` from before the campaign, linked to the DGS of `cast`,
/// and connects as them.
async fn designate(
    player: &mut Player,
    connection: &Connection,
    channel: Authed,
    axis: &str,
    cast: &Cast,
) -> anyhow::Result<()> {
    let token = AdminClient::new(channel)
        .add_token(pb::AddTokenRequest {
            principal: OFFICER.to_owned(),
            roles: vec!["facilitator".to_owned()],
            expires_at: None,
        })
        .await
        .map_err(explain)?
        .into_inner()
        .token;
    let request = pb::DesignateProgrammeOfficerRequest {
        request_id: player.request_id(),
        expected_version: None,
        principal: OFFICER.to_owned(),
        axis_id: axis.to_owned(),
        title: "Directrice générale des services".to_owned(),
        stakeholder_id: cast
            .dgs
            .as_ref()
            .map(|dgs| dgs.id.clone())
            .unwrap_or_default(),
        designated_from: Some(at(2026, 4, 1, 9, 0)),
    };
    let result = player.engagement.designate_programme_officer(request).await;
    let reply = player.answer("responsable désignée", result)?;
    player.done(ENGAGEMENT, reply);
    let officer = Connection {
        token: Some(token),
        ..connection.clone()
    };
    player.officer = Some(EngagementClient::new(officer.connect().await?));
    Ok(())
}

/// The officer's concertation on the proposed action `id`: sent back once
/// (the public to aim at), then approved. Nothing when no officer was designated.
pub async fn approve(player: &mut Player, id: &str) -> anyhow::Result<()> {
    let Some(mut officer) = player.officer.clone() else {
        return Ok(());
    };
    let request = pb::SendBackActionRequest {
        request_id: player.request_id(),
        action_id: id.to_owned(),
        expected_version: None,
        reason: "Préciser les publics visés et inviter les deux tiers-lieux existants.".to_owned(),
    };
    let result = officer.send_back_action(request).await;
    let reply = player.answer("action renvoyée", result)?;
    player.done(ENGAGEMENT, reply);
    let request = pb::ApproveActionRequest {
        request_id: player.request_id(),
        action_id: id.to_owned(),
        expected_version: None,
        note: "Validée en comité de pilotage avec la communauté de communes.".to_owned(),
    };
    let result = officer.approve_action(request).await;
    let reply = player.answer("action approuvée", result)?;
    player.done(ENGAGEMENT, reply);
    Ok(())
}

/// The concertation the team held with the officer on the third axis,
/// about `actions` (the thematic and foresight workshops), with the
/// development officer and a tiers-lieu's manager, and two decisions.
pub async fn concertation(
    player: &mut Player,
    axes: &Axes,
    cast: &Cast,
    actions: &[String],
) -> anyhow::Result<()> {
    let request = pb::RecordConcertationRequest {
        request_id: player.request_id(),
        expected_version: None,
        held_at: Some(campaign_day(168, 14)),
        axis_id: axes.structure.clone(),
        action_ids: actions.to_vec(),
        officers: vec![OFFICER.to_owned()],
        participant_ids: cast
            .agents
            .iter()
            .take(1)
            .chain(cast.managers.iter().take(1))
            .map(|person| person.id.clone())
            .collect(),
        subject: "Suites des ateliers thématique et prospectif".to_owned(),
        decisions: vec![
            pb::ConcertationDecision {
                text:
                    "Lancer une étude d'opportunité pour un tiers-lieu à Saint-Laurent-en-Gâtines"
                        .to_owned(),
                owner: "Communauté de communes".to_owned(),
                due_at: Some(at(2027, 3, 31, 0, 0)),
            },
            pb::ConcertationDecision {
                text: "Présenter les scénarios 2035 au conseil communautaire".to_owned(),
                owner: "Équipe d'accompagnement".to_owned(),
                due_at: Some(at(2026, 12, 15, 0, 0)),
            },
        ],
        notes: "La gestionnaire du tiers-lieu souhaite être associée à l'étude.".to_owned(),
    };
    let result = player.engagement.record_concertation(request).await;
    let reply = player.answer("concertation avec la responsable désignée", result)?;
    player.done(ENGAGEMENT, reply);
    Ok(())
}

/// Sets one objective of `axis`.
async fn objective(
    player: &mut Player,
    axis: &str,
    label: &str,
    measure: pb::ObjectiveMeasure,
    action_kinds: &[pb::ActionKind],
    target: Option<u32>,
    due_at: prost_types::Timestamp,
) -> anyhow::Result<()> {
    let request = pb::SetProgrammeObjectiveRequest {
        request_id: player.request_id(),
        expected_version: None,
        objective_id: String::new(),
        axis_id: axis.to_owned(),
        label: label.to_owned(),
        measure: measure.into(),
        action_kinds: action_kinds.iter().map(|k| i32::from(*k)).collect(),
        audiences: Vec::new(),
        target: target.unwrap_or(0),
        every_commune: target.is_none(),
        due_at: Some(due_at),
    };
    let result = player.engagement.set_programme_objective(request).await;
    let reply = player.answer("objectif du programme", result)?;
    player.done(ENGAGEMENT, reply);
    Ok(())
}

/// A deliverable of the demo: its label, due date, and when it was
/// delivered and what (`None`: not yet).
type Deliverable<'a> = (
    &'a str,
    prost_types::Timestamp,
    Option<(prost_types::Timestamp, &'a str)>,
);

/// Adds a mission with its deliverables.
async fn mission(
    player: &mut Player,
    name: &str,
    deliverables: &[Deliverable<'_>],
) -> anyhow::Result<()> {
    let request = pb::DefineProgrammeMissionRequest {
        request_id: player.request_id(),
        expected_version: None,
        name: name.to_owned(),
        description: String::new(),
    };
    let result = player.engagement.define_programme_mission(request).await;
    let reply = player.answer("mission du contrat", result)?;
    let mission_id = player.done(ENGAGEMENT, reply);
    for (label, due_at, delivered) in deliverables {
        let request = pb::AddMissionDeliverableRequest {
            request_id: player.request_id(),
            expected_version: None,
            mission_id: mission_id.clone(),
            label: (*label).to_owned(),
            due_at: Some(*due_at),
        };
        let result = player.engagement.add_mission_deliverable(request).await;
        let reply = player.answer("livrable", result)?;
        let deliverable_id = player.done(ENGAGEMENT, reply);
        if let Some((delivered_at, reference)) = delivered {
            let request = pb::DeliverMissionDeliverableRequest {
                request_id: player.request_id(),
                expected_version: None,
                deliverable_id,
                delivered_at: Some(*delivered_at),
                reference: (*reference).to_owned(),
            };
            let result = player.engagement.deliver_mission_deliverable(request).await;
            let reply = player.answer("livrable remis", result)?;
            player.done(ENGAGEMENT, reply);
        }
    }
    Ok(())
}

/// The objectives of the axes and the missions of the contract.
async fn plan(player: &mut Player, axes: &Axes) -> anyhow::Result<()> {
    use pb::ActionKind as K;
    use pb::ObjectiveMeasure as M;
    objective(
        player,
        &axes.inform,
        "Toutes les communes touchées par une action de sensibilisation",
        M::CommunesReached,
        &[
            K::AwarenessPublicMeeting,
            K::AwarenessStand,
            K::AwarenessSiteVisit,
        ],
        None,
        at(2027, 6, 30, 0, 0),
    )
    .await?;
    objective(
        player,
        &axes.consult,
        "Trois tables rondes entre acteurs du territoire",
        M::ActionsHeld,
        &[K::Roundtable],
        Some(3),
        at(2026, 12, 31, 0, 0),
    )
    .await?;
    objective(
        player,
        &axes.consult,
        "Cent réponses à l'enquête",
        M::SurveyResponses,
        &[],
        Some(100),
        at(2026, 12, 31, 0, 0),
    )
    .await?;
    objective(
        player,
        &axes.consult,
        "Dix entretiens pour comprendre motivations et attentes",
        M::Interviews,
        &[],
        Some(10),
        at(2026, 12, 31, 0, 0),
    )
    .await?;
    mission(
        player,
        "Mission 1 : sensibilisation et concertation",
        &[
            (
                "Plan de sensibilisation",
                at(2026, 5, 15, 0, 0),
                Some((at(2026, 5, 12, 10, 0), "plan-de-sensibilisation.pdf")),
            ),
            (
                "Synthèse de l'enquête et des entretiens",
                at(2027, 1, 31, 0, 0),
                None,
            ),
        ],
    )
    .await?;
    mission(
        player,
        "Mission 2 : analyse des tiers-lieux existants",
        &[(
            "Rapport de diagnostic des tiers-lieux",
            at(2027, 2, 28, 0, 0),
            None,
        )],
    )
    .await
}

/// Defines the programme's three axes and designates the officer.
pub async fn play(
    player: &mut Player,
    connection: &Connection,
    channel: Authed,
    cast: &Cast,
) -> anyhow::Result<Axes> {
    player.phase("Programme de l'accompagnement");
    let axes = Axes {
        inform: define(
            player,
            "Sensibiliser et informer",
            "Faire connaître les tiers-lieux et le projet aux habitants, aux élus et aux entreprises.",
        )
        .await?,
        consult: define(
            player,
            "Concerter les acteurs du territoire",
            "Tables rondes, enquête et entretiens : entendre attentes et motivations.",
        )
        .await?,
        structure: define(
            player,
            "Structurer l'offre de tiers-lieux",
            "Ateliers thématiques et prospectifs : quels tiers-lieux, pour quelles activités.",
        )
        .await?,
    };
    designate(player, connection, channel, &axes.structure, cast).await?;
    plan(player, &axes).await?;
    Ok(axes)
}
