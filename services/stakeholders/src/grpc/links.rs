//! Links between organisations (role facilitator or admin):
//! `LinkOrganisations` records `OrganisationLinked` in the first
//! organisation's stream once the other is checked to be another registered
//! organisation, not archived; `EndOrganisationLink` ends it as
//! `EndAffiliation` ends an affiliation (an unknown link is NOT_FOUND).
//! `GetStakeholder` shows a link on both organisations ([`incoming_links`]
//! reads the other side from the search index).

use maillage_es::stream_id;
use maillage_proto::v1 as pb;
use maillage_service_kit::{RequestContext, ServiceError};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::WRITERS;
use super::{StakeholdersService, STAKEHOLDER};
use crate::domain::stakeholder::StakeholderCommand;
use crate::domain::ts_key;
use crate::ids::derived_id;
use crate::validate;

impl StakeholdersService {
    /// The links other organisations recorded towards organisation `id`, as
    /// the search index holds them (it waits, bounded, for the index to reach
    /// the log's head; past that it answers with what the index holds).
    pub(super) async fn incoming_links(&self, id: &Uuid) -> Vec<pb::OrganisationLink> {
        if let Err(status) = self.catch_up_search().await {
            tracing::warn!(
                message = status.message(),
                "incoming organisation links may be incomplete"
            );
        }
        let state = self.inner.search.read();
        let own = id.to_string();
        state
            .entries
            .get(id)
            .map(|entry| {
                entry
                    .row
                    .organisation_links
                    .iter()
                    .filter(|link| {
                        link.linked_organisation_id == own && link.organisation_id != own
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `links` of both sides, in the order started (then by id).
    pub(super) fn sorted_links(mut links: Vec<pb::OrganisationLink>) -> Vec<pb::OrganisationLink> {
        links.sort_by(|a, b| {
            let start = |link: &pb::OrganisationLink| link.started_at.as_ref().map(ts_key);
            start(a)
                .cmp(&start(b))
                .then_with(|| a.link_id.cmp(&b.link_id))
        });
        links
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id, linked_organisation_id))]
    pub(super) async fn handle_link_organisations(
        &self,
        request: Request<pb::LinkOrganisationsRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let kind: pb::OrganisationLinkKind = validate::enum_value("kind", message.kind)?;
        let other = super::traced_id("linked_organisation_id", &message.linked_organisation_id)?;
        let started_at = validate::instant("started_at", message.started_at.as_ref())?;
        if other == id {
            return Err(ServiceError::invalid_argument(
                "linked_organisation_id",
                "an organisation cannot be linked to itself",
            )
            .into());
        }
        self.check_organisation_named("linked_organisation_id", &other, "the linked organisation")?;
        let command = StakeholderCommand::LinkOrganisation {
            link_id: derived_id(
                &stream_id(STAKEHOLDER, &id),
                &context.request_id,
                "organisation-link",
                0,
            ),
            kind,
            linked_organisation_id: other.to_string(),
            started_at,
        };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_end_organisation_link(
        &self,
        request: Request<pb::EndOrganisationLinkRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        let link_id = validate::id("link_id", &message.link_id)?.to_string();
        let ended_at = validate::instant("ended_at", message.ended_at.as_ref())?;
        let command = StakeholderCommand::EndOrganisationLink { link_id, ended_at };
        self.run_stakeholder(&id, command, message.expected_version, &context)
            .await
    }
}
