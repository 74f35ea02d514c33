//! The platform's one vocabulary of themes ([`Theme`]): how the older
//! vocabularies (`InteractionTheme` of contacts, `EngagementTheme` of actions,
//! surveys and interviews, the free text of commitments) map into it and back,
//! what a request's `topics` and older `themes` mean together, and the French
//! label of each theme.
//!
//! Events written before `topics` existed carry only their older field: a
//! reader takes [`topics_or_older`] of an event, never one field alone.

use crate::v1::{EngagementTheme, InteractionTheme, Theme};

impl From<InteractionTheme> for Theme {
    fn from(older: InteractionTheme) -> Self {
        match older {
            InteractionTheme::Unspecified => Theme::Unspecified,
            InteractionTheme::TiersLieuxKinds => Theme::QuelsTla,
            InteractionTheme::BusinessConvergence => Theme::BusinessConvergence,
            InteractionTheme::Telework => Theme::Telework,
            InteractionTheme::Sustainability => Theme::RelevanceSustainability,
            InteractionTheme::Awareness => Theme::Awareness,
            InteractionTheme::ExistingTiersLieux => Theme::ExistingTiersLieux,
            InteractionTheme::Survey => Theme::Survey,
            InteractionTheme::Consortium => Theme::Governance,
            InteractionTheme::Other => Theme::Other,
        }
    }
}

impl From<EngagementTheme> for Theme {
    fn from(older: EngagementTheme) -> Self {
        match older {
            EngagementTheme::Unspecified => Theme::Unspecified,
            EngagementTheme::QuelsTla => Theme::QuelsTla,
            EngagementTheme::BusinessConvergence => Theme::BusinessConvergence,
            EngagementTheme::Telework => Theme::Telework,
            EngagementTheme::RelevanceSustainability => Theme::RelevanceSustainability,
            EngagementTheme::Governance => Theme::Governance,
            EngagementTheme::EconomicModel => Theme::EconomicModel,
            EngagementTheme::DigitalInclusion => Theme::DigitalInclusion,
            EngagementTheme::SkillsTraining => Theme::SkillsTraining,
            EngagementTheme::Mobility => Theme::Mobility,
            EngagementTheme::CultureCommunity => Theme::CultureCommunity,
        }
    }
}

/// The theme of a stored `InteractionTheme` value (`None`: unset or unknown).
pub fn from_interaction_value(value: i32) -> Option<Theme> {
    InteractionTheme::try_from(value)
        .ok()
        .map(Theme::from)
        .filter(|theme| *theme != Theme::Unspecified)
}

/// The theme of a stored `EngagementTheme` value (`None`: unset or unknown).
pub fn from_engagement_value(value: i32) -> Option<Theme> {
    EngagementTheme::try_from(value)
        .ok()
        .map(Theme::from)
        .filter(|theme| *theme != Theme::Unspecified)
}

/// `theme` in the contacts' older vocabulary, for the older field that
/// consumers written before `topics` read: a theme it lacks is `OTHER`.
pub fn as_interaction_theme(theme: Theme) -> InteractionTheme {
    match theme {
        Theme::Unspecified => InteractionTheme::Unspecified,
        Theme::QuelsTla => InteractionTheme::TiersLieuxKinds,
        Theme::BusinessConvergence => InteractionTheme::BusinessConvergence,
        Theme::Telework => InteractionTheme::Telework,
        Theme::RelevanceSustainability => InteractionTheme::Sustainability,
        Theme::Governance => InteractionTheme::Consortium,
        Theme::Awareness => InteractionTheme::Awareness,
        Theme::ExistingTiersLieux => InteractionTheme::ExistingTiersLieux,
        Theme::Survey => InteractionTheme::Survey,
        Theme::EconomicModel
        | Theme::DigitalInclusion
        | Theme::SkillsTraining
        | Theme::Mobility
        | Theme::CultureCommunity
        | Theme::Other => InteractionTheme::Other,
    }
}

/// `theme` in the engagement's older vocabulary, which lacks the missions
/// and `OTHER` (`None` for those).
pub fn as_engagement_theme(theme: Theme) -> Option<EngagementTheme> {
    EngagementTheme::try_from(theme as i32)
        .ok()
        .filter(|older| *older != EngagementTheme::Unspecified)
}

