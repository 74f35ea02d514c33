//! The immutable [`Territory`] reference: loading the embedded COG 2026 file, lookups,
//! validation of codes, roll-ups of communes and name search.

use std::cmp::Reverse;
use std::sync::OnceLock;

use crate::error::TerritoryError;
use crate::level::{TerritoryLevel, TerritoryRef};
use crate::model::{Commune, CommuneAlias, Departement, Epci, Region};
use crate::names::{NameEntry, NameIndex, NameMatch, MAX_QUERY_CHARS};

/// The embedded data file (written by `scripts/refresh-territory`).
const DATA: &str = include_str!("../data/cog2026.tsv");

/// The npm package the data is derived from.
pub const SOURCE_PACKAGE: &str = "@etalab/decoupage-administratif";
/// The version of [`SOURCE_PACKAGE`] the data is derived from.
pub const SOURCE_VERSION: &str = "6.0.0";
/// The vintage (*millésime*) of the Code officiel géographique.
pub const COG_YEAR: u16 = 2026;

/// The largest edit distance between codes that [`Territory::closest_codes`]
/// suggests: two digits wrong, missing or added.
pub const MAX_CODE_DISTANCE: usize = 2;

/// Binary search of `items` (sorted by strictly increasing `key`, checked at load) for `code`.
pub(crate) fn find<T>(items: &[T], code: &str, key: impl Fn(&T) -> &String) -> Option<usize> {
    items
        .binary_search_by(|item| key(item).as_str().cmp(code))
        .ok()
}

/// French administrative geography, COG 2026: régions, départements, EPCI and communes,
/// with the links between them. Immutable once loaded; share it with [`Territory::shared`].
///
/// Lookups take codes as the COG writes them (`"2A004"`, not `"2a004"`) and return
/// `None` for unknown codes; the `validate_*` methods say why a code is refused.
pub struct Territory {
    pub(crate) regions: Vec<Region>,
    pub(crate) departements: Vec<Departement>,
    pub(crate) epcis: Vec<Epci>,
    pub(crate) communes: Vec<Commune>,
    pub(crate) aliases: Vec<CommuneAlias>,
    /// Commune indices of each région (parallel to `regions`), in code order.
    pub(crate) region_communes: Vec<Vec<u32>>,
    /// Département indices of each région (parallel to `regions`), in code order.
    pub(crate) region_departements: Vec<Vec<u32>>,
    /// Commune indices of each département (parallel to `departements`), in code order.
    pub(crate) departement_communes: Vec<Vec<u32>>,
    /// Commune indices of each EPCI (parallel to `epcis`), in code order.
    pub(crate) epci_communes: Vec<Vec<u32>>,
    /// Folded names, built on the first name query.
    pub(crate) names: OnceLock<NameIndex>,
}

impl std::fmt::Debug for Territory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Territory")
            .field("regions", &self.regions.len())
            .field("departements", &self.departements.len())
            .field("epcis", &self.epcis.len())
            .field("communes", &self.communes.len())
            .field("aliases", &self.aliases.len())
            .finish()
    }
}

impl Territory {
    /// Parses the embedded COG 2026 file. Each call parses anew (a few milliseconds);
    /// prefer [`Territory::shared`].
    pub fn load() -> Result<Territory, TerritoryError> {
        crate::parse::parse(DATA)
    }

    /// Parses a file in the format of `data/cog2026.tsv` (see its header).
    pub fn parse(text: &str) -> Result<Territory, TerritoryError> {
        crate::parse::parse(text)
    }

