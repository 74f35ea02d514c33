//! The services as the console reaches them: one lazily connected gRPC
//! channel, a client per service speaking as the signed-in person (their
//! token, kept in the session) or as the public survey page's `respondent`,
//! the gRPC health service (which needs no token), and a refusal read back
//! as the field it names and the service's message.
//!
//! **Read your writes.** Engagement and governance check the stakeholders a
//! command names against their replica of the register, which follows the
//! stakeholders log a moment behind. So that a person registered here can be
//! invited, interviewed or admitted on the next page, the console keeps the
//! highest stakeholders-log position its register commands reached
//! ([`Backend::note_register`]) and sends it with every call as
//! `maillage-after: stakeholders=<position>`: a service waits (at most two
//! seconds) for its replica to reach it.

use maillage_proto::v1::{
    admin_client::AdminClient, engagement_client::EngagementClient,
    governance_client::GovernanceClient, projections_client::ProjectionsClient,
    stakeholders_client::StakeholdersClient,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::health_client::HealthClient;

use tonic_types::StatusExt as _;

/// What the console tells the services a read is for (recorded in the
/// access journal with every read of personal data).
const PURPOSE: &str = "console";

/// The read-your-writes header (`maillage_replica::AFTER_HEADER`).
const AFTER_HEADER: &str = "maillage-after";

/// Adds the caller's bearer token, the console's purpose and the register
/// position the console's commands reached to every call.
#[derive(Clone)]
pub(crate) struct Bearer {
    token: MetadataValue<Ascii>,
    register: Arc<AtomicU64>,
}

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.token.clone());
        request.metadata_mut().insert(
            maillage_service_kit::access::PURPOSE_HEADER,
            MetadataValue::from_static(PURPOSE),
        );
        let register = self.register.load(Ordering::Acquire);
        if register > 0 {
            if let Ok(after) = format!("stakeholders={register}").parse() {
                request.metadata_mut().insert(AFTER_HEADER, after);
            }
        }
        Ok(request)
    }
}

/// A channel that speaks as one caller.
pub(crate) type Authed = InterceptedService<Channel, Bearer>;

/// The services' endpoint and the public page's respondent token.
pub(crate) struct Backend {
    channel: Channel,
    respondent_token: Option<String>,
    /// The highest stakeholders-log position the console's commands reached.
    register: Arc<AtomicU64>,
}

impl Backend {
    /// A backend on the options' endpoint (connected on first use; over
    /// TLS for an `https` one, see [`crate::tls`]).
    pub(crate) fn new(
        options: &crate::ConsoleOptions,
        respondent_token: Option<String>,
    ) -> anyhow::Result<Self> {
        let channel = crate::tls::endpoint(options)?.connect_lazy();
        Ok(Self {
            channel,
            respondent_token,
            register: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The channel speaking as the holder of `token`.
    fn authed(&self, token: &str) -> Result<Authed, Refusal> {
        let token = format!("Bearer {token}")
            .parse()
            .map_err(|_| Refusal::general("Ce jeton contient des caractères invalides."))?;
        Ok(InterceptedService::new(
            self.channel.clone(),
            Bearer {
                token,
                register: self.register.clone(),
            },
        ))
    }

    /// Notes that a command of the stakeholders service reached `position`
    /// of its log: later calls ask the services to have read it.
    pub(crate) fn note_register(&self, position: u64) {
        self.register.fetch_max(position, Ordering::AcqRel);
    }

    /// The Admin service (WhoAmI) as the holder of `token`.
    pub(crate) fn admin(&self, token: &str) -> Result<AdminClient<Authed>, Refusal> {
        Ok(AdminClient::new(self.authed(token)?))
    }

    /// The Stakeholders service as the holder of `token`.
    pub(crate) fn stakeholders(&self, token: &str) -> Result<StakeholdersClient<Authed>, Refusal> {
        Ok(StakeholdersClient::new(self.authed(token)?))
    }

    /// The Projections service as the holder of `token`.
    pub(crate) fn projections(&self, token: &str) -> Result<ProjectionsClient<Authed>, Refusal> {
        Ok(ProjectionsClient::new(self.authed(token)?))
    }

    /// The Engagement service as the holder of `token`.
    pub(crate) fn engagement(&self, token: &str) -> Result<EngagementClient<Authed>, Refusal> {
        Ok(EngagementClient::new(self.authed(token)?))
    }

    /// The Governance service as the holder of `token`.
    pub(crate) fn governance(&self, token: &str) -> Result<GovernanceClient<Authed>, Refusal> {
        Ok(GovernanceClient::new(self.authed(token)?))
    }

    /// The services' gRPC health service (it needs no token).
    pub(crate) fn health(&self) -> HealthClient<Channel> {
        HealthClient::new(self.channel.clone())
    }

    /// The Engagement service as the public survey page's `respondent`.
    pub(crate) fn respondent(&self) -> Result<EngagementClient<Authed>, Refusal> {
        let token = self.respondent_token.as_deref().ok_or_else(|| {
            Refusal::general("Les enquêtes en ligne ne sont pas disponibles sur ce serveur.")
        })?;
        self.engagement(token)
    }
}

/// A refused or failed call, as a page shows it: next to the field the
/// service named, or at the top of the form.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    /// The request field the service named (`profile.email`...), if any.
    pub(crate) field: Option<String>,
    /// What to show.
    pub(crate) message: String,
    /// The gRPC code (`Unauthenticated` ends the session).
    pub(crate) code: Code,
    /// The service's English message (empty for the console's own
    /// refusals): what a page may recognise a refusal by, never shown.
    pub(crate) english: String,
}

impl Refusal {
    /// A refusal about no field in particular.
    pub(crate) fn general(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
            code: Code::InvalidArgument,
            english: String::new(),
        }
    }

    /// A refusal of `field`.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            message: message.into(),
            code: Code::InvalidArgument,
            english: String::new(),
        }
    }
}

