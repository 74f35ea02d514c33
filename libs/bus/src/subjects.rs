//! Where events go on NATS: the JetStream stream `MAILLAGE_EVENTS` and its
//! subjects `maillage.events.<context>.<category>.<EventType>`.
//!
//! - `context`: the command service whose log holds the event
//!   (`stakeholders`, `engagement`, `governance`);
//! - `category`: the category of the event's stream id (`stakeholder` for
//!   `stakeholder-0190…`);
//! - `EventType`: the short name of the payload's protobuf full name
//!   (`maillage.v1.PersonRegistered` → `PersonRegistered`), since a NATS
//!   token cannot hold dots. The envelope keeps the full name.
//!
//! So a tool can subscribe to `maillage.events.stakeholders.>` for one
//! context, or `maillage.events.*.*.PersonRegistered` for one event type.

use std::time::Duration;

use async_nats::jetstream;
use maillage_eventstore::RecordedEvent;

/// The JetStream stream that carries every context's events.
pub const STREAM_NAME: &str = "MAILLAGE_EVENTS";

/// The subject filter of the whole stream.
pub const ALL_EVENTS: &str = "maillage.events.>";

/// The prefix of every event subject.
pub const SUBJECT_PREFIX: &str = "maillage.events";

/// How long JetStream remembers a `Nats-Msg-Id` to drop a republished event.
/// The relay's retries happen within seconds; consumers skip older duplicates
/// by position anyway.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Why a subject could not be built, or the stream could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// A subject token would be empty or hold `.`, `*`, `>` or whitespace.
    #[error("invalid subject token {token:?} for the {part}")]
    InvalidToken {
        /// Which part of the subject: `context`, `category` or `event type`.
        part: &'static str,
        /// The offending value.
        token: String,
    },
    /// JetStream refused or did not answer while the stream was looked up or created.
    #[error("cannot set up the JetStream stream {STREAM_NAME}: {0}")]
    Stream(String),
}

/// The short name of a protobuf full name: the part after the last dot.
pub fn short_type_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

/// Whether `token` can be one token of a NATS subject.
pub fn is_valid_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| !matches!(c, '.' | '*' | '>') && !c.is_whitespace() && !c.is_control())
}

/// The subject of `record` held in the log of `context`.
pub fn event_subject(context: &str, record: &RecordedEvent) -> Result<String, SubjectError> {
    subject(context, record.stream_id.category(), &record.event_type)
}

/// `maillage.events.<context>.<category>.<short event type>`, each part checked.
pub fn subject(context: &str, category: &str, event_type: &str) -> Result<String, SubjectError> {
    let event_type = short_type_name(event_type);
    for (part, token) in [
        ("context", context),
        ("category", category),
        ("event type", event_type),
    ] {
        if !is_valid_token(token) {
            return Err(SubjectError::InvalidToken {
                part,
                token: token.to_owned(),
            });
        }
    }
    Ok(format!(
        "{SUBJECT_PREFIX}.{context}.{category}.{event_type}"
    ))
}

/// The subject filter of one context's events: `maillage.events.<context>.>`.
pub fn context_filter(context: &str) -> Result<String, SubjectError> {
    if !is_valid_token(context) {
        return Err(SubjectError::InvalidToken {
            part: "context",
            token: context.to_owned(),
        });
    }
    Ok(format!("{SUBJECT_PREFIX}.{context}.>"))
}

/// The configuration `MAILLAGE_EVENTS` is created with: file storage, every
/// subject under `maillage.events.>`, kept forever (limits retention with no
/// limit), a 10-minute duplicate window, and `replicas` copies (1 for one
/// server, 3 for the R3 cluster of deploy/).
pub fn stream_config(replicas: usize) -> jetstream::stream::Config {
    jetstream::stream::Config {
        name: STREAM_NAME.to_owned(),
        description: Some(
            "Every event of Maillage's command services, relayed from their logs".into(),
        ),
        subjects: vec![ALL_EVENTS.to_owned()],
        storage: jetstream::stream::StorageType::File,
        retention: jetstream::stream::RetentionPolicy::Limits,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: replicas.max(1),
        ..Default::default()
    }
}

/// Looks `MAILLAGE_EVENTS` up and creates it with [`stream_config`] if it is
/// missing. An existing stream is left as it is (its operators own it).
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    replicas: usize,
) -> Result<jetstream::stream::Stream, SubjectError> {
    jetstream
        .get_or_create_stream(stream_config(replicas))
        .await
        .map_err(|error| SubjectError::Stream(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_use_the_short_type_name() {
        assert_eq!(
            subject(
                "stakeholders",
                "stakeholder",
                "maillage.v1.PersonRegistered"
            )
            .unwrap(),
            "maillage.events.stakeholders.stakeholder.PersonRegistered"
        );
        assert_eq!(short_type_name("Plain"), "Plain");
        assert_eq!(
            context_filter("engagement").unwrap(),
            "maillage.events.engagement.>"
        );
    }

    #[test]
    fn bad_tokens_are_refused() {
        assert!(matches!(
            subject("a.b", "c", "d"),
            Err(SubjectError::InvalidToken {
                part: "context",
                ..
            })
        ));
        assert!(matches!(
            subject("a", "c", "maillage.v1."),
            Err(SubjectError::InvalidToken {
                part: "event type",
                ..
            })
        ));
        assert!(subject("a", "c*", "T").is_err());
        assert!(subject("a b", "c", "T").is_err());
        assert!(context_filter(">").is_err());
    }

    #[test]
    fn the_stream_is_on_file_with_a_duplicate_window() {
        let config = stream_config(3);
        assert_eq!(config.num_replicas, 3);
        assert_eq!(config.storage, jetstream::stream::StorageType::File);
        assert_eq!(config.duplicate_window, DUPLICATE_WINDOW);
        assert_eq!(stream_config(0).num_replicas, 1);
    }
}
