//! The `maillage.v1.EventLog` gRPC service: read-only access to a command
//! service's own log (read a stream, read all, subscribe, verify), for the
//! roles `tool` and `auditor` (admin passes).
//!
//! Every command service mounts one over its [`EventStore`]; the all-in-one
//! binary mounts one over the three logs ([`EventLogService::add`]), and
//! requests then name their log in `context`:
//!
//! ```no_run
//! # fn f(store: maillage_eventstore::EventStore) {
//! use maillage_service_kit::EventLogService;
//! let service = EventLogService::new("stakeholders", store).into_server();
//! # }
//! ```

use std::collections::BTreeMap;
use std::pin::Pin;

use futures::Stream;
use maillage_eventstore::{Direction, EventStore, StreamId, SubscriptionFilter, Verification};
use maillage_proto::v1::event_log_server::{EventLog, EventLogServer};
use maillage_proto::v1::{
    EventEnvelope, ReadAllRequest, ReadAllResponse, ReadDirection, ReadStreamRequest,
    ReadStreamResponse, SubscribeRequest, VerifyRequest, VerifyResponse,
};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{OrStatus, ServiceError};
use maillage_envelope::to_envelope;

/// Events returned when a read asks for 0.
pub const DEFAULT_READ_LIMIT: usize = 1_000;
/// Most events one read returns, whatever it asks.
pub const MAX_READ_LIMIT: usize = 10_000;
/// Most encoded bytes of events in one read response (at least one event is
/// always returned), so that a reply fits a default gRPC client's 4 MiB limit.
/// A reader that gets fewer events than it asked for continues from the last one.
pub const MAX_READ_BYTES: usize = 3 * 1024 * 1024;

/// Longest unknown `context` repeated in an INVALID_ARGUMENT message.
const MAX_ECHOED_CONTEXT: usize = 64;

/// Most categories, or event types, one subscription filters on: the filter
/// is checked against every record of the log it scans.
pub const MAX_FILTER_ENTRIES: usize = 64;

/// Longest event type a filter names (protobuf full names are far shorter).
pub const MAX_EVENT_TYPE_LEN: usize = 256;

/// Roles allowed to read a log.
const READERS: [Role; 2] = [Role::Tool, Role::Auditor];

/// The EventLog service over one or more contexts' stores.
#[derive(Clone)]
pub struct EventLogService {
    logs: BTreeMap<String, EventStore>,
}

/// One log picked by a request.
struct Log<'a> {
    context: &'a str,
    store: &'a EventStore,
}

impl EventLogService {
    /// The service for the log of `context` (`stakeholders`, `engagement`,
    /// `governance`), written in every envelope it returns.
    pub fn new(context: impl Into<String>, store: EventStore) -> Self {
        Self {
            logs: BTreeMap::from([(context.into(), store)]),
        }
    }

    /// Serves another context's log too; requests must then name their `context`.
    pub fn add(mut self, context: impl Into<String>, store: EventStore) -> Self {
        self.logs.insert(context.into(), store);
        self
    }

    /// The tonic server to mount (e.g. with [`crate::Server::add_service`]).
    pub fn into_server(self) -> EventLogServer<Self> {
        EventLogServer::new(self)
    }

    /// The log a request names (the only one when it names none).
    fn log(&self, context: &str) -> Result<Log<'_>, ServiceError> {
        let known = || self.logs.keys().cloned().collect::<Vec<_>>().join(", ");
        let found = if context.is_empty() && self.logs.len() == 1 {
            self.logs.iter().next()
        } else {
            self.logs.get_key_value(context)
        };
        match found {
            Some((context, store)) => {
                // Only a name this service knows reaches the span, never the raw request string.
                tracing::Span::current().record("context", context.as_str());
                Ok(Log { context, store })
            }
            None if context.is_empty() => Err(ServiceError::invalid_argument(
                "context",
                format!("name the log to read: one of {}", known()),
            )
            .with_french(format!("Nommez le journal à lire : l'un de {}.", known()))),
            // A long name is not echoed back: it could be anything, of any size.
            None if context.len() > MAX_ECHOED_CONTEXT => Err(ServiceError::invalid_argument(
                "context",
                format!("unknown log ({} bytes): one of {}", context.len(), known()),
            )
            .with_french(format!("Journal inconnu : l'un de {}.", known()))),
            None => Err(ServiceError::invalid_argument(
                "context",
                format!("unknown log {context:?}: one of {}", known()),
            )
            .with_french(format!(
                "Journal inconnu « {context} » : l'un de {}.",
                known()
            ))),
        }
    }
}

