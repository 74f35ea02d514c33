//! Reads by purpose and the access journal (DESIGN.md §6).
//!
//! - [`Disclosure`]: what a caller's role may see of personal data: `facilitator`
//!   and `admin` everything ([`Disclosure::Full`]), `auditor` the names of
//!   persons in a public role ([`Disclosure::PublicRoles`]), `analyst`
//!   nothing personal ([`Disclosure::Pseudonymous`]).
//! - [`Reader`]: who reads, for what purpose (the [`PURPOSE_HEADER`] request
//!   header, sanitised) and what they may see; built first thing in a read.
//! - [`AccessJournal`]: a hash-chained log of its own (an [`EventStore`] over
//!   its own sled tree) where every read that returns decrypted personal data
//!   appends a [`pb::PersonalDataRead`] entry; [`AccessJournal::record`]
//!   returns once the entry is durable, and a read returns its data only
//!   after that (else it fails). The journal holds ids, principals, RPC names
//!   and purposes: no personal data.
//! - [`AccessJournalService`]: the `maillage.v1.AccessJournal` gRPC service
//!   (`ListAccess`, `VerifyAccess`) for `admin` and `auditor`.

use std::collections::BTreeMap;

use maillage_eventstore::{
    Direction, EventData, EventStore, ExpectedVersion, RecordedEvent, Verification,
};
use maillage_proto::v1 as pb;
use maillage_proto::v1::access_journal_server::{
    AccessJournal as AccessJournalRpc, AccessJournalServer,
};
use prost::{Message, Name};
use tonic::{Request, Response, Status};

use crate::auth::{Principal, Role};
use crate::context::RequestContext;
use crate::error::{OrStatus, ServiceError};

/// The request header that says why personal data is read (free text).
pub const PURPOSE_HEADER: &str = "maillage-purpose";
/// Longest purpose kept, in characters (a longer one is cut).
pub const MAX_PURPOSE_CHARS: usize = 200;
/// The sled tree of a service's access journal, in the service's database.
pub const ACCESS_TREE: &str = "access.journal";
/// Stream category of the journal's entries: `subject-<subject id>`.
pub const SUBJECT_CATEGORY: &str = "subject";
/// Roles that may read the journal (admin passes every check).
const JOURNAL_READERS: [Role; 1] = [Role::Auditor];
/// Entries returned when a list asks for 0.
const DEFAULT_LIST_LIMIT: usize = 1_000;
/// Most entries one list returns.
const MAX_LIST_LIMIT: usize = 10_000;

/// What a read may show of personal data, by the caller's purpose (role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// facilitator, admin: every personal field.
    Full,
    /// auditor: who contacted whom, when and how, and the names of persons in
    /// a public role (élus, organisations' representatives); no contact
    /// detail, postal address, notes or free text.
    PublicRoles,
    /// analyst (or any other reader): ids, kinds, communes, dates and
    /// organisations; no personal field.
    Pseudonymous,
}

impl Disclosure {
    /// The widest disclosure `principal`'s roles allow.
    pub fn of(principal: &Principal) -> Self {
        let holds = |role| principal.roles.contains(&role);
        if holds(Role::Admin) || holds(Role::Facilitator) {
            Disclosure::Full
        } else if holds(Role::Auditor) {
            Disclosure::PublicRoles
        } else {
            Disclosure::Pseudonymous
        }
    }

    /// Whether every personal field may be shown.
    pub fn is_full(self) -> bool {
        self == Disclosure::Full
    }

    /// The names of persons in a public role may be shown.
    pub fn shows_public_names(self) -> bool {
        matches!(self, Disclosure::Full | Disclosure::PublicRoles)
    }

    /// Its value on the wire.
    pub fn to_proto(self) -> pb::Disclosure {
        match self {
            Disclosure::Full => pb::Disclosure::Full,
            Disclosure::PublicRoles => pb::Disclosure::PublicRoles,
            Disclosure::Pseudonymous => pb::Disclosure::Pseudonymous,
        }
    }
}

/// The purpose a request gives in [`PURPOSE_HEADER`]: decoded as UTF-8 (bad
/// bytes replaced), control characters turned into spaces, blanks collapsed,
/// trimmed, cut at [`MAX_PURPOSE_CHARS`]; empty when absent. It is never
/// refused: it is recorded as given, within those bounds.
pub fn purpose<T>(request: &Request<T>) -> String {
    request
        .metadata()
        .get(PURPOSE_HEADER)
        .map(|value| sanitise_purpose(value.as_bytes()))
        .unwrap_or_default()
}

/// See [`purpose`].
pub fn sanitise_purpose(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut clean = String::new();
    let mut count = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = count > 0;
            continue;
        }
        let needed = if pending_space { 2 } else { 1 };
        if count + needed > MAX_PURPOSE_CHARS {
            break;
        }
        if pending_space {
            clean.push(' ');
            pending_space = false;
            count += 1;
        }
        clean.push(c);
        count += 1;
    }
    clean
}

