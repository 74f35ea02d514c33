//! French labels of the API's enum values, as the pages show them.

use maillage_proto::themes;
use maillage_proto::v1 as pb;

/// A person kind.
pub(crate) fn person_kind(kind: pb::PersonKind) -> &'static str {
    match kind {
        pb::PersonKind::ElectedOfficial => "Élu·e",
        pb::PersonKind::BusinessLeader => "Chef·fe d'entreprise",
        pb::PersonKind::AssociationMember => "Membre d'association",
        pb::PersonKind::PublicAgent => "Agent·e public",
        pb::PersonKind::Inhabitant => "Habitant·e",
        pb::PersonKind::TiersLieuManager => "Gestionnaire de tiers-lieu",
        pb::PersonKind::Unspecified => "—",
    }
}

/// An elected office.
pub(crate) fn office(office: pb::MandateOffice) -> &'static str {
    match office {
        pb::MandateOffice::Maire => "Maire",
        pb::MandateOffice::Adjoint => "Adjoint·e",
        pb::MandateOffice::ConseillerMunicipal => "Conseiller·ère municipal·e",
        pb::MandateOffice::ConseillerCommunautaire => "Conseiller·ère communautaire",
        pb::MandateOffice::PresidentEpci => "Président·e d'EPCI",
        pb::MandateOffice::VicePresidentEpci => "Vice-président·e d'EPCI",
        pb::MandateOffice::ConseillerDepartemental => "Conseiller·ère départemental·e",
        pb::MandateOffice::ConseillerRegional => "Conseiller·ère régional·e",
        pb::MandateOffice::Unspecified => "—",
    }
}

/// The offices of a commune, the ones the register form offers.
pub(crate) const COMMUNE_OFFICES: [pb::MandateOffice; 3] = [
    pb::MandateOffice::Maire,
    pb::MandateOffice::Adjoint,
    pb::MandateOffice::ConseillerMunicipal,
];

/// How a contact took place.
pub(crate) fn channel(channel: pb::InteractionChannel) -> &'static str {
    match channel {
        pb::InteractionChannel::InPerson => "En personne",
        pb::InteractionChannel::Phone => "Téléphone",
        pb::InteractionChannel::Email => "Courriel",
        pb::InteractionChannel::Video => "Visioconférence",
        pb::InteractionChannel::Event => "Événement",
        pb::InteractionChannel::Letter => "Courrier",
        pb::InteractionChannel::Unspecified => "—",
    }
}

/// Every channel a contact form offers.
pub(crate) const CHANNELS: [pb::InteractionChannel; 6] = [
    pb::InteractionChannel::InPerson,
    pb::InteractionChannel::Phone,
    pb::InteractionChannel::Email,
    pb::InteractionChannel::Video,
    pb::InteractionChannel::Event,
    pb::InteractionChannel::Letter,
];

/// Who started a contact.
pub(crate) fn direction(direction: pb::InteractionDirection) -> &'static str {
    match direction {
        pb::InteractionDirection::Outbound => "À notre initiative",
        pb::InteractionDirection::Inbound => "À son initiative",
        pb::InteractionDirection::Unspecified => "—",
    }
}

/// A theme of the platform's vocabulary.
pub(crate) fn theme(theme: pb::Theme) -> &'static str {
    themes::label_fr(theme)
}

/// Every theme a form offers, in vocabulary order.
pub(crate) fn all_themes() -> Vec<pb::Theme> {
    (1..)
        .map_while(|value| pb::Theme::try_from(value).ok())
        .collect()
}

/// A consent channel.
pub(crate) fn consent_channel(channel: pb::ConsentChannel) -> &'static str {
    match channel {
        pb::ConsentChannel::Email => "Courriel",
        pb::ConsentChannel::Phone => "Téléphone",
        pb::ConsentChannel::Sms => "SMS",
        pb::ConsentChannel::Post => "Courrier",
        pb::ConsentChannel::Unspecified => "—",
    }
}

/// A GDPR legal basis.
pub(crate) fn legal_basis(basis: pb::LegalBasis) -> &'static str {
    match basis {
        pb::LegalBasis::PublicInterestMission => "Mission d'intérêt public",
        pb::LegalBasis::Consent => "Consentement",
        pb::LegalBasis::LegitimateInterest => "Intérêt légitime",
        pb::LegalBasis::Unspecified => "—",
    }
}

/// A timeline entry's kind.
pub(crate) fn timeline_kind(kind: &str) -> &str {
    match kind {
        "REGISTERED" => "Inscription au registre",
        "ERASED" => "Effacement",
        "CONTACT" => "Contact",
        "INVITATION" => "Invitation",
        "INVITATION_ANSWER" => "Réponse à une invitation",
        "ATTENDANCE" => "Présence à une action",
        "SURVEY_RESPONSE" => "Réponse à une enquête",
        "INTERVIEW" => "Entretien",
        "DIAGNOSTIC" => "Diagnostic",
        "MEMBERSHIP_APPLIED" => "Candidature au consortium",
        "MEMBERSHIP_ADMITTED" => "Admission au consortium",
        "MEMBERSHIP_REFUSED" => "Candidature refusée",
        "MEMBERSHIP_WITHDRAWN" => "Retrait du consortium",
        "REPRESENTATIVE_APPOINTED" => "Désignation comme représentant·e",
        "MEETING_ATTENDANCE" => "Présence à une réunion",
        "VOTE" => "Vote",
        other => other,
    }
}

