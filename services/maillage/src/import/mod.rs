//! Contact lists read into rows for the stakeholders service's
//! `ImportStakeholders` (docs/import.md): the file decoded and split
//! ([`text`]), its format detected from its header, and each line turned into
//! a structured row by its format — [`maillage`] (the documented Maillage
//! CSV), [`rne`] (Répertoire national des élus) or [`sirene`] (SIRENE
//! establishments). What the client can check (dates, codes known to the COG,
//! required columns) is reported here per line, in French, with the column
//! and the value; the server decides the rest row by row.
//!
//! `maillage import stakeholders` (`crate::cli::import`) sends the rows; the
//! demo and the import benchmark use the same parser.

pub mod maillage;
pub mod rne;
pub mod sirene;
pub mod text;

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef};

use text::{Encoding, Header};

/// The formats a file may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Detected from the header.
    Auto,
    /// The Maillage CSV format (docs/import.md).
    Maillage,
    /// A file of the Répertoire national des élus.
    Rne,
    /// A SIRENE establishment list.
    Sirene,
}

impl Format {
    /// The source recorded with each imported stakeholder.
    pub fn source(self) -> pb::ImportSource {
        match self {
            Format::Rne => pb::ImportSource::Rne,
            Format::Sirene => pb::ImportSource::Sirene,
            Format::Maillage | Format::Auto => pb::ImportSource::Maillage,
        }
    }

    /// Its name in French.
    pub fn label(self) -> &'static str {
        match self {
            Format::Auto => "automatique",
            Format::Maillage => "Maillage (CSV)",
            Format::Rne => "Répertoire national des élus",
            Format::Sirene => "SIRENE (établissements)",
        }
    }

    /// The format a header says, if any.
    pub fn detect(header: &Header) -> Option<Format> {
        if header.has(&["siret", "codeCommuneEtablissement"]) {
            Some(Format::Sirene)
        } else if header.has(&["Nom de l'élu"]) && header.has(&["Prénom de l'élu"]) {
            Some(Format::Rne)
        } else if header.has(&["type"]) && header.has(&["nom"]) {
            Some(Format::Maillage)
        } else {
            None
        }
    }
}

/// A problem with one line, in French: where (line, column), the value and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line in the file (1: the header).
    pub line: u64,
    /// The column, as the file names it (empty: the whole line).
    pub column: String,
    /// The value found.
    pub value: String,
    /// Why it is refused.
    pub reason: String,
}

/// Where a row's field came from: the row's field path (as the server names
/// it) → the column and its value, to explain the server's refusals.
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<(String, String, String)>);

impl Origins {
    /// Notes that `field` came from `column`, valued `value`.
    pub fn note(&mut self, field: &str, column: &str, value: &str) {
        self.0
            .push((field.to_owned(), column.to_owned(), value.to_owned()));
    }

    /// The column and value behind the server's `field` (the longest noted
    /// prefix of it), if known.
    pub fn of(&self, field: &str) -> Option<(&str, &str)> {
        self.0
            .iter()
            .filter(|(noted, _, _)| field.starts_with(noted.as_str()))
            .max_by_key(|(noted, _, _)| noted.len())
            .map(|(_, column, value)| (column.as_str(), value.as_str()))
    }
}

/// A line turned into a row.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    /// The row to send (its `line` set).
    pub row: pb::ImportRow,
    /// Where its fields came from.
    pub origins: Origins,
}

/// What a file holds.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Option<Format>,
    /// The encoding it was read in.
    pub encoding: Option<Encoding>,
    /// Its delimiter.
    pub delimiter: u8,
    /// Lines read (the header excluded).
    pub lines: u64,
    /// The rows to send.
    pub rows: Vec<ParsedRow>,
    /// Lines refused here, never sent.
    pub errors: Vec<LineError>,
    /// Lines left out on purpose (outside the territory, a closed
    /// establishment), with why.
    pub left_out: Vec<(u64, String)>,
}