/// Who reads, why, and what they may see: built from the request before the
/// handler consumes it.
#[derive(Debug, Clone)]
pub struct Reader {
    /// The caller and the request's ids.
    pub context: RequestContext,
    /// The sanitised purpose (see [`purpose`]).
    pub purpose: String,
    /// What the caller's roles may see.
    pub disclosure: Disclosure,
}

impl Reader {
    /// The reader of `request`, once its principal holds one of `roles`
    /// (admin passes); PERMISSION_DENIED otherwise, UNAUTHENTICATED without one.
    pub fn admit<T>(request: &Request<T>, roles: &[Role]) -> Result<Self, Status> {
        let context = RequestContext::from_request(request, "")?;
        context.principal.require(roles)?;
        Ok(Self {
            disclosure: Disclosure::of(&context.principal),
            purpose: purpose(request),
            context,
        })
    }
}

/// What a read returned decrypted personal data about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// "person", "interaction", "interview", "diagnostic".
    pub kind: &'static str,
    /// Its id (a UUID the handler parsed).
    pub id: &'a uuid::Uuid,
}

/// A service's access journal: a hash-chained log of its own.
#[derive(Clone)]
pub struct AccessJournal {
    store: EventStore,
}

impl AccessJournal {
    /// The journal over `store` (its own log: never the service's event log).
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    /// Its store (to close at shutdown, to verify).
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Appends that `reader` read `subject`'s personal data through `rpc`;
    /// returns once the entry is durable. On any failure the read must not
    /// return the data: the error is UNAVAILABLE (retryable) or INTERNAL.
    pub async fn record(
        &self,
        reader: &Reader,
        rpc: &'static str,
        subject: Subject<'_>,
    ) -> Result<u64, Status> {
        let entry = pb::PersonalDataRead {
            principal: reader.context.principal.name.clone(),
            rpc: rpc.to_owned(),
            subject_kind: subject.kind.to_owned(),
            subject_id: subject.id.to_string(),
            purpose: reader.purpose.clone(),
            disclosure: reader.disclosure.to_proto() as i32,
        };
        let event = EventData {
            // Every read is its own fact: a retried read is read again.
            event_id: uuid::Uuid::now_v7(),
            event_type: pb::PersonalDataRead::full_name(),
            payload: entry.encode_to_vec(),
            metadata: reader.context.metadata(),
        };
        let appended = self
            .store
            .append(
                &format!("{SUBJECT_CATEGORY}-{}", subject.id),
                ExpectedVersion::Any,
                vec![event],
            )
            .await
            .map_err(|error| {
                tracing::error!(%error, "access journal: entry not written, the read is refused");
                Status::from(ServiceError::from(error))
            })?;
        Ok(appended.last_position)
    }

    /// [`AccessJournal::record`] for each of `ids` (subjects of one `kind`),
    /// all appended at once (the store commits them as one group): returns
    /// once every entry is durable, else fails as `record` does.
    pub async fn record_each(
        &self,
        reader: &Reader,
        rpc: &'static str,
        kind: &'static str,
        ids: &[uuid::Uuid],
    ) -> Result<(), Status> {
        futures::future::try_join_all(
            ids.iter()
                .map(|id| self.record(reader, rpc, Subject { kind, id })),
        )
        .await?;
        Ok(())
    }
}

/// One journal record as an entry of `context`'s journal.
fn entry(context: &str, record: &RecordedEvent) -> Result<pb::AccessEntry, ServiceError> {
    let read = pb::PersonalDataRead::decode(record.payload.as_slice()).map_err(|error| {
        ServiceError::internal(format!(
            "access journal {context}: position {} does not decode: {error}",
            record.position
        ))
    })?;
    Ok(pb::AccessEntry {
        context: context.to_owned(),
        position: record.position,
        read_at: Some(record.recorded_at.into()),
        principal: read.principal,
        rpc: read.rpc,
        subject_kind: read.subject_kind,
        subject_id: read.subject_id,
        purpose: read.purpose,
        disclosure: read.disclosure,
        request_id: record.metadata.request_id.clone(),
        correlation_id: record.metadata.correlation_id.clone(),
    })
}

/// The `maillage.v1.AccessJournal` service over one or more journals.
#[derive(Clone)]
pub struct AccessJournalService {
    journals: BTreeMap<String, AccessJournal>,
}

impl AccessJournalService {
    /// The service for `context`'s journal.
    pub fn new(context: impl Into<String>, journal: AccessJournal) -> Self {
        Self {
            journals: BTreeMap::from([(context.into(), journal)]),
        }
    }

    /// Serves another context's journal too; requests must then name their `context`.
    pub fn add(mut self, context: impl Into<String>, journal: AccessJournal) -> Self {
        self.journals.insert(context.into(), journal);
        self
    }

    /// The tonic server to mount.
    pub fn into_server(self) -> AccessJournalServer<Self> {
        AccessJournalServer::new(self)
    }

