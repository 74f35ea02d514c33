//! Consortium RPCs: found, colleges, bodies, memberships, representatives,
//! the consortium view (members named from the register replica) and the
//! list of consortia.

use maillage_es::stream_id;
use maillage_proto::v1 as pv1;
use maillage_replica::{Expected, OrganisationType};
use maillage_service_kit::command_reply;
use maillage_territory::TerritoryLevel;
use tonic::{Request, Response, Status};
use tracing::field::Empty;
use uuid::Uuid;

use super::{
    authorize_read, derive_id, handle_error, invalid, load_existing, slug, GovernanceService,
    MAX_NAME, MAX_TEXT, MAX_WEIGHT, WRITERS,
};
use crate::domain::consortium::{
    majority_from_proto, BodyRules, ConsortiumChange, ConsortiumCommand, ConsortiumState,
    FoundConsortium, MembershipStatus,
};
use maillage_service_kit::{validate, RequestContext};

/// Stream category of consortia.
pub const CATEGORY: &str = "consortium";

impl GovernanceService {
    /// Runs a command on an existing consortium named by a request field.
    async fn on_consortium(
        &self,
        consortium_id: &Uuid,
        expected_version: Option<u64>,
        command: impl Into<ConsortiumCommand>,
        context: &maillage_service_kit::RequestContext,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let handled = self
            .inner
            .consortia
            .handle(
                &stream_id(CATEGORY, consortium_id),
                &command.into(),
                expected_version,
                &context.metadata(),
            )
            .await
            .map_err(|error| handle_error(error, consortium_id))?;
        Ok(Response::new(command_reply(consortium_id, &handled)))
    }

