//! How a contact list's bytes become CSV records: the encoding (a UTF-8 BOM
//! is dropped; text that is not valid UTF-8 is read as Windows-1252, which
//! spreadsheets on Windows still write), the delimiter (`;`, `,` or a tab,
//! sniffed from the header line outside quotes), and the header names folded
//! (case, accents, apostrophes and punctuation) so that "Nom de l'élu",
//! "NOM DE L'ELU" and "nom_de_l_elu" are the same column.

use std::collections::HashMap;

/// Which encoding the file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (with or without a BOM).
    Utf8,
    /// Windows-1252 (what was not valid UTF-8).
    Windows1252,
}

impl Encoding {
    /// Its name, as the CLI prints it.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// The file's text, and the encoding it was read in.
pub fn decode(bytes: &[u8]) -> (String, Encoding) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), Encoding::Utf8),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            (text.into_owned(), Encoding::Windows1252)
        }
    }
}

/// The delimiter of `text`: whichever of `;`, `,` and tab its first line holds
/// most of outside quotes (`;` on a tie, as French files use it).
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for byte in text.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b';' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    [b';', b',', b'\t'][best]
}

/// A header name folded for comparison: lowercase, no accents, no spaces,
/// apostrophes, underscores, dots or other punctuation.
pub fn fold_header(name: &str) -> String {
    maillage_territory::fold(name)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// The columns of a file, by folded name.
#[derive(Debug, Clone)]
pub struct Header {
    /// The names as the file spells them.
    pub names: Vec<String>,
    by_folded: HashMap<String, usize>,
}

impl Header {
    /// The header of `record`.
    pub fn new(record: &csv::StringRecord) -> Self {
        let names: Vec<String> = record.iter().map(|name| name.trim().to_owned()).collect();
        let mut by_folded = HashMap::new();
        for (index, name) in names.iter().enumerate() {
            by_folded.entry(fold_header(name)).or_insert(index);
        }
        Self { names, by_folded }
    }

    /// The index of the first column named any of `names` (compared folded).
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|name| self.by_folded.get(&fold_header(name)).copied())
    }

    /// Whether the file has a column named any of `names`.
    pub fn has(&self, names: &[&str]) -> bool {
        self.find(names).is_some()
    }
}

/// A CSV reader over `text` with `delimiter`: quoted fields, rows of any
/// length (checked by the formats), the first record the header.
pub fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1252_and_bom_are_read() {
        let (text, encoding) = decode(b"\xEF\xBB\xBFNom de l'\xC3\xA9lu");
        assert_eq!((text.as_str(), encoding), ("Nom de l'élu", Encoding::Utf8));
        let (text, encoding) = decode(b"Nom de l'\xE9lu;Pr\xE9nom");
        assert_eq!(
            (text.as_str(), encoding),
            ("Nom de l'élu;Prénom", Encoding::Windows1252)
        );
    }

    #[test]
    fn delimiters_are_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("a;b;c\n1,2;3"), b';');
        assert_eq!(sniff_delimiter("a,b,c\n"), b',');
        assert_eq!(sniff_delimiter("\"a;b\",c\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter("a\n"), b';');
    }

    #[test]
    fn headers_fold() {
        assert_eq!(fold_header("Nom de l'élu"), "nomdelelu");
        assert_eq!(fold_header("nom_de_l_elu"), "nomdelelu");
        assert_eq!(fold_header(" N° SIREN "), "nsiren");
    }
}