impl Log<'_> {
    fn envelopes(&self, records: Vec<maillage_eventstore::RecordedEvent>) -> Vec<EventEnvelope> {
        let mut budget = MAX_READ_BYTES;
        let mut envelopes = Vec::with_capacity(records.len());
        for record in &records {
            let envelope = to_envelope(self.context, record);
            let size = envelope.encoded_len();
            if !envelopes.is_empty() && size > budget {
                break;
            }
            budget = budget.saturating_sub(size);
            envelopes.push(envelope);
        }
        envelopes
    }
}

/// `limit` as asked (0: default), capped.
fn read_limit(limit: u32) -> usize {
    match usize::try_from(limit) {
        Ok(0) => DEFAULT_READ_LIMIT,
        Ok(limit) => limit.min(MAX_READ_LIMIT),
        Err(_) => MAX_READ_LIMIT,
    }
}

/// Opens the RPC: checks the caller's role and records its ids on the span.
fn admit<T>(request: &Request<T>) -> Result<(), Status> {
    let context = RequestContext::from_request(request, "")?;
    context.principal.require(&READERS)?;
    Ok(())
}

/// Checks the number of entries of a filter `field` before anything else.
fn check_filter_entries(field: &str, entries: &[String]) -> Result<(), ServiceError> {
    if entries.len() > MAX_FILTER_ENTRIES {
        return Err(ServiceError::invalid_argument(
            field,
            format!("{} entries, at most {MAX_FILTER_ENTRIES}", entries.len()),
        )
        .with_french(format!(
            "{} entrées, {MAX_FILTER_ENTRIES} au plus.",
            entries.len()
        )));
    }
    Ok(())
}

/// Checks an event type filter entry.
fn check_event_type(event_type: &str) -> Result<(), ServiceError> {
    if event_type.is_empty() {
        return Err(
            ServiceError::invalid_argument("event_types", "an event type is empty")
                .with_french("Un type d'événement est vide."),
        );
    }
    if event_type.len() > MAX_EVENT_TYPE_LEN {
        return Err(ServiceError::invalid_argument(
            "event_types",
            format!(
                "an event type is {} bytes, at most {MAX_EVENT_TYPE_LEN}",
                event_type.len()
            ),
        )
        .with_french(format!(
            "Un type d'événement fait {} octets, {MAX_EVENT_TYPE_LEN} au plus.",
            event_type.len()
        )));
    }
    Ok(())
}

/// Checks a category filter entry (the part of a stream id before its `-`).
fn check_category(category: &str) -> Result<(), ServiceError> {
    StreamId::parse(format!("{category}-x"))
        .ok()
        .filter(|id| id.category() == category)
        .map(|_| ())
        .ok_or_else(|| {
            ServiceError::invalid_argument(
                "categories",
                format!("{category:?} is not a stream category (an ASCII letter, then letters, digits or '_')"),
            )
            .with_french(format!(
                "« {category} » n'est pas une catégorie de flux (une lettre ASCII, puis lettres, \
                 chiffres ou « _ »)."
            ))
        })
}

