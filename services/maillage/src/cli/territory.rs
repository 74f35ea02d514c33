//! Territory codes as the CLI takes them (`epci:243700499`, `commune:37063`,
//! `departement:37`, `region:24`, a bare unambiguous code, or an exact name), and a
//! clear error naming the closest territories when nothing matches.

use anyhow::anyhow;
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryError, TerritoryLevel, TerritoryRef};

/// How many close names an error suggests.
const SUGGESTIONS: usize = 5;

/// Resolves `input` against the COG reference.
pub fn resolve(input: &str) -> anyhow::Result<TerritoryRef> {
    let territory = Territory::shared();
    let error = match territory.resolve(input) {
        Ok(found) => return Ok(found),
        Err(error) => error,
    };
    // A name given instead of a code: accepted when it names exactly one territory.
    let named = territory.search_by_name(input);
    if let [only] = named.as_slice() {
        return Ok(only.territory.clone());
    }
    let query = input.split_once(':').map_or(input, |(_, code)| code).trim();
    // Digits, and the A or B of Corsica's codes (2A, 2B004).
    let looks_like_a_code = query.chars().any(|c| c.is_ascii_digit())
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c.to_ascii_uppercase(), 'A' | 'B'));
    let (closest, what) = if looks_like_a_code {
        let level = match &error {
            TerritoryError::UnknownCode { level, .. }
            | TerritoryError::MalformedCode { level, .. } => Some(*level),
            _ => None,
        };
        (
            territory.closest_codes(query, level, SUGGESTIONS),
            "codes les plus proches",
        )
    } else {
        (
            territory.closest_names(query, SUGGESTIONS),
            "noms les plus proches",
        )
    };
    let suggestions: Vec<String> = closest
        .into_iter()
        .map(|found| format!("{} ({})", found.name, found.territory))
        .collect();
    let suggestions = if suggestions.is_empty() {
        "aucun".to_owned()
    } else {
        suggestions.join(", ")
    };
    Err(anyhow!(
        "territoire inconnu « {} » ({}) ; {what} : {suggestions}",
        input.trim(),
        why(&error),
    ))
}

/// Why a reference was refused, in French for the common cases.
fn why(error: &TerritoryError) -> String {
    match error {
        TerritoryError::NoSuchTerritory { .. } => {
            "aucune commune, aucun EPCI, département ni région n'a ce code dans le COG 2026"
                .to_owned()
        }
        TerritoryError::MalformedCode { level, code } => {
            let shape = match level {
                TerritoryLevel::Commune => "5 caractères (code INSEE, 2A ou 2B en Corse)",
                TerritoryLevel::Epci => "un SIREN de 9 chiffres dont la clé de Luhn est juste",
                TerritoryLevel::Departement => "2 ou 3 caractères (2A, 2B, 971…)",
                TerritoryLevel::Region => "2 chiffres",
            };
            format!("le code {code} n'a pas la forme d'un code de niveau {level} : {shape}")
        }
        TerritoryError::UnknownCode { level, code } => {
            format!("aucun territoire de niveau {level} n'a le code {code} dans le COG 2026")
        }
        TerritoryError::AmbiguousCode { candidates, .. } => {
            let candidates: Vec<String> = candidates.iter().map(ToString::to_string).collect();
            format!(
                "code ambigu, précisez le niveau : {}",
                candidates.join(" ou ")
            )
        }
        other => other.to_string(),
    }
}

/// The wire form of a territory reference.
pub fn to_proto(territory: &TerritoryRef) -> pb::TerritoryRef {
    let level = match territory.level() {
        TerritoryLevel::Commune => pb::TerritoryLevel::Commune,
        TerritoryLevel::Epci => pb::TerritoryLevel::Epci,
        TerritoryLevel::Departement => pb::TerritoryLevel::Departement,
        TerritoryLevel::Region => pb::TerritoryLevel::Region,
    };
    pb::TerritoryRef {
        level: level as i32,
        code: territory.code().to_owned(),
    }
}

/// The name of a territory, for titles.
pub fn name_of(territory: &TerritoryRef) -> String {
    Territory::shared()
        .name_of(territory)
        .map_or_else(|| territory.to_string(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_suggestions() {
        assert_eq!(resolve("epci:243700499").unwrap().code(), "243700499");
        assert_eq!(resolve("37063").unwrap().to_string(), "commune:37063");
        let unknown = resolve("Castelrenodais").unwrap_err().to_string();
        assert!(unknown.contains("noms les plus proches"), "{unknown}");
        assert!(unknown.contains("Castelrenaudais"), "{unknown}");
        // A code one digit short of a real EPCI's suggests that EPCI, not names
        // that happen to be close to the digits.
        let short = resolve("epci:24370049").unwrap_err().to_string();
        assert!(short.contains("codes les plus proches"), "{short}");
        assert!(
            short.contains("CC du Castelrenaudais (epci:243700499)"),
            "{short}"
        );
        assert!(!short.contains("Guyane"), "{short}");
        let commune = resolve("37O63").unwrap_err().to_string();
        assert!(commune.contains("noms les plus proches"), "{commune}");
        let typo = resolve("commune:370630").unwrap_err().to_string();
        assert!(typo.starts_with("territoire inconnu"), "{typo}");
        assert!(
            typo.contains("codes les plus proches : Château-Renault (commune:37063)"),
            "{typo}"
        );
    }
}
