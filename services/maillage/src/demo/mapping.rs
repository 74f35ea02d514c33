//! Act 2b of the demo: the facilitators' stakeholder map — every élu, business
//! and chamber assessed once for its influence on the project, its interest in
//! it and its position (the président weighs most and supports it).

use maillage_proto::v1 as pb;
use pb::ProjectPosition as Position;
use rand::Rng;

use super::cast::Cast;
use super::player::Player;

const STAKEHOLDERS: &str = maillage_stakeholders::CONTEXT;

/// Assesses the cast's élus, businesses and chambers.
pub async fn play(player: &mut Player, cast: &Cast) -> anyhow::Result<()> {
    player.phase("cartographie des acteurs");
    let positions = [
        Position::Supportive,
        Position::Supportive,
        Position::Neutral,
        Position::Unknown,
        Position::Opposed,
    ];
    let mut ids: Vec<(String, u32)> = cast
        .elus
        .iter()
        .enumerate()
        // The président (first) and maires weigh more than conseillers.
        .map(|(rank, elu)| (elu.id.clone(), if rank == 0 { 5 } else { 3 }))
        .collect();
    ids.extend(cast.businesses.iter().map(|org| (org.id.clone(), 2)));
    ids.extend(cast.chambers.iter().map(|org| (org.id.clone(), 4)));
    for (index, (id, weight)) in ids.into_iter().enumerate() {
        let influence = (weight + player.rng.gen_range(0..2)).min(5);
        let interest = player.rng.gen_range(1..=5);
        let position = if index == 0 {
            Position::Supportive
        } else {
            positions[player.rng.gen_range(0..positions.len())]
        };
        let request = pb::AssessStakeholderRequest {
            request_id: player.request_id(),
            stakeholder_id: id,
            expected_version: None,
            influence,
            interest,
            position: position as i32,
        };
        let result = player.stakeholders.assess_stakeholder(request).await;
        let reply = player.answer("évaluation d'un acteur", result)?;
        player.done(STAKEHOLDERS, reply);
    }
    Ok(())
}
