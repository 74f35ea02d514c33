//! RPCs that register persons and organisations and change them: profiles,
//! mandates, affiliations, consents (with their purposes), archiving (role
//! facilitator or admin).

use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::v1 as pb;
use maillage_service_kit::{RequestContext, ServiceError};
use maillage_territory::Territory;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    blocking, handle_error, privacy_error, run, StakeholdersService, STAKEHOLDER, WRITERS,
};
use crate::domain::stakeholder::{NewMandate, Profile, StakeholderCommand, StakeholderState};
use crate::ids::derived_id;
use crate::validate::{
    self, MAX_ADDRESS, MAX_LABEL, MAX_ORGANISATION_NAME, MAX_PERSON_NAME, MAX_PERSON_NOTES,
};

/// Field names bound into a person's sealed values.
pub(crate) mod person_fields {
    pub const GIVEN_NAME: &str = "given_name";
    pub const FAMILY_NAME: &str = "family_name";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const POSTAL_ADDRESS: &str = "postal_address";
    pub const NOTES: &str = "notes";
    pub const BIRTH_DATE: &str = "birth_date";
    /// The fingerprint of the import row that created or completed the person.
    pub const IMPORT_FINGERPRINT: &str = "import_fingerprint";
}

/// A person's profile, validated, in clear.
pub(super) struct PersonFields {
    pub(super) given_name: String,
    pub(super) family_name: String,
    pub(super) kinds: Vec<i32>,
    pub(super) commune_code: String,
    pub(super) email: String,
    pub(super) phone: String,
    pub(super) postal_address: String,
    pub(super) notes: String,
    pub(super) birth_date: String,
}

pub(super) fn check_person(
    territory: &Territory,
    profile: Option<&pb::PersonProfile>,
) -> Result<PersonFields, ServiceError> {
    let profile =
        profile.ok_or_else(|| ServiceError::invalid_argument("profile", "is required"))?;
    let mut kinds = Vec::with_capacity(profile.kinds.len());
    for (index, kind) in profile.kinds.iter().enumerate() {
        let kind: pb::PersonKind = validate::enum_value(&format!("profile.kinds[{index}]"), *kind)?;
        kinds.push(kind as i32);
    }
    if kinds.is_empty() {
        return Err(ServiceError::invalid_argument(
            "profile.kinds",
            "at least one kind is needed",
        ));
    }
    kinds.sort_unstable();
    kinds.dedup();
    Ok(PersonFields {
        given_name: validate::required_line(
            "profile.given_name",
            &profile.given_name,
            MAX_PERSON_NAME,
        )?,
        family_name: validate::required_line(
            "profile.family_name",
            &profile.family_name,
            MAX_PERSON_NAME,
        )?,
        kinds,
        commune_code: validate::commune(territory, "profile.commune_code", &profile.commune_code)?,
        email: validate::email("profile.email", &profile.email)?,
        phone: validate::phone("profile.phone", &profile.phone)?,
        postal_address: validate::optional_text(
            "profile.postal_address",
            &profile.postal_address,
            MAX_ADDRESS,
        )?,
        notes: validate::optional_text("profile.notes", &profile.notes, MAX_PERSON_NOTES)?,
        birth_date: validate::birth_date("profile.birth_date", &profile.birth_date)?,
    })
}

