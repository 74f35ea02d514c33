//! The blind index's tokens: how a name becomes keyed tokens, and a name
//! query the tokens it must match, so that the search index can find "Le
//! Bihan" from "lebi" without ever storing a name in clear.
//!
//! A name is folded as territory names are (`maillage_territory::fold`:
//! lowercase, French diacritics removed, hyphens, apostrophes and other
//! punctuation turned into spaces), then split into words. What is indexed:
//! for each word, the words from it to the end joined (`"boulangerie le
//! bihan"` → `"boulangerielebihan"`, `"lebihan"`, `"bihan"`) cut at
//! [`MAX_TOKEN_CHARS`], and every prefix of those from [`MIN_PREFIX`]
//! characters on; a word shorter than that is indexed whole. A token is the keyed BLAKE3 hash of that text, cut to
//! [`TOKEN_LEN`] bytes, under a key derived one-way from the master key
//! ([`BLIND_KEY_CONTEXT`]): whoever reads the database without the master
//! key learns which stakeholders share a token, not what it stands for. A
//! query word matches when its token is one of the name's: a word of at least
//! [`MIN_PREFIX`] characters finds the words it starts, a shorter one only
//! the same whole word.

use std::collections::BTreeSet;

use maillage_privacy::KeyVault;
use zeroize::Zeroizing;

/// Key-derivation context of the blind index's key.
pub const BLIND_KEY_CONTEXT: &str = "maillage 2026 search blind index key v1";
/// Shortest prefix indexed, in characters (shorter words are indexed whole).
pub const MIN_PREFIX: usize = 3;
/// Longest text a token stands for, in characters (longer words are cut).
pub const MAX_TOKEN_CHARS: usize = 16;
/// Bytes of a token.
pub const TOKEN_LEN: usize = 16;

/// One keyed token.
pub type Token = [u8; TOKEN_LEN];

/// The blind index's key. `Debug` never shows it.
#[derive(Clone)]
pub struct BlindKey {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for BlindKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindKey(..)")
    }
}

impl BlindKey {
    /// The key derived from `vault`'s master key.
    pub fn from_vault(vault: &KeyVault) -> Self {
        Self {
            key: vault.derive_key(BLIND_KEY_CONTEXT),
        }
    }

    /// Names the key without revealing it (stored with the index: an index
    /// built under another master key is rebuilt).
    pub fn check_value(&self) -> Token {
        self.hash(b"k", "key check")
    }

    fn hash(&self, domain: &[u8], text: &str) -> Token {
        self.hash_bytes(domain, text.as_bytes())
    }

    fn hash_bytes(&self, domain: &[u8], bytes: &[u8]) -> Token {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(domain);
        hasher.update(&[0]);
        hasher.update(bytes);
        let mut token = [0u8; TOKEN_LEN];
        token.copy_from_slice(&hasher.finalize().as_bytes()[..TOKEN_LEN]);
        token
    }

    fn token(&self, text: &str) -> Token {
        self.hash(b"n", text)
    }

    /// Adds the tokens of `name` (a given, family or organisation name) to `tokens`.
    pub fn add_name_tokens(&self, name: &str, tokens: &mut BTreeSet<Token>) {
        let folded = maillage_territory::fold(name);
        let words: Vec<&str> = folded.split(' ').filter(|word| !word.is_empty()).collect();
        for (start, word) in words.iter().enumerate() {
            if word.chars().count() < MIN_PREFIX {
                tokens.insert(self.token(word));
            }
            // The words from this one on, joined: its prefixes are this
            // word's and those that run into the next words.
            let run: Vec<char> = words[start..]
                .concat()
                .chars()
                .take(MAX_TOKEN_CHARS)
                .collect();
            for end in MIN_PREFIX..=run.len() {
                tokens.insert(self.token(&run[..end].iter().collect::<String>()));
            }
        }
    }

    /// The dedupe token of `value` (an import's fingerprint, an email, an
    /// identity, a SIREN: see [`Dedupe`]); each kind has its own hash domain,
    /// so no name query can ever produce one.
    pub fn dedupe_token(&self, kind: Dedupe, value: &[u8]) -> Token {
        self.hash_bytes(kind.domain(), value)
    }

    /// The token each word of a query must match (`words` from [`query_words`]).
    pub fn query_tokens(&self, words: &[String]) -> Vec<Token> {
        words.iter().map(|word| self.token(word)).collect()
    }
}

/// What a dedupe token stands for (docs/import.md, "Dedupe").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedupe {
    /// An imported row's fingerprint (the row's canonical encoding).
    Fingerprint,
    /// A person's email, as validated (domain lower-cased), lower-cased.
    Email,
    /// A person's folded family and given names, commune and birth year.
    Identity,
    /// An organisation's SIREN (not personal data; keyed all the same).
    Siren,
}

