//! SIRENE establishment lists (INSEE's `StockEtablissement` and the extracts
//! made from it, e.g. on annuaire-entreprises or data.gouv.fr): one line per
//! establishment, columns named as INSEE names them (`siren`, `siret`,
//! `codeCommuneEtablissement`, `activitePrincipaleEtablissement`,
//! `denominationUsuelleEtablissement`, `enseigne1Etablissement`,
//! `etatAdministratifEtablissement`, `trancheEffectifsEtablissement`, and
//! `denominationUniteLegale` when the extract joins it). Each open
//! establishment is a business: its name (the legal unit's, else the
//! establishment's usual name, else its sign), its commune, its SIREN, its
//! NAF code as sector and its size class from the staff band. Establishments
//! closed (`etatAdministratifEtablissement` = F) are left out. Several
//! establishments of one SIREN are one business: the server keeps the first.

use maillage_proto::v1 as pb;
use maillage_territory::TerritoryRef;

use super::text::Header;
use super::{in_territory, Line, Origins, Parsed, ParsedRow};

/// The SIRENE columns this reader uses.
pub struct Columns {
    header: Header,
    siren: Option<usize>,
    siret: Option<usize>,
    commune: Option<usize>,
    naf: Option<usize>,
    legal_name: Option<usize>,
    usual_name: Option<usize>,
    sign: Option<usize>,
    state: Option<usize>,
    staff: Option<usize>,
}

impl Columns {
    /// The columns of `header`, or why the file cannot be read as SIRENE.
    pub fn new(header: &Header) -> anyhow::Result<Self> {
        let columns = Self {
            header: header.clone(),
            siren: header.find(&["siren"]),
            siret: header.find(&["siret"]),
            commune: header.find(&["codeCommuneEtablissement", "code commune"]),
            naf: header.find(&["activitePrincipaleEtablissement", "code NAF", "naf"]),
            legal_name: header.find(&["denominationUniteLegale", "raison sociale"]),
            usual_name: header.find(&["denominationUsuelleEtablissement", "denomination"]),
            sign: header.find(&["enseigne1Etablissement", "enseigne"]),
            state: header.find(&["etatAdministratifEtablissement"]),
            staff: header.find(&["trancheEffectifsEtablissement"]),
        };
        if columns.siren.is_none() && columns.siret.is_none() {
            anyhow::bail!("fichier SIRENE sans colonne siren ni siret");
        }
        if columns.commune.is_none() {
            anyhow::bail!("fichier SIRENE sans colonne codeCommuneEtablissement");
        }
        Ok(columns)
    }

    /// Reads line `line` into `parsed`, unless the establishment is closed or
    /// its commune outside `territory`.
    pub fn read(
        &self,
        line: u64,
        record: &csv::StringRecord,
        territory: Option<&TerritoryRef>,
        parsed: &mut Parsed,
    ) {
        let mut at = Line::new(line, record, &self.header);
        if at.get(self.state).eq_ignore_ascii_case("F") {
            parsed.left_out.push((line, "établissement fermé".into()));
            return;
        }
        let raw_commune = at.get(self.commune);
        let commune = super::commune_code(raw_commune, "");
        if let Some(code) = &commune {
            if !in_territory(territory, code) {
                parsed.left_out.push((line, "hors du territoire".into()));
                return;
            }
        } else if raw_commune.is_empty() {
            at.refuse(self.commune, raw_commune, "code commune manquant");
        } else {
            at.refuse(self.commune, raw_commune, "commune inconnue du COG 2026");
        }
        let siret = at.get(self.siret).replace(' ', "");
        let mut siren = at.get(self.siren).replace(' ', "");
        if siren.is_empty() && siret.len() == 14 {
            siren = siret[..9].to_owned();
        }
        let siren_column = if at.get(self.siren).is_empty() {
            self.siret
        } else {
            self.siren
        };
        if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
            at.refuse(siren_column, &siren, "un SIREN a 9 chiffres");
        }
        if !siret.is_empty() && (siret.len() != 14 || !siret.starts_with(&siren)) {
            at.refuse(
                self.siret,
                &siret,
                "un SIRET a 14 chiffres et commence par le SIREN",
            );
        }
        let (name, name_column) = [self.legal_name, self.usual_name, self.sign]
            .into_iter()
            .map(|index| (at.get(index), index))
            .find(|(name, _)| !name.is_empty())
            .unwrap_or(("", self.usual_name));
        if name.is_empty() {
            at.refuse(name_column, "", "aucune dénomination ni enseigne");
        }
        let naf = at.get(self.naf);
        let (Some(commune), true) = (commune, at.errors.is_empty()) else {
            parsed.errors.append(&mut at.errors);
            return;
        };
        let mut origins = Origins::default();
        origins.note("organisation.profile.name", &at.column(name_column), name);
        origins.note(
            "organisation.profile.commune_code",
            &at.column(self.commune),
            raw_commune,
        );
        origins.note(
            "organisation.profile.siren",
            &at.column(siren_column),
            &siren,
        );
        origins.note(
            "organisation.profile.business.sector",
            &at.column(self.naf),
            naf,
        );
        parsed.rows.push(ParsedRow {
            row: pb::ImportRow {
                line,
                stakeholder: Some(pb::import_row::Stakeholder::Organisation(
                    pb::OrganisationProfile {
                        name: name.to_owned(),
                        commune_code: commune,
                        siren,
                        details: Some(pb::organisation_profile::Details::Business(
                            pb::BusinessDetails {
                                size: size_class(at.get(self.staff)) as i32,
                                sector: naf.to_owned(),
                            },
                        )),
                    },
                )),
            },
            origins,
        });
    }
}

/// The size class of an INSEE staff band (`trancheEffectifs…`): up to 9
/// staff (bands NN, 00 to 03, or unknown) a TPE, up to 249 (11 to 31) a PME,
/// up to 4,999 (32 to 51) an ETI, beyond a GE.
pub fn size_class(band: &str) -> pb::BusinessSize {
    match band.trim() {
        "11" | "12" | "21" | "22" | "31" => pb::BusinessSize::Pme,
        "32" | "41" | "42" | "51" => pb::BusinessSize::Eti,
        "52" | "53" => pb::BusinessSize::Ge,
        _ => pb::BusinessSize::Tpe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_bands_map_to_size_classes() {
        assert_eq!(size_class("NN"), pb::BusinessSize::Tpe);
        assert_eq!(size_class("03"), pb::BusinessSize::Tpe);
        assert_eq!(size_class("12"), pb::BusinessSize::Pme);
        assert_eq!(size_class("41"), pb::BusinessSize::Eti);
        assert_eq!(size_class("53"), pb::BusinessSize::Ge);
    }
}
