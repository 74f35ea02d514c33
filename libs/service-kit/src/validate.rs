//! The one set of rules by which every command service turns request fields
//! into checked values: ids, text, enum values and instants. Each refusal is
//! an INVALID_ARGUMENT naming the field; messages say what is wrong, never
//! what was sent (a field may hold a name or an email).
//!
//! The rules, the same in every service:
//! - **id**: a UUID in its hyphenated 8-4-4-4-12 form, either case, nothing
//!   around it, not the nil UUID;
//! - **text**: surrounding whitespace is trimmed, `\r\n` becomes `\n`, then at
//!   most `max` characters and no control character but line feed and tab; a
//!   *line* allows neither; empty is "absent" for an optional text and refused
//!   for a required one;
//! - **enum value**: a value the schema knows, other than UNSPECIFIED (0);
//! - **instant**: nanos in `0..1e9`, between years 1900 and 2200.

use std::collections::HashSet;

use prost_types::Timestamp;
use uuid::Uuid;

use crate::ServiceError;

/// A checked value, or the refusal naming the field.
pub type Checked<T> = Result<T, ServiceError>;

/// INVALID_ARGUMENT on `field`: `message` in English, `french` for a person
/// (shown next to the field, so it need not name it).
fn invalid(field: &str, message: impl Into<String>, french: impl Into<String>) -> ServiceError {
    ServiceError::invalid_argument(field, message).with_french(french)
}

/// A required id.
pub fn id(field: &str, value: &str) -> Checked<Uuid> {
    if value.is_empty() {
        return Err(invalid(field, "is required", "Ce champ est obligatoire."));
    }
    match Uuid::try_parse(value) {
        Ok(id) if value.len() == 36 && !id.is_nil() => Ok(id),
        Ok(id) if id.is_nil() => Err(invalid(
            field,
            "must not be the nil UUID",
            "Cet identifiant ne peut pas être nul (00000000-…).",
        )),
        _ => Err(invalid(
            field,
            "must be a UUID (8-4-4-4-12 hexadecimal digits)",
            "Ce champ doit être un identifiant UUID (8-4-4-4-12 chiffres hexadécimaux).",
        )),
    }
}

/// An optional id (empty: none).
pub fn optional_id(field: &str, value: &str) -> Checked<Option<Uuid>> {
    if value.is_empty() {
        Ok(None)
    } else {
        id(field, value).map(Some)
    }
}

/// A list of at most `max` distinct ids, each named by its index
/// (`field[2]`); `required` asks for at least one.
pub fn ids(field: &str, values: &[String], max: usize, required: bool) -> Checked<Vec<Uuid>> {
    if required && values.is_empty() {
        return Err(invalid(
            field,
            "at least one is required",
            "Il en faut au moins un.",
        ));
    }
    if values.len() > max {
        return Err(invalid(
            field,
            format!("at most {max}"),
            format!("{max} au plus."),
        ));
    }
    let mut seen = HashSet::with_capacity(values.len());
    values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let at = format!("{field}[{i}]");
            let id = id(&at, value)?;
            if !seen.insert(id) {
                return Err(invalid(
                    &at,
                    "appears twice",
                    "Cette valeur est donnée deux fois.",
                ));
            }
            Ok(id)
        })
        .collect()
}

/// A required text of 1 to `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Checked<String> {
    let text = optional_text(field, value, max)?;
    if text.is_empty() {
        return Err(invalid(
            field,
            "must not be empty",
            "Ce champ ne doit pas être vide.",
        ));
    }
    Ok(text)
}

