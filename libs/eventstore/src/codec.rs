//! The on-disk form of a record and its hash.
//!
//! A record is stored as `body ‖ hash` where `hash = BLAKE3(body)` and the body
//! holds, in order: format byte, position, version, event id, recorded_at
//! (µs since the Unix epoch), previous hash, then length-prefixed stream id,
//! event type, actor, request id, correlation id, causation id and payload.
//! Because the body includes the previous hash, the hashes form a chain.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use uuid::Uuid;

use crate::record::{EventData, EventMetadata, RecordView, RecordedEvent};
use crate::stream_id::StreamId;

const FORMAT_V1: u8 = 1;
const HASH_LEN: usize = 32;

/// Longest event type accepted, in bytes.
pub const MAX_EVENT_TYPE_LEN: usize = 512;
/// Longest metadata field accepted, in bytes.
pub const MAX_METADATA_FIELD_LEN: usize = 1024;

/// Bytes an event occupies once encoded, minus the fixed-size header (what the size limit counts).
pub fn event_size(event: &EventData) -> usize {
    let m = &event.metadata;
    event.event_type.len()
        + event.payload.len()
        + m.actor.len()
        + m.request_id.len()
        + m.correlation_id.len()
        + m.causation_id.len()
}

/// Bytes of the record `event` becomes in stream `stream_id` (what the log
/// stores of it: the fixed header, the six length prefixes and the texts, the
/// payload's length and bytes, the hash).
pub fn record_len(stream_id: &str, event: &EventData) -> usize {
    const FIXED: usize = 1 + 8 + 8 + 16 + 8 + HASH_LEN + 6 * 2 + 4 + HASH_LEN;
    FIXED + stream_id.len() + event_size(event)
}

/// Microseconds since the Unix epoch (negative before it), saturating.
pub fn to_micros(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

fn from_micros(micros: i64) -> SystemTime {
    if micros >= 0 {
        UNIX_EPOCH + Duration::from_micros(micros.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
    }
}

/// Everything a record holds but its hash, to be sealed by [`seal`].
pub struct Unsealed<'a> {
    pub position: u64,
    pub stream_id: &'a str,
    pub version: u64,
    pub recorded_at_micros: i64,
    pub prev_hash: [u8; 32],
    pub event: &'a EventData,
}

/// Encodes a record and computes its hash; returns the stored bytes and the hash.
pub fn seal(record: &Unsealed<'_>) -> (Vec<u8>, [u8; 32]) {
    let event = record.event;
    let mut out = body(&Body {
        position: record.position,
        stream_id: record.stream_id,
        version: record.version,
        event_id: &event.event_id,
        recorded_at_micros: record.recorded_at_micros,
        prev_hash: &record.prev_hash,
        event_type: &event.event_type,
        metadata: &event.metadata,
        payload: &event.payload,
    });
    let hash = *blake3::hash(&out).as_bytes();
    out.extend_from_slice(&hash);
    (out, hash)
}

/// The hash `record` would have been sealed with, recomputed from its fields
/// exactly as [`seal`] does; `None` when a field is longer than the format
/// holds (no record the store wrote can have such a field).
pub fn content_hash(record: &RecordedEvent) -> Option<[u8; 32]> {
    let metadata = &record.metadata;
    let texts = [
        record.stream_id.as_str(),
        &record.event_type,
        &metadata.actor,
        &metadata.request_id,
        &metadata.correlation_id,
        &metadata.causation_id,
    ];
    if texts.iter().any(|text| text.len() > usize::from(u16::MAX))
        || u32::try_from(record.payload.len()).is_err()
    {
        return None;
    }
    let body = body(&Body {
        position: record.position,
        stream_id: record.stream_id.as_str(),
        version: record.version,
        event_id: &record.event_id,
        recorded_at_micros: to_micros(record.recorded_at),
        prev_hash: &record.prev_hash,
        event_type: &record.event_type,
        metadata,
        payload: &record.payload,
    });
    Some(*blake3::hash(&body).as_bytes())
}

/// Every field of a record's body, borrowed.
struct Body<'a> {
    position: u64,
    stream_id: &'a str,
    version: u64,
    event_id: &'a Uuid,
    recorded_at_micros: i64,
    prev_hash: &'a [u8; 32],
    event_type: &'a str,
    metadata: &'a EventMetadata,
    payload: &'a [u8],
}

