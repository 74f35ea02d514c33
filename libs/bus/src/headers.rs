//! The headers of every relayed message, and the trace context derived for it.
//!
//! | header              | value                                              |
//! |---------------------|----------------------------------------------------|
//! | `Nats-Msg-Id`       | the event id (JetStream drops a republished one)   |
//! | `Maillage-Context`  | the context whose log holds it                     |
//! | `Maillage-Position` | its position in that log (decimal)                 |
//! | `Maillage-Stream`   | its stream id                                      |
//! | `Maillage-Version`  | its version in the stream (decimal)                |
//! | `traceparent`       | W3C trace context, when the event has a correlation id |
//!
//! The log does not keep the trace context of the request that appended an
//! event, so the relay derives one from the event's correlation id: the
//! trace id is the correlation id itself when it is a UUID (or the trace id of
//! a W3C `traceparent` used as correlation id), else the first 16 bytes of
//! BLAKE3 over it; the parent id is the first 8 bytes of BLAKE3 over the
//! event id; the flags say "sampled". Every event of one user action thus
//! shares one trace id across services, and the same event always gets the
//! same header, even when republished.

use async_nats::HeaderMap;
use maillage_eventstore::RecordedEvent;

/// The JetStream de-duplication header.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The context whose log holds the event.
pub const CONTEXT: &str = "Maillage-Context";
/// The event's position in its context's log.
pub const POSITION: &str = "Maillage-Position";
/// The event's stream id.
pub const STREAM: &str = "Maillage-Stream";
/// The event's version in its stream.
pub const VERSION: &str = "Maillage-Version";
/// The W3C trace context.
pub const TRACEPARENT: &str = "traceparent";

/// The headers of `record`, relayed from the log of `context`.
pub fn event_headers(context: &str, record: &RecordedEvent) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(MSG_ID, record.event_id.to_string().as_str());
    headers.insert(CONTEXT, context);
    headers.insert(POSITION, record.position.to_string().as_str());
    headers.insert(STREAM, record.stream_id.as_str());
    headers.insert(VERSION, record.version.to_string().as_str());
    if let Some(traceparent) = traceparent(&record.metadata.correlation_id, &record.event_id) {
        headers.insert(TRACEPARENT, traceparent.as_str());
    }
    headers
}

/// The position a message's headers carry, if any.
pub fn position(headers: &HeaderMap) -> Option<u64> {
    headers.get(POSITION)?.as_str().parse().ok()
}

/// A W3C `traceparent` (`00-<trace id>-<parent id>-01`) derived from a
/// correlation id and an event id, as described in the module docs; `None`
/// when the correlation id is empty.
pub fn traceparent(correlation_id: &str, event_id: &uuid::Uuid) -> Option<String> {
    let correlation_id = correlation_id.trim();
    if correlation_id.is_empty() {
        return None;
    }
    let trace_id = trace_id_of(correlation_id);
    let mut parent_id = [0u8; 8];
    parent_id.copy_from_slice(&blake3::hash(event_id.as_bytes()).as_bytes()[..8]);
    if parent_id == [0; 8] {
        // All zeros is invalid in W3C trace context.
        parent_id[7] = 1;
    }
    Some(format!(
        "00-{}-{}-01",
        hex::encode(trace_id),
        hex::encode(parent_id)
    ))
}

fn trace_id_of(correlation_id: &str) -> [u8; 16] {
    if let Ok(uuid) = uuid::Uuid::parse_str(correlation_id) {
        if !uuid.is_nil() {
            return *uuid.as_bytes();
        }
    }
    // An incoming W3C traceparent used as correlation id keeps its trace id.
    let parts: Vec<&str> = correlation_id.split('-').collect();
    if parts.len() == 4 && parts[0] == "00" && parts[1].len() == 32 {
        if let Ok(bytes) = hex::decode(parts[1]) {
            if let Ok(trace_id) = <[u8; 16]>::try_from(bytes.as_slice()) {
                if trace_id != [0; 16] {
                    return trace_id;
                }
            }
        }
    }
    let mut trace_id = [0u8; 16];
    trace_id.copy_from_slice(&blake3::hash(correlation_id.as_bytes()).as_bytes()[..16]);
    if trace_id == [0; 16] {
        trace_id[15] = 1;
    }
    trace_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_correlation_id_is_the_trace_id() {
        let correlation = uuid::Uuid::now_v7();
        let event = uuid::Uuid::now_v7();
        let header = traceparent(&correlation.to_string(), &event).unwrap();
        let parts: Vec<&str> = header.split('-').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1], correlation.simple().to_string());
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        // Stable for the same event, distinct parents for distinct events.
        assert_eq!(
            traceparent(&correlation.to_string(), &event).unwrap(),
            header
        );
        let other = traceparent(&correlation.to_string(), &uuid::Uuid::now_v7()).unwrap();
        assert_ne!(other, header);
        assert_eq!(&other[..36], &header[..36]);
    }

    #[test]
    fn other_correlation_ids_are_hashed_and_empty_ones_give_none() {
        let event = uuid::Uuid::now_v7();
        assert_eq!(traceparent("", &event), None);
        let header = traceparent("req-42", &event).unwrap();
        assert_eq!(header.len(), 55);
        assert_eq!(traceparent("req-42", &event).unwrap(), header);
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let header = traceparent(incoming, &event).unwrap();
        assert!(header.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    }
}
