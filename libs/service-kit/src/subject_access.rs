//! Subject access (RGPD art. 15), the part every command service shares:
//! the facts of its log that name a person. An event names a person when
//! their stakeholder id is one of its string fields, which protobuf stores as
//! the id's UTF-8 bytes, so scanning the payload for those bytes finds every
//! such event whatever its type (an invitation, an attendance, an
//! appointment...), including types added later.

use maillage_eventstore::EventStore;
use maillage_proto::v1 as pb;
use uuid::Uuid;

use crate::error::ServiceError;

/// Records read per round trip of the scan.
const SCAN_CHUNK: usize = 4_096;

/// Every event of `store` (the log of `context`) whose payload names `person`,
/// in log order, with the records themselves for callers that decode them.
pub fn facts_naming(
    store: &EventStore,
    context: &str,
    person: &Uuid,
) -> Result<(pb::PersonFacts, Vec<maillage_eventstore::RecordedEvent>), ServiceError> {
    let needle = person.to_string().into_bytes();
    let mut facts = Vec::new();
    let mut records = Vec::new();
    let mut from = 1;
    loop {
        let chunk = store.read_all(from, SCAN_CHUNK)?;
        for record in &chunk {
            if record
                .payload
                .windows(needle.len())
                .any(|window| window == needle.as_slice())
            {
                facts.push(pb::PersonFact {
                    position: record.position,
                    stream_id: record.stream_id.to_string(),
                    event_type: record.event_type.clone(),
                    recorded_at: Some(prost_types::Timestamp::from(record.recorded_at)),
                    actor: record.metadata.actor.clone(),
                });
                records.push(record.clone());
            }
        }
        match chunk.last() {
            Some(last) if chunk.len() == SCAN_CHUNK => from = last.position + 1,
            _ => break,
        }
    }
    Ok((
        pb::PersonFacts {
            stakeholder_id: person.to_string(),
            context: context.to_owned(),
            facts,
        },
        records,
    ))
}
