//! Survey slugs, the short names of public addresses (`/enquete/<slug>`):
//! their rule (3 to 64 of a-z, 0-9 and '-', not a UUID) and the index of
//! those in use, slug → survey id. The index is built from the log's
//! `SurveyDrafted` events on first use and kept in memory, like the reference
//! guards: each log has exactly one writing process, and every draft naming a
//! slug holds the index's lock from its check until its append is durable, so
//! two drafts cannot both take one slug.

use std::collections::HashMap;

use maillage_eventstore::{EventStore, StoreError};
use maillage_proto::v1 as pb;
use maillage_service_kit::ServiceError;
use prost::{Message, Name};
use tokio::sync::{Mutex, MutexGuard};
use tonic::Status;
use uuid::Uuid;

use super::invalid;

/// Events read from the log at a time while building the index.
const CHUNK: usize = 4_096;
/// Slug lengths.
const MIN_SLUG: usize = 3;
const MAX_SLUG: usize = 64;

/// The slug of a draft request: `None` when empty, else checked.
pub(crate) fn checked(field: &str, slug: &str) -> Result<Option<String>, Status> {
    if slug.is_empty() {
        return Ok(None);
    }
    let allowed = (MIN_SLUG..=MAX_SLUG).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !allowed {
        return Err(invalid(
            field,
            format!("{MIN_SLUG} to {MAX_SLUG} characters of a-z, 0-9 and '-'"),
        ));
    }
    if Uuid::try_parse(slug).is_ok() {
        return Err(invalid(field, "a UUID is a survey id, not a slug"));
    }
    Ok(Some(slug.to_owned()))
}

/// The slugs in use, built on first use.
#[derive(Default)]
pub(crate) struct Slugs {
    index: Mutex<Option<HashMap<String, Uuid>>>,
}

/// The index, locked: drafts naming a slug hold it until their append.
pub(crate) struct Locked<'a>(MutexGuard<'a, Option<HashMap<String, Uuid>>>);

impl Slugs {
    /// The index, locked (built from `store` the first time).
    pub(crate) async fn lock(&self, store: &EventStore) -> Result<Locked<'_>, Status> {
        let mut index = self.index.lock().await;
        if index.is_none() {
            let store = store.clone();
            let built = tokio::task::spawn_blocking(move || build(&store))
                .await
                .map_err(|error| Status::internal(format!("slug index task: {error}")))?
                .map_err(|error| ServiceError::internal(format!("slug index: {error}")))?;
            *index = Some(built);
        }
        Ok(Locked(index))
    }
}

impl Locked<'_> {
    /// The survey that has `slug`.
    pub(crate) fn survey(&self, slug: &str) -> Option<Uuid> {
        self.0.as_ref().and_then(|index| index.get(slug)).copied()
    }

    /// Records that `survey` has `slug` (once its draft is durable).
    pub(crate) fn insert(&mut self, slug: String, survey: Uuid) {
        if let Some(index) = self.0.as_mut() {
            index.insert(slug, survey);
        }
    }
}

/// Every slug the log's `SurveyDrafted` events name.
fn build(store: &EventStore) -> Result<HashMap<String, Uuid>, StoreError> {
    let mut index = HashMap::new();
    let mut from = 1;
    loop {
        let records = store.read_all(from, CHUNK)?;
        for record in &records {
            if record.event_type.strip_prefix("maillage.v1.") != Some(pb::SurveyDrafted::NAME) {
                continue;
            }
            // The log's events decode (the command loop wrote them); one
            // that does not names no slug.
            let Ok(drafted) = pb::SurveyDrafted::decode(record.payload.as_slice()) else {
                continue;
            };
            if let (false, Ok(id)) = (drafted.slug.is_empty(), drafted.survey_id.parse()) {
                index.insert(drafted.slug, id);
            }
        }
        match records.last() {
            Some(last) if records.len() == CHUNK => from = last.position + 1,
            _ => return Ok(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_short_lowercase_letters_digits_and_hyphens_and_no_uuid() {
        assert_eq!(
            checked("slug", "tiers-lieu-2027").unwrap(),
            Some("tiers-lieu-2027".to_owned())
        );
        assert_eq!(checked("slug", "").unwrap(), None);
        for bad in [
            "ab",
            "Tiers-Lieu",
            "tiers lieu",
            "tiers_lieu",
            "élan",
            &"a".repeat(65),
            "0190d3a0-0000-7000-8000-000000000000",
        ] {
            let refused = checked("slug", bad).unwrap_err();
            assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{bad}");
            assert!(refused.message().starts_with("slug: "), "{bad}");
        }
    }
}
