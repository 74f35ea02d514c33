//! `ExportAudience`: purpose-limited audiences for internal tools (roles
//! `tool`, `facilitator`, `admin`; an analyst or an auditor is refused: an
//! export holds contact details).
//!
//! The request is checked whole first (channel, purpose, filter without a
//! name query, segment, page token). The search index then finds, one page at
//! a time in commune order, the persons the segment and the filter find whose
//! consent on the channel covers the purpose, not archived, not erased; each
//! is checked again against their own stream (the log, read-your-writes: a
//! consent withdrawn a moment before excludes them) and only the fields the
//! channel needs are opened from the key vault. Before the page is returned,
//! an `AudienceExported` fact (who, segment, filter, channel, purpose, how
//! many: no personal data) is recorded in a stream `audience-<id>` of its
//! own, and each person shown in the access journal.

use maillage_es::stream_id;
use maillage_privacy::{KeyVault, Opened, SubjectId};
use maillage_proto::v1 as pb;
use maillage_service_kit::{command_error, Disclosure, Reader, Refusal, Role, ServiceError};
use prost::Message;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::register::person_fields;
use super::search::index_error;
use super::{blocking, privacy_error, run, StakeholdersService, AUDIENCE, STAKEHOLDER};
use crate::domain::audience::{AudienceCommand, AudienceError};
use crate::domain::stakeholder::{covers, Profile, StakeholderState};
use crate::domain::timestamp;
use crate::search::filter::Filter;
use crate::search::page::{search_id, DEFAULT_PAGE_SIZE};
use crate::validate;

/// Roles that may export an audience (admin passes every check).
pub(crate) const AUDIENCE_EXPORTERS: &[Role] = &[Role::Tool, Role::Facilitator, Role::Admin];

/// The one contact field a channel needs, as a person's field name.
fn channel_field(channel: pb::ConsentChannel) -> &'static str {
    match channel {
        pb::ConsentChannel::Email => person_fields::EMAIL,
        pb::ConsentChannel::Phone | pb::ConsentChannel::Sms => person_fields::PHONE,
        pb::ConsentChannel::Post | pb::ConsentChannel::Unspecified => person_fields::POSTAL_ADDRESS,
    }
}

/// Opens one sealed field: `None` when the person's key was destroyed.
fn open(
    vault: &KeyVault,
    subject: &SubjectId,
    field: &str,
    sealed: &[u8],
) -> Result<Option<String>, ServiceError> {
    if sealed.is_empty() {
        return Ok(Some(String::new()));
    }
    Ok(
        match vault
            .open_str(subject, field, sealed)
            .map_err(privacy_error)?
        {
            Opened::Clear(text) => Some(text),
            Opened::Erased => None,
        },
    )
}

/// What one person of a page gives: a member, nothing (no longer in the
/// audience as their stream has it now), or no address for the channel.
enum Row {
    Member(pb::AudienceMember),
    Gone,
    WithoutAddress,
}

/// Person `state`'s row of an audience on `channel` for `purpose`, checked
/// against their stream and opened with `vault`.
fn member(
    vault: &KeyVault,
    state: &StakeholderState,
    channel: pb::ConsentChannel,
    purpose: pb::ConsentPurpose,
) -> Result<Row, ServiceError> {
    let Some(Profile::Person(sealed)) = &state.profile else {
        return Ok(Row::Gone);
    };
    let consented = state
        .consents
        .values()
        .any(|consent| covers(consent, channel as i32, purpose as i32));
    if state.is_erasing() || state.archived || !consented {
        return Ok(Row::Gone);
    }
    let subject = SubjectId::person(state.id.clone());
    let field = channel_field(channel);
    let sealed_field = match field {
        person_fields::EMAIL => &sealed.sealed_email,
        person_fields::PHONE => &sealed.sealed_phone,
        _ => &sealed.sealed_postal_address,
    };
    if sealed_field.is_empty() {
        return Ok(Row::WithoutAddress);
    }
    let opened = (
        open(vault, &subject, field, sealed_field)?,
        open(
            vault,
            &subject,
            person_fields::GIVEN_NAME,
            &sealed.sealed_given_name,
        )?,
        open(
            vault,
            &subject,
            person_fields::FAMILY_NAME,
            &sealed.sealed_family_name,
        )?,
    );
    let (Some(value), Some(given_name), Some(family_name)) = opened else {
        // Keys destroyed (an erasure under way).
        return Ok(Row::Gone);
    };
    let mut member = pb::AudienceMember {
        stakeholder_id: state.id.clone(),
        given_name,
        family_name,
        ..Default::default()
    };
    match field {
        person_fields::EMAIL => member.email = value,
        person_fields::PHONE => member.phone = value,
        _ => member.postal_address = value,
    }
    Ok(Row::Member(member))
}

impl Refusal for AudienceError {
    fn service_error(self, id: &Uuid) -> ServiceError {
        match self {
            AudienceError::AlreadyRecorded => {
                ServiceError::already_exists("audience export", id.to_string())
            }
        }
    }
}