pub(super) fn check_organisation(
    territory: &Territory,
    profile: Option<&pb::OrganisationProfile>,
) -> Result<pb::OrganisationProfile, ServiceError> {
    use pb::organisation_profile::Details;
    let profile =
        profile.ok_or_else(|| ServiceError::invalid_argument("profile", "is required"))?;
    let details = match &profile.details {
        None => {
            return Err(ServiceError::invalid_argument(
                "profile.details",
                "the kind of organisation is required",
            ))
        }
        Some(Details::LocalAuthority(details)) => {
            Details::LocalAuthority(pb::LocalAuthorityDetails {
                authority: Some(validate::territory_ref(
                    territory,
                    "profile.local_authority.authority",
                    details.authority.as_ref(),
                )?),
            })
        }
        Some(Details::Business(details)) => {
            let size: pb::BusinessSize =
                validate::enum_value("profile.business.size", details.size)?;
            Details::Business(pb::BusinessDetails {
                size: size as i32,
                sector: validate::optional_text(
                    "profile.business.sector",
                    &details.sector,
                    MAX_LABEL,
                )?,
            })
        }
        Some(Details::Chamber(details)) => {
            let kind: pb::ChamberKind = validate::enum_value("profile.chamber.kind", details.kind)?;
            Details::Chamber(pb::ChamberDetails { kind: kind as i32 })
        }
        Some(Details::Association(_)) => Details::Association(pb::AssociationDetails {}),
        Some(Details::PublicAdministration(_)) => {
            Details::PublicAdministration(pb::PublicAdministrationDetails {})
        }
        Some(Details::TiersLieu(details)) => {
            let mut typologies = Vec::with_capacity(details.typologies.len());
            for (index, typology) in details.typologies.iter().enumerate() {
                let typology: pb::TiersLieuTypology = validate::enum_value(
                    &format!("profile.tiers_lieu.typologies[{index}]"),
                    *typology,
                )?;
                typologies.push(typology as i32);
            }
            if typologies.is_empty() {
                return Err(ServiceError::invalid_argument(
                    "profile.tiers_lieu.typologies",
                    "at least one typology is needed",
                ));
            }
            typologies.sort_unstable();
            typologies.dedup();
            let status: pb::TiersLieuStatus =
                validate::enum_value("profile.tiers_lieu.status", details.status)?;
            Details::TiersLieu(pb::TiersLieuDetails {
                typologies,
                status: status as i32,
            })
        }
    };
    Ok(pb::OrganisationProfile {
        name: validate::required_line("profile.name", &profile.name, MAX_ORGANISATION_NAME)?,
        commune_code: validate::commune(territory, "profile.commune_code", &profile.commune_code)?,
        siren: validate::siren("profile.siren", &profile.siren)?,
        details: Some(details),
    })
}

/// A consent's purposes, each known and set (`purposes[i]` named when not),
/// sorted, without repeats.
fn purposes(values: &[i32]) -> Result<Vec<i32>, ServiceError> {
    let mut checked = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let purpose: pb::ConsentPurpose =
            validate::enum_value(&format!("purposes[{index}]"), *value)?;
        checked.push(purpose as i32);
    }
    checked.sort_unstable();
    checked.dedup();
    Ok(checked)
}

/// A mandate, validated (its id is set later, from the request).
pub(super) fn check_mandate(
    territory: &Territory,
    field: &str,
    mandate: Option<&pb::MandateInput>,
) -> Result<NewMandate, ServiceError> {
    let mandate = mandate.ok_or_else(|| ServiceError::invalid_argument(field, "is required"))?;
    let office: pb::MandateOffice =
        validate::enum_value(&format!("{field}.office"), mandate.office)?;
    let authority = validate::territory_ref(
        territory,
        &format!("{field}.authority"),
        mandate.authority.as_ref(),
    )?;
    let level = validate::office_level(office);
    if authority.level != level as i32 {
        return Err(ServiceError::invalid_argument(
            format!("{field}.authority.level"),
            format!(
                "the authority of this office is at level {}",
                level.as_str_name()
            ),
        ));
    }
    let started_at =
        validate::instant(&format!("{field}.started_at"), mandate.started_at.as_ref())?;
    let ended_at =
        validate::optional_instant(&format!("{field}.ended_at"), mandate.ended_at.as_ref())?;
    Ok(NewMandate {
        mandate_id: String::new(),
        office,
        authority,
        started_at,
        ended_at,
    })
}