/// What reads one line of a format into [`Parsed`].
type LineReader<'a> = dyn FnMut(u64, &csv::StringRecord, &mut Parsed) + 'a;

/// Reads `bytes` as `format` (detected when [`Format::Auto`]), keeping, when
/// `territory` is given, only the lines of communes in it (RNE and SIRENE).
pub fn parse(
    bytes: &[u8],
    format: Format,
    territory: Option<&TerritoryRef>,
) -> anyhow::Result<Parsed> {
    let (text, encoding) = text::decode(bytes);
    let delimiter = text::sniff_delimiter(&text);
    let mut reader = text::reader(&text, delimiter);
    let header = Header::new(
        reader
            .headers()
            .map_err(|error| anyhow::anyhow!("en-tête illisible : {error}"))?,
    );
    let format = match format {
        Format::Auto => Format::detect(&header).ok_or_else(|| {
            anyhow::anyhow!(
                "format non reconnu d'après l'en-tête ({}) : précisez --format maillage, rne ou sirene",
                header.names.join(", ")
            )
        })?,
        given => given,
    };
    let mut parsed = Parsed {
        format: Some(format),
        encoding: Some(encoding),
        delimiter,
        ..Parsed::default()
    };
    let mut line_reader: Box<LineReader<'_>> = match format {
        Format::Rne => {
            let columns = rne::Columns::new(&header)?;
            Box::new(move |line, record, parsed| columns.read(line, record, territory, parsed))
        }
        Format::Sirene => {
            let columns = sirene::Columns::new(&header)?;
            Box::new(move |line, record, parsed| columns.read(line, record, territory, parsed))
        }
        Format::Maillage | Format::Auto => {
            let columns = maillage::Columns::new(&header)?;
            Box::new(move |line, record, parsed| columns.read(line, record, parsed))
        }
    };
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|field| field.trim().is_empty()) {
                    continue;
                }
                parsed.lines += 1;
                let line = record.position().map_or(line, |at| at.line());
                line_reader(line, &record, &mut parsed);
            }
            Err(error) => {
                parsed.lines += 1;
                let line = error.position().map_or(line, |at| at.line());
                parsed.errors.push(LineError {
                    line,
                    column: String::new(),
                    value: String::new(),
                    reason: format!("ligne CSV illisible : {error}"),
                });
            }
        }
    }
    Ok(parsed)
}

/// One line's fields by column, and the errors found reading them.
pub struct Line<'a> {
    /// Its number.
    pub line: u64,
    record: &'a csv::StringRecord,
    header: &'a Header,
    /// What was refused.
    pub errors: Vec<LineError>,
}

impl<'a> Line<'a> {
    /// Line `line`, `record`, under `header`.
    pub fn new(line: u64, record: &'a csv::StringRecord, header: &'a Header) -> Self {
        Self {
            line,
            record,
            header,
            errors: Vec::new(),
        }
    }

    /// The trimmed value of column `index` (empty when absent).
    pub fn get(&self, index: Option<usize>) -> &'a str {
        index
            .and_then(|index| self.record.get(index))
            .map_or("", str::trim)
    }

    /// The column's name as the file spells it.
    pub fn column(&self, index: Option<usize>) -> String {
        index
            .and_then(|index| self.header.names.get(index).cloned())
            .unwrap_or_default()
    }

    /// Notes that column `index`, valued `value`, is refused because `reason`.
    pub fn refuse(&mut self, index: Option<usize>, value: &str, reason: impl Into<String>) {
        self.errors.push(LineError {
            line: self.line,
            column: self.column(index),
            value: value.to_owned(),
            reason: reason.into(),
        });
    }

    /// A required value of column `index` (refused when empty).
    pub fn required(&mut self, index: Option<usize>, what: &str) -> &'a str {
        let value = self.get(index);
        if value.is_empty() {
            self.refuse(index, value, format!("{what} manquant(e)"));
        }
        value
    }

    /// A date of column `index` (`AAAA-MM-JJ` or `JJ/MM/AAAA`) as `AAAA-MM-JJ`;
    /// `None` when empty, or refused.
    pub fn date(&mut self, index: Option<usize>) -> Option<String> {
        let value = self.get(index);
        if value.is_empty() {
            return None;
        }
        match iso_date(value) {
            Some(date) => Some(date),
            None => {
                self.refuse(
                    index,
                    value,
                    "date illisible (attendu AAAA-MM-JJ ou JJ/MM/AAAA)",
                );
                None
            }
        }
    }

    /// A commune code of column `index`, checked against the COG 2026.
    pub fn commune(&mut self, index: Option<usize>) -> Option<String> {
        let value = self.required(index, "code commune");
        if value.is_empty() {
            return None;
        }
        let code = commune_code(value, "");
        if code.is_none() {
            self.refuse(index, value, "commune inconnue du COG 2026");
        }
        code
    }
}

