//! French administrative geography for Maillage: the Code officiel géographique (COG)
//! 2026 — communes, EPCI à fiscalité propre, départements, régions — embedded from
//! `data/cog2026.tsv` (derived from the npm package `@etalab/decoupage-administratif`
//! 6.0.0, data under Licence Ouverte / Etalab 2.0), with lookups, code validation,
//! roll-ups and name search.
//!
//! ```
//! use maillage_territory::{Territory, TerritoryLevel, TerritoryRef};
//!
//! let territory = Territory::shared();
//! assert_eq!(territory.commune("2A004").map(|c| c.name.as_str()), Some("Ajaccio"));
//! let aude: TerritoryRef = "departement:11".parse()?;
//! assert_eq!(territory.name_of(&aude), Some("Aude"));
//! // A bare "11" could be the Aude or Île-de-France: resolve refuses to guess.
//! assert!(territory.resolve("11").is_err());
//! assert_eq!(territory.enclosing("75056", TerritoryLevel::Region), Some("region:11".parse()?));
//! # Ok::<(), maillage_territory::TerritoryError>(())
//! ```

#![warn(missing_docs)]

mod error;
mod level;
mod model;
mod names;
mod parse;
mod territory;

pub use error::TerritoryError;
pub use level::{TerritoryLevel, TerritoryRef};
pub use model::{AliasKind, Commune, CommuneAlias, Departement, Epci, EpciKind, Region, Zone};
pub use names::{fold, NameMatch, MAX_QUERY_CHARS, PART_MATCH_PENALTY};
pub use territory::{Territory, COG_YEAR, MAX_CODE_DISTANCE, SOURCE_PACKAGE, SOURCE_VERSION};
