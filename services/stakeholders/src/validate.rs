//! The register's own field checks (emails, phone numbers, SIREN, communes,
//! territories) and its limits, next to the rules every service shares for
//! ids, text, enum values and instants ([`maillage_service_kit::validate`],
//! re-exported here). Each refusal is an INVALID_ARGUMENT naming the field;
//! messages never repeat a personal value (a name, an email, a phone number):
//! they say what is wrong, not what was sent.

use maillage_proto::v1 as pb;
pub use maillage_service_kit::validate::{
    enum_value, id, instant, optional_instant, optional_text, required_line, required_text, Checked,
};
use maillage_service_kit::ServiceError;
use maillage_territory::{Territory, TerritoryError, TerritoryLevel};

/// Longest given or family name, in characters.
pub const MAX_PERSON_NAME: usize = 100;
/// Longest organisation name, in characters.
pub const MAX_ORGANISATION_NAME: usize = 200;
/// Longest postal address, in characters.
pub const MAX_ADDRESS: usize = 300;
/// Longest free-text notes about a person, in characters.
pub const MAX_PERSON_NOTES: usize = 4_000;
/// Longest interaction subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest interaction notes, in characters.
pub const MAX_INTERACTION_NOTES: usize = 10_000;
/// Longest follow-up description or correction reason, in characters.
pub const MAX_SHORT_TEXT: usize = 500;
/// Longest role, sector or erasure reason, in characters.
pub const MAX_LABEL: usize = 100;
/// Longest erasure reason, in characters.
pub const MAX_REASON: usize = 200;
/// Most participants of one interaction.
pub const MAX_PARTICIPANTS: usize = 100;
/// Most follow-ups of one interaction.
pub const MAX_FOLLOW_UPS: usize = 50;

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid_argument(field, message)
}

/// An optional email address (empty: none), lower-cased domain.
pub fn email(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let malformed = || invalid(field, "is not a valid email address");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed());
    }
    let (local, domain) = value.rsplit_once('@').ok_or_else(malformed)?;
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(malformed());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(malformed());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// An optional date of birth (empty: none): `YYYY-MM-DD` or `YYYY`, from
/// 1900 to 2100 (an élu's, as the RNE gives it).
pub fn birth_date(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let malformed = || invalid(field, "must be YYYY-MM-DD or YYYY");
    let year: u32 = value
        .get(..4)
        .filter(|year| year.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|year| year.parse().ok())
        .ok_or_else(malformed)?;
    if !(1900..=2100).contains(&year) {
        return Err(invalid(field, "the year must be from 1900 to 2100"));
    }
    if value.len() == 4 {
        return Ok(value.to_owned());
    }
    let bytes = value.as_bytes();
    if value.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(malformed());
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let text = value.get(range)?;
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())?
    };
    let (month, day) = (
        number(5..7).ok_or_else(malformed)?,
        number(8..10).ok_or_else(malformed)?,
    );
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid(field, "no such month")),
    };
    if day == 0 || day > days {
        return Err(invalid(field, "no such day in that month"));
    }
    Ok(value.to_owned())
}

/// An optional phone number (empty: none): a French number (`01 23 45 67 89`,
/// separators space, dot or dash allowed) or E.164 (`+33123456789`); returned in E.164.
pub fn phone(field: &str, value: &str) -> Checked<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let malformed = || {
        invalid(
            field,
            "is not a French (0X XX XX XX XX) or E.164 (+CCNNN…) phone number",
        )
    };
    let (international, rest) = match value.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' => {}
            _ => return Err(malformed()),
        }
    }
    if international {
        // E.164: a country code not starting with 0, at most 15 digits in all.
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(malformed());
        }
        Ok(format!("+{digits}"))
    } else {
        // French national format: 0 then a non-zero digit, 10 digits.
        let bytes = digits.as_bytes();
        if bytes.len() != 10 || bytes[0] != b'0' || bytes[1] == b'0' {
            return Err(malformed());
        }
        Ok(format!("+33{}", &digits[1..]))
    }
}

/// Whether `digits` pass the Luhn check.
// `is_multiple_of` is newer than the workspace's rust-version (1.85).
#[allow(clippy::manual_is_multiple_of)]
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

/// An optional SIREN (empty: none): 9 digits with a valid Luhn check digit
/// (spaces allowed between groups).
pub fn siren(field: &str, value: &str) -> Checked<String> {
    let compact: String = value.chars().filter(|c| *c != ' ').collect();
    if compact.is_empty() {
        return Ok(String::new());
    }
    if compact.len() != 9 || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(field, "a SIREN is 9 digits"));
    }
    if !luhn(&compact) {
        return Err(invalid(field, "the SIREN's check digit is wrong (Luhn)"));
    }
    Ok(compact)
}

/// A current commune's INSEE code, checked against COG 2026; the message says
/// whether the code is malformed or unknown.
pub fn commune(territory: &Territory, field: &str, code: &str) -> Checked<String> {
    let code = code.trim();
    if code.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    match territory.validate_commune(code) {
        Ok(commune) => Ok(commune.code.clone()),
        Err(error) => Err(territory_error(field, error)),
    }
}

fn territory_error(field: &str, error: TerritoryError) -> ServiceError {
    let message = match &error {
        TerritoryError::MalformedCode { .. } => format!("malformed code: {error}"),
        TerritoryError::UnknownCode { .. } => format!("unknown code: {error}"),
        _ => error.to_string(),
    };
    invalid(field, message).with_french(error.french())
}

