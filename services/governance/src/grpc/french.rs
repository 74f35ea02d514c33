//! How every governance refusal reads for a person, in French: the
//! `LocalizedMessage` (fr-FR) the console and the CLI show beside the
//! unchanged English message. One exhaustive `match` per aggregate's error
//! enum, so a refusal added later does not compile until it is worded here.

use maillage_service_kit::French;

use crate::domain::commitment::CommitmentError;
use crate::domain::consortium::ConsortiumError;
use crate::domain::meeting::MeetingError;

impl French for ConsortiumError {
    fn french(&self) -> String {
        use ConsortiumError as E;
        match self {
            E::AlreadyFounded(consortium) => format!("Le consortium {consortium} existe déjà."),
            E::NotFound => "Consortium introuvable : vérifiez son identifiant.".into(),
            E::UnknownCollege { code, .. } => format!(
                "Le collège « {code} » n'existe pas dans ce consortium : définissez-le d'abord."
            ),
            E::BodyExists(body) => format!("L'instance « {body} » existe déjà."),
            E::AlreadyMember(organisation) => format!(
                "L'organisation {organisation} a déjà candidaté ou est déjà membre du consortium."
            ),
            E::UnknownMember(member) => {
                format!("Aucune adhésion {member} dans ce consortium.")
            }
            E::NotApplicant(member) => {
                format!("{member} n'est pas candidat : sa candidature est déjà tranchée.")
            }
            E::NotAdmitted(member) => format!("{member} n'est pas un membre admis du consortium."),
        }
    }
}

impl French for MeetingError {
    fn french(&self) -> String {
        use MeetingError as E;
        match self {
            E::AlreadyConvened(meeting) => format!("La réunion {meeting} existe déjà."),
            E::NotFound => "Réunion introuvable : vérifiez son identifiant.".into(),
            E::ConsortiumNotFound(consortium) => {
                format!("Le consortium {consortium} est introuvable.")
            }
            E::UnknownBody(body) => format!(
                "L'instance « {body} » n'existe pas dans ce consortium : définissez-la d'abord."
            ),
            E::MeetingClosed => {
                "Cette réunion est close (procès-verbal approuvé) : elle ne peut plus changer."
                    .into()
            }
            E::NotABodyMember { member, .. } => format!(
                "{member} n'est pas un membre admis d'un collège qui siège dans cette instance."
            ),
            E::WithdrawnProxy { member, .. } => format!(
                "{member} s'est retiré du consortium : il ne peut ni donner ni recevoir de pouvoir."
            ),
            E::ProxyChain { member, .. } => format!(
                "{member} donnerait et recevrait à la fois un pouvoir : les chaînes de pouvoirs \
                 ne sont pas admises."
            ),
            E::GiverPresent { member, .. } => {
                format!("{member} est présent : il ne peut pas se faire représenter.")
            }
            E::HolderAbsent { member, .. } => format!(
                "Le mandataire {member} n'est pas présent : il ne peut pas recevoir de pouvoir."
            ),
            E::ProxyAlreadyGiven { member, .. } => {
                format!("{member} a déjà donné un pouvoir.")
            }
            E::TooManyProxies { member, max, .. } => format!(
                "{member} détiendrait plus de {max} pouvoirs : confiez celui-ci à un autre membre."
            ),
            E::UnknownAgendaItem(item) => {
                format!("L'ordre du jour n'a pas de point {item}.")
            }
            E::ResolutionExists(resolution) => {
                format!("La résolution {resolution} existe déjà.")
            }
            E::UnknownResolution(resolution) => {
                format!("La résolution {resolution} est introuvable dans cette réunion.")
            }
            E::VoteClosed(resolution) => {
                format!("Le vote sur la résolution {resolution} est clos.")
            }
            E::NotAVoter(member) => format!(
                "{member} n'était pas membre admis de l'instance à l'ouverture du vote : \
                 il ne peut pas voter."
            ),
            E::NotAttending(member) => format!(
                "{member} n'est ni présent ni représenté : enregistrez d'abord sa présence \
                 ou son pouvoir."
            ),
            E::AlreadyVoted { member, resolution } => {
                format!("{member} a déjà voté sur la résolution {resolution}.")
            }
            E::OpenResolution(resolution) => format!(
                "Le vote sur la résolution {resolution} est encore ouvert : clôturez-le d'abord."
            ),
            E::Overflow(_) => "Le décompte pondéré dépasse la capacité de calcul exact : \
                               vérifiez les poids des collèges."
                .into(),
        }
    }
}

impl French for CommitmentError {
    fn french(&self) -> String {
        use CommitmentError as E;
        match self {
            E::AlreadyMade(commitment) => format!("L'engagement {commitment} existe déjà."),
            E::NotFound => "Engagement introuvable : vérifiez son identifiant.".into(),
            E::ConsortiumNotFound(consortium) => {
                format!("Le consortium {consortium} est introuvable.")
            }
            E::OwnerNotAdmitted(member) => format!(
                "{member} n'est pas un membre admis du consortium : il ne peut pas porter \
                 cet engagement."
            ),
            E::UnknownMeeting(meeting) => {
                format!("La réunion {meeting} n'est pas une réunion de ce consortium.")
            }
            E::UnknownResolution(resolution) => {
                format!("La réunion n'a pas de résolution {resolution}.")
            }
            E::ResolutionNotAdopted(resolution) => format!(
                "La résolution {resolution} n'a pas été adoptée : un engagement ne peut pas \
                 en découler."
            ),
            E::PercentOutOfRange(percent) => {
                format!("L'avancement doit être entre 0 et 100 % ({percent} donné).")
            }
            E::Completed => "Cet engagement est achevé : il ne peut plus changer.".into(),
            E::Dropped => "Cet engagement est abandonné : il ne peut plus changer.".into(),
        }
    }
}
