//! Segments, the register's saved searches: `DefineSegment` (facilitator,
//! admin) records a `SegmentDefined` fact; `GetSegment` reads the segment's
//! stream (read-your-writes); `ListSegments` pages through the search index
//! (readers).
//!
//! A segment's name, description and filter are recorded in clear, so the
//! filter is checked as a search's and may not hold a name query.

use maillage_es::stream_id;
use maillage_proto::v1 as pb;
use maillage_service_kit::{require, Refusal, RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::WRITERS;
use super::{handle_error, run, StakeholdersService, READERS, SEGMENT};
use crate::domain::segment::{SegmentCommand, SegmentError};
use crate::domain::timestamp;
use crate::search::filter::Filter;
use crate::search::page::search_id;
use crate::validate::{self, MAX_LABEL, MAX_SHORT_TEXT};

/// Segments per page when the request says 0.
const DEFAULT_SEGMENTS_PAGE: usize = 100;

/// How a segment's refusal reads for the caller.
impl Refusal for SegmentError {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            SegmentError::AlreadyDefined => ServiceError::already_exists("segment", id.to_string()),
            SegmentError::NotFound => ServiceError::not_found("segment", id.to_string()),
        }
    }
}

impl StakeholdersService {
    /// Segment `id` as of now; NOT_FOUND when never defined.
    pub(super) fn load_segment(&self, id: &Uuid) -> Result<pb::Segment, Status> {
        let (version, state) = self
            .inner
            .segments
            .load(&stream_id(SEGMENT, id))
            .map_err(|error| handle_error(error, id))?;
        let defined = state
            .definition
            .ok_or_else(|| ServiceError::not_found("segment", id.to_string()))?;
        Ok(pb::Segment {
            segment_id: id.to_string(),
            version,
            name: defined.name,
            description: defined.description,
            filter: defined.filter,
            defined_at: defined.defined_at,
            defined_by: defined.defined_by,
        })
    }

    #[tracing::instrument(skip_all, fields(segment_id))]
    pub(super) async fn handle_define_segment(
        &self,
        request: Request<pb::DefineSegmentRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let name = validate::required_line("name", &message.name, MAX_LABEL)?;
        let description =
            validate::optional_text("description", &message.description, MAX_SHORT_TEXT)?;
        let filter = message.filter.unwrap_or_default();
        if !filter.name_query.is_empty() {
            return Err(ServiceError::invalid_argument(
                "filter.name_query",
                "a segment cannot hold a name query: it would be recorded in clear",
            )
            .into());
        }
        let now = self.now();
        Filter::check(
            self.inner.territory,
            "filter",
            Some(&filter),
            &timestamp(now),
        )?;
        let (id, new) = if message.segment_id.trim().is_empty() {
            (self.allocate(SEGMENT, &context)?, true)
        } else {
            (super::traced_id("segment_id", &message.segment_id)?, false)
        };
        tracing::Span::current().record("segment_id", tracing::field::display(&id));
        let command = SegmentCommand::Define {
            segment_id: id.to_string(),
            new,
            name,
            description,
            filter,
            actor: context.principal.name.clone(),
            now,
        };
        run(
            &self.inner.segments,
            &stream_id(SEGMENT, &id),
            &id,
            &command,
            message.expected_version,
            &context,
        )
        .await
    }

    #[tracing::instrument(skip_all, fields(segment_id))]
    pub(super) async fn handle_get_segment(
        &self,
        request: Request<pb::GetSegmentRequest>,
    ) -> Result<Response<pb::Segment>, Status> {
        require(&request, READERS)?;
        let id = super::traced_id("segment_id", &request.get_ref().segment_id)?;
        Ok(Response::new(self.load_segment(&id)?))
    }

    #[tracing::instrument(skip_all)]
    pub(super) async fn handle_list_segments(
        &self,
        request: Request<pb::ListSegmentsRequest>,
    ) -> Result<Response<pb::ListSegmentsResponse>, Status> {
        require(&request, READERS)?;
        let search = search_id(&[b"segments"]);
        let index = self.inner.search.clone();
        let page = index.pages().page(
            "page",
            request.get_ref().page.as_ref(),
            &search,
            DEFAULT_SEGMENTS_PAGE,
        )?;
        self.catch_up_search().await?;
        let (segments, next) = index.segments(&page);
        let next_page_token = next
            .as_ref()
            .map(|last| index.pages().seal(&search, last))
            .unwrap_or_default();
        Ok(Response::new(pb::ListSegmentsResponse {
            segments,
            page: Some(pb::PageInfo { next_page_token }),
        }))
    }
}
