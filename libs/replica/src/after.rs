//! Read-your-writes across services: the `maillage-after` request header.
//!
//! A command reply carries the position of its last event in its service's
//! log. A client that registers a stakeholder and then invites them to an
//! action (another service) sends, with the invitation,
//!
//! ```text
//! maillage-after: stakeholders=1234
//! ```
//!
//! (several contexts comma-separated, e.g. `stakeholders=1234,engagement=56`),
//! and the service waits, at most [`MAX_WAIT`], for its replica of that
//! context to have applied position 1234 before checking the references; if it
//! has not, the command is refused with `UNAVAILABLE` (retryable) and changes
//! nothing. A context the service keeps no replica of is ignored.

use std::time::Duration;

use maillage_service_kit::ServiceError;
use tonic::metadata::MetadataMap;

use crate::replica::{Model, Replica};

/// The header's name.
pub const AFTER_HEADER: &str = "maillage-after";

/// The longest a command waits for a replica to reach the asked position.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// Most `context=position` pairs one request may carry.
const MAX_PAIRS: usize = 8;

/// The positions a request asks the service's replicas to have reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions(Vec<(String, u64)>);

impl Positions {
    /// The positions of the request's `maillage-after` headers (none: empty).
    /// A malformed header is `INVALID_ARGUMENT` naming it.
    pub fn from_metadata(metadata: &MetadataMap) -> Result<Self, ServiceError> {
        let malformed = |why: &str| {
            ServiceError::invalid_argument(
                AFTER_HEADER,
                format!("{why}; expected `context=position[,context=position]`"),
            )
            .with_french(
                "L'en-tête maillage-after est mal formé : attendu « contexte=position[,…] ».",
            )
        };
        let mut pairs = Vec::new();
        for value in metadata.get_all(AFTER_HEADER) {
            let value = value.to_str().map_err(|_| malformed("not ASCII"))?;
            for pair in value.split(',') {
                let (context, position) = pair
                    .trim()
                    .split_once('=')
                    .ok_or_else(|| malformed("a pair lacks `=`"))?;
                let context = context.trim();
                if context.is_empty()
                    || context.len() > 32
                    || !context.bytes().all(|b| b.is_ascii_lowercase())
                {
                    return Err(malformed("a context is not a lowercase name"));
                }
                let position = position
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| malformed("a position is not a number"))?;
                pairs.push((context.to_owned(), position));
                if pairs.len() > MAX_PAIRS {
                    return Err(malformed("too many pairs"));
                }
            }
        }
        Ok(Self(pairs))
    }

    /// The highest position asked for `context`, if any.
    pub fn get(&self, context: &str) -> Option<u64> {
        self.0
            .iter()
            .filter(|(name, _)| name == context)
            .map(|(_, position)| *position)
            .max()
    }
}

impl<M: Model> Replica<M> {
    /// Waits (at most [`MAX_WAIT`]) until the replica has applied the
    /// position `positions` asks of its context; `UNAVAILABLE` if it has not.
    pub async fn reach(&self, positions: &Positions) -> Result<(), ServiceError> {
        let Some(wanted) = positions.get(M::CONTEXT) else {
            return Ok(());
        };
        let reached = self.wait_for(wanted, MAX_WAIT).await;
        if reached >= wanted {
            return Ok(());
        }
        Err(ServiceError::unavailable(
            format!(
                "this service has applied the {} log up to position {reached}, not yet {wanted}; retry",
                M::CONTEXT
            ),
            "Ce service n'a pas encore reçu vos dernières modifications : réessayez dans un \
             instant.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(values: &[&str]) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        for value in values {
            metadata.append(AFTER_HEADER, value.parse().unwrap());
        }
        metadata
    }

    #[test]
    fn pairs_are_read_from_every_header() {
        let positions = Positions::from_metadata(&metadata(&[
            "stakeholders=12, engagement=4",
            "stakeholders=20",
        ]))
        .unwrap();
        assert_eq!(positions.get("stakeholders"), Some(20));
        assert_eq!(positions.get("engagement"), Some(4));
        assert_eq!(positions.get("governance"), None);
        assert_eq!(
            Positions::from_metadata(&metadata(&[])).unwrap(),
            Positions::default()
        );
    }

    #[test]
    fn malformed_headers_are_refused_naming_the_header() {
        for bad in [
            "stakeholders",
            "stakeholders=x",
            "=3",
            "Stake=1",
            "a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9",
        ] {
            let error = Positions::from_metadata(&metadata(&[bad])).unwrap_err();
            assert!(
                matches!(&error, ServiceError::InvalidArgument { field, .. } if field == AFTER_HEADER),
                "{bad}: {error:?}"
            );
        }
    }
}
