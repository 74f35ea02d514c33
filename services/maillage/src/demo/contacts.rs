//! Act 2 of the demo: the facilitators' contact log — meetings, calls and emails with
//! élus, business leaders, chambers, associations and tiers-lieux over the campaign,
//! with follow-ups, one completed and one contact corrected (the audit keeps both).
//! Contacts are tagged with the programme's axes they served: the first contact
//! with each élu informs, the chambers' prepare the concertation, the
//! tiers-lieux' structure the offer; business contacts are not tagged.

use maillage_proto::v1 as pb;
use pb::{InteractionChannel as Channel, Theme};
use rand::seq::SliceRandom;
use rand::Rng;

use super::calendar::{campaign_day, CAMPAIGN_DAYS};
use super::cast::Cast;
use super::player::Player;
use super::programme::Axes;

const STAKEHOLDERS: &str = maillage_stakeholders::CONTEXT;

/// One contact to log.
struct Contact<'a> {
    participants: Vec<String>,
    channel: Channel,
    direction: pb::InteractionDirection,
    day: i64,
    subject: &'a str,
    themes: &'a [Theme],
    follow_up: Option<&'a str>,
    /// The programme's axes it served.
    axes: Vec<String>,
}

async fn log(player: &mut Player, contact: Contact<'_>) -> anyhow::Result<String> {
    let hour = player.rng.gen_range(9..18);
    let request = pb::LogInteractionRequest {
        request_id: player.request_id(),
        participant_ids: contact.participants,
        channel: contact.channel as i32,
        direction: contact.direction as i32,
        occurred_at: Some(campaign_day(contact.day, hour)),
        subject: contact.subject.to_owned(),
        notes: String::new(),
        themes: Vec::new(),
        topics: contact.themes.iter().map(|t| *t as i32).collect(),
        follow_ups: contact
            .follow_up
            .map(|description| pb::FollowUpInput {
                owner: Default::default(),
                description: description.to_owned(),
                due_at: Some(campaign_day(contact.day + 14, 12)),
            })
            .into_iter()
            .collect(),
        axis_ids: contact.axes,
    };
    let result = player.stakeholders.log_interaction(request).await;
    let reply = player.answer("contact", result)?;
    Ok(player.done(STAKEHOLDERS, reply))
}

const ELU_SUBJECTS: &[(&str, &[Theme])] = &[
    (
        "Présentation de la démarche tiers-lieux",
        &[Theme::Awareness, Theme::QuelsTla],
    ),
    (
        "Besoins de la commune en services de proximité",
        &[Theme::QuelsTla],
    ),
    (
        "Point d'étape sur l'enquête auprès des habitants",
        &[Theme::Survey],
    ),
    ("Préparation du consortium", &[Theme::Governance]),
    (
        "Locaux vacants pouvant accueillir un tiers-lieu",
        &[Theme::RelevanceSustainability],
    ),
];

const BUSINESS_SUBJECTS: &[(&str, &[Theme])] = &[
    (
        "Besoins en espaces de travail partagés",
        &[Theme::BusinessConvergence, Theme::Telework],
    ),
    ("Accès à un atelier équipé", &[Theme::BusinessConvergence]),
    ("Télétravail des salariés", &[Theme::Telework]),
    (
        "Invitation à la table ronde entreprises",
        &[Theme::BusinessConvergence],
    ),
];