/// The COG 2026 code of commune `value`: a full INSEE code, one whose
/// leading zero a spreadsheet dropped (`1001`), or a code of up to 3 digits
/// within `departement` (older RNE files); `None` when unknown.
pub fn commune_code(value: &str, departement: &str) -> Option<String> {
    let value = value.trim();
    let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    let code = if digits && value.len() <= 3 && !departement.is_empty() {
        format!("{departement:0>2}{value:0>3}")
    } else if digits && value.len() == 4 {
        format!("0{value}")
    } else {
        value.to_uppercase()
    };
    Territory::shared()
        .validate_commune(&code)
        .ok()
        .map(|commune| commune.code.clone())
}

/// `AAAA-MM-JJ` or `JJ/MM/AAAA` (a time after a space or `T` ignored) as
/// `AAAA-MM-JJ`, if it is a real date.
pub fn iso_date(value: &str) -> Option<String> {
    let value = value.split([' ', 'T']).next()?.trim();
    let (year, month, day) = if let Some((d, rest)) = value.split_once('/') {
        let (m, y) = rest.split_once('/')?;
        (y, m, d)
    } else {
        let mut parts = value.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    let number = |text: &str, digits: std::ops::RangeInclusive<usize>| -> Option<u32> {
        (digits.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())?
    };
    let date = jiff::civil::Date::new(
        i16::try_from(number(year, 4..=4)?).ok()?,
        i8::try_from(number(month, 1..=2)?).ok()?,
        i8::try_from(number(day, 1..=2)?).ok()?,
    )
    .ok()?;
    Some(date.to_string())
}

/// Midnight UTC of an `AAAA-MM-JJ` date.
pub fn timestamp(date: &str) -> Option<prost_types::Timestamp> {
    let midnight = date
        .parse::<jiff::civil::Date>()
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp();
    Some(prost_types::Timestamp {
        seconds: midnight.as_second(),
        nanos: 0,
    })
}

/// Whether `commune` lies in `territory` (always, without a territory).
pub fn in_territory(territory: Option<&TerritoryRef>, commune: &str) -> bool {
    territory.is_none_or(|territory| Territory::shared().contains(territory, commune))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_both_forms() {
        assert_eq!(iso_date("2026-03-22").as_deref(), Some("2026-03-22"));
        assert_eq!(iso_date("22/03/2026").as_deref(), Some("2026-03-22"));
        assert_eq!(iso_date("1/3/2026").as_deref(), Some("2026-03-01"));
        assert_eq!(
            iso_date("2026-03-22T00:00:00").as_deref(),
            Some("2026-03-22")
        );
        assert_eq!(iso_date("2026-02-30"), None);
        assert_eq!(iso_date("22.03.2026"), None);
        assert_eq!(
            timestamp("2026-03-22").map(|ts| ts.seconds),
            Some(1_774_137_600)
        );
        assert_eq!(timestamp("1970-01-01").map(|ts| ts.seconds), Some(0));
    }
}
