//! Act 3a of the demo: the collectivité defines the three axes of its
//! programme (issue 14), which the actions, the survey and the interviews
//! that follow are tagged with, and designates its DGS as the officer who
//! approves the thematic actions of the third axis (she gets a token of her
//! own: [`OFFICER`]). [`approve`] plays her concertation on a proposal.

use maillage_proto::v1 as pb;
use pb::admin_client::AdminClient;
use pb::engagement_client::EngagementClient;

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
/// them for `axis`, and connects as them.
async fn designate(
    player: &mut Player,
    connection: &Connection,
    channel: Authed,
    axis: &str,
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

/// Defines the programme's three axes and designates the officer.
pub async fn play(
    player: &mut Player,
    connection: &Connection,
    channel: Authed,
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
    designate(player, connection, channel, &axes.structure).await?;
    Ok(axes)
}