/// Logs the campaign's contacts; returns the ids of the contacts logged.
pub async fn play(player: &mut Player, cast: &Cast, axes: &Axes) -> anyhow::Result<Vec<String>> {
    use pb::InteractionDirection::{Inbound, Outbound};
    player.phase("Contacts avec les acteurs");
    let mut logged = Vec::new();
    let channels = [
        Channel::InPerson,
        Channel::InPerson,
        Channel::Phone,
        Channel::Email,
        Channel::Video,
    ];
    // Élus: every élu but the last registered (a conseiller never met) has 1 to 3 contacts.
    let met = cast.elus.len().saturating_sub(1);
    for elu in cast.elus.iter().take(met) {
        let contacts = player.rng.gen_range(1..=3);
        for rank in 0..contacts {
            let (subject, themes) =
                ELU_SUBJECTS[(rank + player.rng.gen_range(0..2)) % ELU_SUBJECTS.len()];
            let day = player
                .rng
                .gen_range(rank as i64 * 50..(rank as i64 + 1) * 60);
            let channel = *channels
                .choose(&mut player.rng)
                .unwrap_or(&Channel::InPerson);
            let id = log(
                player,
                Contact {
                    participants: vec![elu.id.clone()],
                    channel,
                    direction: Outbound,
                    day,
                    subject,
                    themes,
                    follow_up: (rank == 0)
                        .then_some("Envoyer la synthèse du diagnostic territorial"),
                    axes: if rank == 0 {
                        vec![axes.inform.clone()]
                    } else {
                        Vec::new()
                    },
                },
            )
            .await?;
            logged.push(id);
        }
    }
    // Business leaders with their business, and businesses alone.
    for (index, business) in cast.businesses.iter().enumerate() {
        let mut participants = vec![business.id.clone()];
        if let Some(leader) = cast.leaders.get(index) {
            participants.push(leader.id.clone());
        }
        let extra = player.scaled(2, 1);
        for _ in 0..player.rng.gen_range(1..=extra) {
            let (subject, themes) = *BUSINESS_SUBJECTS
                .choose(&mut player.rng)
                .unwrap_or(&BUSINESS_SUBJECTS[0]);
            let day = player.rng.gen_range(20..CAMPAIGN_DAYS - 10);
            let direction = if player.rng.gen_bool(0.2) {
                Inbound
            } else {
                Outbound
            };
            let channel = *channels.choose(&mut player.rng).unwrap_or(&Channel::Phone);
            let id = log(
                player,
                Contact {
                    participants: participants.clone(),
                    channel,
                    direction,
                    day,
                    subject,
                    themes,
                    follow_up: None,
                    axes: Vec::new(),
                },
            )
            .await?;
            logged.push(id);
        }
    }
    // Chambers, associations and tiers-lieux.
    let mut others: Vec<(String, &str, &[Theme], Vec<String>)> = Vec::new();
    for chamber in &cast.chambers {
        others.push((
            chamber.id.clone(),
            "Partenariat pour la table ronde économique",
            &[Theme::BusinessConvergence],
            vec![axes.consult.clone()],
        ));
    }
    for association in &cast.associations {
        others.push((
            association.id.clone(),
            "Activités associatives dans un futur tiers-lieu",
            &[Theme::QuelsTla],
            Vec::new(),
        ));
    }
    for (tiers_lieu, manager) in cast.tiers_lieux.iter().zip(&cast.managers) {
        others.push((
            tiers_lieu.id.clone(),
            "Préparation du diagnostic du tiers-lieu",
            &[Theme::ExistingTiersLieux],
            vec![axes.structure.clone()],
        ));
        others.push((
            manager.id.clone(),
            "Modèle économique et pérennité",
            &[Theme::RelevanceSustainability, Theme::ExistingTiersLieux],
            vec![axes.structure.clone()],
        ));
    }
    for (id, subject, themes, tagged) in others {
        let day = player.rng.gen_range(10..CAMPAIGN_DAYS - 20);
        let channel = *channels.choose(&mut player.rng).unwrap_or(&Channel::Email);
        logged.push(
            log(
                player,
                Contact {
                    participants: vec![id],
                    channel,
                    direction: Outbound,
                    day,
                    subject,
                    themes,
                    follow_up: None,
                    axes: tagged,
                },
            )
            .await?,
        );
    }

    // The first contact's follow-up is done; the second contact was logged as a phone
    // call but was a meeting in person: corrected, the original stays in the audit.
    if let Some(first) = logged.first() {
        let interaction = player
            .stakeholders
            .get_interaction(pb::GetInteractionRequest {
                interaction_id: first.clone(),
            })
            .await;
        let interaction = player.answer("lecture d'un contact", interaction)?;
        if let Some(follow_up) = interaction.follow_ups.first() {
            let request = pb::CompleteFollowUpRequest {
                request_id: player.request_id(),
                interaction_id: first.clone(),
                expected_version: None,
                follow_up_id: follow_up.follow_up_id.clone(),
            };
            let result = player.stakeholders.complete_follow_up(request).await;
            let reply = player.answer("suivi réalisé", result)?;
            player.done(STAKEHOLDERS, reply);
        }
    }
    if let Some(second) = logged.get(1) {
        let request = pb::CorrectInteractionRequest {
            request_id: player.request_id(),
            interaction_id: second.clone(),
            expected_version: None,
            reason: "Rendez-vous tenu en mairie, pas au téléphone".to_owned(),
            channel: Some(Channel::InPerson as i32),
            ..Default::default()
        };
        let result = player.stakeholders.correct_interaction(request).await;
        let reply = player.answer("correction d'un contact", result)?;
        player.done(STAKEHOLDERS, reply);
    }
    Ok(logged)
}
