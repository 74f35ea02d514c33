//! Act 3b of the demo: the team's codebook (grille de codage, issue 14) — a
//! few codes of each kind, each in a theme of the seed — which the
//! diagnostics of the existing tiers-lieux and the interviews that complete
//! the survey are then coded with. One code is relabelled and one retired,
//! as a codebook lives.

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;
use pb::{CodeKind as K, Theme as T};

use super::player::Player;

const ENGAGEMENT: &str = maillage_engagement::CONTEXT;

/// The codes (key, kind, label, theme).
const CODES: &[(&str, K, &str, T)] = &[
    (
        "isolement",
        K::Motivation,
        "Rompre l'isolement du travail à domicile",
        T::Telework,
    ),
    (
        "jeunes",
        K::Motivation,
        "Garder les jeunes actifs sur le territoire",
        T::EconomicModel,
    ),
    (
        "bourg",
        K::Motivation,
        "Faire vivre le centre-bourg",
        T::CultureCommunity,
    ),
    (
        "equipements",
        K::Motivation,
        "Partager des équipements coûteux",
        T::EconomicModel,
    ),
    (
        "debit",
        K::Expectation,
        "Un accès internet très haut débit",
        T::Telework,
    ),
    (
        "horaires",
        K::Expectation,
        "Des horaires adaptés aux actifs",
        T::Telework,
    ),
    (
        "sans-voiture",
        K::Expectation,
        "Un lieu accessible sans voiture",
        T::Mobility,
    ),
    (
        "demarches",
        K::Expectation,
        "Un accompagnement aux démarches en ligne",
        T::DigitalInclusion,
    ),
    (
        "formations",
        K::Priority,
        "Accueillir des formations",
        T::SkillsTraining,
    ),
    (
        "modele",
        K::Priority,
        "Équilibrer le modèle économique",
        T::EconomicModel,
    ),
    (
        "reparation",
        K::Priority,
        "Ouvrir un atelier de réparation",
        T::RelevanceSustainability,
    ),
    (
        "culture",
        K::Priority,
        "Programmer des activités culturelles",
        T::CultureCommunity,
    ),
    ("animation", K::Need, "Animer le lieu", T::Governance),
    (
        "batiment",
        K::Need,
        "Mettre le bâtiment aux normes",
        T::ExistingTiersLieux,
    ),
    (
        "restauration",
        K::Refusal,
        "Restauration",
        T::ExistingTiersLieux,
    ),
    (
        "hebergement",
        K::Refusal,
        "Hébergement",
        T::ExistingTiersLieux,
    ),
    ("coworking", K::Refusal, "Espace de coworking", T::Telework),
    (
        "services",
        K::Expectation,
        "Des services publics",
        T::DigitalInclusion,
    ),
];

/// The demo's codes, by key.
pub struct Codes(BTreeMap<&'static str, String>);

impl Codes {
    /// The ids of the codes `keys` (every key is one of [`CODES`]).
    pub fn ids(&self, keys: &[&str]) -> Vec<String> {
        keys.iter()
            .filter_map(|key| self.0.get(key).cloned())
            .collect()
    }
}

/// Defines the codebook; relabels one code and retires another.
pub async fn play(player: &mut Player) -> anyhow::Result<Codes> {
    player.phase("Grille de codage");
    let mut codes = BTreeMap::new();
    for (key, kind, label, theme) in CODES {
        let request = pb::DefineCodeRequest {
            request_id: player.request_id(),
            expected_version: None,
            kind: *kind as i32,
            label: (*label).to_owned(),
            description: String::new(),
            topic: *theme as i32,
        };
        let result = player.engagement.define_code(request).await;
        let reply = player.answer("code", result)?;
        codes.insert(*key, player.done(ENGAGEMENT, reply));
    }
    let codes = Codes(codes);
    let request = pb::RelabelCodeRequest {
        request_id: player.request_id(),
        code_id: codes.ids(&["animation"]).concat(),
        expected_version: None,
        label: "Animer le lieu (salarié ou bénévoles)".to_owned(),
        description: "Un poste d'animateur, ou des bénévoles pour les permanences.".to_owned(),
    };
    let result = player.engagement.relabel_code(request).await;
    let reply = player.answer("code renommé", result)?;
    player.done(ENGAGEMENT, reply);
    let request = pb::RetireCodeRequest {
        request_id: player.request_id(),
        code_id: codes.ids(&["services"]).concat(),
        expected_version: None,
        reason: "Redondant avec l'accompagnement aux démarches en ligne.".to_owned(),
    };
    let result = player.engagement.retire_code(request).await;
    let reply = player.answer("code retiré", result)?;
    player.done(ENGAGEMENT, reply);
    Ok(codes)
}