/// The older field's values for `topics`: each mapped by `older_of`, in order,
/// without repeats.
pub fn older_values<T: Into<i32> + Copy>(
    topics: &[Theme],
    older_of: impl Fn(Theme) -> Option<T>,
) -> Vec<i32> {
    let mut values: Vec<i32> = Vec::with_capacity(topics.len());
    for value in topics.iter().filter_map(|theme| older_of(*theme)) {
        let value = value.into();
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

/// The themes of a stored event or row, as `Theme` values: its `topics`, or,
/// when it was written before them, its `older` values mapped by `map_older`.
pub fn topics_or_older(
    topics: &[i32],
    older: &[i32],
    map_older: impl Fn(i32) -> Option<Theme>,
) -> Vec<i32> {
    if !topics.is_empty() {
        return topics.to_vec();
    }
    let mut mapped: Vec<i32> = Vec::with_capacity(older.len());
    for theme in older.iter().filter_map(|value| map_older(*value)) {
        if !mapped.contains(&(theme as i32)) {
            mapped.push(theme as i32);
        }
    }
    mapped
}

/// Why a request's themes were refused: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemesError {
    /// The request field, e.g. `topics[2]`.
    pub field: String,
    /// What is wrong, e.g. `unknown theme 99`.
    pub reason: String,
}

/// The themes a request asks for. `topics` (named `topics_field`) must each be
/// a known theme other than UNSPECIFIED, given once. A client written before
/// `topics` sends only its older field, already checked by the service and
/// mapped (`older`): that is taken instead. When both are given they must name
/// the same themes.
pub fn requested(
    topics_field: &str,
    topics: &[i32],
    older_field: &str,
    older: Vec<Theme>,
) -> Result<Vec<Theme>, ThemesError> {
    let mut checked: Vec<Theme> = Vec::with_capacity(topics.len());
    for (index, value) in topics.iter().enumerate() {
        let field = || format!("{topics_field}[{index}]");
        let theme = match Theme::try_from(*value) {
            Ok(Theme::Unspecified) => {
                return Err(ThemesError {
                    field: field(),
                    reason: "is unspecified".into(),
                })
            }
            Ok(theme) => theme,
            Err(_) => {
                return Err(ThemesError {
                    field: field(),
                    reason: format!("unknown theme {value}"),
                })
            }
        };
        if checked.contains(&theme) {
            return Err(ThemesError {
                field: field(),
                reason: format!("{} appears twice", theme.as_str_name()),
            });
        }
        checked.push(theme);
    }
    if checked.is_empty() {
        return Ok(older);
    }
    if !older.is_empty() {
        let same = older.len() == checked.len() && older.iter().all(|t| checked.contains(t));
        if !same {
            return Err(ThemesError {
                field: topics_field.to_owned(),
                reason: format!(
                    "names other themes than `{older_field}`: send `{topics_field}` only"
                ),
            });
        }
    }
    Ok(checked)
}

/// The French label of a theme, as reports show it.
pub fn label_fr(theme: Theme) -> &'static str {
    match theme {
        Theme::Unspecified => "Non précisé",
        Theme::QuelsTla => "Quels tiers-lieux ?",
        Theme::BusinessConvergence => "Convergence entreprises / tiers-lieux",
        Theme::Telework => "Télétravail",
        Theme::RelevanceSustainability => "Pertinence et pérennité",
        Theme::Governance => "Gouvernance",
        Theme::EconomicModel => "Modèle économique",
        Theme::DigitalInclusion => "Inclusion numérique",
        Theme::SkillsTraining => "Compétences et formation",
        Theme::Mobility => "Mobilité",
        Theme::CultureCommunity => "Culture et vie locale",
        Theme::Awareness => "Sensibilisation",
        Theme::ExistingTiersLieux => "Tiers-lieux existants",
        Theme::Survey => "Enquêtes et entretiens",
        Theme::Other => "Autre",
    }
}

/// Every theme, in value order (UNSPECIFIED excluded).
pub const ALL: [Theme; 14] = [
    Theme::QuelsTla,
    Theme::BusinessConvergence,
    Theme::Telework,
    Theme::RelevanceSustainability,
    Theme::Governance,
    Theme::EconomicModel,
    Theme::DigitalInclusion,
    Theme::SkillsTraining,
    Theme::Mobility,
    Theme::CultureCommunity,
    Theme::Awareness,
    Theme::ExistingTiersLieux,
    Theme::Survey,
    Theme::Other,
];

/// Other ways people write a theme, normalised (see [`normalise`]), beyond its
/// French label and its value names.
fn synonyms(theme: Theme) -> &'static [&'static str] {
    match theme {
        Theme::QuelsTla => &[
            "quels tla",
            "tla",
            "quels tiers lieux pour quelles activites",
        ],
        Theme::BusinessConvergence => &[
            "convergence entreprises",
            "convergence entreprises tiers lieux",
        ],
        Theme::Telework => &["teletravail en tiers lieux", "coworking"],
        Theme::RelevanceSustainability => &["pertinence", "perennite", "sustainability"],
        Theme::Governance => &["consortium", "gouvernance du consortium"],
        Theme::EconomicModel => &["financement", "modele economique et financement"],
        Theme::DigitalInclusion => &["numerique", "france services"],
        Theme::SkillsTraining => &["competences", "formation", "emploi"],
        Theme::Mobility => &["mobilites", "transport"],
        Theme::CultureCommunity => &["culture", "vie locale", "vie associative"],
        Theme::Awareness => &["sensibilisation du public"],
        Theme::ExistingTiersLieux => &["tiers lieux existants", "diagnostic"],
        Theme::Survey => &["enquete", "enquetes", "entretiens"],
        Theme::Other => &["autre", "autres", "divers"],
        Theme::Unspecified => &[],
    }
}