    /// The consortium's state for a cross-aggregate rule (NOT_FOUND when it does not exist).
    pub(super) async fn consortium_snapshot(&self, id: &Uuid) -> Result<ConsortiumState, Status> {
        let (_, state) = load_existing(
            &self.inner.consortia,
            &stream_id(CATEGORY, id),
            "consortium",
            id,
        )?;
        Ok(state)
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_found_consortium(
        &self,
        request: Request<pv1::FoundConsortiumRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let name = validate::required_text("name", &message.name, MAX_NAME)?;
        let founder = validate::id(
            "founding_collectivite_id",
            &message.founding_collectivite_id,
        )?;
        if message.territory.is_empty() {
            return Err(invalid("territory", "at least one territory is required"));
        }
        let mut territory = Vec::with_capacity(message.territory.len());
        for (index, place) in message.territory.iter().enumerate() {
            let level = match pv1::TerritoryLevel::try_from(place.level) {
                Ok(pv1::TerritoryLevel::Commune) => TerritoryLevel::Commune,
                Ok(pv1::TerritoryLevel::Epci) => TerritoryLevel::Epci,
                Ok(pv1::TerritoryLevel::Departement) => TerritoryLevel::Departement,
                Ok(pv1::TerritoryLevel::Region) => TerritoryLevel::Region,
                _ => {
                    return Err(invalid(
                        &format!("territory[{index}].level"),
                        "must be commune, epci, departement or region",
                    ))
                }
            };
            self.inner
                .territory
                .validate_code(level, place.code.trim())
                .map_err(|error| {
                    Status::from(
                        maillage_service_kit::ServiceError::invalid_argument(
                            format!("territory[{index}].code"),
                            error.to_string(),
                        )
                        .with_french(error.french()),
                    )
                })?;
            territory.push(pv1::TerritoryRef {
                level: place.level,
                code: place.code.trim().to_string(),
            });
        }
        let purpose = validate::required_text("purpose", &message.purpose, MAX_TEXT)?;
        let charter = validate::optional_text("charter", &message.charter, MAX_TEXT)?;
        self.register(&request).await?.expect(
            "founding_collectivite_id",
            &founder,
            Expected::OrganisationOf(OrganisationType::LocalAuthority),
        )?;
        let id = derive_id(CATEGORY, &context);
        tracing::Span::current().record("consortium_id", id.to_string());
        let command = ConsortiumCommand::Found(FoundConsortium {
            consortium_id: id,
            name,
            founding_collectivite_id: founder,
            territory,
            purpose,
            charter,
            now: self.now(),
        });
        self.on_consortium(&id, None, command, &context).await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_define_college(
        &self,
        request: Request<pv1::DefineCollegeRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let code = slug("college_code", &message.college_code)?;
        let name = validate::required_text("name", &message.name, MAX_NAME)?;
        if message.weight <= 0 || message.weight > MAX_WEIGHT {
            return Err(invalid(
                "weight",
                format!("must be from 1 to {MAX_WEIGHT}, got {}", message.weight),
            ));
        }
        let command = ConsortiumChange::DefineCollege {
            code,
            name,
            weight: message.weight as u64,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_establish_body(
        &self,
        request: Request<pv1::EstablishBodyRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let code = slug("body_code", &message.body_code)?;
        let kind = match pv1::BodyKind::try_from(message.kind) {
            Ok(pv1::BodyKind::Unspecified) | Err(_) => {
                return Err(invalid("kind", "must be a body kind"))
            }
            Ok(kind) => kind,
        };
        let name = validate::required_text("name", &message.name, MAX_NAME)?;
        if message.college_codes.is_empty() {
            return Err(invalid(
                "college_codes",
                "at least one college sits in a body",
            ));
        }
        let mut colleges: Vec<String> = Vec::with_capacity(message.college_codes.len());
        for (index, code) in message.college_codes.iter().enumerate() {
            let field = format!("college_codes[{index}]");
            let code = slug(&field, code)?;
            if colleges.contains(&code) {
                return Err(invalid(&field, format!("college {code} is listed twice")));
            }
            colleges.push(code);
        }
        let Some(rules) = &message.rules else {
            return Err(invalid("rules", "is required"));
        };
        let quorum = rules.quorum.unwrap_or_default();
        if quorum.denominator == 0 || quorum.numerator == 0 || quorum.numerator > quorum.denominator
        {
            return Err(invalid(
                "rules.quorum",
                format!(
                    "must be a fraction in (0, 1], got {}/{}",
                    quorum.numerator, quorum.denominator
                ),
            ));
        }
        let Some(majority) = majority_from_proto(rules.majority) else {
            return Err(invalid(
                "rules.majority",
                "must be simple, absolute or two-thirds",
            ));
        };
        let command = ConsortiumChange::EstablishBody {
            code,
            kind,
            name,
            colleges,
            rules: BodyRules {
                quorum_numerator: quorum.numerator,
                quorum_denominator: quorum.denominator,
                majority,
                max_proxies_per_member: rules.max_proxies_per_member,
            },
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_apply_for_membership(
        &self,
        request: Request<pv1::ApplyForMembershipRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let member_id = validate::id("organisation_id", &message.organisation_id)?;
        let college = slug("college_code", &message.college_code)?;
        self.register(&request).await?.expect(
            "organisation_id",
            &member_id,
            Expected::Organisation,
        )?;
        let command = ConsortiumChange::Apply {
            member_id,
            college,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_admit_member(
        &self,
        request: Request<pv1::AdmitMemberRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let member_id = validate::id("member_id", &message.member_id)?;
        let command = ConsortiumChange::Admit {
            member_id,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_refuse_membership(
        &self,
        request: Request<pv1::RefuseMembershipRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let member_id = validate::id("member_id", &message.member_id)?;
        let reason = validate::required_text("reason", &message.reason, MAX_TEXT)?;
        let command = ConsortiumChange::Refuse {
            member_id,
            reason,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_record_withdrawal(
        &self,
        request: Request<pv1::RecordWithdrawalRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let member_id = validate::id("member_id", &message.member_id)?;
        let reason = validate::optional_text("reason", &message.reason, MAX_TEXT)?;
        let command = ConsortiumChange::Withdraw {
            member_id,
            reason,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_appoint_representative(
        &self,
        request: Request<pv1::AppointRepresentativeRequest>,
    ) -> Result<Response<pv1::CommandReply>, Status> {
        let message = request.get_ref();
        let context = RequestContext::authorize(
            &request,
            &message.request_id,
            &self.inner.fingerprints,
            WRITERS,
        )?;
        let id = validate::id("consortium_id", &message.consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let member_id = validate::id("member_id", &message.member_id)?;
        let person_id = validate::id("person_id", &message.person_id)?;
        self.register(&request)
            .await?
            .expect("person_id", &person_id, Expected::Person)?;
        let command = ConsortiumChange::AppointRepresentative {
            member_id,
            person_id,
            now: self.now(),
        };
        self.on_consortium(&id, message.expected_version, command, &context)
            .await
    }

    #[tracing::instrument(skip_all, fields(consortium_id = Empty))]
    pub(super) async fn handle_get_consortium(
        &self,
        request: Request<pv1::GetConsortiumRequest>,
    ) -> Result<Response<pv1::ConsortiumView>, Status> {
        authorize_read(&request)?;
        let id = validate::id("consortium_id", &request.get_ref().consortium_id)?;
        tracing::Span::current().record("consortium_id", tracing::field::display(&id));
        let (version, state) = load_existing(
            &self.inner.consortia,
            &stream_id(CATEGORY, &id),
            "consortium",
            &id,
        )?;
        let register = self.register(&request).await?;
        Ok(Response::new(view(&id, version, &state, &|member| {
            register.organisation_name(member)
        })))
    }

    /// Every consortium of the log, found by a scan of the log for
    /// `ConsortiumFounded` (governance's log is small: consortia, their
    /// meetings and commitments), each read through the command loop's cache.
    pub(super) async fn handle_list_consortia(
        &self,
        request: Request<pv1::ListConsortiaRequest>,
    ) -> Result<Response<pv1::ConsortiumList>, Status> {
        authorize_read(&request)?;
        let store = self.inner.store.clone();
        let ids = tokio::task::spawn_blocking(move || founded(&store))
            .await
            .map_err(|error| Status::internal(format!("scan task: {error}")))??;
        let mut consortia = ids
            .iter()
            .map(|id| {
                let (_, state) = load_existing(
                    &self.inner.consortia,
                    &stream_id(CATEGORY, id),
                    "consortium",
                    id,
                )?;
                Ok(pv1::ConsortiumSummary {
                    consortium_id: id.to_string(),
                    name: state
                        .founding
                        .as_ref()
                        .map(|f| f.name.clone())
                        .unwrap_or_default(),
                    member_count: state
                        .members
                        .values()
                        .filter(|m| m.status == MembershipStatus::Admitted)
                        .count() as u32,
                })
            })
            .collect::<Result<Vec<_>, Status>>()?;
        consortia.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.consortium_id)
                .cmp(&(b.name.to_lowercase(), &b.consortium_id))
        });
        Ok(Response::new(pv1::ConsortiumList { consortia }))
    }
}

/// Events read per step of the log scan.
const SCAN_CHUNK: usize = 4_096;

/// The ids of the consortia founded in `store`, in the order founded.
fn founded(store: &maillage_eventstore::EventStore) -> Result<Vec<Uuid>, Status> {
    let mut ids = Vec::new();
    let mut from = 1;
    loop {
        let chunk = store
            .read_all(from, SCAN_CHUNK)
            .map_err(|error| Status::internal(format!("governance log: {error}")))?;
        ids.extend(chunk.iter().filter_map(|record| {
            let stream = record.stream_id.as_str();
            let id = stream.strip_prefix(CATEGORY)?.strip_prefix('-')?;
            (record.version == 1).then(|| Uuid::try_parse(id).ok())?
        }));
        match chunk.last() {
            Some(last) if chunk.len() == SCAN_CHUNK => from = last.position + 1,
            _ => return Ok(ids),
        }
    }
}

/// The consortium as its readers see it, its members named by `name_of`.
pub fn view(
    id: &Uuid,
    version: u64,
    state: &ConsortiumState,
    name_of: &dyn Fn(&str) -> Option<String>,
) -> pv1::ConsortiumView {
    let member =
        |(member_id, m): (&String, &crate::domain::consortium::Membership)| pv1::ConsortiumMember {
            member_id: member_id.clone(),
            college_code: m.college.clone(),
            status: m.status.to_proto() as i32,
            representative_id: m.representative.clone().unwrap_or_default(),
            reason: m.reason.clone(),
            display_name: name_of(member_id).unwrap_or_default(),
        };
    let founding = state.founding.clone();
    pv1::ConsortiumView {
        consortium_id: id.to_string(),
        version,
        name: founding
            .as_ref()
            .map(|f| f.name.clone())
            .unwrap_or_default(),
        founding_collectivite_id: founding
            .as_ref()
            .map(|f| f.founding_collectivite_id.clone())
            .unwrap_or_default(),
        territory: founding
            .as_ref()
            .map(|f| f.territory.clone())
            .unwrap_or_default(),
        purpose: founding
            .as_ref()
            .map(|f| f.purpose.clone())
            .unwrap_or_default(),
        charter: founding
            .as_ref()
            .map(|f| f.charter.clone())
            .unwrap_or_default(),
        founded_at: founding.as_ref().map(|f| f.founded_at),
        colleges: state
            .colleges
            .iter()
            .map(|(code, college)| pv1::ConsortiumCollege {
                college_code: code.clone(),
                name: college.name.clone(),
                weight: college.weight as i64,
                members: state
                    .members
                    .iter()
                    .filter(|(_, m)| m.status == MembershipStatus::Admitted && m.college == *code)
                    .map(member)
                    .collect(),
            })
            .collect(),
        bodies: state
            .bodies
            .iter()
            .map(|(code, body)| pv1::ConsortiumBody {
                body_code: code.clone(),
                kind: body.kind as i32,
                name: body.name.clone(),
                college_codes: body.colleges.clone(),
                rules: Some(body.rules.to_proto()),
            })
            .collect(),
        memberships: state.members.iter().map(member).collect(),
    }
}
