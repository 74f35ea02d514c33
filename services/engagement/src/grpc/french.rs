//! How every engagement refusal reads for a person, in French: the
//! `LocalizedMessage` (fr-FR) the console and the CLI show beside the
//! unchanged English message. One exhaustive `match` per aggregate's error
//! enum, so a refusal added later does not compile until it is worded here.

use maillage_service_kit::French;

use crate::domain::{
    action, codebook, diagnostic, foresight, interview, lesson, programme, survey,
};

impl French for action::Error {
    fn french(&self) -> String {
        use action::Error as E;
        match self {
            E::AlreadyExists => "Cette action existe déjà.".into(),
            E::NotFound => "Action introuvable : vérifiez son identifiant.".into(),
            E::Cancelled => "Cette action est annulée : elle ne peut plus changer.".into(),
            E::AlreadyHeld => "Cette action a déjà eu lieu.".into(),
            E::AlreadyScheduled => {
                "Cette action est déjà programmée : reprogrammez-la plutôt.".into()
            }
            E::NotScheduled => {
                "Cette action n'est pas encore programmée : programmez-la d'abord.".into()
            }
            E::NotHeld => {
                "Cette action n'a pas encore eu lieu : enregistrez d'abord sa tenue.".into()
            }
            E::NotStarted => "Cette action n'a pas encore commencé.".into(),
            E::NotInvited(stakeholder) => format!(
                "L'acteur {stakeholder} n'a pas été invité à cette action : invitez-le d'abord."
            ),
            E::EndNotAfterStart => "La fin doit être après le début.".into(),
            E::NotApproved => "Cette action doit être approuvée par un responsable désigné \
                               avant d'être programmée."
                .into(),
            E::ApprovalNotRequired => "Cette action n'a pas besoin d'approbation.".into(),
            E::AlreadyApproved => "Cette action est déjà approuvée.".into(),
            E::NotDesignated(_) => "Seul un responsable désigné pour le programme ou pour l'un \
                                    des axes de l'action peut l'approuver ou la renvoyer."
                .into(),
        }
    }
}

impl French for codebook::Error {
    fn french(&self) -> String {
        use codebook::Error as E;
        match self {
            E::CodeExists(code) => format!("Le code {code} existe déjà."),
            E::UnknownCode(code) => {
                format!("Le code {code} n'existe pas dans la grille de codage.")
            }
            E::LabelTaken(label) => format!(
                "Un autre code de ce type porte déjà le libellé « {label} » : choisissez-en un autre."
            ),
            E::Retired(code) => format!("Le code {code} est retiré : il ne peut plus servir."),
            E::TooManyCodes => format!(
                "La grille de codage compte au plus {} codes : retirez-en avant d'en ajouter.",
                codebook::MAX_CODES
            ),
        }
    }
}

impl French for diagnostic::Error {
    fn french(&self) -> String {
        use diagnostic::Error as E;
        match self {
            E::AlreadyExists => "Ce diagnostic existe déjà.".into(),
            E::NotFound => "Diagnostic introuvable : vérifiez son identifiant.".into(),
            E::InTheFuture => "Un diagnostic ne peut pas avoir lieu dans le futur : \
                               vérifiez sa date."
                .into(),
        }
    }
}

impl French for foresight::Error {
    fn french(&self) -> String {
        use foresight::Error as E;
        match self {
            E::NotHeld => "L'atelier prospectif n'a pas encore eu lieu : enregistrez d'abord \
                           sa tenue."
                .into(),
            E::Empty => {
                "Donnez au moins un scénario, un signal faible ou une recommandation.".into()
            }
        }
    }
}

impl French for interview::Error {
    fn french(&self) -> String {
        use interview::Error as E;
        match self {
            E::AlreadyExists => "Cet entretien existe déjà.".into(),
            E::NotFound => "Entretien introuvable : vérifiez son identifiant.".into(),
            E::InTheFuture => "Un entretien ne peut pas avoir lieu dans le futur : \
                               vérifiez sa date."
                .into(),
        }
    }
}

impl French for lesson::Error {
    fn french(&self) -> String {
        use lesson::Error as E;
        match self {
            E::AlreadyExists => "Ce retour d'expérience existe déjà.".into(),
            E::NotFound => "Retour d'expérience introuvable : vérifiez son identifiant.".into(),
            E::Withdrawn => "Ce retour d'expérience est déjà retiré.".into(),
        }
    }
}

