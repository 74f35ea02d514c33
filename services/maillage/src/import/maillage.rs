//! The Maillage CSV format (docs/import.md, "Le format Maillage"): one file
//! for persons and organisations, one line each, a `type` column saying which
//! (`personne` or `organisation`). A person's line may carry one mandate and
//! one affiliation (to an organisation by SIREN); more are more lines of the
//! same person, which the server merges (same email, or same names, commune
//! and birth year). Lists inside a cell (`categories`, `typologies`) are
//! separated by `|`. Column names are compared folded (case and accents).

use maillage_proto::v1 as pb;

use super::text::Header;
use super::{timestamp, Line, Origins, Parsed, ParsedRow};

/// The Maillage CSV's columns.
pub struct Columns {
    header: Header,
    kind: Option<usize>,
    name: Option<usize>,
    given: Option<usize>,
    commune: Option<usize>,
    email: Option<usize>,
    phone: Option<usize>,
    address: Option<usize>,
    birth: Option<usize>,
    categories: Option<usize>,
    office: Option<usize>,
    authority: Option<usize>,
    office_start: Option<usize>,
    office_end: Option<usize>,
    affiliation: Option<usize>,
    role: Option<usize>,
    role_start: Option<usize>,
    siren: Option<usize>,
    organisation_type: Option<usize>,
    size: Option<usize>,
    sector: Option<usize>,
    chamber: Option<usize>,
    typologies: Option<usize>,
    status: Option<usize>,
    local_authority: Option<usize>,
    notes: Option<usize>,
}

impl Columns {
    /// The columns of `header`, or why the file cannot be read in this format.
    pub fn new(header: &Header) -> anyhow::Result<Self> {
        let find = |name: &str| header.find(&[name]);
        let columns = Self {
            header: header.clone(),
            kind: find("type"),
            name: find("nom"),
            given: find("prenom"),
            commune: find("commune"),
            email: find("email"),
            phone: find("telephone"),
            address: find("adresse"),
            birth: find("date_naissance"),
            categories: find("categories"),
            office: find("mandat"),
            authority: find("mandat_territoire"),
            office_start: find("mandat_debut"),
            office_end: find("mandat_fin"),
            affiliation: find("organisation_siren"),
            role: find("role"),
            role_start: find("role_debut"),
            siren: find("siren"),
            organisation_type: find("type_organisation"),
            size: find("taille"),
            sector: find("secteur"),
            chamber: find("chambre"),
            typologies: find("typologies"),
            status: find("statut"),
            local_authority: find("collectivite"),
            notes: find("notes"),
        };
        if columns.kind.is_none() || columns.name.is_none() || columns.commune.is_none() {
            anyhow::bail!("format Maillage : les colonnes type, nom et commune sont requises");
        }
        Ok(columns)
    }

    /// Reads line `line` into `parsed`.
    pub fn read(&self, line: u64, record: &csv::StringRecord, parsed: &mut Parsed) {
        let mut at = Line::new(line, record, &self.header);
        let kind = maillage_territory::fold(at.get(self.kind));
        let row = match kind.as_str() {
            "personne" => self.person(&mut at),
            "organisation" => self.organisation(&mut at),
            _ => {
                let value = at.get(self.kind);
                at.refuse(self.kind, value, "attendu « personne » ou « organisation »");
                None
            }
        };
        match row {
            Some((stakeholder, origins)) if at.errors.is_empty() => parsed.rows.push(ParsedRow {
                row: pb::ImportRow {
                    line,
                    stakeholder: Some(stakeholder),
                },
                origins,
            }),
            _ => parsed.errors.append(&mut at.errors),
        }
    }