impl StakeholdersService {
    #[tracing::instrument(skip_all, fields(segment_id, export_id))]
    pub(super) async fn handle_export_audience(
        &self,
        request: Request<pb::ExportAudienceRequest>,
    ) -> Result<Response<pb::ExportAudienceResponse>, Status> {
        let mut reader = Reader::admit(&request, AUDIENCE_EXPORTERS)?;
        let message = request.into_inner();
        let channel: pb::ConsentChannel = validate::enum_value("channel", message.channel)?;
        let purpose: pb::ConsentPurpose = validate::enum_value("purpose", message.purpose)?;
        let filter = message.filter.clone().unwrap_or_default();
        if !filter.name_query.trim().is_empty() {
            return Err(ServiceError::invalid_argument(
                "filter.name_query",
                "an audience is not looked up by name",
            )
            .into());
        }
        let now = timestamp(self.now());
        let territory = self.inner.territory;
        let consent = pb::StakeholderFilter {
            r#type: pb::StakeholderType::Person as i32,
            consent: Some(pb::ConsentFilter {
                channel: channel as i32,
                legal_basis: 0,
                purpose: purpose as i32,
            }),
            // Never an archived person, whatever the filter says.
            archived: pb::ArchivedFilter::NotArchived as i32,
            ..Default::default()
        };
        let mut filters = vec![
            Filter::check(territory, "filter", Some(&filter), &now)?,
            Filter::check(territory, "channel", Some(&consent), &now)?,
        ];
        let segment_id = if message.segment_id.trim().is_empty() {
            None
        } else {
            Some(super::traced_id("segment_id", &message.segment_id)?)
        };
        let search = search_id(&[
            b"audience",
            &filter.encode_to_vec(),
            message.segment_id.trim().as_bytes(),
            &(channel as i32).to_be_bytes(),
            &(purpose as i32).to_be_bytes(),
        ]);
        let index = self.inner.search.clone();
        let page = index
            .pages()
            .page("page", message.page.as_ref(), &search, DEFAULT_PAGE_SIZE)?;
        let continued = page.after.is_some();
        if let Some(id) = &segment_id {
            let segment = self.load_segment(id)?;
            filters.push(Filter::check(
                territory,
                "segment.filter",
                segment.filter.as_ref(),
                &now,
            )?);
        }
        self.catch_up_search().await?;
        let service = self.clone();
        let (found, members, without_address) = blocking(move || {
            let found = index
                .search(
                    &filters,
                    pb::StakeholderSort::Commune,
                    false,
                    Disclosure::Full,
                    &page,
                    &now,
                )
                .map_err(index_error)?;
            let vault = service.inner.vault.clone();
            let mut members = Vec::with_capacity(found.rows.len());
            let mut without_address = 0u32;
            for (id, _, _) in &found.rows {
                let (_, state) = service
                    .inner
                    .stakeholders
                    .load(&stream_id(STAKEHOLDER, id))
                    .map_err(|error| command_error(error, id))?;
                match member(&vault, &state, channel, purpose)? {
                    Row::Member(member) => members.push(member),
                    Row::WithoutAddress => without_address += 1,
                    Row::Gone => {}
                }
            }
            Ok((found, members, without_address))
        })
        .await?;
        let export_id = Uuid::now_v7();
        tracing::Span::current().record("export_id", tracing::field::display(&export_id));
        let exported = pb::AudienceExported {
            export_id: export_id.to_string(),
            segment_id: segment_id.map(|id| id.to_string()).unwrap_or_default(),
            filter: Some(filter),
            channel: channel as i32,
            purpose: purpose as i32,
            exported: members.len() as u32,
            total: found.total as u64,
            continued,
            exported_at: Some(now),
            exported_by: reader.context.principal.name.clone(),
        };
        run(
            &self.inner.audiences,
            &stream_id(AUDIENCE, &export_id),
            &export_id,
            &AudienceCommand::Record(exported),
            None,
            &reader.context,
        )
        .await?;
        // The journal says what was shown: names and one contact field, for a purpose.
        reader.disclosure = Disclosure::Full;
        if reader.purpose.is_empty() {
            reader.purpose = format!(
                "audience {} / {}",
                purpose.as_str_name(),
                channel.as_str_name()
            );
        }
        let shown: Vec<Uuid> = members
            .iter()
            .filter_map(|member| Uuid::try_parse(&member.stakeholder_id).ok())
            .collect();
        self.inner
            .journal
            .record_each(&reader, "ExportAudience", "person", &shown)
            .await?;
        tracing::debug!(
            total = found.total,
            exported = members.len(),
            without_address,
            "audience exported"
        );
        let next_page_token = found
            .next
            .as_ref()
            .map(|last| self.inner.search.pages().seal(&search, last))
            .unwrap_or_default();
        Ok(Response::new(pb::ExportAudienceResponse {
            members,
            page: Some(pb::PageInfo { next_page_token }),
            total: found.total as u64,
            without_address,
            export_id: export_id.to_string(),
        }))
    }
}
