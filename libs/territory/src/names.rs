//! Name matching: accent- and case-insensitive folding, exact search and the closest
//! names by edit distance (for "unknown territory, did you mean …" messages).

use std::cmp::Reverse;

use crate::level::{TerritoryLevel, TerritoryRef};

/// A territory found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatch<'a> {
    /// The territory.
    pub territory: TerritoryRef,
    /// Its official name.
    pub name: &'a str,
    /// How far the name is from the query, on folded names: the Levenshtein distance, or,
    /// when smaller, the distance between the query and the best-matching part of the name
    /// plus [`PART_MATCH_PENALTY`] (so `"grand paris"` finds "Métropole du Grand Paris").
    /// 0 for an exact match. [`crate::Territory::search_by_prefix`] gives the number of
    /// characters after the prefix instead.
    pub distance: usize,
}

/// Added to the distance when the query matches only a part of a name.
pub const PART_MATCH_PENALTY: usize = 2;

/// Characters of a folded query compared by [`crate::Territory::closest_names`]:
/// the longest name of the reference has 59, and the edit distance costs the
/// query's length times each name's, for every name.
pub const MAX_QUERY_CHARS: usize = 96;

/// Folds a name for comparison: lowercase, French diacritics removed (`œ` → `oe`),
/// hyphens, apostrophes and other punctuation turned into single spaces, trimmed.
///
/// `fold("L'Île-d'Yeu") == "l ile d yeu"`, `fold("BESANÇON") == "besancon"`.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_space = false;
    for ch in name.chars().flat_map(char::to_lowercase) {
        let folded: &str = match ch {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'æ' => "ae",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'œ' => "oe",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            c if c.is_alphanumeric() => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
                continue;
            }
            _ => {
                pending_space = true;
                continue;
            }
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push_str(folded);
    }
    out
}

/// One searchable name.
pub(crate) struct NameEntry {
    /// The folded name, as chars for the edit distance.
    pub folded: Box<[char]>,
    /// Which territory: level and index in that level's list.
    pub level: TerritoryLevel,
    pub index: u32,
    /// Tie-breaker: larger territories first (régions, départements, then by population).
    pub weight: u64,
}

/// Every name of the reference, folded once (built lazily on the first name query).
pub(crate) struct NameIndex {
    pub entries: Vec<NameEntry>,
}

impl NameIndex {
    /// Indices of the entries whose folded name equals the folded `query`, best first.
    pub fn exact(&self, query: &str) -> Vec<&NameEntry> {
        let q: Vec<char> = fold(query).chars().collect();
        let mut hits: Vec<&NameEntry> =
            self.entries.iter().filter(|e| *e.folded == q[..]).collect();
        hits.sort_by_key(|e| Reverse(e.weight));
        hits
    }

    /// Entries whose folded name starts with the folded `prefix`, best first, at most `limit`.
    pub fn prefix(&self, prefix: &str, limit: usize) -> Vec<&NameEntry> {
        let q: Vec<char> = fold(prefix).chars().collect();
        let mut hits: Vec<&NameEntry> = self
            .entries
            .iter()
            .filter(|e| e.folded.starts_with(&q))
            .collect();
        hits.sort_by_key(|e| (e.folded.len(), Reverse(e.weight)));
        hits.truncate(limit);
        hits
    }

    /// The `n` entries nearest to `query` (its first [`MAX_QUERY_CHARS`] folded characters)
    /// by edit distance, with their distances, best first (ties: larger territories first).
    pub fn closest(&self, query: &str, n: usize) -> Vec<(&NameEntry, usize)> {
        if n == 0 {
            return Vec::new();
        }
        let q: Vec<char> = fold(query).chars().take(MAX_QUERY_CHARS).collect();
        // Kept sorted by (distance, Reverse(weight)); at most n long.
        let mut best: Vec<(usize, Reverse<u64>, &NameEntry)> = Vec::with_capacity(n + 1);
        let mut row = Vec::new();
        for e in &self.entries {
            let bound = if best.len() == n {
                // `best` is full, so it has a last element.
                best.last().map_or(usize::MAX, |b| b.0)
            } else {
                usize::MAX
            };
            let whole = levenshtein_within(&q, &e.folded, bound, &mut row);
            let part = bound
                .checked_sub(PART_MATCH_PENALTY)
                .and_then(|b| part_distance_within(&q, &e.folded, b, &mut row))
                .map(|d| d + PART_MATCH_PENALTY);
            let Some(d) = whole.into_iter().chain(part).min() else {
                continue;
            };
            let key = (d, Reverse(e.weight));
            if best.len() == n && best.last().is_some_and(|b| (b.0, b.1) <= key) {
                continue;
            }
            let at = best.partition_point(|b| (b.0, b.1) <= key);
            best.insert(at, (d, Reverse(e.weight), e));
            best.truncate(n);
        }
        best.into_iter().map(|(d, _, e)| (e, d)).collect()
    }
}