/// The body's bytes (the record without its trailing hash), with room for the hash.
fn body(record: &Body<'_>) -> Vec<u8> {
    let metadata = record.metadata;
    let texts = [
        record.stream_id,
        record.event_type,
        &metadata.actor,
        &metadata.request_id,
        &metadata.correlation_id,
        &metadata.causation_id,
    ];
    let capacity = 96 + HASH_LEN + texts.iter().map(|text| text.len()).sum::<usize>();
    let mut out = Vec::with_capacity(capacity + record.payload.len());
    out.push(FORMAT_V1);
    out.extend_from_slice(&record.position.to_be_bytes());
    out.extend_from_slice(&record.version.to_be_bytes());
    out.extend_from_slice(record.event_id.as_bytes());
    out.extend_from_slice(&record.recorded_at_micros.to_be_bytes());
    out.extend_from_slice(record.prev_hash);
    for field in texts {
        // Lengths were checked before: by the store before the append reached
        // the writer, by `content_hash` for a record from elsewhere.
        out.extend_from_slice(&(field.len() as u16).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out.extend_from_slice(&(record.payload.len() as u32).to_be_bytes());
    out.extend_from_slice(record.payload);
    out
}

/// Whether the stored bytes' hash matches their body.
pub fn hash_matches(stored: &[u8]) -> bool {
    match stored.len().checked_sub(HASH_LEN) {
        Some(split) => blake3::hash(&stored[..split]).as_bytes() == &stored[split..],
        None => false,
    }
}

/// Decodes stored bytes into a record. It does not check the hash (see [`hash_matches`]).
pub fn open(stored: &[u8]) -> Result<RecordedEvent, String> {
    view(stored).map(|record| record.to_owned())
}

/// Decodes stored bytes in place: the record's texts and payload borrow
/// `stored`. It checks everything [`open`] checks, but not the hash.
pub fn view(stored: &[u8]) -> Result<RecordView<'_>, String> {
    let mut reader = Reader { bytes: stored };
    let format = reader.take::<1>()?[0];
    if format != FORMAT_V1 {
        return Err(format!("unknown record format {format}"));
    }
    let position = u64::from_be_bytes(reader.take()?);
    let version = u64::from_be_bytes(reader.take()?);
    let event_id = Uuid::from_bytes(reader.take()?);
    let recorded_at = from_micros(i64::from_be_bytes(reader.take()?));
    let prev_hash = reader.take::<32>()?;
    let stream_id = reader.text()?;
    let event_type = reader.text()?;
    let actor = reader.text()?;
    let request_id = reader.text()?;
    let correlation_id = reader.text()?;
    let causation_id = reader.text()?;
    let payload_len = u32::from_be_bytes(reader.take()?) as usize;
    let payload = reader.slice(payload_len)?;
    let hash = reader.take::<32>()?;
    if !reader.bytes.is_empty() {
        return Err(format!("{} trailing bytes", reader.bytes.len()));
    }
    if let Some(reason) = StreamId::problem(stream_id) {
        return Err(format!("invalid stream id {stream_id:?}: {reason}"));
    }
    Ok(RecordView {
        position,
        stream_id,
        version,
        event_id,
        event_type,
        payload,
        actor,
        request_id,
        correlation_id,
        causation_id,
        recorded_at,
        prev_hash,
        hash,
        stored,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn slice(&mut self, len: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < len {
            return Err(format!(
                "truncated: wanted {len} bytes, {} left",
                self.bytes.len()
            ));
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let Some((head, tail)) = self.bytes.split_first_chunk::<N>() else {
            return Err(format!(
                "truncated: wanted {N} bytes, {} left",
                self.bytes.len()
            ));
        };
        self.bytes = tail;
        Ok(*head)
    }

    fn text(&mut self) -> Result<&'a str, String> {
        let len = u16::from_be_bytes(self.take()?) as usize;
        let bytes = self.slice(len)?;
        std::str::from_utf8(bytes).map_err(|_| "a text field is not UTF-8".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> EventData {
        EventData {
            event_id: Uuid::now_v7(),
            event_type: "maillage.v1.Test".into(),
            payload: vec![1, 2, 3],
            metadata: EventMetadata {
                actor: "alice".into(),
                request_id: "r1".into(),
                correlation_id: "c1".into(),
                causation_id: String::new(),
            },
        }
    }

    #[test]
    fn roundtrips_and_chains() {
        let event = event();
        let (stored, hash) = seal(&Unsealed {
            position: 7,
            stream_id: "cat-1",
            version: 2,
            recorded_at_micros: 1_700_000_000_000_123,
            prev_hash: [9; 32],
            event: &event,
        });
        assert!(hash_matches(&stored));
        let record = open(&stored).unwrap();
        assert_eq!(record.position, 7);
        assert_eq!(record.version, 2);
        assert_eq!(record.stream_id.as_str(), "cat-1");
        assert_eq!(record.prev_hash, [9; 32]);
        assert_eq!(record.hash, hash);
        assert!(event.same_content(&record));
        assert_eq!(to_micros(record.recorded_at), 1_700_000_000_000_123);
        assert_eq!(content_hash(&record), Some(hash));
    }

    #[test]
    fn a_records_length_is_what_sealing_it_writes() {
        let event = event();
        let (stored, _) = seal(&Unsealed {
            position: 9,
            stream_id: "contact-42",
            version: 3,
            recorded_at_micros: 1_700_000_000_000_000,
            prev_hash: [2; 32],
            event: &event,
        });
        assert_eq!(record_len("contact-42", &event), stored.len());
    }

    #[test]
    fn a_view_holds_what_open_copies_and_refuses_an_invalid_stream_id() {
        let event = event();
        let sealed = |stream_id| {
            seal(&Unsealed {
                position: 5,
                stream_id,
                version: 1,
                recorded_at_micros: 1_700_000_000_000_000,
                prev_hash: [1; 32],
                event: &event,
            })
            .0
        };
        let stored = sealed("cat-1");
        let decoded = view(&stored).unwrap();
        assert_eq!(decoded.category(), "cat");
        assert_eq!(decoded.to_owned(), open(&stored).unwrap());
        let stored = sealed("no dash");
        assert!(view(&stored).unwrap_err().contains("invalid stream id"));
        assert!(open(&stored).is_err());
    }

    #[test]
    fn the_recomputed_hash_covers_every_field() {
        let event = event();
        let (stored, hash) = seal(&Unsealed {
            position: 3,
            stream_id: "cat-1",
            version: 1,
            recorded_at_micros: 1_700_000_000_000_000,
            prev_hash: [4; 32],
            event: &event,
        });
        let record = open(&stored).unwrap();
        let changes: [fn(&mut RecordedEvent); 10] = [
            |r| r.position += 1,
            |r| r.version += 1,
            |r| r.event_id = Uuid::now_v7(),
            |r| r.recorded_at += Duration::from_micros(1),
            |r| r.prev_hash[0] ^= 1,
            |r| r.stream_id = StreamId::parse("cat-2").unwrap(),
            |r| r.event_type.push('x'),
            |r| r.metadata.actor.push('x'),
            |r| r.metadata.causation_id.push('x'),
            |r| r.payload.push(0),
        ];
        for (index, change) in changes.iter().enumerate() {
            let mut forged = record.clone();
            change(&mut forged);
            assert_ne!(
                content_hash(&forged),
                Some(hash),
                "change {index} kept the hash"
            );
        }
        let mut too_long = record;
        too_long.metadata.actor = "x".repeat(70_000);
        assert_eq!(content_hash(&too_long), None);
    }

    #[test]
    fn any_flipped_byte_breaks_the_hash_or_the_decoding() {
        let event = event();
        let (stored, _) = seal(&Unsealed {
            position: 1,
            stream_id: "cat-1",
            version: 1,
            recorded_at_micros: 0,
            prev_hash: [0; 32],
            event: &event,
        });
        for index in 0..stored.len() {
            let mut tampered = stored.clone();
            tampered[index] ^= 0x01;
            assert!(!hash_matches(&tampered), "flip at {index} went unnoticed");
        }
    }
}
