//! Where replays read events from: a command service's log, either a local
//! [`EventStore`] (everything in one process) or its `EventLog` gRPC service
//! (`ReadAll`, with a bearer token of role `tool`).

use std::sync::Arc;

use futures::future::BoxFuture;
use maillage_envelope::to_envelope;
use maillage_eventstore::EventStore;
use maillage_proto::v1::event_log_client::EventLogClient;
use maillage_proto::v1::{EventEnvelope, ReadAllRequest};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The local store failed.
    #[error("log of {context}: {source}")]
    Store {
        /// The context.
        context: String,
        /// The store's error.
        source: maillage_eventstore::StoreError,
    },
    /// The EventLog service refused or failed.
    #[error("EventLog of {context}: {status}")]
    Remote {
        /// The context.
        context: String,
        /// The gRPC status (its code and message only).
        status: String,
    },
    /// An event the projection reads did not decode: the replay stops there.
    #[error("log of {context}: undecodable event: {reason}")]
    Undecodable {
        /// The context.
        context: String,
        /// Its type, position and the decoding error.
        reason: String,
    },
    /// A bad endpoint or token.
    #[error("event source {context}: {reason}")]
    Config {
        /// The context.
        context: String,
        /// What is wrong.
        reason: String,
    },
}

/// One context's log, read forward by position.
pub trait EventSource: Send + Sync + 'static {
    /// The context (`stakeholders`, `engagement`, `governance`).
    fn context(&self) -> &str;
    /// Up to `limit` events from position `from` on (fewer at the end; none past the head).
    fn read(&self, from: u64, limit: u32)
        -> BoxFuture<'_, Result<Vec<EventEnvelope>, SourceError>>;
}

/// A shared source.
pub type SharedSource = Arc<dyn EventSource>;

/// A local event store.
#[derive(Clone)]
pub struct LocalSource {
    context: String,
    store: EventStore,
}

impl LocalSource {
    /// The log of `context` in `store`.
    pub fn new(context: impl Into<String>, store: EventStore) -> Self {
        Self {
            context: context.into(),
            store,
        }
    }
}

impl EventSource for LocalSource {
    fn context(&self) -> &str {
        &self.context
    }

    fn read(
        &self,
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<EventEnvelope>, SourceError>> {
        Box::pin(async move {
            let records = self
                .store
                .read_all(from, limit as usize)
                .map_err(|source| SourceError::Store {
                    context: self.context.clone(),
                    source,
                })?;
            Ok(records
                .iter()
                .map(|record| to_envelope(&self.context, record))
                .collect())
        })
    }
}

/// A command service's `EventLog` over gRPC.
#[derive(Clone)]
pub struct EventLogSource {
    context: String,
    channel: Channel,
    authorization: MetadataValue<tonic::metadata::Ascii>,
}

impl EventLogSource {
    /// The log of `context` served at `url` (e.g. `http://127.0.0.1:50061`),
    /// read with `token` (role `tool`). Connects lazily.
    pub fn new(context: impl Into<String>, url: &str, token: &str) -> Result<Self, SourceError> {
        let context = context.into();
        let config = |reason: String| SourceError::Config {
            context: context.clone(),
            reason,
        };
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|error| config(format!("endpoint {url:?}: {error}")))?;
        let authorization = format!("Bearer {}", token.trim())
            .parse()
            .map_err(|_| config("the token is not printable ASCII".into()))?;
        Ok(Self {
            channel: endpoint.connect_lazy(),
            context,
            authorization,
        })
    }
}

impl EventSource for EventLogSource {
    fn context(&self) -> &str {
        &self.context
    }

    fn read(
        &self,
        from: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<EventEnvelope>, SourceError>> {
        Box::pin(async move {
            let mut client = EventLogClient::new(self.channel.clone())
                .max_decoding_message_size(16 * 1024 * 1024);
            let mut request = tonic::Request::new(ReadAllRequest {
                from_position: from,
                limit,
                context: self.context.clone(),
            });
            request
                .metadata_mut()
                .insert("authorization", self.authorization.clone());
            let response =
                client
                    .read_all(request)
                    .await
                    .map_err(|status| SourceError::Remote {
                        context: self.context.clone(),
                        status: format!("{:?}: {}", status.code(), status.message()),
                    })?;
            Ok(response.into_inner().events)
        })
    }
}