/// An optional text of at most `max` characters (empty: absent).
pub fn optional_text(field: &str, value: &str, max: usize) -> Checked<String> {
    let text = value.trim().replace("\r\n", "\n");
    if text.chars().count() > max {
        return Err(invalid(
            field,
            format!("must be at most {max} characters"),
            format!("{max} caractères au plus."),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(invalid(
            field,
            "must not contain control characters",
            "Ce texte contient des caractères de contrôle (invisibles) : retapez-le.",
        ));
    }
    Ok(text)
}

/// A required single line (a name, a role, a label): a required text without
/// line breaks or tabs.
pub fn required_line(field: &str, value: &str, max: usize) -> Checked<String> {
    let line = required_text(field, value, max)?;
    if line.contains(['\n', '\t']) {
        return Err(invalid(
            field,
            "must be a single line",
            "Une seule ligne, sans retour à la ligne ni tabulation.",
        ));
    }
    Ok(line)
}

/// A list of at most `max` required texts, each of at most `max_chars`
/// characters and named by its index.
pub fn texts(field: &str, values: &[String], max: usize, max_chars: usize) -> Checked<Vec<String>> {
    if values.len() > max {
        return Err(invalid(
            field,
            format!("at most {max} items"),
            format!("{max} éléments au plus."),
        ));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, value)| required_text(&format!("{field}[{i}]"), value, max_chars))
        .collect()
}

/// A required enum value: known, and not UNSPECIFIED.
pub fn enum_value<E: TryFrom<i32>>(field: &str, value: i32) -> Checked<E> {
    if value == 0 {
        return Err(invalid(field, "is required", "Ce champ est obligatoire."));
    }
    E::try_from(value).map_err(|_| {
        invalid(
            field,
            format!("unknown value {value}"),
            format!("Valeur inconnue ({value}) : choisissez-en une de la liste."),
        )
    })
}

/// A list of enum values, each known, not UNSPECIFIED and given once
/// (`field[i]` named otherwise); `required` asks for at least one.
pub fn enum_values<E: TryFrom<i32> + PartialEq>(
    field: &str,
    values: &[i32],
    required: bool,
) -> Checked<Vec<E>> {
    if required && values.is_empty() {
        return Err(invalid(
            field,
            "at least one is required",
            "Il en faut au moins un.",
        ));
    }
    let mut checked: Vec<E> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let element = format!("{field}[{i}]");
        let value = enum_value(&element, *value)?;
        if checked.contains(&value) {
            return Err(invalid(
                &element,
                "appears twice",
                "Cette valeur est donnée deux fois.",
            ));
        }
        checked.push(value);
    }
    Ok(checked)
}

/// A required instant.
pub fn instant(field: &str, value: Option<&Timestamp>) -> Checked<Timestamp> {
    optional_instant(field, value)?
        .ok_or_else(|| invalid(field, "is required", "Ce champ est obligatoire."))
}

