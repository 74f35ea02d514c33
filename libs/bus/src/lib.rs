//! Maillage's event bus: how events leave each command service's log and
//! reach the projections (DESIGN.md §2, §5).
//!
//! - [`subjects`]: the JetStream stream `MAILLAGE_EVENTS`, its subjects
//!   `maillage.events.<context>.<category>.<EventType>`, [`ensure_stream`];
//! - [`headers`]: the message headers (`Nats-Msg-Id`, position, stream,
//!   version, context, W3C `traceparent`);
//! - [`relay`]: the [`Relay`] each command service runs: it tails its own
//!   log from a checkpoint, publishes in order with a bounded number of
//!   unacknowledged publishes, and advances the checkpoint after the acks;
//! - [`feed`]: the [`Feed`] projections consume, with two implementations:
//!   [`JetStreamFeed`] (durable pull consumer) and [`DirectFeed`] (catch-up
//!   subscriptions on local logs, no broker). Read the contract there: the
//!   JetStream feed delivers only events whose hash and link to the event
//!   before them verify, and refuses the rest.
//!
//! The service logs stay the source of truth: the feed never replaces a
//! replay of the logs, and nothing here depends on JetStream's retention.

#![warn(missing_docs)]

mod backoff;
pub mod feed;
pub mod headers;
pub mod relay;
pub mod subjects;

pub use feed::{
    AckHandle, Checkpoints, Delivery, DirectFeed, DirectSource, Feed, FeedError, JetStreamFeed,
    JetStreamFeedConfig, Refusal, Refusals,
};
pub use relay::{
    read_checkpoint, with_relay, Relay, RelayConfig, RelayError, RelayStatus, CHECKPOINT_TREE,
};
pub use subjects::{
    ensure_stream, event_subject, short_type_name, stream_config, SubjectError, ALL_EVENTS,
    STREAM_NAME,
};

/// Connects to NATS at `servers` (comma-separated URLs) with the options every
/// part of the bus uses: a client name, and reconnection forever.
pub(crate) async fn connect(
    servers: &str,
    name: &str,
) -> Result<async_nats::Client, async_nats::ConnectError> {
    let addresses = server_addresses(servers).map_err(|error| {
        async_nats::ConnectError::with_source(async_nats::ConnectErrorKind::ServerParse, error)
    })?;
    async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(std::time::Duration::from_secs(2))
        .connect(addresses)
        .await
}

/// The addresses of a comma-separated list of NATS URLs (`nats://a:4222,nats://b:4222`).
fn server_addresses(servers: &str) -> Result<Vec<async_nats::ServerAddr>, async_nats::Error> {
    servers
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| url.parse::<async_nats::ServerAddr>().map_err(Into::into))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_comma_separated_list_gives_every_server() {
        let addresses =
            super::server_addresses("nats://127.0.0.1:14222, nats://127.0.0.1:14223,").unwrap();
        let ports: Vec<u16> = addresses.iter().map(|address| address.port()).collect();
        assert_eq!(ports, [14222, 14223]);
        assert!(super::server_addresses("nats://bad host:x").is_err());
    }
}
