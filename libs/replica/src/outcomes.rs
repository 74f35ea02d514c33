//! The outcomes of held actions, as governance checks a commitment "from a
//! roundtable outcome": for each outcome id, the action it came from and that
//! action's kind, folded from the engagement log. Engagement records outcomes
//! only for held actions, so an outcome the replica knows is one of a held
//! action.

use maillage_proto::v1::{self as pb, ActionKind, EventEnvelope};
use maillage_service_kit::ServiceError;
use prost::{Message, Name};
use uuid::Uuid;

use crate::replica::{FoldError, Model, Overlay, Replica};

/// Row prefix of an action's kind.
const ACTION: u8 = b'a';
/// Row prefix of an outcome.
const OUTCOME: u8 = b'o';

/// An outcome as the replica knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The action it came out of.
    pub action_id: Uuid,
    /// That action's kind.
    pub kind: ActionKind,
}

/// The model: engagement's actions' kinds and their outcomes.
pub struct RoundtableOutcomes;

fn row_key(prefix: u8, id: &str) -> Option<Vec<u8>> {
    let id = Uuid::try_parse(id).ok()?;
    let mut key = vec![prefix];
    key.extend_from_slice(id.as_bytes());
    Some(key)
}

fn decode<T: Message + Default>(envelope: &EventEnvelope) -> Result<T, FoldError> {
    T::decode(envelope.payload.as_slice()).map_err(|error| FoldError::undecodable(envelope, error))
}

impl Model for RoundtableOutcomes {
    const CONTEXT: &'static str = "engagement";

    fn fold(envelope: &EventEnvelope, rows: &mut Overlay<'_>) -> Result<(), FoldError> {
        let name = envelope
            .event_type
            .strip_prefix("maillage.v1.")
            .unwrap_or("");
        if name == pb::ActionPlanned::NAME {
            let event: pb::ActionPlanned = decode(envelope)?;
            if let Some(key) = row_key(ACTION, &event.action_id) {
                rows.put(key, event.kind.to_be_bytes().to_vec());
            }
        } else if name == pb::ActionOutcomesRecorded::NAME {
            let event: pb::ActionOutcomesRecorded = decode(envelope)?;
            let (Some(action_key), Ok(action_id)) = (
                row_key(ACTION, &event.action_id),
                Uuid::try_parse(&event.action_id),
            ) else {
                return Ok(());
            };
            let kind = rows
                .get(&action_key)
                .map_err(|error| FoldError::undecodable(envelope, error))?
                .unwrap_or_default();
            for outcome in &event.outcomes {
                if let Some(key) = row_key(OUTCOME, &outcome.outcome_id) {
                    let mut value = action_id.as_bytes().to_vec();
                    value.extend_from_slice(&kind);
                    rows.put(key, value);
                }
            }
        }
        Ok(())
    }
}

impl Replica<RoundtableOutcomes> {
    /// The outcome `id`, if the replica has seen it recorded.
    pub fn get(&self, id: &Uuid) -> Result<Option<Outcome>, ServiceError> {
        let mut key = vec![OUTCOME];
        key.extend_from_slice(id.as_bytes());
        let row = self
            .row(&key)
            .map_err(|error| ServiceError::internal(format!("outcomes replica: {error}")))?;
        Ok(row.and_then(|row| {
            let (action, kind) = row.split_at_checked(16)?;
            let action_id = Uuid::from_slice(action).ok()?;
            let kind = i32::from_be_bytes(kind.try_into().ok()?);
            Some(Outcome {
                action_id,
                kind: ActionKind::try_from(kind).unwrap_or(ActionKind::Unspecified),
            })
        }))
    }

    /// Checks that `id`, given in the request's `field`, is an outcome of a
    /// held roundtable: unknown → `INVALID_ARGUMENT`, an outcome of another
    /// kind of action → `FAILED_PRECONDITION`.
    pub fn expect_roundtable_outcome(
        &self,
        field: &str,
        id: &Uuid,
    ) -> Result<Outcome, ServiceError> {
        let Some(outcome) = self.get(id)? else {
            return Err(ServiceError::invalid_argument(
                field,
                format!(
                    "no roundtable outcome {id} (at position {} of the engagement log; if it was \
                     just recorded, send `maillage-after: engagement=<position>`)",
                    self.position()
                ),
            )
            .with_french(format!(
                "Le compte rendu de table ronde {id} est introuvable. S'il vient d'être \
                 enregistré, réessayez dans un instant."
            )));
        };
        if outcome.kind != ActionKind::Roundtable {
            return Err(ServiceError::failed_precondition(format!(
                "{field}: outcome {id} comes from action {} ({}), not from a roundtable",
                outcome.action_id,
                outcome.kind.as_str_name()
            ))
            .with_french(format!(
                "Le compte rendu {id} ne vient pas d'une table ronde (action {}).",
                outcome.action_id
            )));
        }
        Ok(outcome)
    }
}