impl From<Status> for Refusal {
    /// The refusal as the console shows it: the service's French wording
    /// (its `google.rpc.LocalizedMessage` in `fr-FR`) when it sent one, else
    /// a French sentence around its English message; next to the field the
    /// `BadRequest` violation names, or the field a `FAILED_PRECONDITION`
    /// message starts with.
    fn from(status: Status) -> Self {
        let code = status.code();
        let english = status.message().to_owned();
        let french = status
            .get_details_localized_message()
            .filter(|localized| localized.locale == FRENCH)
            .map(|localized| localized.message)
            .filter(|message| !message.is_empty());
        if let Some(violation) = status
            .get_details_bad_request()
            .and_then(|bad| bad.field_violations.into_iter().next())
        {
            return Self {
                field: Some(violation.field),
                message: french.unwrap_or(violation.description),
                code,
                english,
            };
        }
        // A rule about one field says so first, `field: what` (as
        // `FAILED_PRECONDITION` "tiers_lieu_id: stakeholder … is a person").
        if code == Code::FailedPrecondition {
            if let Some((field, what)) = status.message().split_once(": ") {
                let named = !field.is_empty()
                    && field.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || "_.[]".contains(c)
                    });
                if named {
                    return Self {
                        field: Some(field.to_owned()),
                        message: french.unwrap_or_else(|| what.to_owned()),
                        code,
                        english,
                    };
                }
            }
        }
        if let Some(message) = french {
            return Self {
                field: None,
                message,
                code,
                english,
            };
        }
        let message = match code {
            Code::PermissionDenied => {
                format!(
                    "Votre rôle ne permet pas cette opération ({}).",
                    status.message()
                )
            }
            Code::Unauthenticated => {
                "Votre jeton n'est plus valable : reconnectez-vous.".to_owned()
            }
            Code::NotFound => format!("Introuvable : {}.", status.message()),
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                "Le service est momentanément indisponible : réessayez.".to_owned()
            }
            Code::Internal | Code::Unknown | Code::DataLoss => {
                "Erreur interne du service : réessayez, ou prévenez l'administrateur.".to_owned()
            }
            _ => format!("Refusé par le service : {}", status.message()),
        };
        Self {
            field: None,
            message,
            code,
            english,
        }
    }
}

/// The locale of the services' wording for a person (`LocalizedMessage`).
const FRENCH: &str = "fr-FR";

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::ErrorDetails;

    #[test]
    fn a_rule_about_a_field_goes_next_to_it_and_others_stay_general() {
        let named = Refusal::from(Status::failed_precondition(
            "participant_ids[1]: stakeholder 0190 was erased",
        ));
        assert_eq!(named.field.as_deref(), Some("participant_ids[1]"));
        assert_eq!(named.message, "stakeholder 0190 was erased");
        for message in ["the action is not scheduled yet", "Une règle : dite ainsi"] {
            let general = Refusal::from(Status::failed_precondition(message));
            assert_eq!(general.field, None, "{message}");
            assert!(general.message.ends_with(message), "{message}");
        }
    }

    /// Issue 13: the service's French wording is shown, next to the field
    /// its `BadRequest` or its message names; the English stays the fallback.
    #[test]
    fn the_services_french_is_shown_next_to_its_field() {
        let french = |code, message: &str, details: ErrorDetails| {
            Refusal::from(Status::with_error_details(code, message, details))
        };
        let mut details = ErrorDetails::with_bad_request_violation("ends_at", "must be after");
        details.set_localized_message("fr-FR", "La fin doit être après le début.");
        let invalid = french(Code::InvalidArgument, "ends_at: must be after", details);
        assert_eq!(invalid.field.as_deref(), Some("ends_at"));
        assert_eq!(invalid.message, "La fin doit être après le début.");

        let named = french(
            Code::FailedPrecondition,
            "tiers_lieu_id: stakeholder 0190 is a person, a tiers-lieu was expected",
            ErrorDetails::with_localized_message("fr-FR", "L'acteur 0190 est une personne."),
        );
        assert_eq!(named.field.as_deref(), Some("tiers_lieu_id"));
        assert_eq!(named.message, "L'acteur 0190 est une personne.");

        let general = french(
            Code::FailedPrecondition,
            "the action is cancelled",
            ErrorDetails::with_localized_message("fr-FR", "Cette action est annulée."),
        );
        assert_eq!(general.field, None);
        assert_eq!(general.message, "Cette action est annulée.");

        let other_locale = french(
            Code::NotFound,
            "survey x not found",
            ErrorDetails::with_localized_message("en-US", "Survey not found."),
        );
        assert_eq!(other_locale.message, "Introuvable : survey x not found.");
    }
}
