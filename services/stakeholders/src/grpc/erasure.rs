//! Erasing a person across the platform (role admin): the stakeholders side of
//! the erasure saga (DESIGN.md §2 "Sagas", §6).
//!
//! 1. `PersonErasureStarted` is appended under the person's exclusive
//!    reference guard: a `LogInteraction` naming the person that checked its
//!    participants before holds a shared guard until its append is durable, so
//!    it is in the log before the erasure looks; one that checks after sees
//!    the erasure and is refused. Other contexts see the fact on the feed and
//!    refuse new references from then on (their register replicas).
//! 2. This service destroys the person's key and the keys of every interaction
//!    they took part in, removes their names and blind tokens from the search
//!    index, then appends `PersonErased` listing those interactions. That step runs in a task of its own, so a client whose
//!    deadline fires does not interrupt it, and it is remembered in the tree
//!    `erasure.pending` until done, so a crash at any point is finished at the
//!    next start ([`StakeholdersService::resume_erasures`]). Every step is
//!    idempotent.
//! 3. Each other context holding personal data (engagement) reacts to the
//!    started fact from the feed, destroys its own keys and records its own
//!    fact; [`ErasureConfirmations`] follows that log and appends
//!    `PersonErasureConfirmed`; the decider adds `PersonErasureCompleted` when
//!    this service's keys are gone and every context has reported.
//!
//! `ErasePerson` returns once step 2 is done, after waiting a few seconds for
//! completion; `GetErasure` says where it stands.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::BoxFuture;
use maillage_es::stream_id;
use maillage_privacy::SubjectId;
use maillage_proto::v1 as pb;
use maillage_replica::{React, ReactError};
use maillage_service_kit::crash::crash_point;
use maillage_service_kit::{require, Principal, RequestContext, Role, ServiceError};
use prost::{Message, Name};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::privacy::interactions_of;
use super::{blocking, privacy_error, StakeholdersService, PRIVACY_OFFICERS, STAKEHOLDER};
use crate::domain::stakeholder::{StakeholderCommand, StakeholderState, ERASURE_CONTEXTS};
use crate::validate::{self, MAX_REASON};

/// How long `ErasePerson` waits for the other contexts before answering.
const COMPLETION_WAIT: Duration = Duration::from_secs(5);

/// What a pending erasure needs to be finished after a crash.
struct Pending {
    request_id: String,
    actor: String,
    reason: String,
}

impl Pending {
    fn encode(&self) -> Vec<u8> {
        // The three are single lines (request ids and reasons are validated so).
        format!("{}\n{}\n{}", self.request_id, self.actor, self.reason).into_bytes()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.splitn(3, '\n');
        Some(Self {
            request_id: lines.next()?.to_owned(),
            actor: lines.next()?.to_owned(),
            reason: lines.next()?.to_owned(),
        })
    }

    /// The context of this service's own steps: the admin who asked, and a
    /// request id derived from theirs (one per step, so each is deduplicated).
    fn context(&self, step: &str) -> RequestContext {
        let principal = Principal {
            name: self.actor.clone(),
            roles: vec![Role::Admin],
        };
        RequestContext::new(principal, format!("{}/{step}", self.request_id))
    }
}

impl StakeholdersService {
    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_erase_person(
        &self,
        request: Request<pb::ErasePersonRequest>,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let context = RequestContext::authorize(
            &request,
            &request.get_ref().request_id,
            &self.inner.fingerprints,
            PRIVACY_OFFICERS,
        )?;
        let message = request.into_inner();
        let id = super::traced_id("stakeholder_id", &message.stakeholder_id)?;
        // Recorded in clear: bounded, single line; never logged.
        let reason = validate::required_line("reason", &message.reason, MAX_REASON)?;
        let (version, state) = self.load_person(&id)?;
        if let Some(expected) = message.expected_version {
            // Checked before anything is written: a stale request changes nothing.
            if expected != version && !state.is_erasing() {
                return Err(ServiceError::Aborted {
                    expected: format!("version {expected}"),
                    actual: version,
                }
                .into());
            }
        }
        let pending = Pending {
            request_id: context.request_id.clone(),
            actor: context.principal.name.clone(),
            reason: reason.clone(),
        };
        // Remembered before the started fact, so that a crash right after it
        // is finished at the next start; an entry of an earlier request stays.
        let key = id.as_bytes().to_vec();
        let remembered = self
            .inner
            .pending_erasures
            .compare_and_swap(&key, None::<&[u8]>, Some(pending.encode()))
            .map_err(storage_error)?
            .is_ok();
        self.inner
            .pending_erasures
            .flush_async()
            .await
            .map_err(storage_error)?;
        crash_point("erasure:remembered");
        let command = StakeholderCommand::StartErasure {
            reason,
            actor: context.principal.name.clone(),
            now: self.now(),
        };
        let started = {
            let _exclusive = self.inner.guards.exclusive(&id).await;
            self.run_stakeholder(&id, command, None, &context).await
        };
        if let Err(status) = started {
            if remembered {
                let _ = self.inner.pending_erasures.remove(&key);
            }
            return Err(status);
        }
        crash_point("erasure:started");
        // This service's part, in a task of its own: a client that goes away
        // does not stop it half-way.
        let service = self.clone();
        let reply = tokio::spawn(async move { service.finish_erasure(id, pending).await })
            .await
            .map_err(|error| ServiceError::internal(format!("erasure task: {error}")))??;
        if self.inner.follows_confirmations.load(Ordering::Relaxed) {
            self.wait_for_completion(&id, COMPLETION_WAIT).await;
        }
        Ok(reply)
    }

