//! Territory levels and typed references (`commune:01001`, `epci:200069193`,
//! `departement:11`, `region:11`), with the syntactic checks of each level's codes.
//!
//! A bare code does not say its level: `"11"` is both the Aude département and the
//! Île-de-France région. A [`TerritoryRef`] therefore always carries its level, and
//! its textual form always names it; see [`crate::Territory::resolve`] for bare codes.

use std::fmt;
use std::str::FromStr;

use crate::error::TerritoryError;

/// The administrative levels the reference knows, from the smallest to the largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TerritoryLevel {
    /// A current commune (INSEE code).
    Commune,
    /// An EPCI à fiscalité propre (SIREN).
    Epci,
    /// A département (INSEE code).
    Departement,
    /// A région (INSEE code).
    Region,
}

impl TerritoryLevel {
    /// Every level, from the smallest to the largest.
    pub const ALL: [TerritoryLevel; 4] = [
        TerritoryLevel::Commune,
        TerritoryLevel::Epci,
        TerritoryLevel::Departement,
        TerritoryLevel::Region,
    ];

    /// The canonical lowercase ASCII name used in the textual form: `commune`, `epci`,
    /// `departement`, `region`.
    pub fn as_str(self) -> &'static str {
        match self {
            TerritoryLevel::Commune => "commune",
            TerritoryLevel::Epci => "epci",
            TerritoryLevel::Departement => "departement",
            TerritoryLevel::Region => "region",
        }
    }

    /// What a well-formed code of this level looks like, for error messages.
    pub fn code_format(self) -> &'static str {
        match self {
            TerritoryLevel::Commune => "5 characters: 5 digits, or 2A/2B and 3 digits",
            TerritoryLevel::Epci => "a SIREN: 9 digits with a valid Luhn check digit",
            TerritoryLevel::Departement => "2 digits, 2A, 2B, or 3 digits starting with 97 or 98",
            TerritoryLevel::Region => "2 digits, or 3 digits starting with 97 or 98",
        }
    }

    /// Whether `code` has the shape of a code of this level (it may still be unknown).
    pub fn is_well_formed(self, code: &str) -> bool {
        let b = code.as_bytes();
        let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        let overseas =
            |s: &[u8]| s.len() == 3 && digits(s) && s[0] == b'9' && matches!(s[1], b'7' | b'8');
        match self {
            TerritoryLevel::Commune => {
                b.len() == 5
                    && (digits(b)
                        || (b[0] == b'2' && matches!(b[1], b'A' | b'B') && digits(&b[2..])))
            }
            TerritoryLevel::Epci => b.len() == 9 && digits(b) && luhn_valid(b),
            TerritoryLevel::Departement => {
                (b.len() == 2 && (digits(b) || (b[0] == b'2' && matches!(b[1], b'A' | b'B'))))
                    || overseas(b)
            }
            TerritoryLevel::Region => (b.len() == 2 && digits(b)) || overseas(b),
        }
    }
}

/// Luhn checksum of a string of ASCII digits (SIREN numbers satisfy it).
fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl fmt::Display for TerritoryLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TerritoryLevel {
    type Err = TerritoryError;

    /// Accepts the canonical names case-insensitively, and the accented French spellings
    /// `département` and `région`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_lowercase().as_str() {
            "commune" => Ok(TerritoryLevel::Commune),
            "epci" => Ok(TerritoryLevel::Epci),
            "departement" | "département" => Ok(TerritoryLevel::Departement),
            "region" | "région" => Ok(TerritoryLevel::Region),
            _ => Err(TerritoryError::UnknownLevel {
                level: s.to_string(),
            }),
        }
    }
}

/// A reference to one territory: a level and a well-formed code of that level.
///
/// Construction checks the code's shape, not its existence: use
/// [`crate::Territory::validate`] for that. The textual form is `level:code`
/// (e.g. `departement:2A`); parsing requires the level, so a bare `"11"` is an error
/// rather than a guess between the Aude département and the Île-de-France région.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TerritoryRef {
    level: TerritoryLevel,
    code: String,
}

impl TerritoryRef {
    /// A reference to the territory of `level` with `code`; fails with
    /// [`TerritoryError::MalformedCode`] if the code does not have that level's shape.
    pub fn new(level: TerritoryLevel, code: impl Into<String>) -> Result<Self, TerritoryError> {
        let code = code.into();
        if level.is_well_formed(&code) {
            Ok(TerritoryRef { level, code })
        } else {
            Err(TerritoryError::MalformedCode { level, code })
        }
    }

    /// Builds a reference from data known to be well formed (the embedded file).
    pub(crate) fn trusted(level: TerritoryLevel, code: &str) -> Self {
        debug_assert!(level.is_well_formed(code), "{level}:{code}");
        TerritoryRef {
            level,
            code: code.to_string(),
        }
    }

    /// A commune reference (`commune:<INSEE code>`).
    pub fn commune(code: impl Into<String>) -> Result<Self, TerritoryError> {
        TerritoryRef::new(TerritoryLevel::Commune, code)
    }

    /// An EPCI reference (`epci:<SIREN>`).
    pub fn epci(siren: impl Into<String>) -> Result<Self, TerritoryError> {
        TerritoryRef::new(TerritoryLevel::Epci, siren)
    }

    /// A département reference (`departement:<code>`).
    pub fn departement(code: impl Into<String>) -> Result<Self, TerritoryError> {
        TerritoryRef::new(TerritoryLevel::Departement, code)
    }

    /// A région reference (`region:<code>`).
    pub fn region(code: impl Into<String>) -> Result<Self, TerritoryError> {
        TerritoryRef::new(TerritoryLevel::Region, code)
    }

    /// Its level.
    pub fn level(&self) -> TerritoryLevel {
        self.level
    }

    /// Its code (INSEE code, or SIREN for an EPCI).
    pub fn code(&self) -> &str {
        &self.code
    }
}

impl fmt::Display for TerritoryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.code)
    }
}

impl FromStr for TerritoryRef {
    type Err = TerritoryError;

    /// Parses `level:code`. A bare code fails with [`TerritoryError::MissingLevel`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((level, code)) = s.split_once(':') else {
            return Err(TerritoryError::MissingLevel {
                input: s.to_string(),
            });
        };
        TerritoryRef::new(level.trim().parse()?, code.trim())
    }
}