    fn person(&self, at: &mut Line<'_>) -> Option<(pb::import_row::Stakeholder, Origins)> {
        let mut origins = Origins::default();
        let family = at.required(self.name, "nom");
        let given = at.required(self.given, "prénom");
        let commune = at.commune(self.commune);
        let birth = at.date(self.birth).unwrap_or_default();
        let mut kinds = Vec::new();
        for category in split(at.get(self.categories)) {
            match person_kind(category) {
                Some(kind) => kinds.push(kind as i32),
                None => at.refuse(
                    self.categories,
                    category,
                    "catégorie inconnue (elu, chef_entreprise, membre_association, agent_public, habitant, gestionnaire_tiers_lieu)",
                ),
            }
        }
        let mut mandates = Vec::new();
        let office = at.get(self.office);
        if !office.is_empty() {
            match office_of(office) {
                None => at.refuse(self.office, office, "mandat inconnu (maire, adjoint, conseiller_municipal, conseiller_communautaire, president_epci, vice_president_epci, conseiller_departemental, conseiller_regional)"),
                Some(office_value) => {
                    if !kinds.contains(&(pb::PersonKind::ElectedOfficial as i32)) {
                        kinds.push(pb::PersonKind::ElectedOfficial as i32);
                    }
                    let level = level_of(office_value);
                    let code = match at.get(self.authority) {
                        "" if level == pb::TerritoryLevel::Commune => {
                            commune.clone().unwrap_or_default()
                        }
                        code => code.to_owned(),
                    };
                    let start = at.date(self.office_start);
                    if start.is_none() && at.get(self.office_start).is_empty() {
                        at.refuse(self.office_start, "", "date de début du mandat manquante");
                    }
                    let end = at.date(self.office_end);
                    mandates.push(pb::MandateInput {
                        office: office_value as i32,
                        authority: Some(pb::TerritoryRef {
                            level: level as i32,
                            code: code.clone(),
                        }),
                        started_at: start.as_deref().and_then(timestamp),
                        ended_at: end.as_deref().and_then(timestamp),
                    });
                    origins.note("person.mandates[0].authority", &at.column(self.authority), &code);
                    origins.note("person.mandates", &at.column(self.office), office);
                }
            }
        }
        let mut affiliations = Vec::new();
        let organisation = at.get(self.affiliation);
        if !organisation.is_empty() {
            let role = at.required(self.role, "rôle");
            let start = at.date(self.role_start);
            if start.is_none() && at.get(self.role_start).is_empty() {
                at.refuse(self.role_start, "", "date de début du rôle manquante");
            }
            affiliations.push(pb::ImportAffiliation {
                organisation_siren: organisation.to_owned(),
                role: role.to_owned(),
                started_at: start.as_deref().and_then(timestamp),
            });
            origins.note(
                "person.affiliations[0].organisation_siren",
                &at.column(self.affiliation),
                organisation,
            );
            origins.note("person.affiliations[0].role", &at.column(self.role), role);
        }
        if kinds.is_empty() {
            kinds.push(pb::PersonKind::Inhabitant as i32);
        }
        for (field, index) in [
            ("person.profile.given_name", self.given),
            ("person.profile.family_name", self.name),
            ("person.profile.commune_code", self.commune),
            ("person.profile.email", self.email),
            ("person.profile.phone", self.phone),
            ("person.profile.postal_address", self.address),
            ("person.profile.birth_date", self.birth),
            ("person.profile.notes", self.notes),
            ("person.profile.kinds", self.categories),
        ] {
            origins.note(field, &at.column(index), at.get(index));
        }
        let profile = pb::PersonProfile {
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            kinds,
            commune_code: commune?,
            email: at.get(self.email).to_owned(),
            phone: at.get(self.phone).to_owned(),
            postal_address: at.get(self.address).to_owned(),
            notes: at.get(self.notes).to_owned(),
            birth_date: birth,
        };
        Some((
            pb::import_row::Stakeholder::Person(pb::ImportPerson {
                profile: Some(profile),
                mandates,
                affiliations,
            }),
            origins,
        ))
    }

    fn organisation(&self, at: &mut Line<'_>) -> Option<(pb::import_row::Stakeholder, Origins)> {
        use pb::organisation_profile::Details;
        let mut origins = Origins::default();
        let name = at.required(self.name, "nom");
        let commune = at.commune(self.commune);
        let kind = maillage_territory::fold(at.get(self.organisation_type)).replace(' ', "_");
        let details = match kind.as_str() {
            "entreprise" => Some(Details::Business(pb::BusinessDetails {
                size: match maillage_territory::fold(at.get(self.size)).as_str() {
                    "" | "tpe" => pb::BusinessSize::Tpe,
                    "pme" => pb::BusinessSize::Pme,
                    "eti" => pb::BusinessSize::Eti,
                    "ge" => pb::BusinessSize::Ge,
                    _ => {
                        let value = at.get(self.size);
                        at.refuse(self.size, value, "taille inconnue (tpe, pme, eti, ge)");
                        pb::BusinessSize::Tpe
                    }
                } as i32,
                sector: at.get(self.sector).to_owned(),
            })),
            "association" => Some(Details::Association(pb::AssociationDetails {})),
            "administration" => Some(Details::PublicAdministration(
                pb::PublicAdministrationDetails {},
            )),
            "chambre" => {
                let chamber = match maillage_territory::fold(at.get(self.chamber)).as_str() {
                    "cci" => Some(pb::ChamberKind::Cci),
                    "cma" => Some(pb::ChamberKind::Cma),
                    "agriculture" => Some(pb::ChamberKind::Agriculture),
                    _ => None,
                };
                match chamber {
                    Some(kind) => Some(Details::Chamber(pb::ChamberDetails { kind: kind as i32 })),
                    None => {
                        let value = at.get(self.chamber);
                        at.refuse(
                            self.chamber,
                            value,
                            "chambre inconnue (cci, cma, agriculture)",
                        );
                        None
                    }
                }
            }
            "collectivite" => {
                let value = at.get(self.local_authority);
                match maillage_territory::Territory::shared().resolve(value) {
                    Ok(found) => Some(Details::LocalAuthority(pb::LocalAuthorityDetails {
                        authority: Some(crate::cli::territory::to_proto(&found)),
                    })),
                    Err(_) => {
                        at.refuse(
                            self.local_authority,
                            value,
                            "territoire inconnu (commune:CODE, epci:SIREN, departement:CODE, region:CODE)",
                        );
                        None
                    }
                }
            }
            "tiers_lieu" | "tierslieu" => {
                let mut typologies = Vec::new();
                for typology in split(at.get(self.typologies)) {
                    match typology_of(typology) {
                        Some(value) => typologies.push(value as i32),
                        None => at.refuse(self.typologies, typology, "typologie inconnue (coworking, fablab, atelier_partage, culturel, living_lab, alimentation, cuisine_partagee, service_public, autre)"),
                    }
                }
                let status = match maillage_territory::fold(at.get(self.status)).as_str() {
                    "" | "ouvert" => pb::TiersLieuStatus::Open,
                    "projet" => pb::TiersLieuStatus::Project,
                    "ferme" => pb::TiersLieuStatus::Closed,
                    _ => {
                        let value = at.get(self.status);
                        at.refuse(self.status, value, "statut inconnu (projet, ouvert, ferme)");
                        pb::TiersLieuStatus::Open
                    }
                };
                Some(Details::TiersLieu(pb::TiersLieuDetails {
                    typologies,
                    status: status as i32,
                }))
            }
            _ => {
                let value = at.get(self.organisation_type);
                at.refuse(
                    self.organisation_type,
                    value,
                    "type d'organisation inconnu (entreprise, association, chambre, administration, collectivite, tiers_lieu)",
                );
                None
            }
        };
        for (field, index) in [
            ("organisation.profile.name", self.name),
            ("organisation.profile.commune_code", self.commune),
            ("organisation.profile.siren", self.siren),
            ("organisation.profile.business", self.sector),
            ("organisation.profile.tiers_lieu", self.typologies),
            ("organisation.profile.local_authority", self.local_authority),
        ] {
            origins.note(field, &at.column(index), at.get(index));
        }
        Some((
            pb::import_row::Stakeholder::Organisation(pb::OrganisationProfile {
                name: name.to_owned(),
                commune_code: commune?,
                siren: at.get(self.siren).to_owned(),
                details: Some(details?),
            }),
            origins,
        ))
    }
}