/// Levenshtein distance between `a` and `b` if it is at most `bound`, else `None`.
/// `row` is a reusable buffer.
pub(crate) fn levenshtein_within(
    a: &[char],
    b: &[char],
    bound: usize,
    row: &mut Vec<usize>,
) -> Option<usize> {
    if a.len().abs_diff(b.len()) > bound {
        return None;
    }
    row.clear();
    row.extend(0..=a.len());
    for (j, cb) in b.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = j + 1;
        let mut row_min = row[0];
        for (i, ca) in a.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[i + 1];
            let value = substitution.min(row[i] + 1).min(diagonal + 1);
            row[i + 1] = value;
            row_min = row_min.min(value);
        }
        if row_min > bound {
            return None;
        }
    }
    let d = row[a.len()];
    (d <= bound).then_some(d)
}

/// Smallest Levenshtein distance between `query` and any substring of `name`, if it is
/// at most `bound`, else `None` (approximate substring matching: the match may start and
/// end anywhere in `name` for free). `row` is a reusable buffer.
pub(crate) fn part_distance_within(
    query: &[char],
    name: &[char],
    bound: usize,
    row: &mut Vec<usize>,
) -> Option<usize> {
    if query.len().saturating_sub(name.len()) > bound {
        return None;
    }
    row.clear();
    row.extend(0..=query.len());
    let mut best = row[query.len()];
    for cb in name {
        let mut diagonal = row[0];
        row[0] = 0; // the match may start at any position of the name
        for (i, ca) in query.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[i + 1];
            row[i + 1] = substitution.min(row[i] + 1).min(diagonal + 1);
        }
        best = best.min(row[query.len()]); // and end at any position
    }
    (best <= bound).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lev(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        levenshtein_within(&a, &b, usize::MAX, &mut Vec::new())
    }

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(fold("BESANÇON"), "besancon");
        assert_eq!(fold("L'Île-d'Yeu"), "l ile d yeu");
        assert_eq!(fold("  Saint--Denis "), "saint denis");
        assert_eq!(fold("Cœuvres-et-Valsery"), "coeuvres et valsery");
        assert_eq!(fold("CC Faucigny - Glières"), "cc faucigny glieres");
    }

    #[test]
    fn levenshtein_basics() {
        assert_eq!(lev("kitten", "sitting"), Some(3));
        assert_eq!(lev("", "abc"), Some(3));
        assert_eq!(lev("abc", "abc"), Some(0));
        let a: Vec<char> = "kitten".chars().collect();
        let b: Vec<char> = "sitting".chars().collect();
        assert_eq!(levenshtein_within(&a, &b, 2, &mut Vec::new()), None);
        assert_eq!(levenshtein_within(&a, &b, 3, &mut Vec::new()), Some(3));
    }

    fn part(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        part_distance_within(&a, &b, usize::MAX, &mut Vec::new())
    }

    #[test]
    fn part_distance() {
        assert_eq!(part("grand paris", "metropole du grand paris"), Some(0));
        assert_eq!(part("grand pari", "metropole du grand paris"), Some(0));
        assert_eq!(part("grnd paris", "metropole du grand paris"), Some(1));
        assert_eq!(part("abc", "xyz"), Some(3));
        assert_eq!(part("abcd", "ab"), Some(2));
        let a: Vec<char> = "abc".chars().collect();
        let b: Vec<char> = "xyz".chars().collect();
        assert_eq!(part_distance_within(&a, &b, 2, &mut Vec::new()), None);
    }

    proptest::proptest! {
        #[test]
        fn part_distance_is_at_most_whole_distance(a in "[a-e ]{0,10}", b in "[a-e ]{0,14}") {
            let whole = lev(&a, &b).unwrap_or(usize::MAX);
            let p = part(&a, &b).unwrap_or(usize::MAX);
            proptest::prop_assert!(p <= whole);
            // Contained queries match exactly.
            let contained = format!("x{a}y");
            proptest::prop_assert_eq!(part(&a, &contained), Some(0));
        }

        #[test]
        fn bounded_agrees_with_unbounded(a in "[a-e ]{0,12}", b in "[a-e ]{0,12}", bound in 0usize..14) {
            let full = lev(&a, &b).unwrap_or(usize::MAX);
            let ac: Vec<char> = a.chars().collect();
            let bc: Vec<char> = b.chars().collect();
            let got = levenshtein_within(&ac, &bc, bound, &mut Vec::new());
            proptest::prop_assert_eq!(got, (full <= bound).then_some(full));
        }

        #[test]
        fn fold_is_idempotent(s in "\\PC{0,30}") {
            let once = fold(&s);
            proptest::prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
