//! Key layout of the three keyspaces: big-endian numbers so byte order is numeric order.

use uuid::Uuid;

/// Key of the record at `position` in the log keyspace.
pub fn log_key(position: u64) -> [u8; 8] {
    position.to_be_bytes()
}

/// Key of `version` of `stream` in the stream index (`stream id`, 0x00, version).
///
/// Stream ids never hold a 0x00 byte, so one stream's keys never interleave
/// with another's whose id it prefixes.
pub fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 9);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// Key of an event id in the event-id index.
pub fn event_id_key(event_id: &Uuid) -> [u8; 16] {
    *event_id.as_bytes()
}

/// Reads a big-endian u64 stored as an index value or key suffix.
pub fn decode_u64(bytes: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = bytes.get(bytes.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}