/// The items of a `|`-separated cell.
fn split(cell: &str) -> impl Iterator<Item = &str> {
    cell.split('|')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn person_kind(value: &str) -> Option<pb::PersonKind> {
    Some(
        match maillage_territory::fold(value).replace(' ', "_").as_str() {
            "elu" => pb::PersonKind::ElectedOfficial,
            "chef_entreprise" | "chef_d_entreprise" => pb::PersonKind::BusinessLeader,
            "membre_association" | "membre_d_association" => pb::PersonKind::AssociationMember,
            "agent_public" => pb::PersonKind::PublicAgent,
            "habitant" => pb::PersonKind::Inhabitant,
            "gestionnaire_tiers_lieu" | "gestionnaire_de_tiers_lieu" => {
                pb::PersonKind::TiersLieuManager
            }
            _ => return None,
        },
    )
}

/// The office named in the `mandat` column.
pub fn office_of(value: &str) -> Option<pb::MandateOffice> {
    Some(
        match maillage_territory::fold(value).replace(' ', "_").as_str() {
            "maire" => pb::MandateOffice::Maire,
            "adjoint" | "adjoint_au_maire" => pb::MandateOffice::Adjoint,
            "conseiller_municipal" => pb::MandateOffice::ConseillerMunicipal,
            "conseiller_communautaire" => pb::MandateOffice::ConseillerCommunautaire,
            "president_epci" => pb::MandateOffice::PresidentEpci,
            "vice_president_epci" => pb::MandateOffice::VicePresidentEpci,
            "conseiller_departemental" => pb::MandateOffice::ConseillerDepartemental,
            "conseiller_regional" => pb::MandateOffice::ConseillerRegional,
            _ => return None,
        },
    )
}

/// The level of an office's authority.
fn level_of(office: pb::MandateOffice) -> pb::TerritoryLevel {
    use pb::MandateOffice as O;
    match office {
        O::ConseillerCommunautaire | O::PresidentEpci | O::VicePresidentEpci => {
            pb::TerritoryLevel::Epci
        }
        O::ConseillerDepartemental => pb::TerritoryLevel::Departement,
        O::ConseillerRegional => pb::TerritoryLevel::Region,
        _ => pb::TerritoryLevel::Commune,
    }
}

fn typology_of(value: &str) -> Option<pb::TiersLieuTypology> {
    use pb::TiersLieuTypology as T;
    Some(
        match maillage_territory::fold(value).replace(' ', "_").as_str() {
            "coworking" => T::Coworking,
            "fablab" | "makerspace" => T::FablabMakerspace,
            "atelier_partage" => T::SharedWorkshop,
            "culturel" => T::Cultural,
            "living_lab" => T::LivingLab,
            "alimentation" | "jardin" => T::FoodGarden,
            "cuisine_partagee" => T::SharedKitchen,
            "service_public" => T::PublicServicePoint,
            "autre" => T::Other,
            _ => return None,
        },
    )
}