/// A territory reference (level and COG code), checked against COG 2026.
pub fn territory_ref(
    territory: &Territory,
    field: &str,
    value: Option<&pb::TerritoryRef>,
) -> Checked<pb::TerritoryRef> {
    let value = value.ok_or_else(|| invalid(field, "is required"))?;
    let level = match pb::TerritoryLevel::try_from(value.level) {
        Ok(pb::TerritoryLevel::Commune) => TerritoryLevel::Commune,
        Ok(pb::TerritoryLevel::Epci) => TerritoryLevel::Epci,
        Ok(pb::TerritoryLevel::Departement) => TerritoryLevel::Departement,
        Ok(pb::TerritoryLevel::Region) => TerritoryLevel::Region,
        _ => return Err(invalid(&format!("{field}.level"), "must be set")),
    };
    let code = value.code.trim();
    territory
        .validate_code(level, code)
        .map_err(|error| territory_error(&format!("{field}.code"), error))?;
    Ok(pb::TerritoryRef {
        level: value.level,
        code: code.to_string(),
    })
}

/// The level of the authority an office belongs to.
pub fn office_level(office: pb::MandateOffice) -> pb::TerritoryLevel {
    use pb::MandateOffice as O;
    match office {
        O::Maire | O::Adjoint | O::ConseillerMunicipal | O::Unspecified => {
            pb::TerritoryLevel::Commune
        }
        O::ConseillerCommunautaire | O::PresidentEpci | O::VicePresidentEpci => {
            pb::TerritoryLevel::Epci
        }
        O::ConseillerDepartemental => pb::TerritoryLevel::Departement,
        O::ConseillerRegional => pb::TerritoryLevel::Region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: ServiceError) -> String {
        match error {
            ServiceError::InvalidArgument { field, .. } => field,
            other => panic!("not an invalid argument: {other:?}"),
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            required_line("given_name", "  Camille ", 100).unwrap(),
            "Camille"
        );
        assert_eq!(
            field_of(required_line("given_name", "   ", 100).unwrap_err()),
            "given_name"
        );
        assert!(
            required_line("n", &"é".repeat(100), 100).is_ok(),
            "characters, not bytes"
        );
        assert!(required_line("n", &"é".repeat(101), 100).is_err());
        assert!(required_line("n", "a\u{0}b", 100).is_err());
        assert!(required_line("n", "a\nb", 100).is_err());
        assert!(optional_text("notes", "line 1\nline 2", 100).is_ok());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            email("e", "Camille@Mairie.FR").unwrap(),
            "Camille@mairie.fr"
        );
        assert_eq!(email("e", "").unwrap(), "");
        for bad in [
            "camille",
            "@mairie.fr",
            "camille@",
            "camille@mairie",
            "ca mille@mairie.fr",
            "c@-x.fr",
            "c@x..fr",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_french_or_e164_and_stored_in_e164() {
        assert_eq!(phone("p", "04 68 11 22 33").unwrap(), "+33468112233");
        assert_eq!(phone("p", "06.12.34.56.78").unwrap(), "+33612345678");
        assert_eq!(phone("p", "+33 6 12 34 56 78").unwrap(), "+33612345678");
        assert_eq!(phone("p", "+4915112345678").unwrap(), "+4915112345678");
        for bad in [
            "0468",
            "00 68 11 22 33",
            "1468112233",
            "+0123456789",
            "+1234567890123456",
            "04-68-11-22-3x",
        ] {
            assert!(phone("p", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sirens_are_nine_digits_with_a_luhn_check() {
        // The SIREN of the INSEE itself.
        assert_eq!(siren("s", "120 027 016").unwrap(), "120027016");
        assert_eq!(siren("s", "").unwrap(), "");
        assert!(siren("s", "120027017").is_err(), "bad check digit");
        assert!(siren("s", "12002701").is_err());
        assert!(siren("s", "12002701a").is_err());
    }

    #[test]
    fn commune_codes_are_checked_against_the_cog() {
        let territory = Territory::shared();
        assert_eq!(
            commune(territory, "commune_code", "11069").unwrap(),
            "11069"
        );
        let malformed = commune(territory, "commune_code", "1106").unwrap_err();
        assert!(malformed.to_string().contains("malformed"), "{malformed}");
        let unknown = commune(territory, "commune_code", "99999").unwrap_err();
        assert!(unknown.to_string().contains("unknown"), "{unknown}");
        assert_eq!(field_of(unknown), "commune_code");
    }

    #[test]
    fn territory_refs_name_the_bad_part() {
        let territory = Territory::shared();
        let epci = pb::TerritoryRef {
            level: pb::TerritoryLevel::Departement as i32,
            code: "11".into(),
        };
        assert!(territory_ref(territory, "authority", Some(&epci)).is_ok());
        let no_level = pb::TerritoryRef {
            level: 0,
            code: "11".into(),
        };
        assert_eq!(
            field_of(territory_ref(territory, "authority", Some(&no_level)).unwrap_err()),
            "authority.level"
        );
        let bad_code = pb::TerritoryRef {
            level: pb::TerritoryLevel::Region as i32,
            code: "99".into(),
        };
        assert_eq!(
            field_of(territory_ref(territory, "authority", Some(&bad_code)).unwrap_err()),
            "authority.code"
        );
        assert!(territory_ref(territory, "authority", None).is_err());
    }
}