    /// The process-wide reference, loaded on first use.
    #[allow(clippy::expect_used)] // the embedded file parses: see below
    pub fn shared() -> &'static Territory {
        static SHARED: OnceLock<Territory> = OnceLock::new();
        // Cannot fail at run time: the parsed text is the file compiled into the
        // binary (`include_str!`), the same bytes the crate's tests parse
        // (`tests/real_data.rs` loads through this function). Parsing it at build
        // time instead would mean a build script generating the whole table.
        SHARED.get_or_init(|| {
            Territory::load()
                .expect("the embedded COG file is committed and checked by the crate's tests")
        })
    }

    // ---- whole lists ----

    /// All régions, sorted by code.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// All départements, sorted by code.
    pub fn departements(&self) -> &[Departement] {
        &self.departements
    }

    /// All EPCI, sorted by SIREN.
    pub fn epcis(&self) -> &[Epci] {
        &self.epcis
    }

    /// All current communes, sorted by code.
    pub fn communes(&self) -> &[Commune] {
        &self.communes
    }

    /// All codes that are not current communes (déléguées, associées, arrondissements
    /// municipaux, former codes), sorted by code.
    pub fn commune_aliases(&self) -> &[CommuneAlias] {
        &self.aliases
    }

    // ---- lookups by code ----

    /// The current commune with this INSEE code.
    pub fn commune(&self, code: &str) -> Option<&Commune> {
        find(&self.communes, code, |c| &c.code).map(|i| &self.communes[i])
    }

    /// The EPCI with this SIREN.
    pub fn epci(&self, siren: &str) -> Option<&Epci> {
        find(&self.epcis, siren, |e| &e.siren).map(|i| &self.epcis[i])
    }

    /// The département with this code.
    pub fn departement(&self, code: &str) -> Option<&Departement> {
        find(&self.departements, code, |d| &d.code).map(|i| &self.departements[i])
    }

    /// The région with this code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        find(&self.regions, code, |r| &r.code).map(|i| &self.regions[i])
    }

    /// The non-current commune code (commune déléguée, associée, arrondissement municipal
    /// or former code) with this code. Some déléguées share their code with a current
    /// commune, so a code can be both.
    pub fn commune_alias(&self, code: &str) -> Option<&CommuneAlias> {
        find(&self.aliases, code, |a| &a.code).map(|i| &self.aliases[i])
    }

    // ---- what a commune belongs to ----

    /// The EPCI of a commune (`None` if the commune is unknown or belongs to none).
    pub fn epci_of(&self, commune_code: &str) -> Option<&Epci> {
        self.commune(commune_code)?
            .epci
            .as_deref()
            .and_then(|siren| self.epci(siren))
    }

    /// The département of a commune.
    pub fn departement_of(&self, commune_code: &str) -> Option<&Departement> {
        self.departement(&self.commune(commune_code)?.departement)
    }

    /// The région of a commune.
    pub fn region_of(&self, commune_code: &str) -> Option<&Region> {
        self.region(&self.commune(commune_code)?.region)
    }

    /// The territory of `level` that contains a commune: the commune itself, its EPCI,
    /// département or région. `None` if the commune is unknown or belongs to no EPCI.
    pub fn enclosing(&self, commune_code: &str, level: TerritoryLevel) -> Option<TerritoryRef> {
        let c = self.commune(commune_code)?;
        let code = match level {
            TerritoryLevel::Commune => &c.code,
            TerritoryLevel::Epci => c.epci.as_ref()?,
            TerritoryLevel::Departement => &c.departement,
            TerritoryLevel::Region => &c.region,
        };
        Some(TerritoryRef::trusted(level, code))
    }

    // ---- roll-ups ----

    fn communes_at(&self, indices: &[u32]) -> Vec<&Commune> {
        // Indices were built from `communes` at load, so they are in range.
        indices
            .iter()
            .map(|&i| &self.communes[i as usize])
            .collect()
    }

    /// The member communes of an EPCI, in code order (`None` if the SIREN is unknown).
    pub fn communes_of_epci(&self, siren: &str) -> Option<Vec<&Commune>> {
        find(&self.epcis, siren, |e| &e.siren).map(|i| self.communes_at(&self.epci_communes[i]))
    }

    /// The communes of a département, in code order (`None` if the code is unknown).
    pub fn communes_of_departement(&self, code: &str) -> Option<Vec<&Commune>> {
        find(&self.departements, code, |d| &d.code)
            .map(|i| self.communes_at(&self.departement_communes[i]))
    }

    /// The communes of a région, in code order (`None` if the code is unknown).
    pub fn communes_of_region(&self, code: &str) -> Option<Vec<&Commune>> {
        find(&self.regions, code, |r| &r.code).map(|i| self.communes_at(&self.region_communes[i]))
    }

    /// The départements of a région, in code order (`None` if the code is unknown).
    pub fn departements_of_region(&self, code: &str) -> Option<Vec<&Departement>> {
        find(&self.regions, code, |r| &r.code).map(|i| {
            // Indices were built from `departements` at load, so they are in range.
            self.region_departements[i]
                .iter()
                .map(|&d| &self.departements[d as usize])
                .collect()
        })
    }

    /// The communes a territory covers, in code order — a commune covers itself.
    /// Fails with [`TerritoryError::UnknownCode`] (or
    /// [`TerritoryError::NotCurrentCommune`]) if the territory does not exist.
    pub fn communes_in(&self, territory: &TerritoryRef) -> Result<Vec<&Commune>, TerritoryError> {
        let code = territory.code();
        let found = match territory.level() {
            TerritoryLevel::Commune => self.commune(code).map(|c| vec![c]),
            TerritoryLevel::Epci => self.communes_of_epci(code),
            TerritoryLevel::Departement => self.communes_of_departement(code),
            TerritoryLevel::Region => self.communes_of_region(code),
        };
        match found {
            Some(communes) => Ok(communes),
            None => Err(self.not_found(territory)),
        }
    }

    /// Whether the territory covers the commune (false if either is unknown).
    pub fn contains(&self, territory: &TerritoryRef, commune_code: &str) -> bool {
        self.enclosing(commune_code, territory.level())
            .is_some_and(|r| r == *territory)
    }

    // ---- validation and resolution ----

    /// Whether the referenced territory exists.
    pub fn exists(&self, territory: &TerritoryRef) -> bool {
        self.name_of(territory).is_some()
    }

    /// The official name of the referenced territory.
    pub fn name_of(&self, territory: &TerritoryRef) -> Option<&str> {
        let code = territory.code();
        match territory.level() {
            TerritoryLevel::Commune => self.commune(code).map(|c| c.name.as_str()),
            TerritoryLevel::Epci => self.epci(code).map(|e| e.name.as_str()),
            TerritoryLevel::Departement => self.departement(code).map(|d| d.name.as_str()),
            TerritoryLevel::Region => self.region(code).map(|r| r.name.as_str()),
        }
    }

    /// The error for a well-formed reference that does not exist.
    fn not_found(&self, territory: &TerritoryRef) -> TerritoryError {
        if territory.level() == TerritoryLevel::Commune {
            if let Some(a) = self.commune_alias(territory.code()) {
                return TerritoryError::NotCurrentCommune {
                    code: a.code.clone(),
                    kind: a.kind,
                    commune: a.commune.clone(),
                };
            }
        }
        TerritoryError::UnknownCode {
            level: territory.level(),
            code: territory.code().to_string(),
        }
    }

    /// Checks that the referenced territory exists.
    pub fn validate(&self, territory: &TerritoryRef) -> Result<(), TerritoryError> {
        if self.exists(territory) {
            Ok(())
        } else {
            Err(self.not_found(territory))
        }
    }

    /// Checks a code of a given level: [`TerritoryError::MalformedCode`] if it does not
    /// have the level's shape, [`TerritoryError::UnknownCode`] if no territory has it
    /// (or [`TerritoryError::NotCurrentCommune`] for a commune déléguée, associée,
    /// arrondissement municipal or former code).
    pub fn validate_code(
        &self,
        level: TerritoryLevel,
        code: &str,
    ) -> Result<TerritoryRef, TerritoryError> {
        let territory = TerritoryRef::new(level, code)?;
        self.validate(&territory)?;
        Ok(territory)
    }

    /// Checks a commune code and returns the commune: [`TerritoryError::MalformedCode`] if
    /// it is not 5 digits (or 2A/2B and 3 digits), [`TerritoryError::NotCurrentCommune`]
    /// if it is a commune déléguée, associée, arrondissement municipal or former code,
    /// [`TerritoryError::UnknownCode`] otherwise.
    pub fn validate_commune(&self, code: &str) -> Result<&Commune, TerritoryError> {
        let territory = TerritoryRef::commune(code)?;
        self.commune(code).ok_or_else(|| self.not_found(&territory))
    }

    /// Every existing territory with this bare code, smallest level first. Codes such as
    /// `"11"`, `"24"` or `"93"` name both a département and a région; the COM codes
    /// (`"975"`, `"988"`…) name the same collectivité as both.
    pub fn candidates(&self, code: &str) -> Vec<TerritoryRef> {
        TerritoryLevel::ALL
            .into_iter()
            .filter(|level| level.is_well_formed(code))
            .map(|level| TerritoryRef::trusted(level, code))
            .filter(|r| self.exists(r))
            .collect()
    }

    /// Resolves user input to an existing territory. `level:code` is checked for
    /// existence; a bare code is accepted only when exactly one level has it, and fails
    /// with [`TerritoryError::AmbiguousCode`] (listing the candidates) otherwise — never
    /// a silent pick. Surrounding whitespace is ignored.
    pub fn resolve(&self, input: &str) -> Result<TerritoryRef, TerritoryError> {
        let input = input.trim();
        if input.contains(':') {
            let territory: TerritoryRef = input.parse()?;
            self.validate(&territory)?;
            return Ok(territory);
        }
        let mut candidates = self.candidates(input);
        match candidates.len() {
            1 => Ok(candidates.remove(0)),
            0 => match self.commune_alias(input) {
                Some(a) => Err(TerritoryError::NotCurrentCommune {
                    code: a.code.clone(),
                    kind: a.kind,
                    commune: a.commune.clone(),
                }),
                None => Err(TerritoryError::NoSuchTerritory {
                    code: input.to_string(),
                }),
            },
            _ => Err(TerritoryError::AmbiguousCode {
                code: input.to_string(),
                candidates,
            }),
        }
    }

    // ---- names ----

    fn name_index(&self) -> &NameIndex {
        self.names.get_or_init(|| {
            let mut entries = Vec::with_capacity(
                self.regions.len()
                    + self.departements.len()
                    + self.epcis.len()
                    + self.communes.len(),
            );
            let mut push = |name: &str, level, index: usize, weight| {
                entries.push(NameEntry {
                    folded: crate::names::fold(name).chars().collect(),
                    level,
                    // Fewer than 2^32 records: checked by `parse::index` at load.
                    index: index as u32,
                    weight,
                });
            };
            for (i, r) in self.regions.iter().enumerate() {
                push(&r.name, TerritoryLevel::Region, i, u64::MAX);
            }
            for (i, d) in self.departements.iter().enumerate() {
                push(&d.name, TerritoryLevel::Departement, i, u64::MAX - 1);
            }
            for (i, e) in self.epcis.iter().enumerate() {
                push(&e.name, TerritoryLevel::Epci, i, e.population);
            }
            for (i, c) in self.communes.iter().enumerate() {
                push(
                    &c.name,
                    TerritoryLevel::Commune,
                    i,
                    u64::from(c.population.unwrap_or(0)),
                );
            }
            NameIndex { entries }
        })
    }

    fn name_match(&self, entry: &NameEntry, distance: usize) -> NameMatch<'_> {
        let i = entry.index as usize;
        // Entries were built from these lists, so the indices are in range.
        let (code, name) = match entry.level {
            TerritoryLevel::Region => (&self.regions[i].code, &self.regions[i].name),
            TerritoryLevel::Departement => (&self.departements[i].code, &self.departements[i].name),
            TerritoryLevel::Epci => (&self.epcis[i].siren, &self.epcis[i].name),
            TerritoryLevel::Commune => (&self.communes[i].code, &self.communes[i].name),
        };
        NameMatch {
            territory: TerritoryRef::trusted(entry.level, code),
            name,
            distance,
        }
    }

    /// Territories (communes, EPCI, départements, régions) whose name equals `query`
    /// ignoring case, accents and punctuation — several for homonyms (`"Saint-Denis"`).
    /// Larger territories first: régions, départements, then by population.
    pub fn search_by_name(&self, query: &str) -> Vec<NameMatch<'_>> {
        self.name_index()
            .exact(query)
            .into_iter()
            .map(|e| self.name_match(e, 0))
            .collect()
    }

    /// Territories whose folded name starts with the folded `prefix`, shortest names
    /// first, then larger territories; at most `limit`. `distance` is the number of
    /// characters after the prefix.
    pub fn search_by_prefix(&self, prefix: &str, limit: usize) -> Vec<NameMatch<'_>> {
        let len = crate::names::fold(prefix).chars().count();
        self.name_index()
            .prefix(prefix, limit)
            .into_iter()
            .map(|e| self.name_match(e, e.folded.len() - len))
            .collect()
    }

    /// The `n` territories whose codes are closest to `code` (Levenshtein distance on
    /// the codes: a digit mistyped, missing or added costs 1), of `level` when given,
    /// nearest first; ties go to larger territories. Meant for "unknown code — did you
    /// mean …" messages: `24370049` (one digit short) finds the EPCI `243700499`.
    /// Codes further than [`MAX_CODE_DISTANCE`] are never suggested.
    pub fn closest_codes(
        &self,
        code: &str,
        level: Option<TerritoryLevel>,
        n: usize,
    ) -> Vec<NameMatch<'_>> {
        let query: Vec<char> = code.trim().chars().take(MAX_QUERY_CHARS).collect();
        let mut row = Vec::new();
        let mut scored = Vec::new();
        for entry in &self.name_index().entries {
            if level.is_some_and(|level| level != entry.level) {
                continue;
            }
            let found = self.name_match(entry, 0);
            let candidate: Vec<char> = found.territory.code().chars().collect();
            if let Some(distance) =
                crate::names::levenshtein_within(&query, &candidate, MAX_CODE_DISTANCE, &mut row)
            {
                scored.push((distance, Reverse(entry.weight), found));
            }
        }
        scored.sort_by_key(|a| (a.0, a.1));
        scored
            .into_iter()
            .take(n)
            .map(|(distance, _, found)| NameMatch { distance, ..found })
            .collect()
    }

    /// The `n` territories whose names are closest to `query` (Levenshtein distance on
    /// names folded for case, accents and punctuation), nearest first; ties go to larger
    /// territories. Meant for "unknown territory — did you mean …" messages. Only the first
    /// [`crate::MAX_QUERY_CHARS`] folded characters of `query` are compared.
    pub fn closest_names(&self, query: &str, n: usize) -> Vec<NameMatch<'_>> {
        self.name_index()
            .closest(query, n)
            .into_iter()
            .map(|(e, d)| self.name_match(e, d))
            .collect()
    }
}
