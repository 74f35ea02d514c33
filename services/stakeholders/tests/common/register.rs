//! A small register for the search tests, built through the real service:
//! three élus, an archived inhabitant, two businesses and an association in
//! the Aude and in Tours, with contacts, consents and mandates chosen so that
//! each filter finds a different set.

use std::collections::BTreeSet;

use anyhow::Result;
use maillage_proto::v1 as pb;

use super::{days_ago, person, rid, Client, Harness};

/// Carcassonne (Carcassonne Agglo, Aude, Occitanie).
pub const CARCASSONNE: &str = "11069";
/// Limoux (CC du Limouxin, Aude).
pub const LIMOUX: &str = "11206";
/// Narbonne (Aude).
pub const NARBONNE: &str = "11262";
/// Tours (Tours Métropole Val de Loire, Indre-et-Loire, Centre-Val de Loire).
pub const TOURS: &str = "37261";
/// The EPCI of Limoux.
pub const LIMOUXIN: &str = "200071926";
/// Tours Métropole Val de Loire.
pub const TOURS_METROPOLE: &str = "243700754";

/// The register's ids.
pub struct Register {
    /// Éloïse Le Bihan, maire of Carcassonne for 400 days, last contacted
    /// 500 days ago (about "Quels TLA ?"), consent by email.
    pub eloise: String,
    /// Jean-Pierre Martin, of Narbonne, conseiller municipal of Limoux for 100
    /// days, contacted 10 days ago (telework), phone on legitimate interest.
    pub jean_pierre: String,
    /// Paul Durand, adjoint of Tours for 50 days, never contacted.
    pub paul: String,
    /// Inès Garnier, an inhabitant of Carcassonne, archived.
    pub ines: String,
    /// Menuiserie Durand (Carcassonne, business), contacted with Éloïse.
    pub menuiserie: String,
    /// Boulangerie Le Bihan (Tours, business), contacted 20 days ago (governance).
    pub boulangerie: String,
    /// Les Ateliers du Lac (Limoux, association), never contacted.
    pub ateliers: String,
}

impl Register {
    /// Every id, as a set.
    pub fn all(&self) -> BTreeSet<String> {
        self.of(&[
            &self.eloise,
            &self.jean_pierre,
            &self.paul,
            &self.ines,
            &self.menuiserie,
            &self.boulangerie,
            &self.ateliers,
        ])
    }

    /// The set of `ids`.
    pub fn of(&self, ids: &[&String]) -> BTreeSet<String> {
        ids.iter().map(|id| (*id).clone()).collect()
    }
}

/// A territory reference.
pub fn territory(level: pb::TerritoryLevel, code: &str) -> pb::TerritoryRef {
    pb::TerritoryRef {
        level: level as i32,
        code: code.into(),
    }
}

/// A mandate of `office` over `authority`, started `days` days ago.
pub fn mandate(
    office: pb::MandateOffice,
    authority: pb::TerritoryRef,
    days: u64,
) -> pb::MandateInput {
    pb::MandateInput {
        office: office as i32,
        authority: Some(authority),
        started_at: Some(days_ago(days)),
        ended_at: None,
    }
}

/// Registers an élu of `commune` with one mandate.
pub async fn register_elu(
    client: &mut Client,
    given: &str,
    family: &str,
    commune: &str,
    mandate: pb::MandateInput,
) -> Result<String> {
    let mut profile = person(given, family, &[pb::PersonKind::ElectedOfficial]);
    profile.commune_code = commune.into();
    // A family name with a space makes no address.
    profile.email = String::new();
    Ok(client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(profile),
            mandates: vec![mandate],
        })
        .await?
        .into_inner()
        .id)
}

/// Registers an organisation of kind `details` in `commune`.
pub async fn register_organisation(
    client: &mut Client,
    name: &str,
    commune: &str,
    details: pb::organisation_profile::Details,
) -> Result<String> {
    Ok(client
        .register_organisation(pb::RegisterOrganisationRequest {
            request_id: rid(),
            profile: Some(pb::OrganisationProfile {
                name: name.into(),
                commune_code: commune.into(),
                siren: String::new(),
                details: Some(details),
            }),
        })
        .await?
        .into_inner()
        .id)
}

/// A TPE's details.
pub fn business_details() -> pb::organisation_profile::Details {
    pb::organisation_profile::Details::Business(pb::BusinessDetails {
        size: pb::BusinessSize::Tpe as i32,
        sector: String::new(),
    })
}

