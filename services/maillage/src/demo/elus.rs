//! The demo's élus, registered as a collectivité would load them: from the
//! Répertoire national des élus. The élus of the plan's communes (the
//! président of the communauté de communes, maires — two of them
//! vice-présidents —, adjoints, a conseiller municipal) are written as the
//! two RNE files publish them — conseillers municipaux, then conseillers
//! communautaires, with the data.gouv.fr headers — and imported through the
//! same reader and RPC as `maillage import stakeholders`
//! ([`crate::import`], `ImportStakeholders`). The second file's élus are
//! matched to the first's by names, commune and date of birth, and gain
//! their intercommunal mandates. Names are drawn as every other person of the
//! cast (the same draws as before the import existed, so a seed plays the
//! same story); dates of birth are fictional and distinct.

use std::fmt::Write as _;

use maillage_proto::v1 as pb;
use rand::Rng;

use super::cast::{Org, Person};
use super::names;
use super::plan::Plan;
use super::player::Player;
use crate::import::{self, Format};

const STAKEHOLDERS: &str = maillage_stakeholders::CONTEXT;

/// The header of the RNE conseillers municipaux file.
pub const MUNICIPAUX_HEADER: &str = "Code du département;Libellé du département;Code de la collectivité à statut particulier;Libellé de la collectivité à statut particulier;Code de la commune;Libellé de la commune;Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;Date de début du mandat;Libellé de la fonction;Date de début de la fonction;Code nationalité";

/// The header of the RNE conseillers communautaires file.
pub const COMMUNAUTAIRES_HEADER: &str = "Code du département;Libellé du département;Code de la commune;Libellé de la commune;N° SIREN;Libellé de l'EPCI;Nom de l'élu;Prénom de l'élu;Code sexe;Date de naissance;Code de la catégorie socio-professionnelle;Libellé de la catégorie socio-professionnelle;Date de début du mandat;Libellé de la fonction;Date de début de la fonction";

/// One élu of the files.
struct Elu {
    given: String,
    family: String,
    commune: &'static maillage_territory::Commune,
    role: &'static str,
    /// « Libellé de la fonction » in the municipal file.
    municipal: &'static str,
    /// The line in the communautaire file, with its function, if any.
    communautaire: Option<&'static str>,
    born: String,
}

/// Draws an élu's names as the cast draws every person's (names, then
/// whether they gave a phone number, and which).
fn draw(
    player: &mut Player,
    commune: &'static maillage_territory::Commune,
    role: &'static str,
    municipal: &'static str,
    communautaire: Option<&'static str>,
    index: usize,
) -> Elu {
    let (given, family) = names::person(&mut player.rng);
    if player.rng.gen_bool(0.6) {
        let _ = names::phone(&mut player.rng);
    }
    Elu {
        given,
        family,
        commune,
        role,
        municipal,
        communautaire,
        born: format!(
            "{}-{:02}-{:02}",
            1950 + (index * 7) % 40,
            1 + index % 12,
            1 + (index * 5) % 28
        ),
    }
}

/// The two RNE files of `elus`.
fn files(plan: &Plan, elus: &[Elu]) -> (String, String) {
    let mut municipaux = format!("{MUNICIPAUX_HEADER}\n");
    let mut communautaires = format!("{COMMUNAUTAIRES_HEADER}\n");
    for elu in elus {
        let commune = elu.commune;
        let _ = writeln!(
            municipaux,
            "{};Indre-et-Loire;;;{};{};{};{};;{};;;2026-03-22;{};2026-03-28;FR",
            commune.departement,
            commune.code,
            commune.name,
            elu.family.to_uppercase(),
            elu.given,
            elu.born,
            elu.municipal,
        );
        if let Some(function) = elu.communautaire {
            let _ = writeln!(
                communautaires,
                "{};Indre-et-Loire;{};{};{};{};{};{};;{};;;2026-03-30;{function};2026-03-31",
                commune.departement,
                commune.code,
                commune.name,
                plan.epci.siren,
                plan.epci.name,
                elu.family.to_uppercase(),
                elu.given,
                elu.born,
            );
        }
    }
    (municipaux, communautaires)
}