impl StakeholdersService {
    /// Checks that `id`, named by the request field `field`, is a registered
    /// organisation that is not archived (`what` names it in the refusal).
    pub(super) fn check_organisation_named(
        &self,
        field: &str,
        id: &Uuid,
        what: &str,
    ) -> Result<(), Status> {
        let (_, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, id))
            .map_err(|error| handle_error(error, id))?;
        if !state.is_organisation() {
            let problem = if state.profile.is_none() {
                "no such stakeholder"
            } else {
                "is not an organisation"
            };
            return Err(ServiceError::invalid_argument(field, problem).into());
        }
        if state.archived {
            return Err(ServiceError::failed_precondition(format!("{what} is archived")).into());
        }
        Ok(())
    }

    /// Seals a person's profile under their key (creating it on first use).
    pub(super) async fn seal_person(
        &self,
        id: Uuid,
        fields: PersonFields,
    ) -> Result<pb::SealedPersonProfile, Status> {
        let vault = self.inner.vault.clone();
        blocking(move || {
            let subject = SubjectId::person(id.to_string());
            let seal = |field: &str, value: &str| -> Result<Vec<u8>, ServiceError> {
                if value.is_empty() {
                    return Ok(Vec::new());
                }
                vault
                    .seal_str(&subject, field, value)
                    .map_err(privacy_error)
            };
            Ok(pb::SealedPersonProfile {
                sealed_given_name: seal(person_fields::GIVEN_NAME, &fields.given_name)?,
                sealed_family_name: seal(person_fields::FAMILY_NAME, &fields.family_name)?,
                kinds: fields.kinds,
                commune_code: fields.commune_code,
                sealed_email: seal(person_fields::EMAIL, &fields.email)?,
                sealed_phone: seal(person_fields::PHONE, &fields.phone)?,
                sealed_postal_address: seal(person_fields::POSTAL_ADDRESS, &fields.postal_address)?,
                sealed_notes: seal(person_fields::NOTES, &fields.notes)?,
                sealed_birth_date: seal(person_fields::BIRTH_DATE, &fields.birth_date)?,
            })
        })
        .await
    }

    /// The version and state of person `id`: NOT_FOUND when never
    /// registered, FAILED_PRECONDITION when it is an organisation.
    pub(super) fn load_person(&self, id: &Uuid) -> Result<(u64, StakeholderState), Status> {
        let (version, state) = self
            .inner
            .stakeholders
            .load(&stream_id(STAKEHOLDER, id))
            .map_err(|error| handle_error(error, id))?;
        match &state.profile {
            None => Err(ServiceError::not_found("stakeholder", id.to_string()).into()),
            Some(Profile::Organisation(_)) => {
                Err(ServiceError::failed_precondition("the stakeholder is not a person").into())
            }
            Some(Profile::Person(_)) => Ok((version, state)),
        }
    }

    /// Runs a command on stakeholder `id` and replies.
    pub(super) async fn run_stakeholder(
        &self,
        id: &Uuid,
        command: StakeholderCommand,
        expected: Option<u64>,
        context: &RequestContext,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let stream = stream_id(STAKEHOLDER, id);
        run(
            &self.inner.stakeholders,
            &stream,
            id,
            &command,
            expected,
            context,
        )
        .await
    }

    /// The new id of a registration (the same on every retry of the request).
    pub(super) fn allocate(
        &self,
        category: &str,
        context: &RequestContext,
    ) -> Result<Uuid, Status> {
        self.inner
            .ids
            .id_for(category, &context.principal.name, &context.request_id)
            .map_err(|error| ServiceError::internal(format!("id index: {error}")).into())
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_register_person(
        &self,
        request: Request<pb::RegisterPersonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let territory = self.inner.territory;
        let fields = check_person(territory, message.profile.as_ref())?;
        let mut mandates = message
            .mandates
            .iter()
            .enumerate()
            .map(|(index, mandate)| {
                check_mandate(territory, &format!("mandates[{index}]"), Some(mandate))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let id = self.allocate(STAKEHOLDER, &context)?;
        tracing::Span::current().record("stakeholder_id", tracing::field::display(&id));
        let stream = stream_id(STAKEHOLDER, &id);
        for (index, mandate) in mandates.iter_mut().enumerate() {
            mandate.mandate_id = derived_id(&stream, &context.request_id, "mandate", index);
        }
        let profile = self.seal_person(id, fields).await?;
        let command = StakeholderCommand::RegisterPerson {
            stakeholder_id: id.to_string(),
            profile,
            mandates,
            actor: context.principal.name.clone(),
            now: self.now(),
        };
        self.run_stakeholder(&id, command, None, &context).await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_register_organisation(
        &self,
        request: Request<pb::RegisterOrganisationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let profile = check_organisation(self.inner.territory, message.profile.as_ref())?;
        let id = self.allocate(STAKEHOLDER, &context)?;
        tracing::Span::current().record("stakeholder_id", tracing::field::display(&id));
        let command = StakeholderCommand::RegisterOrganisation {
            stakeholder_id: id.to_string(),
            profile,
            actor: context.principal.name.clone(),
            now: self.now(),
        };
        self.run_stakeholder(&id, command, None, &context).await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_update_person_profile(
        &self,
        request: Request<pb::UpdatePersonProfileRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let fields = check_person(self.inner.territory, message.profile.as_ref())?;
        // Refuse before sealing: sealing would create a key for an unknown id.
        let (_, state) = self.load_person(&id)?;
        if state.is_erasing() {
            return Err(ServiceError::failed_precondition("the person was erased").into());
        }
        let profile = self.seal_person(id, fields).await?;
        let command = StakeholderCommand::UpdatePersonProfile {
            profile,
            now: self.now(),
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_update_organisation_profile(
        &self,
        request: Request<pb::UpdateOrganisationProfileRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let profile = check_organisation(self.inner.territory, message.profile.as_ref())?;
        let command = StakeholderCommand::UpdateOrganisationProfile {
            profile,
            now: self.now(),
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_start_mandate(
        &self,
        request: Request<pb::StartMandateRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let mut mandate = check_mandate(self.inner.territory, "mandate", message.mandate.as_ref())?;
        mandate.mandate_id = derived_id(
            &stream_id(STAKEHOLDER, &id),
            &context.request_id,
            "mandate",
            0,
        );
        self.run_stakeholder(
            &id,
            StakeholderCommand::StartMandate(mandate),
            message.expected_version,
            &context,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_end_mandate(
        &self,
        request: Request<pb::EndMandateRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let mandate_id = validate::id("mandate_id", &message.mandate_id)?.to_string();
        let ended_at = validate::instant("ended_at", message.ended_at.as_ref())?;
        let command = StakeholderCommand::EndMandate {
            mandate_id,
            ended_at,
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id, organisation_id))]
    pub(super) async fn handle_add_affiliation(
        &self,
        request: Request<pb::AddAffiliationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let organisation = super::traced_id("organisation_id", &message.organisation_id)?;
        let role = validate::required_line("role", &message.role, MAX_LABEL)?;
        let started_at = validate::instant("started_at", message.started_at.as_ref())?;
        self.check_organisation_named("organisation_id", &organisation, "the organisation")?;
        let command = StakeholderCommand::AddAffiliation {
            affiliation_id: derived_id(
                &stream_id(STAKEHOLDER, &id),
                &context.request_id,
                "affiliation",
                0,
            ),
            organisation_id: organisation.to_string(),
            role,
            started_at,
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_end_affiliation(
        &self,
        request: Request<pb::EndAffiliationRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let affiliation_id = validate::id("affiliation_id", &message.affiliation_id)?.to_string();
        let ended_at = validate::instant("ended_at", message.ended_at.as_ref())?;
        let command = StakeholderCommand::EndAffiliation {
            affiliation_id,
            ended_at,
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let command = StakeholderCommand::RecordConsent {
            channel: validate::enum_value("channel", message.channel)?,
            legal_basis: validate::enum_value("legal_basis", message.legal_basis)?,
            purposes: purposes(&message.purposes)?,
            now: self.now(),
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_withdraw_consent(
        &self,
        request: Request<pb::WithdrawConsentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let command = StakeholderCommand::WithdrawConsent {
            channel: validate::enum_value("channel", message.channel)?,
            purposes: purposes(&message.purposes)?,
            now: self.now(),
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_archive(
        &self,
        request: Request<pb::ArchiveStakeholderRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let command = StakeholderCommand::Archive { now: self.now() };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_assess(
        &self,
        request: Request<pb::AssessStakeholderRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let score = |field: &str, value: u32| {
            if (1..=5).contains(&value) {
                Ok(value)
            } else {
                Err(ServiceError::invalid_argument(field, "from 1 to 5"))
            }
        };
        let influence = score("influence", message.influence)?;
        let interest = score("interest", message.interest)?;
        let position: pb::ProjectPosition = validate::enum_value("position", message.position)?;
        let command = StakeholderCommand::Assess {
            assessed: pb::StakeholderAssessed {
                stakeholder_id: id.to_string(),
                influence,
                interest,
                position: position as i32,
                assessed_at: Some(crate::domain::timestamp(self.now())),
                assessed_by: context.principal.name.clone(),
            },
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }
}
