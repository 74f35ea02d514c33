//! `SearchStakeholders`: one page of the register through its search index
//! (roles facilitator, analyst, auditor, admin).
//!
//! The request is checked whole (filters, order, page token) before any work;
//! then the search waits, bounded, for the index to reach the log's head as
//! of the request, so that what a client just recorded is found. Names are
//! shown as `GetStakeholder` shows them to the caller's role: a person's
//! names are opened from the key vault only for the page's rows the role may
//! see, and the page is returned only once each person whose names it shows
//! is recorded in the access journal.

use std::time::Duration;

use maillage_privacy::KeyVault;
use maillage_proto::v1 as pb;
use maillage_service_kit::{Reader, ServiceError};
use prost_types::Timestamp;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{blocking, StakeholdersService, READERS};
use crate::domain::timestamp;
use crate::search::filter::{is_current, Filter};
use crate::search::page::{search_id_of, DEFAULT_PAGE_SIZE};
use crate::search::state::{open_names, Entry};
use crate::search::{Found, IndexError, SearchIndex};
use crate::validate;

/// The longest a search waits for the index to reach the log's head.
pub(super) const CATCH_UP_WAIT: Duration = Duration::from_secs(2);

/// An index failure as a service error (never with personal data).
pub(super) fn index_error(error: IndexError) -> ServiceError {
    ServiceError::internal(error.to_string())
}

/// The themes of a bit set (bit n: `Theme` value n), in value order.
fn topics_of(bits: u64) -> Vec<i32> {
    (1..64).filter(|value| bits & (1 << value) != 0).collect()
}

/// A row of a page: `names` are a person's opened names when shown.
fn summary(
    id: &Uuid,
    entry: &Entry,
    names: Option<(String, String)>,
    now: &Timestamp,
) -> pb::StakeholderSummary {
    let (given_name, family_name) = names.unwrap_or_default();
    pb::StakeholderSummary {
        stakeholder_id: id.to_string(),
        r#type: entry.row.r#type,
        given_name,
        family_name,
        organisation_name: entry.row.organisation_name.clone(),
        person_kinds: entry.row.person_kinds.clone(),
        organisation_type: entry.row.organisation_type,
        commune_code: entry.row.commune_code.clone(),
        current_mandates: entry
            .row
            .mandates
            .iter()
            .filter(|mandate| is_current(mandate, now))
            .cloned()
            .collect(),
        consents: entry.row.consents.clone(),
        last_contact_at: entry.last_contact,
        contact_topics: topics_of(entry.topics),
        archived: entry.row.archived,
    }
}

/// The page's rows, each shown person's names opened; and the persons whose
/// names were opened (to journal).
fn rows(
    index: &SearchIndex,
    vault: &KeyVault,
    found: &Found,
    now: &Timestamp,
) -> Result<(Vec<pb::StakeholderSummary>, Vec<Uuid>), ServiceError> {
    let mut rows = Vec::with_capacity(found.rows.len());
    let mut opened = Vec::new();
    for (id, entry, shown) in &found.rows {
        let names = if *shown && entry.is_person() {
            let sealed = index.sealed_names(id).map_err(index_error)?;
            open_names(vault, id, &sealed).map_err(index_error)?
        } else {
            None
        };
        if names.is_some() {
            opened.push(*id);
        }
        rows.push(summary(id, entry, names, now));
    }
    Ok((rows, opened))
}

impl StakeholdersService {
    /// Waits, at most [`CATCH_UP_WAIT`], for the search index to reach the
    /// log's head as of now; UNAVAILABLE (retryable) if it does not.
    pub(super) async fn catch_up_search(&self) -> Result<(), Status> {
        let head = self.inner.store.head().position;
        let reached = self.inner.search.wait_for(head, CATCH_UP_WAIT).await;
        if reached < head {
            return Err(ServiceError::unavailable(
                format!("the search index is at position {reached} of the log's {head}; retry"),
                "L'index de recherche rattrape les dernières modifications : réessayez dans \
                 un instant.",
            )
            .into());
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(segment_id))]
    pub(super) async fn handle_search(
        &self,
        request: Request<pb::SearchStakeholdersRequest>,
    ) -> Result<Response<pb::SearchStakeholdersResponse>, Status> {
        let reader = Reader::admit(&request, READERS)?;
        let message = request.into_inner();
        let now = timestamp(self.now());
        let territory = self.inner.territory;
        let mut filters = vec![Filter::check(
            territory,
            "filter",
            message.filter.as_ref(),
            &now,
        )?];
        let sort = match message.sort {
            0 => pb::StakeholderSort::Name,
            value => validate::enum_value("sort", value)?,
        };
        let disclosure = reader.disclosure;
        let search = search_id_of(&message, disclosure.to_proto());
        let index = self.inner.search.clone();
        let page = index
            .pages()
            .page("page", message.page.as_ref(), &search, DEFAULT_PAGE_SIZE)?;
        if !message.segment_id.trim().is_empty() {
            let id = super::traced_id("segment_id", &message.segment_id)?;
            let segment = self.load_segment(&id)?;
            filters.push(Filter::check(
                territory,
                "segment.filter",
                segment.filter.as_ref(),
                &now,
            )?);
        }
        self.catch_up_search().await?;
        let vault = self.inner.vault.clone();
        let (found, rows, opened) = blocking(move || {
            let found = index
                .search(&filters, sort, message.descending, disclosure, &page, &now)
                .map_err(index_error)?;
            let (rows, opened) = rows(&index, &vault, &found, &now)?;
            Ok((found, rows, opened))
        })
        .await?;
        tracing::debug!(total = found.total, page = rows.len(), "search answered");
        self.inner
            .journal
            .record_each(&reader, "SearchStakeholders", "person", &opened)
            .await?;
        let next_page_token = found
            .next
            .as_ref()
            .map(|last| self.inner.search.pages().seal(&search, last))
            .unwrap_or_default();
        Ok(Response::new(pb::SearchStakeholdersResponse {
            stakeholders: rows,
            page: Some(pb::PageInfo { next_page_token }),
            total: found.total as u64,
            disclosure: disclosure.to_proto() as i32,
            index_position: found.position,
        }))
    }
}