type EnvelopeStream = Pin<Box<dyn Stream<Item = Result<EventEnvelope, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl EventLog for EventLogService {
    #[tracing::instrument(skip_all, fields(context = tracing::field::Empty))]
    async fn read_stream(
        &self,
        request: Request<ReadStreamRequest>,
    ) -> Result<Response<ReadStreamResponse>, Status> {
        admit(&request)?;
        let request = request.into_inner();
        let log = self.log(&request.context)?;
        StreamId::parse(request.stream_id.as_str()).map_err(|error| match error {
            maillage_eventstore::StoreError::InvalidStreamId { reason, .. } => {
                ServiceError::invalid_argument("stream_id", reason)
                    .with_french(format!("Identifiant de flux invalide ({reason})."))
            }
            other => ServiceError::from(other),
        })?;
        let direction = ReadDirection::try_from(request.direction).map_err(|_| {
            ServiceError::invalid_argument(
                "direction",
                format!("unknown direction {}", request.direction),
            )
            .with_french(format!("Sens de lecture inconnu ({}).", request.direction))
        })?;
        let (direction, from) = match direction {
            ReadDirection::Forward => (Direction::Forward, request.from_version.max(1)),
            ReadDirection::Backward if request.from_version == 0 => (Direction::Backward, u64::MAX),
            ReadDirection::Backward => (Direction::Backward, request.from_version),
        };
        let stream_version = log.store.stream_version(&request.stream_id).or_status()?;
        let records = log
            .store
            .read_stream(
                &request.stream_id,
                from,
                direction,
                read_limit(request.limit),
            )
            .or_status()?;
        Ok(Response::new(ReadStreamResponse {
            events: log.envelopes(records),
            stream_version,
        }))
    }

    #[tracing::instrument(skip_all, fields(context = tracing::field::Empty))]
    async fn read_all(
        &self,
        request: Request<ReadAllRequest>,
    ) -> Result<Response<ReadAllResponse>, Status> {
        admit(&request)?;
        let request = request.into_inner();
        let log = self.log(&request.context)?;
        let head_position = log.store.head().position;
        let records = log
            .store
            .read_all(request.from_position, read_limit(request.limit))
            .or_status()?;
        Ok(Response::new(ReadAllResponse {
            events: log.envelopes(records),
            head_position,
        }))
    }

    type SubscribeStream = EnvelopeStream;

    #[tracing::instrument(skip_all, fields(context = tracing::field::Empty))]
    async fn subscribe(
        &self,
        request: Request<SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        admit(&request)?;
        let request = request.into_inner();
        let log = self.log(&request.context)?;
        let filter = match (
            request.categories.is_empty(),
            request.event_types.is_empty(),
        ) {
            (true, true) => SubscriptionFilter::All,
            (false, true) => {
                check_filter_entries("categories", &request.categories)?;
                for category in &request.categories {
                    check_category(category)?;
                }
                SubscriptionFilter::Categories(request.categories)
            }
            (true, false) => {
                check_filter_entries("event_types", &request.event_types)?;
                for event_type in &request.event_types {
                    check_event_type(event_type)?;
                }
                SubscriptionFilter::EventTypes(request.event_types)
            }
            (false, false) => {
                return Err(ServiceError::invalid_argument(
                    "event_types",
                    "cannot be combined with categories: filter by one or the other",
                )
                .with_french(
                    "Filtrez par types d'événements ou par catégories, pas les deux à la fois.",
                )
                .into())
            }
        };
        if log.store.is_closed() {
            return Err(ServiceError::from(maillage_eventstore::StoreError::Closed).into());
        }
        let subscription = log.store.subscribe(request.from_position, filter);
        let context = log.context.to_string();
        // The stream owns the subscription: when the client goes away tonic drops
        // the stream and the subscription with it; when the store closes,
        // `next` returns `None` and the stream ends. After an error it ends too.
        let stream = futures::stream::unfold(Some(subscription), move |state| {
            let context = context.clone();
            async move {
                let mut subscription = state?;
                match subscription.next().await? {
                    Ok(record) => Some((Ok(to_envelope(&context, &record)), Some(subscription))),
                    Err(error) => Some((Err(Status::from(ServiceError::from(error))), None)),
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(skip_all, fields(context = tracing::field::Empty))]
    async fn verify(
        &self,
        request: Request<VerifyRequest>,
    ) -> Result<Response<VerifyResponse>, Status> {
        admit(&request)?;
        let store = self.log(&request.get_ref().context)?.store.clone();
        let verification = tokio::task::spawn_blocking(move || store.verify())
            .await
            .map_err(|error| ServiceError::internal(format!("verify task failed: {error}")))?
            .or_status()?;
        let response = match verification {
            Verification::Intact { head } => VerifyResponse {
                intact: true,
                position: head.position,
                head_hash: head.hash.to_vec(),
                reason: String::new(),
            },
            Verification::Broken { position, reason } => {
                tracing::warn!(position, %reason, "event log chain is broken");
                VerifyResponse {
                    intact: false,
                    position,
                    head_hash: Vec::new(),
                    reason,
                }
            }
        };
        Ok(Response::new(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_cap() {
        assert_eq!(read_limit(0), DEFAULT_READ_LIMIT);
        assert_eq!(read_limit(5), 5);
        assert_eq!(read_limit(u32::MAX), MAX_READ_LIMIT);
    }

    #[test]
    fn filters_are_bounded() {
        let many: Vec<String> = (0..=MAX_FILTER_ENTRIES).map(|n| format!("c{n}")).collect();
        assert!(check_filter_entries("categories", &many[1..]).is_ok());
        let refused = check_filter_entries("categories", &many).unwrap_err();
        assert!(
            refused.to_string().starts_with("categories: 65 entries"),
            "{refused}"
        );
        assert!(check_event_type("maillage.v1.PersonRegistered").is_ok());
        assert!(check_event_type("").is_err());
        let long = check_event_type(&"a".repeat(MAX_EVENT_TYPE_LEN + 1)).unwrap_err();
        assert!(long.to_string().contains("at most 256"), "{long}");
    }

    #[test]
    fn categories_are_checked() {
        assert!(check_category("stakeholder").is_ok());
        assert!(check_category("action_item").is_ok());
        for bad in ["", "1abc", "a-b", "a b", "é"] {
            assert!(check_category(bad).is_err(), "{bad:?}");
        }
    }
}