/// A stakeholder kind label of the projections (`PERSON_KIND_…`,
/// `ORGANISATION_…`).
pub(crate) fn stakeholder_kind(label: &str) -> String {
    if let Some(kind) = pb::PersonKind::from_str_name(label) {
        return person_kind(kind).to_owned();
    }
    let text = match label {
        "ORGANISATION_LOCAL_AUTHORITY" => "Collectivités",
        "ORGANISATION_BUSINESS" => "Entreprises",
        "ORGANISATION_CHAMBER" => "Chambres consulaires",
        "ORGANISATION_ASSOCIATION" => "Associations",
        "ORGANISATION_PUBLIC_ADMINISTRATION" => "Administrations",
        "ORGANISATION_TIERS_LIEU" => "Tiers-lieux",
        other => other,
    };
    text.to_owned()
}

/// A whole number with French digit grouping: `15 802` (narrow no-break spaces).
pub(crate) fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    grouped
}

/// A French number with a comma: `12,5`.
pub(crate) fn decimal(value: f64) -> String {
    format!("{value:.1}").replace('.', ",")
}

/// A share as a percentage: `62,5 %`.
pub(crate) fn percent(share: f64) -> String {
    format!("{} %", decimal(share * 100.0))
}

/// A kind of action.
pub(crate) fn action_kind(kind: pb::ActionKind) -> &'static str {
    match kind {
        pb::ActionKind::AwarenessPublicMeeting => "Réunion publique",
        pb::ActionKind::AwarenessWebinar => "Webinaire",
        pb::ActionKind::AwarenessStand => "Stand",
        pb::ActionKind::AwarenessSiteVisit => "Visite de site",
        pb::ActionKind::AwarenessNewsletter => "Lettre d'information",
        pb::ActionKind::Roundtable => "Table ronde",
        pb::ActionKind::ThematicWorkshop => "Atelier thématique",
        pb::ActionKind::ExchangeVisit => "Visite d'échange",
        pb::ActionKind::ForesightWorkshop => "Atelier de prospective",
        pb::ActionKind::Unspecified => "—",
    }
}

/// Every kind the plan form offers, in vocabulary order.
pub(crate) fn all_action_kinds() -> Vec<pb::ActionKind> {
    (1..)
        .map_while(|value| pb::ActionKind::try_from(value).ok())
        .collect()
}

/// Where an action is in its life.
pub(crate) fn action_status(status: pb::ActionStatus) -> &'static str {
    match status {
        pb::ActionStatus::Planned => "Prévue",
        pb::ActionStatus::Scheduled => "Programmée",
        pb::ActionStatus::Held => "Tenue",
        pb::ActionStatus::Reported => "Compte rendu publié",
        pb::ActionStatus::Cancelled => "Annulée",
        pb::ActionStatus::Unspecified => "—",
    }
}

/// Whom an action targets, or who an anonymous person is.
pub(crate) fn audience(audience: pb::EngagementAudience) -> &'static str {
    match audience {
        pb::EngagementAudience::Population => "Habitant·es",
        pb::EngagementAudience::Elus => "Élu·es",
        pb::EngagementAudience::Businesses => "Entreprises",
        pb::EngagementAudience::TiersLieux => "Tiers-lieux",
        pb::EngagementAudience::Associations => "Associations",
        pb::EngagementAudience::Administrations => "Administrations",
        pb::EngagementAudience::Chambers => "Chambres consulaires",
        pb::EngagementAudience::Unspecified => "—",
    }
}

/// Every audience a form offers, in vocabulary order.
pub(crate) fn all_audiences() -> Vec<pb::EngagementAudience> {
    (1..)
        .map_while(|value| pb::EngagementAudience::try_from(value).ok())
        .collect()
}

/// An invitee's answer (unspecified: none yet).
pub(crate) fn invitation_answer(answer: pb::ActionInvitationAnswer) -> &'static str {
    match answer {
        pb::ActionInvitationAnswer::Accepted => "Accepte",
        pb::ActionInvitationAnswer::Declined => "Décline",
        pb::ActionInvitationAnswer::Tentative => "Peut-être",
        pb::ActionInvitationAnswer::Unspecified => "Pas encore de réponse",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(15_802), "15\u{202f}802");
        assert_eq!(count(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn shares_read_in_french() {
        assert_eq!(percent(0.5625), "56,2 %");
        assert_eq!(decimal(12.25), "12,2");
    }
}