    fn journal(&self, context: &str) -> Result<(&str, &AccessJournal), ServiceError> {
        let found = if context.is_empty() && self.journals.len() == 1 {
            self.journals.iter().next()
        } else {
            self.journals.get_key_value(context)
        };
        found
            .map(|(name, journal)| (name.as_str(), journal))
            .ok_or_else(|| {
                let known = self.journals.keys().cloned().collect::<Vec<_>>().join(", ");
                ServiceError::invalid_argument("context", format!("name a journal: one of {known}"))
                    .with_french(format!("Nommez un journal d'accès : l'un de {known}."))
            })
    }
}

fn list_limit(limit: u32) -> usize {
    match usize::try_from(limit) {
        Ok(0) => DEFAULT_LIST_LIMIT,
        Ok(limit) => limit.min(MAX_LIST_LIMIT),
        Err(_) => MAX_LIST_LIMIT,
    }
}

#[tonic::async_trait]
impl AccessJournalRpc for AccessJournalService {
    #[tracing::instrument(name = "ListAccess", skip_all)]
    async fn list_access(
        &self,
        request: Request<pb::ListAccessRequest>,
    ) -> Result<Response<pb::ListAccessResponse>, Status> {
        let context = RequestContext::from_request(&request, "")?;
        context.principal.require(&JOURNAL_READERS)?;
        let request = request.into_inner();
        let (name, journal) = self.journal(&request.context)?;
        let limit = list_limit(request.limit);
        let from = request.from_position.max(1);
        let store = journal.store();
        let head_position = store.head().position;
        let records = if request.subject_id.is_empty() {
            store.read_all(from, limit).or_status()?
        } else {
            let subject = uuid::Uuid::try_parse(&request.subject_id).map_err(|_| {
                ServiceError::invalid_argument(
                    "subject_id",
                    "must be a UUID (8-4-4-4-12 hexadecimal)",
                )
                .with_french(
                    "Ce champ doit être un identifiant UUID (8-4-4-4-12 chiffres hexadécimaux).",
                )
            })?;
            let stream = format!("{SUBJECT_CATEGORY}-{subject}");
            let mut records = Vec::new();
            let mut version = 1;
            // A subject's reads, in order, from the asked position on.
            loop {
                let page = store
                    .read_stream(&stream, version, Direction::Forward, MAX_LIST_LIMIT)
                    .or_status()?;
                let Some(last) = page.last() else { break };
                version = last.version + 1;
                let full = page.len() < MAX_LIST_LIMIT;
                records.extend(page.into_iter().filter(|record| record.position >= from));
                if records.len() >= limit || full {
                    break;
                }
            }
            records.truncate(limit);
            records
        };
        let entries = records
            .iter()
            .map(|record| entry(name, record))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Response::new(pb::ListAccessResponse {
            entries,
            head_position,
        }))
    }

    #[tracing::instrument(name = "VerifyAccess", skip_all)]
    async fn verify_access(
        &self,
        request: Request<pb::VerifyAccessRequest>,
    ) -> Result<Response<pb::VerifyResponse>, Status> {
        let context = RequestContext::from_request(&request, "")?;
        context.principal.require(&JOURNAL_READERS)?;
        let (_, journal) = self.journal(&request.get_ref().context)?;
        let store = journal.store().clone();
        let verification = tokio::task::spawn_blocking(move || store.verify())
            .await
            .map_err(|error| ServiceError::internal(format!("verify task: {error}")))?
            .or_status()?;
        Ok(Response::new(match verification {
            Verification::Intact { head } => pb::VerifyResponse {
                intact: true,
                position: head.position,
                head_hash: head.hash.to_vec(),
                reason: String::new(),
            },
            Verification::Broken { position, reason } => pb::VerifyResponse {
                intact: false,
                position,
                head_hash: Vec::new(),
                reason,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purpose_is_cleaned_and_capped() {
        assert_eq!(sanitise_purpose(b""), "");
        assert_eq!(
            sanitise_purpose("  relance\t du\r\n maire  ".as_bytes()),
            "relance du maire"
        );
        assert_eq!(
            sanitise_purpose("préparer la réunion".as_bytes()),
            "préparer la réunion"
        );
        assert_eq!(sanitise_purpose(b"a\x00b\x1bc"), "a b c");
        assert_eq!(sanitise_purpose(b"\xff\xfeok"), "\u{FFFD}\u{FFFD}ok");
        let long = "é".repeat(500);
        assert_eq!(
            sanitise_purpose(long.as_bytes()).chars().count(),
            MAX_PURPOSE_CHARS
        );
    }

    #[test]
    fn the_widest_role_decides_what_is_shown() {
        let with = |roles: &[Role]| {
            Disclosure::of(&Principal {
                name: "p".into(),
                roles: roles.to_vec(),
            })
        };
        assert_eq!(with(&[Role::Admin]), Disclosure::Full);
        assert_eq!(with(&[Role::Analyst, Role::Facilitator]), Disclosure::Full);
        assert_eq!(
            with(&[Role::Analyst, Role::Auditor]),
            Disclosure::PublicRoles
        );
        assert_eq!(with(&[Role::Auditor]), Disclosure::PublicRoles);
        assert_eq!(with(&[Role::Analyst]), Disclosure::Pseudonymous);
        assert_eq!(with(&[Role::Tool]), Disclosure::Pseudonymous);
    }
}
