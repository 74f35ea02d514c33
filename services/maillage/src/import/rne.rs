//! The Répertoire national des élus (RNE) files published on data.gouv.fr,
//! one per mandate, `;`-separated, French headers (docs/import.md lists
//! them): the maires, the conseillers municipaux and the conseillers
//! communautaires. Each line is one élu in one function: a person (names,
//! commune, date of birth) with the mandate and, when the line names one, the
//! function held within it:
//!
//! - maires file (no "Libellé de la fonction"): conseiller municipal since
//!   the mandate's start and maire since the function's;
//! - conseillers municipaux: conseiller municipal, plus maire (« Maire ») or
//!   adjoint (« 1er adjoint au maire »…) when the function says so;
//! - conseillers communautaires (an EPCI SIREN column): conseiller
//!   communautaire of that EPCI, plus président or vice-président.
//!
//! The same élu met in several files, or on several lines, is one person: the
//! server matches them by names, commune and birth year, and adds only the
//! mandates they lack. Sex, profession and nationality are not read.

use maillage_proto::v1 as pb;
use maillage_territory::TerritoryRef;

use super::text::Header;
use super::{in_territory, timestamp, Line, Origins, Parsed, ParsedRow};

/// The RNE file's columns this reader uses.
pub struct Columns {
    header: Header,
    departement: Option<usize>,
    commune: Option<usize>,
    family: Option<usize>,
    given: Option<usize>,
    birth: Option<usize>,
    mandate_start: Option<usize>,
    function: Option<usize>,
    function_start: Option<usize>,
    epci: Option<usize>,
}

/// Which file the columns say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Maires,
    Municipaux,
    Communautaires,
}

impl Columns {
    /// The columns of `header`, or why the file cannot be read as an RNE file.
    pub fn new(header: &Header) -> anyhow::Result<Self> {
        let columns = Self {
            header: header.clone(),
            departement: header.find(&["Code du département"]),
            commune: header.find(&[
                "Code de la commune",
                "Code Insee de la commune",
                "code_insee",
            ]),
            family: header.find(&["Nom de l'élu"]),
            given: header.find(&["Prénom de l'élu"]),
            birth: header.find(&["Date de naissance"]),
            mandate_start: header.find(&["Date de début du mandat"]),
            function: header.find(&["Libellé de la fonction"]),
            function_start: header.find(&["Date de début de la fonction"]),
            epci: header.find(&[
                "N° SIREN",
                "Numéro SIREN",
                "SIREN",
                "Code SIREN de l'EPCI",
                "SIREN de l'EPCI",
            ]),
        };
        let mut missing = Vec::new();
        for (index, name) in [
            (columns.commune, "Code de la commune"),
            (columns.family, "Nom de l'élu"),
            (columns.given, "Prénom de l'élu"),
            (columns.mandate_start, "Date de début du mandat"),
        ] {
            if index.is_none() {
                missing.push(name);
            }
        }
        if !missing.is_empty() {
            anyhow::bail!(
                "fichier du RNE sans les colonnes {} : seuls les fichiers des maires, des conseillers municipaux et des conseillers communautaires sont pris en charge",
                missing.join(", ")
            );
        }
        Ok(columns)
    }

    fn kind(&self) -> Kind {
        if self.epci.is_some() {
            Kind::Communautaires
        } else if self.function.is_none() {
            Kind::Maires
        } else {
            Kind::Municipaux
        }
    }

