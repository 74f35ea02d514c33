//! Conversions between the store's [`RecordedEvent`] and the wire's
//! [`EventEnvelope`], and typed payload decoding for consumers.
//!
//! Pure functions with no I/O: the EventLog service, the NATS relay and the
//! consumers all use them, so an event looks the same on every path. A crate
//! of its own so that the bus and the service kit share it without depending
//! on each other.

#![warn(missing_docs)]

use std::time::SystemTime;

use maillage_eventstore::{EventMetadata, RecordedEvent, StreamId};
use maillage_proto::v1::{EventEnvelope, EventMetadata as WireMetadata};

/// Why an envelope could not be turned back into a record or payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// A field is missing or malformed.
    #[error("envelope field {field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The payload is not of the type asked for.
    #[error("event type is {actual}, expected {expected}")]
    WrongType {
        /// The type asked for.
        expected: String,
        /// The envelope's type.
        actual: String,
    },
    /// The payload does not decode as its type.
    #[error("payload of {event_type} does not decode: {reason}")]
    Decode {
        /// The envelope's type.
        event_type: String,
        /// The decoder's message.
        reason: String,
    },
}

/// The envelope of `record`, held in the log of `context` (`stakeholders`, `engagement`, `governance`).
pub fn to_envelope(context: &str, record: &RecordedEvent) -> EventEnvelope {
    EventEnvelope {
        context: context.to_owned(),
        position: record.position,
        stream_id: record.stream_id.to_string(),
        version: record.version,
        event_id: record.event_id.to_string(),
        event_type: record.event_type.clone(),
        payload: record.payload.clone(),
        metadata: Some(WireMetadata {
            actor: record.metadata.actor.clone(),
            request_id: record.metadata.request_id.clone(),
            correlation_id: record.metadata.correlation_id.clone(),
            causation_id: record.metadata.causation_id.clone(),
        }),
        recorded_at: Some(prost_types::Timestamp::from(record.recorded_at)),
        prev_hash: record.prev_hash.to_vec(),
        hash: record.hash.to_vec(),
    }
}

/// The record an envelope carries (the context is dropped: the caller knows it).
pub fn from_envelope(envelope: &EventEnvelope) -> Result<RecordedEvent, EnvelopeError> {
    let field = |field: &'static str, reason: String| EnvelopeError::Field { field, reason };
    let stream_id = StreamId::parse(envelope.stream_id.as_str())
        .map_err(|e| field("stream_id", e.to_string()))?;
    let event_id =
        uuid::Uuid::parse_str(&envelope.event_id).map_err(|e| field("event_id", e.to_string()))?;
    let recorded_at = envelope
        .recorded_at
        .ok_or_else(|| field("recorded_at", "missing".into()))
        .and_then(|timestamp| {
            SystemTime::try_from(timestamp).map_err(|e| field("recorded_at", e.to_string()))
        })?;
    let hash = |name: &'static str, bytes: &[u8]| -> Result<[u8; 32], EnvelopeError> {
        bytes
            .try_into()
            .map_err(|_| field(name, format!("{} bytes, expected 32", bytes.len())))
    };
    let metadata = envelope.metadata.clone().unwrap_or_default();
    Ok(RecordedEvent {
        position: envelope.position,
        stream_id,
        version: envelope.version,
        event_id,
        event_type: envelope.event_type.clone(),
        payload: envelope.payload.clone(),
        metadata: EventMetadata {
            actor: metadata.actor,
            request_id: metadata.request_id,
            correlation_id: metadata.correlation_id,
            causation_id: metadata.causation_id,
        },
        recorded_at,
        prev_hash: hash("prev_hash", &envelope.prev_hash)?,
        hash: hash("hash", &envelope.hash)?,
    })
}

/// Decodes the envelope's payload as `M`, after checking that its event type
/// is `M`'s protobuf full name.
pub fn decode_payload<M>(envelope: &EventEnvelope) -> Result<M, EnvelopeError>
where
    M: prost::Message + prost::Name + Default,
{
    decode_typed(&envelope.event_type, &envelope.payload)
}

/// Decodes a record's payload as `M`, after checking its event type.
pub fn decode_record<M>(record: &RecordedEvent) -> Result<M, EnvelopeError>
where
    M: prost::Message + prost::Name + Default,
{
    decode_typed(&record.event_type, &record.payload)
}

fn decode_typed<M>(event_type: &str, payload: &[u8]) -> Result<M, EnvelopeError>
where
    M: prost::Message + prost::Name + Default,
{
    let expected = M::full_name();
    if event_type != expected {
        return Err(EnvelopeError::WrongType {
            expected,
            actual: event_type.to_owned(),
        });
    }
    M::decode(payload).map_err(|error| EnvelopeError::Decode {
        event_type: event_type.to_owned(),
        reason: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use maillage_proto::v1::{CommandReply, PageInfo};
    use prost::Message;
    use std::time::Duration;

    fn record() -> RecordedEvent {
        let payload = CommandReply {
            id: "x".into(),
            version: 2,
            position: 9,
        };
        RecordedEvent {
            position: 9,
            stream_id: StreamId::parse("stakeholder-abc").unwrap(),
            version: 2,
            event_id: uuid::Uuid::now_v7(),
            event_type: maillage_proto::full_name::<CommandReply>(),
            payload: payload.encode_to_vec(),
            metadata: EventMetadata {
                actor: "alice".into(),
                request_id: "r".into(),
                correlation_id: "c".into(),
                causation_id: "r".into(),
            },
            recorded_at: SystemTime::UNIX_EPOCH + Duration::from_micros(1_767_225_600_123_456),
            prev_hash: [1; 32],
            hash: [2; 32],
        }
    }

    #[test]
    fn a_record_survives_the_round_trip() {
        let record = record();
        let envelope = to_envelope("stakeholders", &record);
        assert_eq!(envelope.context, "stakeholders");
        assert_eq!(envelope.event_type, "maillage.v1.CommandReply");
        assert_eq!(envelope.recorded_at.unwrap().nanos, 123_456_000);
        assert_eq!(from_envelope(&envelope).unwrap(), record);
        let reply: CommandReply = decode_payload(&envelope).unwrap();
        assert_eq!(reply.version, 2);
        assert_eq!(decode_record::<CommandReply>(&record).unwrap(), reply);
    }

    #[test]
    fn wrong_types_and_bad_fields_are_refused() {
        let envelope = to_envelope("stakeholders", &record());
        assert!(matches!(
            decode_payload::<PageInfo>(&envelope),
            Err(EnvelopeError::WrongType { .. })
        ));
        let mut broken = envelope.clone();
        broken.hash.pop();
        assert!(matches!(
            from_envelope(&broken),
            Err(EnvelopeError::Field { field: "hash", .. })
        ));
        let mut broken = envelope;
        broken.stream_id = "nodash".into();
        assert!(matches!(
            from_envelope(&broken),
            Err(EnvelopeError::Field {
                field: "stream_id",
                ..
            })
        ));
    }
}
