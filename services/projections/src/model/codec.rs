//! The encodings of a read-model row: the compact binary form (bincode,
//! variable-length integers) that packed tables hold in memory and snapshots
//! hold on disk, and the stored form of a row in the sled read-model
//! database: [`BINARY_TAG`] then the binary form. Rows stored before (JSON,
//! whose first byte is never [`BINARY_TAG`]) are still read, so a database
//! written by an older version loads without a rebuild; every row written
//! from now on is binary.

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The first byte of a stored row in the binary form (a JSON row starts
/// with `{`, a digit, a quote, `t`, `f`, `n` or `[`).
pub const BINARY_TAG: u8 = 0;

/// Why a stored row cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// A binary row does not decode.
    #[error("malformed binary read-model row: {0}")]
    Binary(#[from] bincode::Error),
    /// A JSON row (stored before the binary form) does not decode.
    #[error("malformed read-model row: {0}")]
    Json(#[from] serde_json::Error),
}

/// The options of the binary form.
fn options() -> impl Options {
    bincode::DefaultOptions::new()
}

/// The options of the binary form when only its first fields are read.
fn prefix_options() -> impl Options {
    options().allow_trailing_bytes()
}

/// The binary form of `row`. The error type is the one the rewrite sinks
/// take ([`crate::model::ReadModel::write_rows`]); serialising a row cannot
/// fail in practice (plain structs, maps and sequences of known length).
pub fn to_binary<V: Serialize>(row: &V) -> Result<Vec<u8>, serde_json::Error> {
    options()
        .serialize(row)
        .map_err(<serde_json::Error as serde::ser::Error>::custom)
}

/// The row `bytes` hold in the binary form.
pub fn from_binary<V: DeserializeOwned>(bytes: &[u8]) -> Result<V, bincode::Error> {
    options().deserialize(bytes)
}

/// The first fields of the row `bytes` hold in the binary form, as the
/// struct `H` (whose fields are the row's first ones, in order), borrowing
/// its strings from `bytes`.
pub fn prefix_from_binary<'a, H: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<H, bincode::Error> {
    prefix_options().deserialize(bytes)
}

/// The stored form of a row whose binary form is `binary`.
pub fn stored_from_binary(binary: &[u8]) -> Vec<u8> {
    let mut stored = Vec::with_capacity(1 + binary.len());
    stored.push(BINARY_TAG);
    stored.extend_from_slice(binary);
    stored
}

/// The stored form of `row`.
pub fn to_stored<V: Serialize>(row: &V) -> Result<Vec<u8>, serde_json::Error> {
    let mut stored = vec![BINARY_TAG];
    options()
        .serialize_into(&mut stored, row)
        .map_err(<serde_json::Error as serde::ser::Error>::custom)?;
    Ok(stored)
}

/// The row a stored value holds: binary, or JSON as stored before.
pub fn from_stored<V: DeserializeOwned>(value: &[u8]) -> Result<V, RowError> {
    match value.split_first() {
        Some((&BINARY_TAG, binary)) => Ok(from_binary(binary)?),
        _ => Ok(serde_json::from_slice(value)?),
    }
}

/// The binary form of the row a stored value holds (a copy of a binary
/// row's bytes; a JSON row decoded and encoded again).
pub fn binary_from_stored<V: Serialize + DeserializeOwned>(
    value: &[u8],
) -> Result<Vec<u8>, RowError> {
    match value.split_first() {
        Some((&BINARY_TAG, binary)) => Ok(binary.to_vec()),
        _ => {
            let row: V = serde_json::from_slice(value)?;
            Ok(options().serialize(&row)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FollowUpRow, InteractionRow};

    fn row() -> InteractionRow {
        let mut row = InteractionRow {
            participants: vec![("s1".into(), 1), ("s2".into(), 2)],
            occurred_at: Some(-5),
            logged_by: "agent".into(),
            logged: true,
            ..InteractionRow::default()
        };
        row.follow_up_rows.insert(
            "f1".into(),
            FollowUpRow {
                owner: "o".into(),
                due_at: Some(7),
                completed: true,
            },
        );
        row
    }

    #[test]
    fn a_row_reads_back_from_its_binary_and_its_json_stored_forms() {
        let row = row();
        let binary = to_stored(&row).unwrap();
        assert_eq!(binary[0], BINARY_TAG);
        assert_eq!(from_stored::<InteractionRow>(&binary).unwrap(), row);
        let json = serde_json::to_vec(&row).unwrap();
        assert_eq!(from_stored::<InteractionRow>(&json).unwrap(), row);
        assert_eq!(
            binary_from_stored::<InteractionRow>(&json).unwrap(),
            binary_from_stored::<InteractionRow>(&binary).unwrap()
        );
        assert_eq!(
            stored_from_binary(&to_binary(&row).unwrap()),
            to_stored(&row).unwrap()
        );
        assert!(from_stored::<InteractionRow>(&[BINARY_TAG, 0xff]).is_err());
        assert!(from_stored::<InteractionRow>(b"{").is_err());
    }
}
