//! How every stakeholders refusal reads for a person, in French: the
//! `LocalizedMessage` (fr-FR) the console and the CLI show beside the
//! unchanged English message. One exhaustive `match` per aggregate's error
//! enum, so a refusal added later does not compile until it is worded here.

use maillage_service_kit::French;

use crate::domain::audience::AudienceError;
use crate::domain::interaction::InteractionError;
use crate::domain::segment::SegmentError;
use crate::domain::stakeholder::StakeholderError;

impl French for StakeholderError {
    fn french(&self) -> String {
        use StakeholderError as E;
        match self {
            E::AlreadyRegistered => "Cet acteur est déjà enregistré.".into(),
            E::NotFound => "Acteur introuvable : vérifiez son identifiant.".into(),
            E::NotAPerson => "Cet acteur n'est pas une personne.".into(),
            E::NotAnOrganisation => "Cet acteur n'est pas une organisation.".into(),
            E::OrganisationKindChanged => "Le type d'une organisation ne change pas : \
                                           enregistrez-en une nouvelle."
                .into(),
            E::Erased => "Les données de cette personne ont été effacées.".into(),
            E::ErasureAlreadyAsked => "L'effacement de cette personne est déjà demandé \
                                       (consultez où il en est)."
                .into(),
            E::Archived => "Cet acteur est archivé : il ne peut plus changer.".into(),
            E::NotElected => "Seul un élu peut détenir un mandat.".into(),
            E::RunningMandates => "Cette personne détient des mandats en cours : terminez-les \
                                   avant qu'elle cesse d'être élue."
                .into(),
            E::MandateNotFound(mandate) => format!("Le mandat {mandate} est introuvable."),
            E::MandateAlreadyEnded(mandate) => format!("Le mandat {mandate} est déjà terminé."),
            E::EndBeforeStart { .. } => "La fin est avant le début : vérifiez les dates.".into(),
            E::AffiliationNotFound(affiliation) => {
                format!("Le rattachement {affiliation} est introuvable.")
            }
            E::AffiliationAlreadyEnded(affiliation) => {
                format!("Le rattachement {affiliation} est déjà terminé.")
            }
            E::AffiliationAlreadyActive => {
                "Cette personne a déjà ce rôle dans cette organisation.".into()
            }
            E::ConsentNotRecorded => "Aucun consentement n'est enregistré pour ce canal.".into(),
            E::PurposeNotCovered(purpose) => format!(
                "Le consentement sur ce canal ne couvre pas la finalité « {} ».",
                purpose_french(purpose)
            ),
            E::LinkToItself => "Une organisation ne peut pas être liée à elle-même.".into(),
            E::LinkAlreadyActive => "Ce lien entre les deux organisations existe déjà.".into(),
            E::LinkNotFound(link) => format!("Le lien entre organisations {link} est introuvable."),
            E::LinkAlreadyEnded(link) => {
                format!("Le lien entre organisations {link} est déjà terminé.")
            }
        }
    }
}

/// A consent purpose's protobuf name in French.
fn purpose_french(name: &str) -> &str {
    match name {
        "CONSENT_PURPOSE_PROJECT_INFORMATION" => "informations sur le projet",
        "CONSENT_PURPOSE_INVITATIONS" => "invitations",
        "CONSENT_PURPOSE_SURVEYS" => "enquêtes",
        "CONSENT_PURPOSE_NEWSLETTER" => "lettre d'information",
        other => other,
    }
}

impl French for InteractionError {
    fn french(&self) -> String {
        use InteractionError as E;
        match self {
            E::AlreadyLogged => "Cette interaction est déjà enregistrée.".into(),
            E::NotFound => "Interaction introuvable : vérifiez son identifiant.".into(),
            E::InFuture { .. } => {
                "Cette date est dans le futur (de plus de 5 minutes) : vérifiez-la.".into()
            }
            E::NoParticipants { .. } => "Il faut au moins un participant.".into(),
            E::NothingToCorrect => "Une correction doit modifier au moins un champ.".into(),
            E::FollowUpNotFound(follow_up) => format!("La relance {follow_up} est introuvable."),
            E::FollowUpDone(follow_up) => format!("La relance {follow_up} est déjà faite."),
        }
    }
}

impl French for SegmentError {
    fn french(&self) -> String {
        match self {
            SegmentError::AlreadyDefined => "Ce segment est déjà défini.".into(),
            SegmentError::NotFound => "Segment introuvable : vérifiez son identifiant.".into(),
        }
    }
}

impl French for AudienceError {
    fn french(&self) -> String {
        match self {
            AudienceError::AlreadyRecorded => "Cet export est déjà enregistré.".into(),
        }
    }
}