    /// Destroys this service's keys about person `id` and records it, for
    /// `pending`'s request, then forgets the pending entry. Idempotent: done
    /// again (a retry of the request, a resumed erasure), the keys are already
    /// gone and the record answers its original outcome.
    async fn finish_erasure(
        &self,
        id: Uuid,
        pending: Pending,
    ) -> Result<Response<pb::CommandReply>, Status> {
        let key = id.as_bytes().to_vec();
        self.ensure_started(&id, &pending).await?;
        let store = self.inner.store.clone();
        let vault = self.inner.vault.clone();
        let now = self.now();
        let person = id.to_string();
        let interaction_ids = blocking(move || {
            let interactions = interactions_of(&store, &person)?;
            vault
                .erase(&SubjectId::person(person.clone()), now)
                .map_err(privacy_error)?;
            for interaction in &interactions {
                vault
                    .erase(&SubjectId::interaction(interaction.clone()), now)
                    .map_err(privacy_error)?;
            }
            Ok(interactions)
        })
        .await?;
        tracing::info!(
            interactions = interaction_ids.len(),
            "person's keys destroyed"
        );
        // Their blind tokens go too, before the erasure is recorded as done.
        let search = self.inner.search.clone();
        blocking(move || search.erase(&id).map_err(super::search::index_error)).await?;
        crash_point("erasure:keys-destroyed");
        let command = StakeholderCommand::Erase {
            reason: pending.reason.clone(),
            interaction_ids,
            actor: pending.actor.clone(),
            now,
        };
        let reply = self
            .run_stakeholder(&id, command, None, &pending.context("keys-destroyed"))
            .await?;
        crash_point("erasure:recorded");
        self.inner
            .pending_erasures
            .remove(&key)
            .map_err(storage_error)?;
        Ok(reply)
    }

    /// Records the started fact if a crash came between remembering the
    /// erasure and recording it (under the exclusive guard, as
    /// `ErasePerson` does), so that nothing new can name the person before
    /// the keys go.
    async fn ensure_started(&self, id: &Uuid, pending: &Pending) -> Result<(), Status> {
        let stream = stream_id(STAKEHOLDER, id);
        let started = self
            .inner
            .stakeholders
            .inspect(&stream, |_, state| state.is_erasing())
            .map_err(|error| super::handle_error(error, id))?;
        if started {
            return Ok(());
        }
        let command = StakeholderCommand::StartErasure {
            reason: pending.reason.clone(),
            actor: pending.actor.clone(),
            now: self.now(),
        };
        let _exclusive = self.inner.guards.exclusive(id).await;
        self.run_stakeholder(id, command, None, &pending.context("started"))
            .await
            .map(|_| ())
    }

    /// Finishes, in the background, every erasure a crash interrupted after
    /// it started (call once at start, inside a Tokio runtime).
    pub fn resume_erasures(&self) {
        for entry in self.inner.pending_erasures.iter() {
            let Ok((key, value)) = entry else { continue };
            let (Ok(id), Some(pending)) = (Uuid::from_slice(&key), Pending::decode(&value)) else {
                continue;
            };
            let service = self.clone();
            tokio::spawn(async move {
                tracing::info!(stakeholder_id = %id, "resuming an interrupted erasure");
                if let Err(status) = service.finish_erasure(id, pending).await {
                    tracing::error!(stakeholder_id = %id, code = ?status.code(), "resuming an erasure failed; it is tried again at the next start");
                }
            });
        }
    }

