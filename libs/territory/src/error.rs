//! The typed errors of the territory reference.

use crate::level::{TerritoryLevel, TerritoryRef};
use crate::model::AliasKind;

/// Why a code, a reference or the embedded data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerritoryError {
    /// The code does not have the shape of a code of that level (e.g. `"7505"` as a commune).
    #[error("malformed {level} code {code:?}: expected {}", .level.code_format())]
    MalformedCode {
        /// The level the code was given for.
        level: TerritoryLevel,
        /// The code as given.
        code: String,
    },
    /// The code is well formed but no territory of that level has it in COG 2026.
    #[error("unknown {level} code {code:?} in COG 2026")]
    UnknownCode {
        /// The level the code was given for.
        level: TerritoryLevel,
        /// The code as given.
        code: String,
    },
    /// The code is a commune déléguée, associée, arrondissement municipal or former code,
    /// not a current commune; `commune` is the current one it belongs to.
    #[error("{code:?} is not a current commune ({kind} of commune {commune})")]
    NotCurrentCommune {
        /// The code as given.
        code: String,
        /// What the code is.
        kind: AliasKind,
        /// The current commune's code.
        commune: String,
    },
    /// A bare code (no `level:`) matches territories at several levels.
    #[error("ambiguous territory code {code:?}: it could be {}; say which with level:code", join(.candidates))]
    AmbiguousCode {
        /// The code as given.
        code: String,
        /// Every matching territory.
        candidates: Vec<TerritoryRef>,
    },
    /// A bare code (no `level:`) matches no territory at any level.
    #[error("unknown territory code {code:?}: no commune, EPCI, département or région has it")]
    NoSuchTerritory {
        /// The code as given.
        code: String,
    },
    /// A territory reference without its `level:` prefix.
    #[error("territory reference {input:?} has no level: write commune:, epci:, departement: or region: before the code")]
    MissingLevel {
        /// The text as given.
        input: String,
    },
    /// An unknown level name.
    #[error("unknown territory level {level:?}: expected commune, epci, departement or region")]
    UnknownLevel {
        /// The level as given.
        level: String,
    },
    /// The reference data could not be parsed or is inconsistent.
    #[error("territory data, line {line}: {message}")]
    Data {
        /// 1-based line number (0 for whole-file checks).
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn join(refs: &[TerritoryRef]) -> String {
    refs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}