/// Imports one RNE file; returns each line's stakeholder id, in order.
async fn import_file(player: &mut Player, text: &str) -> anyhow::Result<Vec<String>> {
    let parsed = import::parse(text.as_bytes(), Format::Rne, None)?;
    if let Some(error) = parsed.errors.first() {
        anyhow::bail!(
            "démo : ligne {} du fichier des élus refusée : {}",
            error.line,
            error.reason
        );
    }
    let request = pb::ImportStakeholdersRequest {
        request_id: player.request_id(),
        source: pb::ImportSource::Rne as i32,
        dry_run: false,
        rows: parsed.rows.into_iter().map(|row| row.row).collect(),
    };
    let result = player.stakeholders.import_stakeholders(request).await;
    let reply = player.answer("import des élus (RNE)", result)?;
    let mut ids = Vec::with_capacity(reply.results.len());
    for result in &reply.results {
        if result.outcome == pb::ImportOutcome::Failed as i32 {
            anyhow::bail!(
                "démo : import des élus, ligne {} refusée : {} {}",
                result.line,
                result.field,
                result.reason
            );
        }
        ids.push(result.stakeholder_id.clone());
    }
    player.done(
        STAKEHOLDERS,
        pb::CommandReply {
            position: reply.position,
            ..Default::default()
        },
    );
    Ok(ids)
}

/// Imports the plan's élus (the président first), records the legal basis
/// for emailing them (public-interest mission) and affiliates the président
/// with the communauté de communes `epci`; returns them, the président first.
pub async fn import(player: &mut Player, plan: &Plan, epci: &Org) -> anyhow::Result<Vec<Person>> {
    let mut elus = Vec::new();
    elus.push(draw(
        player,
        plan.active[0],
        "président de la communauté de communes",
        "Maire",
        Some("Président du conseil communautaire"),
        0,
    ));
    for (index, commune) in plan.elu_communes.iter().copied().enumerate().skip(1) {
        let communautaire = if index <= 2 {
            // Two vice-présidents among the maires.
            if index == 1 {
                "1er vice-président"
            } else {
                "2ème vice-président"
            }
        } else {
            ""
        };
        let at = elus.len();
        elus.push(draw(
            player,
            commune,
            "maire",
            "Maire",
            Some(communautaire),
            at,
        ));
        if player.rng.gen_bool(0.6) {
            let at = elus.len();
            elus.push(draw(
                player,
                commune,
                "adjoint",
                "1er adjoint au maire",
                None,
                at,
            ));
        }
    }
    // A conseiller municipal of a commune with no other élu met (never contacted).
    if let Some(commune) = plan.active.get(plan.elu_communes.len()).copied() {
        let at = elus.len();
        elus.push(draw(player, commune, "conseiller municipal", "", None, at));
    }

    let (municipaux, communautaires) = files(plan, &elus);
    let ids = import_file(player, &municipaux).await?;
    let intercommunal = import_file(player, &communautaires).await?;
    let expected: Vec<&String> = elus
        .iter()
        .zip(&ids)
        .filter(|(elu, _)| elu.communautaire.is_some())
        .map(|(_, id)| id)
        .collect();
    anyhow::ensure!(
        intercommunal.iter().collect::<Vec<_>>() == expected,
        "démo : le fichier des conseillers communautaires n'a pas retrouvé les maires"
    );

    let mut people = Vec::with_capacity(elus.len());
    for (elu, id) in elus.iter().zip(ids) {
        let request = pb::RecordConsentRequest {
            request_id: player.request_id(),
            stakeholder_id: id.clone(),
            expected_version: None,
            channel: pb::ConsentChannel::Email as i32,
            legal_basis: pb::LegalBasis::PublicInterestMission as i32,
            // Élus are contacted for a public-interest mission: news of the
            // project and invitations (as `cast.rs` does for the others).
            purposes: vec![
                pb::ConsentPurpose::ProjectInformation as i32,
                pb::ConsentPurpose::Invitations as i32,
            ],
        };
        let result = player.stakeholders.record_consent(request).await;
        let reply = player.answer("consentement", result)?;
        player.done(STAKEHOLDERS, reply);
        people.push(Person {
            id,
            commune: elu.commune.code.clone(),
            role: elu.role,
        });
    }
    if let Some(president) = people.first() {
        let request = pb::AddAffiliationRequest {
            request_id: player.request_id(),
            stakeholder_id: president.id.clone(),
            expected_version: None,
            organisation_id: epci.id.clone(),
            role: "président".to_owned(),
            started_at: Some(super::calendar::at(2026, 4, 1, 9, 0)),
        };
        let result = player.stakeholders.add_affiliation(request).await;
        let reply = player.answer("affiliation", result)?;
        player.done(STAKEHOLDERS, reply);
    }
    Ok(people)
}