/// Lowercase, accents folded, every run of other characters one space.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        };
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

/// The theme a commitment's free-text label names (they were free text before
/// `topic`): matched, accents and case folded, against each theme's French
/// label, its value names (`THEME_TELEWORK`, `ENGAGEMENT_THEME_TELEWORK`,
/// `telework`) and a few usual synonyms. An empty label is UNSPECIFIED; a
/// label that names none of them is OTHER.
pub fn from_label(label: &str) -> Theme {
    let wanted = normalise(label);
    if wanted.is_empty() {
        return Theme::Unspecified;
    }
    let bare = ["interaction theme ", "engagement theme ", "theme "]
        .iter()
        .find_map(|prefix| wanted.strip_prefix(prefix))
        .unwrap_or(&wanted);
    for theme in ALL {
        let name = normalise(theme.as_str_name());
        let name = name.strip_prefix("theme ").unwrap_or(&name);
        if bare == name
            || wanted == normalise(label_fr(theme))
            || synonyms(theme).contains(&wanted.as_str())
        {
            return theme;
        }
    }
    for older in (1..).map_while(|value| InteractionTheme::try_from(value).ok()) {
        let name = normalise(older.as_str_name());
        if bare == name.strip_prefix("interaction theme ").unwrap_or(&name) {
            return older.into();
        }
    }
    Theme::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engagement_values_are_the_same_numbers() {
        for value in 1..=10 {
            let older = EngagementTheme::try_from(value).unwrap();
            assert_eq!(Theme::from(older) as i32, value);
            assert_eq!(as_engagement_theme(Theme::from(older)), Some(older));
        }
        assert_eq!(as_engagement_theme(Theme::Awareness), None);
    }

    #[test]
    fn every_contact_theme_maps_and_comes_back() {
        for value in 1..=9 {
            let older = InteractionTheme::try_from(value).unwrap();
            let theme = Theme::from(older);
            assert_ne!(theme, Theme::Unspecified);
            assert_eq!(as_interaction_theme(theme), older, "{older:?}");
        }
        assert_eq!(
            as_interaction_theme(Theme::Mobility),
            InteractionTheme::Other
        );
    }

    #[test]
    fn an_event_without_topics_reads_its_older_field() {
        let older = [
            InteractionTheme::Consortium as i32,
            InteractionTheme::Telework as i32,
            99,
        ];
        assert_eq!(
            topics_or_older(&[], &older, from_interaction_value),
            vec![Theme::Governance as i32, Theme::Telework as i32]
        );
        assert_eq!(
            topics_or_older(&[Theme::Mobility as i32], &older, from_interaction_value),
            vec![Theme::Mobility as i32]
        );
    }

    #[test]
    fn a_request_gives_topics_or_its_older_themes_not_two_different_lists() {
        let telework = Theme::Telework as i32;
        assert_eq!(
            requested("topics", &[telework], "themes", vec![]).unwrap(),
            vec![Theme::Telework]
        );
        assert_eq!(
            requested("topics", &[], "themes", vec![Theme::Governance]).unwrap(),
            vec![Theme::Governance]
        );
        assert_eq!(
            requested("topics", &[telework], "themes", vec![Theme::Telework]).unwrap(),
            vec![Theme::Telework]
        );
        let disagree = requested("topics", &[telework], "themes", vec![Theme::Mobility]);
        assert_eq!(disagree.unwrap_err().field, "topics");
        let unknown = requested("topics", &[telework, 99], "themes", vec![]).unwrap_err();
        assert_eq!(unknown.field, "topics[1]");
        let twice = requested("topics", &[telework, telework], "themes", vec![]);
        assert!(twice.unwrap_err().reason.contains("twice"));
        let unset = requested("topics", &[0], "themes", vec![]).unwrap_err();
        assert_eq!(unset.field, "topics[0]");
    }

    #[test]
    fn commitment_labels_are_read_as_themes() {
        assert_eq!(from_label("Télétravail"), Theme::Telework);
        assert_eq!(from_label("  TELETRAVAIL "), Theme::Telework);
        assert_eq!(from_label("quels-tla"), Theme::QuelsTla);
        assert_eq!(
            from_label("Convergence entreprises"),
            Theme::BusinessConvergence
        );
        assert_eq!(
            from_label("Compétences et formation"),
            Theme::SkillsTraining
        );
        assert_eq!(from_label("ENGAGEMENT_THEME_MOBILITY"), Theme::Mobility);
        assert_eq!(
            from_label("THEME_DIGITAL_INCLUSION"),
            Theme::DigitalInclusion
        );
        assert_eq!(from_label("tiers_lieux_kinds"), Theme::QuelsTla);
        assert_eq!(from_label("Rénovation de la salle des fêtes"), Theme::Other);
        assert_eq!(from_label(""), Theme::Unspecified);
    }
}
