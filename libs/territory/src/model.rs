//! The records of the territory reference: régions, départements, EPCI, communes
//! and the codes that are not (or no longer) current communes.

use std::fmt;

/// Which part of France a région, département or commune lies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Zone {
    /// Metropolitan France (including Corsica).
    Metro,
    /// Départements et régions d'outre-mer: Guadeloupe, Martinique, Guyane, La Réunion, Mayotte.
    Drom,
    /// Collectivités d'outre-mer and other overseas territories (Saint-Pierre-et-Miquelon,
    /// Saint-Barthélemy, Saint-Martin, TAAF, Wallis et Futuna, Polynésie française,
    /// Nouvelle-Calédonie, Clipperton), which the source lists both as région and as département.
    Com,
}

impl Zone {
    /// The code used in the data file (`metro`, `drom`, `com`).
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Metro => "metro",
            Zone::Drom => "drom",
            Zone::Com => "com",
        }
    }

    /// Parses the data file code.
    pub(crate) fn from_code(code: &str) -> Option<Zone> {
        match code {
            "metro" => Some(Zone::Metro),
            "drom" => Some(Zone::Drom),
            "com" => Some(Zone::Com),
            _ => None,
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A région (or a collectivité d'outre-mer, which the source also lists as a région).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// INSEE code, e.g. `"11"` (Île-de-France) or `"975"`.
    pub code: String,
    /// Official name, e.g. `"Île-de-France"`.
    pub name: String,
    /// Metropolitan, DROM or COM.
    pub zone: Zone,
}

/// A département (or a collectivité d'outre-mer, which the source also lists as a département).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departement {
    /// INSEE code, e.g. `"01"`, `"2A"`, `"974"`.
    pub code: String,
    /// Official name, e.g. `"Ain"`.
    pub name: String,
    /// Code of its région.
    pub region: String,
    /// Metropolitan, DROM or COM (the zone of its région).
    pub zone: Zone,
}

/// The legal form of an EPCI à fiscalité propre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EpciKind {
    /// Communauté de communes (`CC`).
    CommunauteDeCommunes,
    /// Communauté d'agglomération (`CA`).
    CommunauteDAgglomeration,
    /// Communauté urbaine (`CU`).
    CommunauteUrbaine,
    /// Métropole (`METRO`), including the Métropole du Grand Paris and Aix-Marseille-Provence.
    Metropole,
    /// Métropole de Lyon (`MET69`), a collectivité à statut particulier.
    MetropoleDeLyon,
}

impl EpciKind {
    /// The short code used by the DGCL and in the data file: `CC`, `CA`, `CU`, `METRO`, `MET69`.
    pub fn code(self) -> &'static str {
        match self {
            EpciKind::CommunauteDeCommunes => "CC",
            EpciKind::CommunauteDAgglomeration => "CA",
            EpciKind::CommunauteUrbaine => "CU",
            EpciKind::Metropole => "METRO",
            EpciKind::MetropoleDeLyon => "MET69",
        }
    }

    /// A French label, e.g. `"communauté de communes"`.
    pub fn label(self) -> &'static str {
        match self {
            EpciKind::CommunauteDeCommunes => "communauté de communes",
            EpciKind::CommunauteDAgglomeration => "communauté d'agglomération",
            EpciKind::CommunauteUrbaine => "communauté urbaine",
            EpciKind::Metropole => "métropole",
            EpciKind::MetropoleDeLyon => "Métropole de Lyon",
        }
    }

    /// Parses the short code.
    pub(crate) fn from_code(code: &str) -> Option<EpciKind> {
        match code {
            "CC" => Some(EpciKind::CommunauteDeCommunes),
            "CA" => Some(EpciKind::CommunauteDAgglomeration),
            "CU" => Some(EpciKind::CommunauteUrbaine),
            "METRO" => Some(EpciKind::Metropole),
            "MET69" => Some(EpciKind::MetropoleDeLyon),
            _ => None,
        }
    }
}

impl fmt::Display for EpciKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An établissement public de coopération intercommunale à fiscalité propre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Epci {
    /// SIREN number (9 digits), e.g. `"200054781"` (Métropole du Grand Paris).
    pub siren: String,
    /// Official name.
    pub name: String,
    /// Legal form.
    pub kind: EpciKind,
    /// Codes of its member communes, sorted.
    pub members: Vec<String>,
    /// Sum of its members' populations (communes without a population count as 0).
    pub population: u64,
}

/// A current commune (*commune actuelle* in the COG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    /// INSEE code (5 characters: digits, or `2A`/`2B` and 3 digits in Corsica), e.g. `"75056"`.
    pub code: String,
    /// Official name, e.g. `"Paris"`.
    pub name: String,
    /// Code of its département.
    pub departement: String,
    /// Code of its région.
    pub region: String,
    /// SIREN of its EPCI, if it belongs to one (98 communes do not: four islands and the COM).
    pub epci: Option<String>,
    /// Population municipale as given by the source; `None` where it has none
    /// (the TAAF districts and Clipperton).
    pub population: Option<u32>,
    /// Postcodes (La Poste), sorted as in the source; empty for the TAAF districts.
    pub postcodes: Vec<String>,
    /// Metropolitan, DROM or COM (the zone of its région).
    pub zone: Zone,
}

/// What a [`CommuneAlias`] code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AliasKind {
    /// A commune déléguée of a commune nouvelle.
    CommuneDeleguee,
    /// A commune associée (older form of merger).
    CommuneAssociee,
    /// A municipal arrondissement of Paris, Lyon or Marseille.
    ArrondissementMunicipal,
    /// The former code of a commune that was merged into a current one.
    FormerCode,
}

impl AliasKind {
    /// The code used in the data file: `CD`, `CA`, `AM`, `F`.
    pub(crate) fn from_code(code: &str) -> Option<AliasKind> {
        match code {
            "CD" => Some(AliasKind::CommuneDeleguee),
            "CA" => Some(AliasKind::CommuneAssociee),
            "AM" => Some(AliasKind::ArrondissementMunicipal),
            "F" => Some(AliasKind::FormerCode),
            _ => None,
        }
    }

    /// A French label, e.g. `"commune déléguée"`.
    pub fn label(self) -> &'static str {
        match self {
            AliasKind::CommuneDeleguee => "commune déléguée",
            AliasKind::CommuneAssociee => "commune associée",
            AliasKind::ArrondissementMunicipal => "arrondissement municipal",
            AliasKind::FormerCode => "former commune code",
        }
    }
}

impl fmt::Display for AliasKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A commune-like code that is not a current commune, and the current commune it belongs to.
///
/// 584 communes déléguées share their code with their commune nouvelle; for those,
/// [`crate::Territory::commune`] finds the current commune and this record only tells
/// the déléguée's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommuneAlias {
    /// The code, e.g. `"75101"` (Paris 1er Arrondissement).
    pub code: String,
    /// Its name; `None` for a former code (the source gives none).
    pub name: Option<String>,
    /// What it is.
    pub kind: AliasKind,
    /// Code of the current commune it belongs to or was merged into.
    pub commune: String,
}