    /// Reads line `line` into `parsed`, unless its commune is outside `territory`.
    pub fn read(
        &self,
        line: u64,
        record: &csv::StringRecord,
        territory: Option<&TerritoryRef>,
        parsed: &mut Parsed,
    ) {
        let mut at = Line::new(line, record, &self.header);
        let raw = at.get(self.commune);
        let departement = at.get(self.departement);
        let commune = match super::commune_code(raw, departement) {
            Some(code) if !in_territory(territory, &code) => {
                parsed.left_out.push((line, "hors du territoire".into()));
                return;
            }
            Some(code) => Some(code),
            None if raw.is_empty() => {
                at.refuse(self.commune, raw, "code commune manquant");
                None
            }
            None => {
                at.refuse(self.commune, raw, "commune inconnue du COG 2026");
                None
            }
        };
        let family = at.required(self.family, "nom de l'élu");
        let given = at.required(self.given, "prénom de l'élu");
        let birth = at.date(self.birth).unwrap_or_default();
        let mandate_start = at.date(self.mandate_start);
        if mandate_start.is_none() && at.get(self.mandate_start).is_empty() {
            at.refuse(self.mandate_start, "", "date de début du mandat manquante");
        }
        let function_start = at.date(self.function_start);
        let function = at.get(self.function);
        let kind = self.kind();
        let epci = at.get(self.epci).replace(' ', "");
        if kind == Kind::Communautaires
            && maillage_territory::Territory::shared()
                .epci(&epci)
                .is_none()
        {
            at.refuse(self.epci, &epci, "EPCI inconnu du COG 2026 (SIREN)");
        }
        let (Some(commune), Some(mandate_start), true) =
            (commune, mandate_start, at.errors.is_empty())
        else {
            parsed.errors.append(&mut at.errors);
            return;
        };
        let function_start = function_start.unwrap_or_else(|| mandate_start.clone());
        let commune_ref = pb::TerritoryRef {
            level: pb::TerritoryLevel::Commune as i32,
            code: commune.clone(),
        };
        let epci_ref = pb::TerritoryRef {
            level: pb::TerritoryLevel::Epci as i32,
            code: epci.clone(),
        };
        let mandate = |office: pb::MandateOffice, authority: &pb::TerritoryRef, start: &str| {
            pb::MandateInput {
                office: office as i32,
                authority: Some(authority.clone()),
                started_at: timestamp(start),
                ended_at: None,
            }
        };
        let mut mandates = Vec::new();
        match kind {
            Kind::Maires => {
                mandates.push(mandate(
                    pb::MandateOffice::ConseillerMunicipal,
                    &commune_ref,
                    &mandate_start,
                ));
                mandates.push(mandate(
                    pb::MandateOffice::Maire,
                    &commune_ref,
                    &function_start,
                ));
            }
            Kind::Municipaux => {
                mandates.push(mandate(
                    pb::MandateOffice::ConseillerMunicipal,
                    &commune_ref,
                    &mandate_start,
                ));
                if let Some(office) = municipal_function(function) {
                    mandates.push(mandate(office, &commune_ref, &function_start));
                }
            }
            Kind::Communautaires => {
                mandates.push(mandate(
                    pb::MandateOffice::ConseillerCommunautaire,
                    &epci_ref,
                    &mandate_start,
                ));
                if let Some(office) = epci_function(function) {
                    mandates.push(mandate(office, &epci_ref, &function_start));
                }
            }
        }
        let mut origins = Origins::default();
        origins.note("person.profile.given_name", &at.column(self.given), given);
        origins.note(
            "person.profile.family_name",
            &at.column(self.family),
            family,
        );
        origins.note("person.profile.commune_code", &at.column(self.commune), raw);
        origins.note(
            "person.profile.birth_date",
            &at.column(self.birth),
            at.get(self.birth),
        );
        origins.note(
            "person.mandates",
            &at.column(self.mandate_start),
            at.get(self.mandate_start),
        );
        parsed.rows.push(ParsedRow {
            row: pb::ImportRow {
                line,
                stakeholder: Some(pb::import_row::Stakeholder::Person(pb::ImportPerson {
                    profile: Some(pb::PersonProfile {
                        given_name: given.to_owned(),
                        family_name: family.to_owned(),
                        kinds: vec![pb::PersonKind::ElectedOfficial as i32],
                        commune_code: commune,
                        birth_date: birth,
                        ..Default::default()
                    }),
                    mandates,
                    affiliations: vec![],
                })),
            },
            origins,
        });
    }
}

/// The office of a municipal function (« Maire », « 2ème adjoint au maire »);
/// `None` for none or another one (conseiller délégué, maire délégué).
pub fn municipal_function(function: &str) -> Option<pb::MandateOffice> {
    let folded = maillage_territory::fold(function);
    if folded.contains("adjoint") {
        Some(pb::MandateOffice::Adjoint)
    } else if folded == "maire" {
        Some(pb::MandateOffice::Maire)
    } else {
        None
    }
}

/// The office of a function in an EPCI (président, vice-président).
pub fn epci_function(function: &str) -> Option<pb::MandateOffice> {
    let folded = maillage_territory::fold(function);
    if folded.contains("vice president") {
        Some(pb::MandateOffice::VicePresidentEpci)
    } else if folded.starts_with("president") {
        Some(pb::MandateOffice::PresidentEpci)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_map_to_offices() {
        assert_eq!(municipal_function("Maire"), Some(pb::MandateOffice::Maire));
        assert_eq!(
            municipal_function("1er adjoint au maire"),
            Some(pb::MandateOffice::Adjoint)
        );
        assert_eq!(
            municipal_function("3ème Adjoint au Maire"),
            Some(pb::MandateOffice::Adjoint)
        );
        assert_eq!(municipal_function("Maire délégué"), None);
        assert_eq!(municipal_function("Conseiller municipal délégué"), None);
        assert_eq!(municipal_function(""), None);
        assert_eq!(
            epci_function("Président du conseil communautaire"),
            Some(pb::MandateOffice::PresidentEpci)
        );
        assert_eq!(
            epci_function("2ème Vice-président"),
            Some(pb::MandateOffice::VicePresidentEpci)
        );
        assert_eq!(epci_function("Membre du bureau"), None);
    }
}