impl Dedupe {
    fn domain(self) -> &'static [u8] {
        match self {
            Dedupe::Fingerprint => b"import-fingerprint",
            Dedupe::Email => b"dedupe-email",
            Dedupe::Identity => b"dedupe-identity",
            Dedupe::Siren => b"dedupe-siren",
        }
    }
}

/// The identity a person is deduplicated by: folded family and given names
/// (spaces, hyphens and apostrophes dropped), commune and birth year; `None`
/// without a birth year (`birth_date` starts `YYYY`).
pub fn identity(given: &str, family: &str, commune: &str, birth_date: &str) -> Option<String> {
    let year = birth_date
        .get(..4)
        .filter(|year| year.bytes().all(|b| b.is_ascii_digit()))?;
    let squeeze = |name: &str| maillage_territory::fold(name).replace(' ', "");
    let (given, family) = (squeeze(given), squeeze(family));
    if given.is_empty() && family.is_empty() {
        return None;
    }
    Some(format!("{family}|{given}|{commune}|{year}"))
}

/// The words of a name query, folded as names are and cut at
/// [`MAX_TOKEN_CHARS`], without repeats.
pub fn query_words(query: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in maillage_territory::fold(query).split(' ') {
        let word: String = word.chars().take(MAX_TOKEN_CHARS).collect();
        if !word.is_empty() && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BlindKey {
        BlindKey {
            key: Zeroizing::new([7; 32]),
        }
    }

    fn tokens(name: &str) -> BTreeSet<Token> {
        let mut tokens = BTreeSet::new();
        key().add_name_tokens(name, &mut tokens);
        tokens
    }

    fn finds(query: &str, name: &str) -> bool {
        let indexed = tokens(name);
        let wanted = key().query_tokens(&query_words(query));
        !wanted.is_empty() && wanted.iter().all(|token| indexed.contains(token))
    }

    #[test]
    fn prefixes_accents_case_and_hyphens_are_folded() {
        assert!(finds("lebi", "Le Bihan"));
        assert!(finds("lebi", "Boulangerie Le Bihan"));
        assert!(finds("boulangerie le", "Boulangerie Le Bihan"));
        assert!(finds("bihan", "Le Bihan"));
        assert!(finds("le bihan", "Le Bihan"));
        assert!(finds("LE-BIH", "Le Bihan"));
        assert!(finds("eloise", "Éloïse"));
        assert!(finds("Élo", "eloise"));
        assert!(finds("jean pierre", "Jean-Pierre"));
        assert!(finds("jeanpi", "Jean-Pierre"));
        assert!(finds("oeu", "Œuvre"));
        assert!(finds("d arc", "d'Arc"));
    }

    #[test]
    fn what_does_not_match() {
        assert!(!finds("bihane", "Le Bihan"));
        assert!(!finds("ihan", "Le Bihan"), "not a prefix");
        assert!(!finds("bi", "Le Bihan"), "two letters: whole words only");
        assert!(finds("le", "Le Bihan"), "a whole short word");
        assert!(!finds("lebi martin", "Le Bihan"), "every word must match");
        assert!(!finds("", "Le Bihan"));
        assert!(!finds("-- '", "Le Bihan"));
    }

    #[test]
    fn identities_fold_names_and_keep_the_year() {
        assert_eq!(
            identity("Éloïse", "Le Bihan", "22113", "1961-04-02"),
            identity("ELOISE", "LE-BIHAN", "22113", "1961"),
        );
        assert_ne!(
            identity("Eloise", "Le Bihan", "22113", "1961"),
            identity("Eloise", "Le Bihan", "22113", "1962"),
        );
        assert_eq!(identity("Eloise", "Le Bihan", "22113", ""), None);
        let key = key();
        assert_ne!(
            key.dedupe_token(Dedupe::Email, b"a@b.fr"),
            key.dedupe_token(Dedupe::Siren, b"a@b.fr"),
        );
        assert!(!tokens("a@b.fr").contains(&key.dedupe_token(Dedupe::Email, b"a@b.fr")));
    }

    #[test]
    fn long_words_are_cut_and_still_found() {
        let name = "Montgolfier-Duchâteaubriand";
        assert!(finds("duchateaubriand", name));
        assert!(finds("montgolfierduchateau", name), "cut at 16 characters");
    }

    #[test]
    fn tokens_depend_on_the_key_and_say_nothing_of_the_name() {
        let other = BlindKey {
            key: Zeroizing::new([8; 32]),
        };
        let martin = query_words("martin");
        assert_ne!(key().query_tokens(&martin), other.query_tokens(&martin));
        assert_ne!(key().check_value(), other.check_value());
        assert!(!tokens("Martin")
            .iter()
            .any(|token| token.windows(3).any(|w| w == b"mar")));
        // "martin": mar, mart, marti, martin.
        assert_eq!(tokens("Martin").len(), 4);
    }
}
