//! Act 3a of the demo: the collectivité defines the three axes of its
//! programme (issue 14), which the actions, the survey and the interviews
//! that follow are tagged with.

use maillage_proto::v1 as pb;

use super::player::Player;

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

/// Defines the programme's three axes.
pub async fn play(player: &mut Player) -> anyhow::Result<Axes> {
    player.phase("Programme de l'accompagnement");
    Ok(Axes {
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
    })
}
