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
    let suggestions: Vec<String> = territory
        .closest_names(query, SUGGESTIONS)
        .into_iter()
        .map(|found| format!("{} ({})", found.name, found.territory))
        .collect();
    Err(anyhow!(
        "territoire inconnu « {} » ({}) ; noms les plus proches : {}",
        input.trim(),
        why(&error),
        suggestions.join(", ")
    ))
}

/// Why a reference was refused, in French for the common cases.
fn why(error: &TerritoryError) -> String {
    match error {
        TerritoryError::NoSuchTerritory { .. } => {
            "aucune commune, aucun EPCI, département ni région n'a ce code dans le COG 2026"
                .to_owned()
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
    }
}
