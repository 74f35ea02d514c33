//! French labels for the projections' stable labels (protobuf enum value names and
//! the projection's own kinds), for the report and the CLI's summaries.

use maillage_proto::themes;
use maillage_proto::v1 as pb;

/// The French label of a projection label; the label itself when unknown.
/// Themes, in either vocabulary, get their label from [`themes::label_fr`].
pub fn fr(label: &str) -> String {
    let theme = pb::Theme::from_str_name(label)
        .or_else(|| pb::EngagementTheme::from_str_name(label).map(pb::Theme::from));
    if let Some(theme) = theme {
        return themes::label_fr(theme).to_owned();
    }
    let text = match label {
        "ENGAGEMENT_AUDIENCE_POPULATION" => "Population",
        "ENGAGEMENT_AUDIENCE_ELUS" => "Élus",
        "ENGAGEMENT_AUDIENCE_BUSINESSES" => "Entreprises",
        "ENGAGEMENT_AUDIENCE_TIERS_LIEUX" => "Tiers-lieux",
        "ENGAGEMENT_AUDIENCE_ASSOCIATIONS" => "Associations",
        "ENGAGEMENT_AUDIENCE_ADMINISTRATIONS" => "Administrations",
        "ENGAGEMENT_AUDIENCE_CHAMBERS" => "Chambres consulaires",
        "ACTION_KIND_AWARENESS_PUBLIC_MEETING" => "Réunion publique",
        "ACTION_KIND_AWARENESS_WEBINAR" => "Webinaire",
        "ACTION_KIND_AWARENESS_STAND" => "Stand",
        "ACTION_KIND_AWARENESS_SITE_VISIT" => "Visite de site",
        "ACTION_KIND_AWARENESS_NEWSLETTER" => "Lettre d'information",
        "ACTION_KIND_ROUNDTABLE" => "Table ronde",
        "ACTION_KIND_THEMATIC_WORKSHOP" => "Atelier thématique",
        "ACTION_KIND_EXCHANGE_VISIT" => "Visite d'échange",
        "ACTION_KIND_FORESIGHT_WORKSHOP" => "Atelier prospectif",
        "PERSON_KIND_ELECTED_OFFICIAL" => "Élus",
        "PERSON_KIND_BUSINESS_LEADER" => "Chefs d'entreprise",
        "PERSON_KIND_ASSOCIATION_MEMBER" => "Membres d'association",
        "PERSON_KIND_PUBLIC_AGENT" => "Agents publics",
        "PERSON_KIND_INHABITANT" => "Habitants",
        "PERSON_KIND_TIERS_LIEU_MANAGER" => "Gestionnaires de tiers-lieux",
        "ORGANISATION_LOCAL_AUTHORITY" => "Collectivités",
        "ORGANISATION_BUSINESS" => "Entreprises",
        "ORGANISATION_CHAMBER" => "Chambres consulaires",
        "ORGANISATION_ASSOCIATION" => "Associations",
        "ORGANISATION_PUBLIC_ADMINISTRATION" => "Administrations",
        "ORGANISATION_TIERS_LIEU" => "Tiers-lieux",
        "RESOLUTION_STATUS_OPEN" => "vote ouvert",
        "RESOLUTION_STATUS_ADOPTED" => "adoptée",
        "RESOLUTION_STATUS_REJECTED" => "rejetée",
        "COMMITMENT_STATUS_OPEN" => "en cours",
        "COMMITMENT_STATUS_COMPLETED" => "tenu",
        "COMMITMENT_STATUS_DROPPED" => "abandonné",
        "PROJECT_POSITION_SUPPORTIVE" => "favorables",
        "PROJECT_POSITION_NEUTRAL" => "neutres",
        "PROJECT_POSITION_OPPOSED" => "opposés",
        "PROJECT_POSITION_UNKNOWN" => "inconnues",
        "BODY_KIND_GENERAL_ASSEMBLY" => "Assemblée générale",
        "BODY_KIND_STEERING_COMMITTEE" => "Comité de pilotage",
        "BODY_KIND_TECHNICAL_COMMITTEE" => "Comité technique",
        "CODE_KIND_MOTIVATION" => "Motivations",
        "CODE_KIND_EXPECTATION" => "Attentes",
        "CODE_KIND_NEED" => "Besoins",
        "CODE_KIND_REFUSAL" => "Refus",
        "CODE_KIND_PRIORITY" => "Priorités",
        "unknown" => "inconnue",
        other => return other.to_owned(),
    };
    text.to_owned()
}

/// French label of a resolution status value.
pub fn resolution_status(value: i32) -> String {
    use maillage_proto::v1::ResolutionStatus;
    fr(ResolutionStatus::try_from(value).map_or("", |s| s.as_str_name()))
}

/// French label of a commitment status value.
pub fn commitment_status(value: i32) -> String {
    use maillage_proto::v1::CommitmentStatus;
    fr(CommitmentStatus::try_from(value).map_or("", |s| s.as_str_name()))
}

/// French label of a code kind value of the codebook.
pub fn code_kind(value: i32) -> String {
    fr(pb::CodeKind::try_from(value).map_or("", |k| k.as_str_name()))
}

/// French label of a `Theme` value, "—" for none.
pub fn topic(value: i32) -> String {
    match pb::Theme::try_from(value) {
        Ok(pb::Theme::Unspecified) | Err(_) => "—".to_owned(),
        Ok(theme) => themes::label_fr(theme).to_owned(),
    }
}

/// A share as a French percentage: `56,3 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0).replace('.', ",")
}

/// A number with French thousands separators: `15 802`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_labels_and_numbers() {
        assert_eq!(fr("ENGAGEMENT_THEME_TELEWORK"), "Télétravail");
        assert_eq!(fr("SOMETHING_NEW"), "SOMETHING_NEW");
        assert_eq!(percent(0.5626), "56,3 %");
        assert_eq!(thousands(15802), "15\u{202f}802");
        assert_eq!(thousands(802), "802");
        assert_eq!(code_kind(pb::CodeKind::Refusal as i32), "Refus");
        assert_eq!(topic(0), "—");
    }
}
