//! The demo: a realistic accompaniment of a real rural communauté de communes — the
//! CC du Castelrenaudais (Indre-et-Loire, SIREN 243700499, 16 communes, 15,802
//! inhabitants in COG 2026; see [`plan`]) — played only through the public gRPC API
//! as another internal tool would. Deterministic for a seed: the same commands in the
//! same order with the same request ids. Names of people and businesses are fictional.

pub mod actions;
pub mod calendar;
pub mod cast;
pub mod codebook;
pub mod consortium;
pub mod contacts;
pub mod elus;
pub mod lessons;
pub mod mapping;
pub mod names;
pub mod plan;
pub mod player;
pub mod programme;
pub mod survey;

use std::collections::BTreeMap;

use crate::cli::client::Connection;
use player::Player;

/// What a demo run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The territory played, as `epci:<siren>`.
    pub territory: String,
    /// The highest log position each context reached (for waiting on the projections).
    pub positions: BTreeMap<&'static str, u64>,
    /// Commands sent.
    pub commands: u64,
    /// Id of the survey the story ran.
    pub survey_id: String,
    /// Id of the consortium the story founded.
    pub consortium_id: String,
}

/// Plays the whole story on the platform `connection` reaches, as its
/// principal (an admin: it also gives the collectivité's officer a token).
pub async fn play(connection: &Connection, seed: u64, scale: f64) -> anyhow::Result<Outcome> {
    let (channel, seen) = connection.connect_session().await?;
    let mut player = Player::new(channel.clone(), seen, seed, scale);
    let plan = plan::Plan::draw(&mut player.rng)?;
    let cast = cast::register(&mut player, &plan).await?;
    // The programme first: contacts are tagged with its axes.
    let axes = programme::play(&mut player, connection, channel, &cast).await?;
    contacts::play(&mut player, &cast, &axes).await?;
    mapping::play(&mut player, &cast).await?;
    let codes = codebook::play(&mut player).await?;
    let programme = actions::play(&mut player, &plan, &cast, &axes).await?;
    let diagnostics = survey::diagnostics(&mut player, &cast, &codes).await?;
    let survey_id = survey::survey(&mut player, &plan, &programme.campaign_id, &axes).await?;
    let interviews =
        survey::interviews(&mut player, &plan, &cast, &axes, &survey_id, &codes).await?;
    survey::recode(&mut player, &interviews, &codes, &survey_id).await?;
    programme::concertation(&mut player, &axes, &cast, &programme.workshops).await?;
    let sources = lessons::Sources {
        campaign: &programme.campaign_id,
        interviews: &interviews,
        diagnostics: &diagnostics,
    };
    lessons::play(&mut player, &axes, &sources).await?;
    let consortium = consortium::play(
        &mut player,
        &plan,
        &cast,
        &programme.roundtable_outcomes,
        &axes,
    )
    .await?;
    player.finish();
    Ok(Outcome {
        territory: format!("epci:{}", plan.epci.siren),
        positions: player.positions().clone(),
        commands: player.commands(),
        survey_id,
        consortium_id: consortium.id,
    })
}