/// An optional instant.
pub fn optional_instant(field: &str, value: Option<&Timestamp>) -> Checked<Option<Timestamp>> {
    // 1900-01-01 and 2200-01-01 in Unix seconds.
    const EARLIEST: i64 = -2_208_988_800;
    const LATEST: i64 = 7_258_118_400;
    match value {
        None => Ok(None),
        Some(at) if !(0..1_000_000_000).contains(&at.nanos) => Err(invalid(
            field,
            "nanos must be in 0..1e9",
            "Cette date est mal formée (nanosecondes hors de 0..1e9).",
        )),
        Some(at) if at.seconds < EARLIEST || at.seconds >= LATEST => Err(invalid(
            field,
            "must be between 1900 and 2200",
            "La date doit être entre 1900 et 2200.",
        )),
        Some(at) => Ok(Some(*at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn refused<T: std::fmt::Debug>(checked: Checked<T>) -> String {
        let error = checked.expect_err("refused");
        assert_eq!(error.code(), Code::InvalidArgument);
        error.to_string()
    }

    #[test]
    fn an_id_is_a_hyphenated_non_nil_uuid_in_either_case() {
        let lower = "0190a5e2-7c3b-7d4e-8f00-1234567890ab";
        assert_eq!(id("f", lower).unwrap().to_string(), lower);
        assert_eq!(
            id("f", &lower.to_uppercase()).unwrap().to_string(),
            lower,
            "normalised to lowercase"
        );
        for bad in [
            "",
            " 0190a5e2-7c3b-7d4e-8f00-1234567890ab",
            "0190a5e27c3b7d4e8f001234567890ab",
            "{0190a5e2-7c3b-7d4e-8f00-1234567890ab}",
            "urn:uuid:0190a5e2-7c3b-7d4e-8f00-1234567890ab",
            "00000000-0000-0000-0000-000000000000",
            "not-a-uuid",
        ] {
            assert!(
                refused(id("subject_id", bad)).contains("subject_id"),
                "{bad:?}"
            );
        }
        assert_eq!(optional_id("f", "").unwrap(), None);
    }

    #[test]
    fn a_list_of_ids_names_the_bad_or_repeated_one() {
        let a = "0190a5e2-7c3b-7d4e-8f00-1234567890ab".to_string();
        let b = "0190a5e2-7c3b-7d4e-8f00-1234567890ac".to_string();
        assert_eq!(
            ids("p", &[a.clone(), b.clone()], 10, true).unwrap().len(),
            2
        );
        assert!(refused(ids("p", &[a.clone(), a.clone()], 10, true)).contains("p[1]"));
        assert!(refused(ids("p", &[a.clone(), "x".into()], 10, true)).contains("p[1]"));
        assert!(refused(ids("p", &[], 10, true)).contains("at least one"));
        assert!(refused(ids("p", &[a, b], 1, false)).contains("at most 1"));
    }

    #[test]
    fn text_is_trimmed_with_line_breaks_normalised_and_no_other_control_character() {
        assert_eq!(optional_text("f", "  a\r\nb\tc \n", 10).unwrap(), "a\nb\tc");
        assert_eq!(optional_text("f", "   ", 10).unwrap(), "");
        assert!(refused(required_text("title", " \n ", 10)).contains("title"));
        assert!(refused(optional_text("f", "a\rb", 10)).contains("control"));
        assert!(refused(optional_text("f", "a\u{0}b", 10)).contains("control"));
        assert_eq!(
            optional_text("f", "éèà", 3).unwrap(),
            "éèà",
            "counts characters"
        );
        assert!(refused(optional_text("f", "abcd", 3)).contains("at most 3"));
        assert!(refused(required_line("name", "a\nb", 10)).contains("single line"));
        assert!(refused(texts("points", &["a".into(), " ".into()], 5, 10)).contains("points[1]"));
    }

    #[test]
    fn an_enum_value_is_known_and_set() {
        #[derive(Debug)]
        struct Known;
        impl TryFrom<i32> for Known {
            type Error = ();
            fn try_from(value: i32) -> Result<Self, ()> {
                (value == 1).then_some(Known).ok_or(())
            }
        }
        assert!(enum_value::<Known>("kind", 1).is_ok());
        assert!(refused(enum_value::<Known>("kind", 0)).contains("required"));
        assert!(refused(enum_value::<Known>("kind", 7)).contains("unknown value 7"));
    }

    #[test]
    fn a_list_of_enum_values_names_the_unknown_or_repeated_one() {
        use maillage_proto::v1::EngagementAudience as Audience;
        assert_eq!(
            enum_values::<Audience>("audiences", &[3, 1], true).unwrap(),
            [Audience::Businesses, Audience::Population]
        );
        assert!(enum_values::<Audience>("audiences", &[], false)
            .unwrap()
            .is_empty());
        assert!(refused(enum_values::<Audience>("audiences", &[], true)).contains("at least one"));
        assert!(
            refused(enum_values::<Audience>("audiences", &[1, 0], false)).contains("audiences[1]")
        );
        assert!(
            refused(enum_values::<Audience>("audiences", &[1, 1], false))
                .contains("audiences[1]: appears twice")
        );
        assert!(
            refused(enum_values::<Audience>("audiences", &[99], false)).contains("audiences[0]")
        );
    }

    #[test]
    fn an_instant_has_valid_nanos_and_a_plausible_year() {
        let at = |seconds, nanos| Timestamp { seconds, nanos };
        assert!(instant("at", Some(&at(1_800_000_000, 0))).is_ok());
        assert!(refused(instant("at", None)).contains("required"));
        assert!(refused(instant("at", Some(&at(0, -1)))).contains("nanos"));
        assert!(refused(instant("at", Some(&at(-3_000_000_000, 0)))).contains("1900"));
        assert!(refused(instant("at", Some(&at(8_000_000_000, 0)))).contains("2200"));
        assert_eq!(optional_instant("at", None).unwrap(), None);
    }
}
