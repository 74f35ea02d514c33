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

impl TerritoryError {
    /// The refusal in French, for a person reading it next to the field
    /// that gave the code (the English message stays the error's `Display`).
    pub fn french(&self) -> String {
        match self {
            TerritoryError::MalformedCode { level, code } => {
                let shape = match level {
                    TerritoryLevel::Commune => "5 caractères (code INSEE, 2A ou 2B en Corse)",
                    TerritoryLevel::Epci => "un SIREN de 9 chiffres dont la clé est juste",
                    TerritoryLevel::Departement => "2 ou 3 caractères (2A, 2B, 971…)",
                    TerritoryLevel::Region => "2 chiffres",
                };
                format!("Le code « {code} » n'a pas la forme attendue ({level}) : {shape}.")
            }
            TerritoryError::UnknownCode { level, code } => {
                format!("Aucun territoire ({level}) n'a le code « {code} » dans le COG 2026.")
            }
            TerritoryError::NotCurrentCommune { code, commune, .. } => format!(
                "« {code} » n'est plus une commune en vigueur : utilisez le code de la commune \
                 {commune}."
            ),
            TerritoryError::AmbiguousCode { candidates, .. } => format!(
                "Code ambigu, précisez le niveau : {}.",
                candidates
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ou ")
            ),
            TerritoryError::NoSuchTerritory { code } => format!(
                "Aucune commune, aucun EPCI, département ni région n'a le code « {code} » dans \
                 le COG 2026."
            ),
            TerritoryError::MissingLevel { .. } => "Précisez le niveau avant le code : \
                                                    commune:, epci:, departement: ou region:."
                .into(),
            TerritoryError::UnknownLevel { level } => {
                format!("Niveau inconnu « {level} » : commune, epci, departement ou region.")
            }
            TerritoryError::Data { line, .. } => {
                format!("Le référentiel des territoires est illisible (ligne {line}).")
            }
        }
    }
}

fn join(refs: &[TerritoryRef]) -> String {
    refs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: each refusal of a code reads in French for a person, the
    /// English message unchanged.
    #[test]
    fn a_refused_code_reads_in_french() {
        let malformed = TerritoryError::MalformedCode {
            level: TerritoryLevel::Commune,
            code: "1234".into(),
        };
        assert!(malformed.to_string().starts_with("malformed commune code"));
        assert_eq!(
            malformed.french(),
            "Le code « 1234 » n'a pas la forme attendue (commune) : 5 caractères (code INSEE, \
             2A ou 2B en Corse)."
        );
        let unknown = TerritoryError::UnknownCode {
            level: TerritoryLevel::Commune,
            code: "99999".into(),
        };
        assert_eq!(
            unknown.french(),
            "Aucun territoire (commune) n'a le code « 99999 » dans le COG 2026."
        );
    }
}
