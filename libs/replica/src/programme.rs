//! The axes of the collectivité's programme, as stakeholders and governance
//! check the `axis_ids` that contacts and commitments are tagged with: for
//! each axis, its current name and whether it was retired, folded from the
//! engagement log (stream `programme-<nil uuid>`). The order, the officers,
//! the objectives and the missions stay in engagement: nothing here needs them.
//!
//! [`Replica::<ProgrammeAxes>::expect_axes`] is the one check: each id an
//! axis the replica has seen defined and not retired, none twice; otherwise
//! `INVALID_ARGUMENT` naming `field[i]`. An axis defined just before may not
//! have reached the replica yet: the message says so, and a caller that
//! holds the position of the definition sends
//! `maillage-after: engagement=<position>` ([`crate::after`]).

use maillage_proto::v1::{self as pb, EventEnvelope};
use maillage_service_kit::{validate, ServiceError};
use prost::{Message, Name};
use uuid::Uuid;

use crate::replica::{FoldError, Model, Overlay, Replica};

/// Most axes one command may name (as many as a programme holds).
pub const MAX_AXES: usize = 50;

/// Row prefix of an axis (rows of a model never start with 0xFF).
const AXIS: u8 = b'x';

/// One axis as the replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisEntry {
    /// Its current name.
    pub name: String,
    /// Retired: nothing new may be tagged with it.
    pub retired: bool,
}

impl AxisEntry {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![u8::from(self.retired)];
        bytes.extend_from_slice(self.name.as_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (retired, name) = bytes.split_first()?;
        Some(Self {
            name: String::from_utf8_lossy(name).into_owned(),
            retired: *retired == 1,
        })
    }
}

/// The model: the programme's axes, from the engagement log.
pub struct ProgrammeAxes;

fn key(id: &str) -> Option<Vec<u8>> {
    let id = Uuid::try_parse(id).ok()?;
    let mut key = vec![AXIS];
    key.extend_from_slice(id.as_bytes());
    Some(key)
}

fn decode<T: Message + Default>(envelope: &EventEnvelope) -> Result<T, FoldError> {
    T::decode(envelope.payload.as_slice()).map_err(|error| FoldError::undecodable(envelope, error))
}

/// Changes the stored axis `id` with `change` (an axis never defined is ignored).
fn update(
    envelope: &EventEnvelope,
    rows: &mut Overlay<'_>,
    id: &str,
    change: impl FnOnce(&mut AxisEntry),
) -> Result<(), FoldError> {
    let Some(key) = key(id) else { return Ok(()) };
    let stored = rows
        .get(&key)
        .map_err(|error| FoldError::undecodable(envelope, error))?;
    if let Some(mut axis) = stored.as_deref().and_then(AxisEntry::decode) {
        change(&mut axis);
        rows.put(key, axis.encode());
    }
    Ok(())
}

impl Model for ProgrammeAxes {
    const CONTEXT: &'static str = "engagement";

    fn fold(envelope: &EventEnvelope, rows: &mut Overlay<'_>) -> Result<(), FoldError> {
        let name = envelope
            .event_type
            .strip_prefix("maillage.v1.")
            .unwrap_or("");
        if name == pb::ProgrammeAxisDefined::NAME {
            let event: pb::ProgrammeAxisDefined = decode(envelope)?;
            if let Some(key) = key(&event.axis_id) {
                let axis = AxisEntry {
                    name: event.name,
                    retired: false,
                };
                rows.put(key, axis.encode());
            }
        } else if name == pb::ProgrammeAxisRenamed::NAME {
            let event: pb::ProgrammeAxisRenamed = decode(envelope)?;
            update(envelope, rows, &event.axis_id, |axis| {
                axis.name = event.name
            })?;
        } else if name == pb::ProgrammeAxisRetired::NAME {
            let event: pb::ProgrammeAxisRetired = decode(envelope)?;
            update(envelope, rows, &event.axis_id, |axis| axis.retired = true)?;
        }
        Ok(())
    }
}

impl Replica<ProgrammeAxes> {
    /// The axis `id`, if the replica has seen it defined.
    pub fn axis(&self, id: &Uuid) -> Result<Option<AxisEntry>, ServiceError> {
        let mut key = vec![AXIS];
        key.extend_from_slice(id.as_bytes());
        let row = self
            .row(&key)
            .map_err(|error| ServiceError::internal(format!("programme replica: {error}")))?;
        Ok(row.as_deref().and_then(AxisEntry::decode))
    }

    /// The axes named by `values` (the request's `field`): each the id of an
    /// axis defined and not retired, none twice, at most [`MAX_AXES`];
    /// `INVALID_ARGUMENT` naming `field[i]` otherwise.
    pub fn expect_axes(&self, field: &str, values: &[String]) -> Result<Vec<Uuid>, ServiceError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let ids = validate::ids(field, values, MAX_AXES, false)?;
        for (i, id) in ids.iter().enumerate() {
            let item = format!("{field}[{i}]");
            match self.axis(id)? {
                None => {
                    return Err(ServiceError::invalid_argument(
                        item,
                        format!(
                            "no axis {id} in the programme (at position {} of the engagement \
                             log; if it was just defined, send `maillage-after: \
                             engagement=<position>`)",
                            self.position()
                        ),
                    )
                    .with_french(format!(
                        "L'axe {id} n'existe pas dans le programme (s'il vient d'être \
                         défini, réessayez dans un instant)."
                    )))
                }
                Some(axis) if axis.retired => {
                    return Err(ServiceError::invalid_argument(
                        item,
                        format!("axis {id} ({}) is retired", axis.name),
                    )
                    .with_french(format!(
                        "L'axe « {} » est retiré : il ne peut plus servir.",
                        axis.name
                    )))
                }
                Some(_) => {}
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        for retired in [false, true] {
            let axis = AxisEntry {
                name: "Sensibiliser et informer".into(),
                retired,
            };
            assert_eq!(AxisEntry::decode(&axis.encode()), Some(axis));
        }
        assert_eq!(AxisEntry::decode(&[]), None);
    }
}