    /// Waits, at most `limit`, until person `id`'s erasure is complete everywhere.
    async fn wait_for_completion(&self, id: &Uuid, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        let stream = stream_id(STAKEHOLDER, id);
        while tokio::time::Instant::now() < deadline {
            let done = self
                .inner
                .stakeholders
                .inspect(&stream, |_, state| state.erasure_completed_at.is_some())
                .unwrap_or(false);
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tracing::instrument(skip_all, fields(stakeholder_id))]
    pub(super) async fn handle_get_erasure(
        &self,
        request: Request<pb::GetErasureRequest>,
    ) -> Result<Response<pb::ErasureStatus>, Status> {
        require(&request, PRIVACY_OFFICERS)?;
        let id = super::traced_id("stakeholder_id", &request.get_ref().stakeholder_id)?;
        let (_, state) = self.load_person(&id)?;
        Ok(Response::new(erasure_status(&id, &state)))
    }
}

/// Where `state`'s erasure stands.
fn erasure_status(id: &Uuid, state: &StakeholderState) -> pb::ErasureStatus {
    let erasure_state = if state.erasure_completed_at.is_some() {
        pb::ErasureState::Completed
    } else if state.erased_at.is_some() {
        pb::ErasureState::ErasedHere
    } else if state.erasure.is_some() {
        pb::ErasureState::Started
    } else {
        pb::ErasureState::None
    };
    let (reason, started_at) = match &state.erasure {
        Some(started) => (started.reason.clone(), started.started_at),
        None => (String::new(), None),
    };
    let asked = erasure_state != pb::ErasureState::None;
    pb::ErasureStatus {
        stakeholder_id: id.to_string(),
        state: erasure_state as i32,
        reason,
        started_at,
        erased_at: state.erased_at,
        confirmed_contexts: state.erasure_confirmed.keys().cloned().collect(),
        pending_contexts: ERASURE_CONTEXTS
            .iter()
            .filter(|context| asked && !state.erasure_confirmed.contains_key(**context))
            .map(|context| (*context).to_owned())
            .collect(),
        completed_at: state.erasure_completed_at,
    }
}

fn storage_error(error: sled::Error) -> Status {
    ServiceError::internal(format!("pending erasures: {error}")).into()
}

/// The reaction to engagement's erasure facts: records that engagement did its
/// part (`PersonErasureConfirmed`, then completion when all is done).
pub struct ErasureConfirmations {
    service: StakeholdersService,
}

impl ErasureConfirmations {
    /// The reaction, recording into `service`'s log.
    pub fn new(service: StakeholdersService) -> Self {
        Self { service }
    }
}

impl React for ErasureConfirmations {
    const CONTEXT: &'static str = "engagement";

    fn react<'a>(
        &'a self,
        envelope: &'a pb::EventEnvelope,
    ) -> BoxFuture<'a, Result<(), ReactError>> {
        Box::pin(async move {
            let name = envelope
                .event_type
                .strip_prefix("maillage.v1.")
                .unwrap_or("");
            if name != pb::EngagementPersonErased::NAME {
                return Ok(());
            }
            let event = pb::EngagementPersonErased::decode(envelope.payload.as_slice())?;
            let Ok(id) = Uuid::try_parse(&event.stakeholder_id) else {
                return Ok(());
            };
            let context = RequestContext::new(
                Principal {
                    name: "engagement".into(),
                    roles: vec![Role::Admin],
                },
                format!("erasure-confirmed/engagement/{}", envelope.position),
            );
            let command = StakeholderCommand::ConfirmErasure {
                context: Self::CONTEXT.to_owned(),
                position: envelope.position,
                now: self.service.now(),
            };
            match self
                .service
                .run_stakeholder(&id, command, None, &context)
                .await
            {
                Ok(_) => {
                    // Recorded, the feed's checkpoint not yet moved past it.
                    crash_point("erasure:confirmed");
                    Ok(())
                }
                // A person this log never registered: nothing to confirm here.
                Err(status) if status.code() == tonic::Code::NotFound => Ok(()),
                Err(status) => Err(format!(
                    "recording engagement's erasure of {id}: {}",
                    status.message()
                )
                .into()),
            }
        })
    }
}