/// Logs a contact with `participants`, `days` days ago, on `topics`.
pub async fn contact(
    client: &mut Client,
    participants: &[&String],
    days: u64,
    topics: &[pb::Theme],
) -> Result<String> {
    Ok(client
        .log_interaction(pb::LogInteractionRequest {
            axis_ids: Default::default(),
            request_id: rid(),
            participant_ids: participants.iter().map(|id| (*id).clone()).collect(),
            channel: pb::InteractionChannel::Phone as i32,
            direction: pb::InteractionDirection::Outbound as i32,
            occurred_at: Some(days_ago(days)),
            subject: "Le projet de tiers-lieu".into(),
            notes: String::new(),
            themes: vec![],
            topics: topics.iter().map(|topic| *topic as i32).collect(),
            follow_ups: vec![],
        })
        .await?
        .into_inner()
        .id)
}

/// Records a consent.
pub async fn consent(
    client: &mut Client,
    id: &str,
    channel: pb::ConsentChannel,
    basis: pb::LegalBasis,
) -> Result<()> {
    client
        .record_consent(pb::RecordConsentRequest {
            request_id: rid(),
            stakeholder_id: id.into(),
            expected_version: None,
            channel: channel as i32,
            legal_basis: basis as i32,
            purposes: vec![],
        })
        .await?;
    Ok(())
}

/// Builds the register (as the facilitator).
pub async fn build(harness: &Harness) -> Result<Register> {
    use pb::TerritoryLevel as L;
    let mut client = harness.facilitator().await?;
    let eloise = register_elu(
        &mut client,
        "Éloïse",
        "Le Bihan",
        CARCASSONNE,
        mandate(
            pb::MandateOffice::Maire,
            territory(L::Commune, CARCASSONNE),
            400,
        ),
    )
    .await?;
    let jean_pierre = register_elu(
        &mut client,
        "Jean-Pierre",
        "Martin",
        NARBONNE,
        mandate(
            pb::MandateOffice::ConseillerMunicipal,
            territory(L::Commune, LIMOUX),
            100,
        ),
    )
    .await?;
    let paul = register_elu(
        &mut client,
        "Paul",
        "Durand",
        TOURS,
        mandate(pb::MandateOffice::Adjoint, territory(L::Commune, TOURS), 50),
    )
    .await?;
    let mut ines_profile = person("Inès", "Garnier", &[pb::PersonKind::Inhabitant]);
    ines_profile.commune_code = CARCASSONNE.into();
    let ines = client
        .register_person(pb::RegisterPersonRequest {
            request_id: rid(),
            profile: Some(ines_profile),
            mandates: vec![],
        })
        .await?
        .into_inner()
        .id;
    client
        .archive_stakeholder(pb::ArchiveStakeholderRequest {
            request_id: rid(),
            stakeholder_id: ines.clone(),
            expected_version: None,
        })
        .await?;
    let menuiserie = register_organisation(
        &mut client,
        "Menuiserie Durand",
        CARCASSONNE,
        business_details(),
    )
    .await?;
    let boulangerie = register_organisation(
        &mut client,
        "Boulangerie Le Bihan",
        TOURS,
        business_details(),
    )
    .await?;
    let ateliers = register_organisation(
        &mut client,
        "Les Ateliers du Lac",
        LIMOUX,
        pb::organisation_profile::Details::Association(pb::AssociationDetails {}),
    )
    .await?;
    consent(
        &mut client,
        &eloise,
        pb::ConsentChannel::Email,
        pb::LegalBasis::Consent,
    )
    .await?;
    consent(
        &mut client,
        &jean_pierre,
        pb::ConsentChannel::Phone,
        pb::LegalBasis::LegitimateInterest,
    )
    .await?;
    contact(
        &mut client,
        &[&eloise, &menuiserie],
        500,
        &[pb::Theme::QuelsTla],
    )
    .await?;
    contact(&mut client, &[&jean_pierre], 10, &[pb::Theme::Telework]).await?;
    contact(&mut client, &[&boulangerie], 20, &[pb::Theme::Governance]).await?;
    Ok(Register {
        eloise,
        jean_pierre,
        paul,
        ines,
        menuiserie,
        boulangerie,
        ateliers,
    })
}

/// Every stakeholder a search finds, through all its pages (ids, in order).
pub async fn search_all(
    client: &mut Client,
    mut request: pb::SearchStakeholdersRequest,
) -> Result<Vec<pb::StakeholderSummary>, tonic::Status> {
    let mut found = Vec::new();
    loop {
        let page = client
            .search_stakeholders(request.clone())
            .await?
            .into_inner();
        found.extend(page.stakeholders);
        let next = page.page.unwrap_or_default().next_page_token;
        if next.is_empty() {
            return Ok(found);
        }
        request.page = Some(pb::PageRequest {
            page_size: request.page.map_or(0, |page| page.page_size),
            page_token: next,
        });
    }
}

/// The ids a filter finds, as a set.
pub async fn ids(
    client: &mut Client,
    filter: pb::StakeholderFilter,
) -> Result<BTreeSet<String>, tonic::Status> {
    let found = search_all(
        client,
        pb::SearchStakeholdersRequest {
            filter: Some(filter),
            ..Default::default()
        },
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|summary| summary.stakeholder_id)
        .collect())
}