impl French for programme::Error {
    fn french(&self) -> String {
        use programme::Error as E;
        match self {
            E::AxisExists(axis) => format!("L'axe {axis} existe déjà."),
            E::UnknownAxis(axis) => format!("L'axe {axis} n'existe pas dans le programme."),
            E::NameTaken(name) => {
                format!("Un autre axe s'appelle déjà « {name} » : choisissez un autre nom.")
            }
            E::Retired(axis) => format!("L'axe {axis} est retiré : il ne peut plus servir."),
            E::TooManyAxes => format!("Le programme compte au plus {} axes.", programme::MAX_AXES),
            E::NotAPermutation(_) => "Le nouvel ordre doit reprendre chaque axe en usage, \
                                      une fois et une seule."
                .into(),
            E::NotDesignated(_) => "Cette personne n'est pas désignée à cet endroit.".into(),
            E::UnknownObjective(objective) => {
                format!("L'objectif {objective} n'existe pas dans le programme.")
            }
            E::ObjectiveExists(objective) => format!("L'objectif {objective} existe déjà."),
            E::ObjectiveWithdrawn(objective) => {
                format!("L'objectif {objective} est retiré : il ne peut plus changer.")
            }
            E::MissionExists(mission) => format!("La mission {mission} existe déjà."),
            E::MissionNameTaken(name) => {
                format!("Une autre mission s'appelle déjà « {name} » : choisissez un autre nom.")
            }
            E::UnknownMission(mission) => {
                format!("La mission {mission} n'existe pas dans le programme.")
            }
            E::DeliverableExists(deliverable) => {
                format!("Le livrable {deliverable} existe déjà.")
            }
            E::UnknownDeliverable(deliverable) => {
                format!("Le livrable {deliverable} n'existe pas dans le programme.")
            }
            E::AlreadyDelivered(deliverable) => {
                format!("Le livrable {deliverable} a déjà été remis.")
            }
            E::TooMany(what, max) => format!(
                "Le programme compte au plus {max} {}.",
                match *what {
                    "objectives" => "objectifs",
                    "missions" => "missions",
                    "deliverables of a mission" => "livrables par mission",
                    "concertations" => "réunions de concertation",
                    other => other,
                }
            ),
            E::ConcertationExists(concertation) => {
                format!("La réunion de concertation {concertation} est déjà enregistrée.")
            }
            E::HeldInTheFuture => {
                "Une réunion de concertation ne peut pas être datée dans le futur.".into()
            }
            E::OfficerNotDesignatedThen(_, principal) => format!(
                "{principal} n'était pas responsable désigné·e pour cet axe ni pour le \
                 programme à cette date."
            ),
        }
    }
}

impl French for survey::Error {
    fn french(&self) -> String {
        use survey::Error as E;
        match self {
            E::AlreadyExists => "Cette enquête existe déjà.".into(),
            E::NotFound => "Enquête introuvable : vérifiez son identifiant.".into(),
            E::QuestionsFrozen => "Les questions ne peuvent plus changer une fois l'enquête \
                                   ouverte."
                .into(),
            E::AlreadyOpen => "Cette enquête est déjà ouverte.".into(),
            E::CampaignNotHeld => "Aucune action de la campagne d'information de l'enquête n'a \
                                   encore eu lieu : tenez-en une d'abord, ou ouvrez par \
                                   dérogation en donnant un motif."
                .into(),
            E::NotOpen => "Cette enquête n'est pas ouverte.".into(),
            E::Closed => "Cette enquête est close : elle ne reçoit plus de réponses.".into(),
            E::TokenAlreadyUsed => "Une réponse a déjà été donnée avec ce lien : \
                                    on ne répond qu'une fois."
                .into(),
            E::AlreadyResponded(stakeholder) => {
                format!("L'acteur {stakeholder} a déjà répondu à cette enquête.")
            }
            E::InvalidQuestion { french, .. } => french.clone(),
            E::TextNotSealed(_) => "L'enquête s'est ouverte pendant la préparation de la \
                                    réponse : envoyez-la de nouveau."
                .into(),
            E::InvalidAnswer { french, .. } => french.clone(),
        }
    }
}
