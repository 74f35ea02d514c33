//! The stakeholder aggregate (`stakeholder-<id>`): a person or an organisation,
//! with a person's mandates, affiliations and consents, archiving and erasure.
//!
//! A person's personal fields arrive here already sealed (the gRPC layer seals
//! them under the person's key): the decider never sees personal data in clear.
//! Rules: a stakeholder is registered once; person-only commands refuse an
//! organisation and the other way round; an erased person refuses everything
//! (erasing again changes nothing); an archived stakeholder refuses changes
//! except a consent withdrawal and erasure; only an elected official holds
//! mandates; nothing ends before it starts. A channel's consent carries the
//! purposes it covers (none for a consent recorded before purposes existed:
//! it allows no purpose-bound use); an organisation records its links to
//! other organisations (the other side is checked by the caller).

use std::collections::BTreeMap;
use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1 as pb;
use prost_types::Timestamp;

use super::{timestamp, ts_key};

maillage_es::proto_events! {
    /// What happened to a stakeholder.
    StakeholderEvent {
        /// A person was registered (personal fields sealed).
        PersonRegistered(PersonRegistered),
        /// A person's profile was replaced (personal fields sealed).
        PersonProfileUpdated(PersonProfileUpdated),
        /// An organisation was registered.
        OrganisationRegistered(OrganisationRegistered),
        /// An organisation's profile was replaced.
        OrganisationProfileUpdated(OrganisationProfileUpdated),
        /// A mandate started.
        MandateStarted(MandateStarted),
        /// A mandate ended.
        MandateEnded(MandateEnded),
        /// A person joined an organisation.
        AffiliationAdded(AffiliationAdded),
        /// An affiliation ended.
        AffiliationEnded(AffiliationEnded),
        /// A legal basis for a channel was recorded.
        ConsentRecorded(ConsentRecorded),
        /// Consent on a channel was withdrawn.
        ConsentWithdrawn(ConsentWithdrawn),
        /// The stakeholder was archived.
        StakeholderArchived(StakeholderArchived),
        /// The stakeholder was assessed (stakeholder mapping).
        StakeholderAssessed(StakeholderAssessed),
        /// The person was erased (keys destroyed before).
        PersonErased(PersonErased),
        /// The person's erasure was asked: nothing new may name them.
        PersonErasureStarted(PersonErasureStarted),
        /// Another context destroyed its keys about the person.
        PersonErasureConfirmed(PersonErasureConfirmed),
        /// Every context destroyed its keys about the person.
        PersonErasureCompleted(PersonErasureCompleted),
        /// The organisation was linked to another.
        OrganisationLinked(OrganisationLinked),
        /// A link between organisations ended.
        OrganisationLinkEnded(OrganisationLinkEnded),
        /// An import created or completed the stakeholder (the row's fingerprint).
        StakeholderImported(StakeholderImported),
    }
}

/// The contexts besides this one that hold personal data about a person and
/// must report their part of an erasure before it is complete (governance
/// holds none: persons appear there only as ids).
pub const ERASURE_CONTEXTS: &[&str] = &["engagement"];

/// A person's or an organisation's profile, as the events hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Profile {
    /// A person: personal fields sealed under the person's key.
    Person(pb::SealedPersonProfile),
    /// An organisation, in clear.
    Organisation(pb::OrganisationProfile),
}

/// A stakeholder folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StakeholderState {
    /// The stakeholder's id (empty before registration).
    pub id: String,
    /// The current profile; `None`: not registered.
    pub profile: Option<Profile>,
    /// When it was registered.
    pub registered_at: Option<Timestamp>,
    /// Who registered it.
    pub registered_by: String,
    /// Every mandate, in the order started.
    pub mandates: Vec<pb::Mandate>,
    /// Every affiliation, in the order added.
    pub affiliations: Vec<pb::Affiliation>,
    /// The current consent per channel (`ConsentChannel` as i32), its
    /// purposes in value order.
    pub consents: BTreeMap<i32, pb::Consent>,
    /// An organisation's links to other organisations it recorded, in the
    /// order started.
    pub organisation_links: Vec<pb::OrganisationLink>,
    /// Archived.
    pub archived: bool,
    /// Every assessment (stakeholder mapping), oldest first.
    pub assessments: Vec<pb::StakeholderAssessment>,
    /// When the person was erased, if they were.
    pub erased_at: Option<Timestamp>,
    /// The erasure's start, if it was asked.
    pub erasure: Option<pb::PersonErasureStarted>,
    /// The other contexts that reported their part of the erasure.
    pub erasure_confirmed: BTreeMap<String, Timestamp>,
    /// When the erasure was complete in every context.
    pub erasure_completed_at: Option<Timestamp>,
}

impl StakeholderState {
    /// Whether the stakeholder is a registered person.
    pub fn is_person(&self) -> bool {
        matches!(self.profile, Some(Profile::Person(_)))
    }

    /// Whether the stakeholder is a registered organisation.
    pub fn is_organisation(&self) -> bool {
        matches!(self.profile, Some(Profile::Organisation(_)))
    }

    /// Whether the person may hold mandates.
    pub fn is_elected(&self) -> bool {
        match &self.profile {
            Some(Profile::Person(profile)) => is_elected(profile),
            _ => false,
        }
    }

    /// Whether the person is erased or being erased (nothing new may name them).
    pub fn is_erasing(&self) -> bool {
        self.erased_at.is_some() || self.erasure.is_some()
    }

    /// Whether every context reported its part and this one's keys are gone.
    fn erasure_done_everywhere(&self) -> bool {
        self.erased_at.is_some()
            && ERASURE_CONTEXTS
                .iter()
                .all(|context| self.erasure_confirmed.contains_key(*context))
    }

    /// Whether some mandate is still running.
    pub fn has_running_mandate(&self) -> bool {
        self.mandates
            .iter()
            .any(|mandate| mandate.ended_at.is_none())
    }
}

fn is_elected(profile: &pb::SealedPersonProfile) -> bool {
    profile
        .kinds
        .contains(&(pb::PersonKind::ElectedOfficial as i32))
}

/// A mandate to start, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMandate {
    /// Its id (derived from the request).
    pub mandate_id: String,
    /// The office.
    pub office: pb::MandateOffice,
    /// The authority's territory (checked against the COG, and against the office's level).
    pub authority: pb::TerritoryRef,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ends, if known.
    pub ended_at: Option<Timestamp>,
}

/// A registration an import row asks for (validated and sealed).
#[derive(Debug, Clone, PartialEq)]
pub enum ImportRegistration {
    /// A new person (sealed profile).
    Person(pb::SealedPersonProfile),
    /// A new organisation.
    Organisation(pb::OrganisationProfile),
}

/// An affiliation an import row asks for (its organisation found by SIREN).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAffiliation {
    /// Its id (derived from the row).
    pub affiliation_id: String,
    /// The organisation.
    pub organisation_id: String,
    /// The role.
    pub role: String,
    /// Since when.
    pub started_at: Timestamp,
}

/// What may be asked of a stakeholder (validated input, with the caller and the clock).
#[derive(Debug, Clone, PartialEq)]
pub enum StakeholderCommand {
    /// Registers a person, with their first mandates.
    RegisterPerson {
        /// The new id.
        stakeholder_id: String,
        /// The sealed profile.
        profile: pb::SealedPersonProfile,
        /// Mandates to start (an elected official only).
        mandates: Vec<NewMandate>,
        /// The caller.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
    /// Registers an organisation.
    RegisterOrganisation {
        /// The new id.
        stakeholder_id: String,
        /// Its profile.
        profile: pb::OrganisationProfile,
        /// The caller.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
    /// Replaces a person's profile.
    UpdatePersonProfile {
        /// The new sealed profile.
        profile: pb::SealedPersonProfile,
        /// The clock's now.
        now: SystemTime,
    },
    /// Replaces an organisation's profile (same kind of organisation).
    UpdateOrganisationProfile {
        /// The new profile.
        profile: pb::OrganisationProfile,
        /// The clock's now.
        now: SystemTime,
    },
    /// Starts a mandate.
    StartMandate(NewMandate),
    /// Ends a running mandate.
    EndMandate {
        /// Which.
        mandate_id: String,
        /// When.
        ended_at: Timestamp,
    },
    /// Affiliates the person with an organisation (checked to exist by the caller).
    AddAffiliation {
        /// The new affiliation's id (derived from the request).
        affiliation_id: String,
        /// The organisation.
        organisation_id: String,
        /// The role.
        role: String,
        /// Since when.
        started_at: Timestamp,
    },
    /// Ends an affiliation.
    EndAffiliation {
        /// Which.
        affiliation_id: String,
        /// When.
        ended_at: Timestamp,
    },
    /// Records the legal basis for a channel and the purposes it covers.
    RecordConsent {
        /// The channel.
        channel: pb::ConsentChannel,
        /// The basis.
        legal_basis: pb::LegalBasis,
        /// The purposes (`ConsentPurpose` values, sorted, no repeats).
        purposes: Vec<i32>,
        /// The clock's now.
        now: SystemTime,
    },
    /// Withdraws consent on a channel, or only some of its purposes.
    WithdrawConsent {
        /// The channel.
        channel: pb::ConsentChannel,
        /// Only these purposes (sorted, no repeats); empty: the whole consent.
        purposes: Vec<i32>,
        /// The clock's now.
        now: SystemTime,
    },
    /// Links the organisation to another (checked by the caller to be
    /// another registered organisation, not archived).
    LinkOrganisation {
        /// The new link's id (derived from the request).
        link_id: String,
        /// How.
        kind: pb::OrganisationLinkKind,
        /// The other organisation.
        linked_organisation_id: String,
        /// Since when.
        started_at: Timestamp,
    },
    /// Ends a link the organisation recorded.
    EndOrganisationLink {
        /// Which.
        link_id: String,
        /// When.
        ended_at: Timestamp,
    },
    /// Archives the stakeholder.
    Archive {
        /// The clock's now.
        now: SystemTime,
    },
    /// Records an assessment (influence and interest checked 1 to 5 by the
    /// caller, `assessed_by` and `assessed_at` set from its identity and clock).
    Assess {
        /// The event to record.
        assessed: pb::StakeholderAssessed,
    },
    /// One row of an import, in one append: a registration (when the row
    /// is a new stakeholder) or what an existing person lacks (mandates not
    /// held, affiliations not running: the rest is left out), then the
    /// `StakeholderImported` fact. Nothing new on an existing stakeholder
    /// records nothing.
    Import {
        /// The stakeholder to register, or `None` to complete an existing one.
        registration: Option<ImportRegistration>,
        /// Mandates to start (those already held are left out).
        mandates: Vec<NewMandate>,
        /// Affiliations to add (those already running are left out).
        affiliations: Vec<NewAffiliation>,
        /// The fact recorded last (its `stakeholder_id` set by the decider).
        imported: pb::StakeholderImported,
        /// The caller.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
    /// Asks for the person's erasure across the platform.
    StartErasure {
        /// Why (no personal data).
        reason: String,
        /// The admin.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
    /// Records that another context destroyed its keys about the person.
    ConfirmErasure {
        /// The context.
        context: String,
        /// Position of its erasure fact in its log.
        position: u64,
        /// The clock's now.
        now: SystemTime,
    },
    /// Records that the person's keys were destroyed.
    Erase {
        /// Why (no personal data).
        reason: String,
        /// The interactions whose keys were destroyed with the person's.
        interaction_ids: Vec<String>,
        /// The admin.
        actor: String,
        /// The clock's now.
        now: SystemTime,
    },
}

/// Why a stakeholder command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakeholderError {
    /// Registration of an id that is taken.
    #[error("the stakeholder is already registered")]
    AlreadyRegistered,
    /// Any other command on an id never registered.
    #[error("no such stakeholder")]
    NotFound,
    /// A person-only command on an organisation.
    #[error("the stakeholder is not a person")]
    NotAPerson,
    /// An organisation-only command on a person.
    #[error("the stakeholder is not an organisation")]
    NotAnOrganisation,
    /// An update that changes the kind of organisation.
    #[error("the kind of an organisation cannot change; register a new one")]
    OrganisationKindChanged,
    /// The person was erased.
    #[error("the person was erased")]
    Erased,
    /// An erasure asked again (a retry of the same request finishes the first).
    #[error("the person's erasure was already asked (GetErasure tells where it stands)")]
    ErasureAlreadyAsked,
    /// The stakeholder is archived.
    #[error("the stakeholder is archived")]
    Archived,
    /// A mandate for someone who is not an elected official.
    #[error("only an elected official may hold a mandate")]
    NotElected,
    /// A profile update that drops the elected-official kind while mandates run.
    #[error(
        "the person holds running mandates: end them before they stop being an elected official"
    )]
    RunningMandates,
    /// No mandate with this id.
    #[error("no mandate {0}")]
    MandateNotFound(String),
    /// The mandate already ended.
    #[error("mandate {0} already ended")]
    MandateAlreadyEnded(String),
    /// An end before the start.
    #[error("{field}: the end is before the start")]
    EndBeforeStart {
        /// The offending request field.
        field: String,
    },
    /// No affiliation with this id.
    #[error("no affiliation {0}")]
    AffiliationNotFound(String),
    /// The affiliation already ended.
    #[error("affiliation {0} already ended")]
    AffiliationAlreadyEnded(String),
    /// The same organisation and role is already a running affiliation.
    #[error("the person already has this role in this organisation")]
    AffiliationAlreadyActive,
    /// Withdrawal of a consent that is not recorded.
    #[error("no consent is recorded for this channel")]
    ConsentNotRecorded,
    /// Withdrawal of a purpose the channel's consent does not cover.
    #[error("the consent on this channel does not cover the purpose {0}")]
    PurposeNotCovered(&'static str),
    /// A link from an organisation to itself.
    #[error("an organisation cannot be linked to itself")]
    LinkToItself,
    /// The same kind of link to the same organisation already runs.
    #[error("this link between the two organisations already runs")]
    LinkAlreadyActive,
    /// No link with this id.
    #[error("no organisation link {0}")]
    LinkNotFound(String),
    /// The link already ended.
    #[error("organisation link {0} already ended")]
    LinkAlreadyEnded(String),
}

/// The stakeholder decider.
pub struct Stakeholder;

impl Decider for Stakeholder {
    type State = StakeholderState;
    type Command = StakeholderCommand;
    type Event = StakeholderEvent;
    type Error = StakeholderError;

    fn decide(
        command: &StakeholderCommand,
        state: &StakeholderState,
    ) -> Result<Vec<StakeholderEvent>, StakeholderError> {
        use StakeholderCommand as C;
        use StakeholderEvent as E;
        let id = state.id.clone();
        match command {
            C::RegisterPerson {
                stakeholder_id,
                profile,
                mandates,
                actor,
                now,
            } => {
                if state.profile.is_some() {
                    return Err(StakeholderError::AlreadyRegistered);
                }
                if !mandates.is_empty() && !is_elected(profile) {
                    return Err(StakeholderError::NotElected);
                }
                for (index, mandate) in mandates.iter().enumerate() {
                    check_order(
                        &mandate.started_at,
                        mandate.ended_at.as_ref(),
                        format!("mandates[{index}].ended_at"),
                    )?;
                }
                let mut events = vec![E::PersonRegistered(pb::PersonRegistered {
                    stakeholder_id: stakeholder_id.clone(),
                    profile: Some(profile.clone()),
                    registered_at: Some(timestamp(*now)),
                    registered_by: actor.clone(),
                })];
                events.extend(
                    mandates
                        .iter()
                        .map(|mandate| mandate_started(stakeholder_id, mandate)),
                );
                Ok(events)
            }
            C::RegisterOrganisation {
                stakeholder_id,
                profile,
                actor,
                now,
            } => {
                if state.profile.is_some() {
                    return Err(StakeholderError::AlreadyRegistered);
                }
                Ok(vec![E::OrganisationRegistered(
                    pb::OrganisationRegistered {
                        stakeholder_id: stakeholder_id.clone(),
                        profile: Some(profile.clone()),
                        registered_at: Some(timestamp(*now)),
                        registered_by: actor.clone(),
                    },
                )])
            }
            C::UpdatePersonProfile { profile, now } => {
                writable_person(state)?;
                if !is_elected(profile) && state.has_running_mandate() {
                    return Err(StakeholderError::RunningMandates);
                }
                Ok(vec![E::PersonProfileUpdated(pb::PersonProfileUpdated {
                    stakeholder_id: id,
                    profile: Some(profile.clone()),
                    updated_at: Some(timestamp(*now)),
                })])
            }
            C::UpdateOrganisationProfile { profile, now } => {
                let current = match &state.profile {
                    None => return Err(StakeholderError::NotFound),
                    Some(Profile::Person(_)) => return Err(StakeholderError::NotAnOrganisation),
                    Some(Profile::Organisation(current)) => current,
                };
                if state.archived {
                    return Err(StakeholderError::Archived);
                }
                let kind = |profile: &pb::OrganisationProfile| {
                    profile.details.as_ref().map(std::mem::discriminant)
                };
                if kind(current) != kind(profile) {
                    return Err(StakeholderError::OrganisationKindChanged);
                }
                if current == profile {
                    return Ok(vec![]);
                }
                Ok(vec![E::OrganisationProfileUpdated(
                    pb::OrganisationProfileUpdated {
                        stakeholder_id: id,
                        profile: Some(profile.clone()),
                        updated_at: Some(timestamp(*now)),
                    },
                )])
            }
            C::StartMandate(mandate) => {
                writable_person(state)?;
                if !state.is_elected() {
                    return Err(StakeholderError::NotElected);
                }
                check_order(
                    &mandate.started_at,
                    mandate.ended_at.as_ref(),
                    "mandate.ended_at".into(),
                )?;
                Ok(vec![mandate_started(&id, mandate)])
            }
            C::EndMandate {
                mandate_id,
                ended_at,
            } => {
                writable_person(state)?;
                let mandate = state
                    .mandates
                    .iter()
                    .find(|mandate| &mandate.mandate_id == mandate_id)
                    .ok_or_else(|| StakeholderError::MandateNotFound(mandate_id.clone()))?;
                if mandate.ended_at.is_some() {
                    return Err(StakeholderError::MandateAlreadyEnded(mandate_id.clone()));
                }
                check_order(
                    &mandate.started_at.unwrap_or_default(),
                    Some(ended_at),
                    "ended_at".into(),
                )?;
                Ok(vec![E::MandateEnded(pb::MandateEnded {
                    stakeholder_id: id,
                    mandate_id: mandate_id.clone(),
                    ended_at: Some(*ended_at),
                })])
            }
            C::AddAffiliation {
                affiliation_id,
                organisation_id,
                role,
                started_at,
            } => {
                writable_person(state)?;
                if state.affiliations.iter().any(|affiliation| {
                    affiliation.ended_at.is_none()
                        && &affiliation.organisation_id == organisation_id
                        && &affiliation.role == role
                }) {
                    return Err(StakeholderError::AffiliationAlreadyActive);
                }
                Ok(vec![E::AffiliationAdded(pb::AffiliationAdded {
                    stakeholder_id: id,
                    affiliation_id: affiliation_id.clone(),
                    organisation_id: organisation_id.clone(),
                    role: role.clone(),
                    started_at: Some(*started_at),
                })])
            }
            C::EndAffiliation {
                affiliation_id,
                ended_at,
            } => {
                writable_person(state)?;
                let affiliation = state
                    .affiliations
                    .iter()
                    .find(|affiliation| &affiliation.affiliation_id == affiliation_id)
                    .ok_or_else(|| StakeholderError::AffiliationNotFound(affiliation_id.clone()))?;
                if affiliation.ended_at.is_some() {
                    return Err(StakeholderError::AffiliationAlreadyEnded(
                        affiliation_id.clone(),
                    ));
                }
                check_order(
                    &affiliation.started_at.unwrap_or_default(),
                    Some(ended_at),
                    "ended_at".into(),
                )?;
                Ok(vec![E::AffiliationEnded(pb::AffiliationEnded {
                    stakeholder_id: id,
                    affiliation_id: affiliation_id.clone(),
                    ended_at: Some(*ended_at),
                })])
            }
            C::RecordConsent {
                channel,
                legal_basis,
                purposes,
                now,
            } => {
                writable_person(state)?;
                if state
                    .consents
                    .get(&(*channel as i32))
                    .is_some_and(|consent| {
                        consent.legal_basis == *legal_basis as i32 && &consent.purposes == purposes
                    })
                {
                    return Ok(vec![]);
                }
                Ok(vec![E::ConsentRecorded(pb::ConsentRecorded {
                    stakeholder_id: id,
                    channel: *channel as i32,
                    legal_basis: *legal_basis as i32,
                    recorded_at: Some(timestamp(*now)),
                    purposes: purposes.clone(),
                })])
            }
            C::WithdrawConsent {
                channel,
                purposes,
                now,
            } => {
                live_person(state)?;
                // Archived or not: a person may always withdraw consent.
                let Some(consent) = state.consents.get(&(*channel as i32)) else {
                    return Err(StakeholderError::ConsentNotRecorded);
                };
                if let Some(missing) = purposes
                    .iter()
                    .find(|purpose| !consent.purposes.contains(purpose))
                {
                    let name = pb::ConsentPurpose::try_from(*missing)
                        .map(|purpose| purpose.as_str_name())
                        .unwrap_or("CONSENT_PURPOSE_UNSPECIFIED");
                    return Err(StakeholderError::PurposeNotCovered(name));
                }
                Ok(vec![E::ConsentWithdrawn(pb::ConsentWithdrawn {
                    stakeholder_id: id,
                    channel: *channel as i32,
                    withdrawn_at: Some(timestamp(*now)),
                    purposes: purposes.clone(),
                })])
            }
            C::LinkOrganisation {
                link_id,
                kind,
                linked_organisation_id,
                started_at,
            } => {
                writable_organisation(state)?;
                if linked_organisation_id == &id {
                    return Err(StakeholderError::LinkToItself);
                }
                if state.organisation_links.iter().any(|link| {
                    link.ended_at.is_none()
                        && &link.linked_organisation_id == linked_organisation_id
                        && link.kind == *kind as i32
                }) {
                    return Err(StakeholderError::LinkAlreadyActive);
                }
                Ok(vec![E::OrganisationLinked(pb::OrganisationLinked {
                    stakeholder_id: id,
                    link_id: link_id.clone(),
                    kind: *kind as i32,
                    linked_organisation_id: linked_organisation_id.clone(),
                    started_at: Some(*started_at),
                })])
            }
            C::EndOrganisationLink { link_id, ended_at } => {
                writable_organisation(state)?;
                let link = state
                    .organisation_links
                    .iter()
                    .find(|link| &link.link_id == link_id)
                    .ok_or_else(|| StakeholderError::LinkNotFound(link_id.clone()))?;
                if link.ended_at.is_some() {
                    return Err(StakeholderError::LinkAlreadyEnded(link_id.clone()));
                }
                check_order(
                    &link.started_at.unwrap_or_default(),
                    Some(ended_at),
                    "ended_at".into(),
                )?;
                Ok(vec![E::OrganisationLinkEnded(pb::OrganisationLinkEnded {
                    stakeholder_id: id,
                    link_id: link_id.clone(),
                    ended_at: Some(*ended_at),
                })])
            }
            C::Assess { assessed } => {
                if state.profile.is_none() {
                    return Err(StakeholderError::NotFound);
                }
                if state.is_erasing() {
                    return Err(StakeholderError::Erased);
                }
                if state.archived {
                    return Err(StakeholderError::Archived);
                }
                Ok(vec![E::StakeholderAssessed(assessed.clone())])
            }
            C::Archive { now } => {
                if state.profile.is_none() {
                    return Err(StakeholderError::NotFound);
                }
                if state.is_erasing() {
                    return Err(StakeholderError::Erased);
                }
                if state.archived {
                    return Ok(vec![]);
                }
                Ok(vec![E::StakeholderArchived(pb::StakeholderArchived {
                    stakeholder_id: id,
                    archived_at: Some(timestamp(*now)),
                })])
            }
            C::Erase {
                reason,
                interaction_ids,
                actor,
                now,
            } => {
                match &state.profile {
                    None => return Err(StakeholderError::NotFound),
                    Some(Profile::Organisation(_)) => return Err(StakeholderError::NotAPerson),
                    Some(Profile::Person(_)) => {}
                }
                if state.erased_at.is_some() {
                    return Ok(vec![]);
                }
                let erased = E::PersonErased(pb::PersonErased {
                    stakeholder_id: id.clone(),
                    erased_at: Some(timestamp(*now)),
                    reason: reason.clone(),
                    interaction_ids: interaction_ids.clone(),
                    erased_by: actor.clone(),
                });
                Ok(with_completion(state, erased, &id, *now))
            }
            C::Import {
                registration,
                mandates,
                affiliations,
                imported,
                actor,
                now,
            } => decide_import(
                state,
                registration.as_ref(),
                mandates,
                affiliations,
                imported,
                actor,
                *now,
            ),
            C::StartErasure { reason, actor, now } => {
                match &state.profile {
                    None => return Err(StakeholderError::NotFound),
                    Some(Profile::Organisation(_)) => return Err(StakeholderError::NotAPerson),
                    Some(Profile::Person(_)) => {}
                }
                if state.is_erasing() {
                    return Err(StakeholderError::ErasureAlreadyAsked);
                }
                Ok(vec![E::PersonErasureStarted(pb::PersonErasureStarted {
                    stakeholder_id: id,
                    reason: reason.clone(),
                    requested_by: actor.clone(),
                    started_at: Some(timestamp(*now)),
                })])
            }
            C::ConfirmErasure {
                context,
                position,
                now,
            } => {
                if state.profile.is_none() {
                    return Err(StakeholderError::NotFound);
                }
                if state.erasure_confirmed.contains_key(context) {
                    return Ok(vec![]);
                }
                let confirmed = E::PersonErasureConfirmed(pb::PersonErasureConfirmed {
                    stakeholder_id: id.clone(),
                    context: context.clone(),
                    context_position: *position,
                    confirmed_at: Some(timestamp(*now)),
                });
                Ok(with_completion(state, confirmed, &id, *now))
            }
        }
    }

    fn evolve(state: &mut StakeholderState, event: &StakeholderEvent) {
        use StakeholderEvent as E;
        match event {
            E::PersonRegistered(event) => {
                state.id = event.stakeholder_id.clone();
                state.profile = Some(Profile::Person(event.profile.clone().unwrap_or_default()));
                state.registered_at = event.registered_at;
                state.registered_by = event.registered_by.clone();
            }
            E::PersonProfileUpdated(event) => {
                state.profile = Some(Profile::Person(event.profile.clone().unwrap_or_default()));
            }
            E::OrganisationRegistered(event) => {
                state.id = event.stakeholder_id.clone();
                state.profile = Some(Profile::Organisation(
                    event.profile.clone().unwrap_or_default(),
                ));
                state.registered_at = event.registered_at;
                state.registered_by = event.registered_by.clone();
            }
            E::OrganisationProfileUpdated(event) => {
                state.profile = Some(Profile::Organisation(
                    event.profile.clone().unwrap_or_default(),
                ));
            }
            E::MandateStarted(event) => state.mandates.push(pb::Mandate {
                mandate_id: event.mandate_id.clone(),
                office: event.office,
                authority: event.authority.clone(),
                started_at: event.started_at,
                ended_at: event.ended_at,
            }),
            E::MandateEnded(event) => {
                if let Some(mandate) = state
                    .mandates
                    .iter_mut()
                    .find(|mandate| mandate.mandate_id == event.mandate_id)
                {
                    mandate.ended_at = event.ended_at;
                }
            }
            E::AffiliationAdded(event) => state.affiliations.push(pb::Affiliation {
                affiliation_id: event.affiliation_id.clone(),
                organisation_id: event.organisation_id.clone(),
                role: event.role.clone(),
                started_at: event.started_at,
                ended_at: None,
            }),
            E::AffiliationEnded(event) => {
                if let Some(affiliation) = state
                    .affiliations
                    .iter_mut()
                    .find(|affiliation| affiliation.affiliation_id == event.affiliation_id)
                {
                    affiliation.ended_at = event.ended_at;
                }
            }
            E::ConsentRecorded(event) => {
                state.consents.insert(event.channel, consent_of(event));
            }
            E::ConsentWithdrawn(event) => withdraw(&mut state.consents, event),
            E::OrganisationLinked(event) => state.organisation_links.push(pb::OrganisationLink {
                link_id: event.link_id.clone(),
                organisation_id: event.stakeholder_id.clone(),
                kind: event.kind,
                linked_organisation_id: event.linked_organisation_id.clone(),
                started_at: event.started_at,
                ended_at: None,
            }),
            E::OrganisationLinkEnded(event) => {
                if let Some(link) = state
                    .organisation_links
                    .iter_mut()
                    .find(|link| link.link_id == event.link_id)
                {
                    link.ended_at = event.ended_at;
                }
            }
            E::StakeholderArchived(_) => state.archived = true,
            E::StakeholderAssessed(event) => state.assessments.push(pb::StakeholderAssessment {
                influence: event.influence,
                interest: event.interest,
                position: event.position,
                assessed_at: event.assessed_at,
                assessed_by: event.assessed_by.clone(),
            }),
            E::PersonErased(event) => state.erased_at = event.erased_at,
            E::PersonErasureStarted(event) => state.erasure = Some(event.clone()),
            E::PersonErasureConfirmed(event) => {
                state.erasure_confirmed.insert(
                    event.context.clone(),
                    event.confirmed_at.unwrap_or_default(),
                );
            }
            E::PersonErasureCompleted(event) => state.erasure_completed_at = event.completed_at,
            E::StakeholderImported(_) => {}
        }
    }
}

/// Whether `state` already holds a mandate like `mandate` (same office,
/// authority and start day).
pub fn holds_mandate(state: &StakeholderState, mandate: &NewMandate) -> bool {
    state.mandates.iter().any(|held| {
        held.office == mandate.office as i32
            && held.authority.as_ref() == Some(&mandate.authority)
            && held.started_at.map(|at| at.seconds.div_euclid(86_400))
                == Some(mandate.started_at.seconds.div_euclid(86_400))
    })
}

fn decide_import(
    state: &StakeholderState,
    registration: Option<&ImportRegistration>,
    mandates: &[NewMandate],
    affiliations: &[NewAffiliation],
    imported: &pb::StakeholderImported,
    actor: &str,
    now: SystemTime,
) -> Result<Vec<StakeholderEvent>, StakeholderError> {
    use StakeholderEvent as E;
    let (id, mut events) = match registration {
        Some(ImportRegistration::Person(profile)) => {
            let command = StakeholderCommand::RegisterPerson {
                stakeholder_id: imported.stakeholder_id.clone(),
                profile: profile.clone(),
                mandates: Vec::new(),
                actor: actor.to_owned(),
                now,
            };
            if !mandates.is_empty() && !is_elected(profile) {
                return Err(StakeholderError::NotElected);
            }
            (
                imported.stakeholder_id.clone(),
                Stakeholder::decide(&command, state)?,
            )
        }
        Some(ImportRegistration::Organisation(profile)) => {
            let command = StakeholderCommand::RegisterOrganisation {
                stakeholder_id: imported.stakeholder_id.clone(),
                profile: profile.clone(),
                actor: actor.to_owned(),
                now,
            };
            (
                imported.stakeholder_id.clone(),
                Stakeholder::decide(&command, state)?,
            )
        }
        None => {
            if state.is_organisation() && mandates.is_empty() && affiliations.is_empty() {
                // An organisation row brings nothing to a registered one.
                return Ok(vec![]);
            }
            writable_person(state)?;
            (state.id.clone(), Vec::new())
        }
    };
    let mut after = state.clone();
    for event in &events {
        Stakeholder::evolve(&mut after, event);
    }
    let mut added = 0;
    for (index, mandate) in mandates.iter().enumerate() {
        if holds_mandate(&after, mandate) {
            continue;
        }
        if !after.is_elected() {
            return Err(StakeholderError::NotElected);
        }
        check_order(
            &mandate.started_at,
            mandate.ended_at.as_ref(),
            format!("mandates[{index}].ended_at"),
        )?;
        let event = mandate_started(&id, mandate);
        Stakeholder::evolve(&mut after, &event);
        events.push(event);
        added += 1;
    }
    for affiliation in affiliations {
        let running = after.affiliations.iter().any(|held| {
            held.ended_at.is_none()
                && held.organisation_id == affiliation.organisation_id
                && held.role == affiliation.role
        });
        if running {
            continue;
        }
        let event = E::AffiliationAdded(pb::AffiliationAdded {
            stakeholder_id: id.clone(),
            affiliation_id: affiliation.affiliation_id.clone(),
            organisation_id: affiliation.organisation_id.clone(),
            role: affiliation.role.clone(),
            started_at: Some(affiliation.started_at),
        });
        Stakeholder::evolve(&mut after, &event);
        events.push(event);
        added += 1;
    }
    if registration.is_none() && added == 0 {
        return Ok(vec![]);
    }
    events.push(E::StakeholderImported(pb::StakeholderImported {
        stakeholder_id: id,
        imported_at: Some(timestamp(now)),
        imported_by: actor.to_owned(),
        ..imported.clone()
    }));
    Ok(events)
}

/// `event`, followed by `PersonErasureCompleted` when it makes the erasure
/// done in every context (this one's keys gone, every other context reported).
fn with_completion(
    state: &StakeholderState,
    event: StakeholderEvent,
    id: &str,
    now: SystemTime,
) -> Vec<StakeholderEvent> {
    let mut after = state.clone();
    Stakeholder::evolve(&mut after, &event);
    let mut events = vec![event];
    if after.erasure_completed_at.is_none() && after.erasure_done_everywhere() {
        let mut contexts = vec!["stakeholders".to_owned()];
        contexts.extend(after.erasure_confirmed.keys().cloned());
        events.push(StakeholderEvent::PersonErasureCompleted(
            pb::PersonErasureCompleted {
                stakeholder_id: id.to_owned(),
                contexts,
                completed_at: Some(timestamp(now)),
            },
        ));
    }
    events
}

fn mandate_started(stakeholder_id: &str, mandate: &NewMandate) -> StakeholderEvent {
    StakeholderEvent::MandateStarted(pb::MandateStarted {
        stakeholder_id: stakeholder_id.to_string(),
        mandate_id: mandate.mandate_id.clone(),
        office: mandate.office as i32,
        authority: Some(mandate.authority.clone()),
        started_at: Some(mandate.started_at),
        ended_at: mandate.ended_at,
    })
}

/// A registered person that was not erased.
fn live_person(state: &StakeholderState) -> Result<(), StakeholderError> {
    match &state.profile {
        None => Err(StakeholderError::NotFound),
        Some(Profile::Organisation(_)) => Err(StakeholderError::NotAPerson),
        Some(Profile::Person(_)) if state.is_erasing() => Err(StakeholderError::Erased),
        Some(Profile::Person(_)) => Ok(()),
    }
}

/// A channel's consent as `ConsentRecorded` leaves it (purposes sorted, no
/// repeats; none in an event recorded before purposes existed).
pub fn consent_of(event: &pb::ConsentRecorded) -> pb::Consent {
    let mut purposes = event.purposes.clone();
    purposes.sort_unstable();
    purposes.dedup();
    pb::Consent {
        channel: event.channel,
        legal_basis: event.legal_basis,
        recorded_at: event.recorded_at,
        purposes,
    }
}

/// Applies `ConsentWithdrawn` to consents held by channel: the whole
/// channel's consent (no purposes given, as in every event recorded before
/// purposes existed) or only the purposes given.
pub fn withdraw(consents: &mut BTreeMap<i32, pb::Consent>, event: &pb::ConsentWithdrawn) {
    if event.purposes.is_empty() {
        consents.remove(&event.channel);
    } else if let Some(consent) = consents.get_mut(&event.channel) {
        consent
            .purposes
            .retain(|purpose| !event.purposes.contains(purpose));
    }
}

/// Whether `consent` allows contact on `channel` for `purpose`.
pub fn covers(consent: &pb::Consent, channel: i32, purpose: i32) -> bool {
    consent.channel == channel && consent.purposes.contains(&purpose)
}

/// A registered organisation that is not archived.
fn writable_organisation(state: &StakeholderState) -> Result<(), StakeholderError> {
    match &state.profile {
        None => Err(StakeholderError::NotFound),
        Some(Profile::Person(_)) => Err(StakeholderError::NotAnOrganisation),
        Some(Profile::Organisation(_)) if state.archived => Err(StakeholderError::Archived),
        Some(Profile::Organisation(_)) => Ok(()),
    }
}

/// A live person that is not archived.
fn writable_person(state: &StakeholderState) -> Result<(), StakeholderError> {
    live_person(state)?;
    if state.archived {
        return Err(StakeholderError::Archived);
    }
    Ok(())
}

fn check_order(
    start: &Timestamp,
    end: Option<&Timestamp>,
    field: String,
) -> Result<(), StakeholderError> {
    match end {
        Some(end) if ts_key(end) < ts_key(start) => Err(StakeholderError::EndBeforeStart { field }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use maillage_es::testing;
    use StakeholderCommand as C;
    use StakeholderEvent as E;

    const ID: &str = "0190a1b2-0000-7000-8000-000000000001";
    const ORG: &str = "0190a1b2-0000-7000-8000-0000000000aa";

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000)
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp { seconds, nanos: 0 }
    }

    fn person_profile(kinds: &[pb::PersonKind]) -> pb::SealedPersonProfile {
        pb::SealedPersonProfile {
            sealed_given_name: b"sealed-given".to_vec(),
            sealed_family_name: b"sealed-family".to_vec(),
            kinds: kinds.iter().map(|kind| *kind as i32).collect(),
            commune_code: "11069".into(),
            ..Default::default()
        }
    }

    fn business() -> pb::OrganisationProfile {
        pb::OrganisationProfile {
            name: "Menuiserie Durand".into(),
            commune_code: "11069".into(),
            siren: String::new(),
            details: Some(pb::organisation_profile::Details::Business(
                pb::BusinessDetails {
                    size: pb::BusinessSize::Tpe as i32,
                    sector: "menuiserie".into(),
                },
            )),
        }
    }

    fn mandate(id: &str, start: i64, end: Option<i64>) -> NewMandate {
        NewMandate {
            mandate_id: id.into(),
            office: pb::MandateOffice::Maire,
            authority: pb::TerritoryRef {
                level: pb::TerritoryLevel::Commune as i32,
                code: "11069".into(),
            },
            started_at: at(start),
            ended_at: end.map(at),
        }
    }

    fn register_person(kinds: &[pb::PersonKind], mandates: Vec<NewMandate>) -> C {
        C::RegisterPerson {
            stakeholder_id: ID.into(),
            profile: person_profile(kinds),
            mandates,
            actor: "facilitator-1".into(),
            now: now(),
        }
    }

    /// Folds `given` and decides `when`.
    fn given_when(given: &[E], when: &C) -> Result<Vec<StakeholderEvent>, StakeholderError> {
        testing::given::<Stakeholder>(given).when(when).result()
    }

    /// The state after `given`.
    fn fold(given: &[E]) -> StakeholderState {
        testing::given::<Stakeholder>(given).into_state()
    }

    fn registered_elu() -> Vec<E> {
        given_when(
            &[],
            &register_person(&[pb::PersonKind::ElectedOfficial], vec![]),
        )
        .unwrap()
    }

    fn registered_inhabitant() -> Vec<E> {
        given_when(&[], &register_person(&[pb::PersonKind::Inhabitant], vec![])).unwrap()
    }

    fn registered_organisation() -> Vec<E> {
        given_when(
            &[],
            &C::RegisterOrganisation {
                stakeholder_id: ORG.into(),
                profile: business(),
                actor: "facilitator-1".into(),
                now: now(),
            },
        )
        .unwrap()
    }

    fn with(mut given: Vec<E>, more: impl IntoIterator<Item = E>) -> Vec<E> {
        given.extend(more);
        given
    }

    fn archived(given: Vec<E>) -> Vec<E> {
        let events = given_when(&given, &C::Archive { now: now() }).unwrap();
        with(given, events)
    }

    fn erased(given: Vec<E>) -> Vec<E> {
        let events = given_when(&given, &erase()).unwrap();
        with(given, events)
    }

    fn erase() -> C {
        C::Erase {
            reason: "RGPD art. 17".into(),
            interaction_ids: vec!["i-1".into()],
            actor: "admin-1".into(),
            now: now(),
        }
    }

    #[test]
    fn registering_a_person_records_the_sealed_profile_and_the_mandates() {
        let events = given_when(
            &[],
            &register_person(
                &[pb::PersonKind::ElectedOfficial],
                vec![mandate("m-1", 100, None)],
            ),
        )
        .unwrap();
        assert_eq!(events.len(), 2);
        let E::PersonRegistered(registered) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(registered.stakeholder_id, ID);
        assert_eq!(
            registered.profile,
            Some(person_profile(&[pb::PersonKind::ElectedOfficial]))
        );
        assert_eq!(registered.registered_by, "facilitator-1");
        assert_eq!(registered.registered_at, Some(timestamp(now())));
        let E::MandateStarted(started) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(
            (started.mandate_id.as_str(), started.stakeholder_id.as_str()),
            ("m-1", ID)
        );
        let state = fold(&events);
        assert!(state.is_person() && state.is_elected() && state.has_running_mandate());
    }

    #[test]
    fn a_stakeholder_is_registered_once() {
        let error = given_when(&registered_inhabitant(), &register_person(&[], vec![]));
        assert_eq!(error, Err(StakeholderError::AlreadyRegistered));
        let error = given_when(
            &registered_inhabitant(),
            &C::RegisterOrganisation {
                stakeholder_id: ID.into(),
                profile: business(),
                actor: "a".into(),
                now: now(),
            },
        );
        assert_eq!(error, Err(StakeholderError::AlreadyRegistered));
    }

    #[test]
    fn a_mandate_on_a_non_elu_is_refused_at_registration_and_later() {
        let error = given_when(
            &[],
            &register_person(
                &[pb::PersonKind::Inhabitant],
                vec![mandate("m-1", 100, None)],
            ),
        );
        assert_eq!(error, Err(StakeholderError::NotElected));
        let error = given_when(
            &registered_inhabitant(),
            &C::StartMandate(mandate("m-1", 100, None)),
        );
        assert_eq!(error, Err(StakeholderError::NotElected));
    }

    #[test]
    fn a_mandate_cannot_end_before_it_starts() {
        let error = given_when(
            &[],
            &register_person(
                &[pb::PersonKind::ElectedOfficial],
                vec![mandate("m-1", 100, None), mandate("m-2", 100, Some(50))],
            ),
        );
        assert_eq!(
            error,
            Err(StakeholderError::EndBeforeStart {
                field: "mandates[1].ended_at".into()
            })
        );
        let error = given_when(
            &registered_elu(),
            &C::StartMandate(mandate("m-1", 100, Some(99))),
        );
        assert_eq!(
            error,
            Err(StakeholderError::EndBeforeStart {
                field: "mandate.ended_at".into()
            })
        );
        let given = with(
            registered_elu(),
            given_when(
                &registered_elu(),
                &C::StartMandate(mandate("m-1", 100, None)),
            )
            .unwrap(),
        );
        let error = given_when(
            &given,
            &C::EndMandate {
                mandate_id: "m-1".into(),
                ended_at: at(99),
            },
        );
        assert_eq!(
            error,
            Err(StakeholderError::EndBeforeStart {
                field: "ended_at".into()
            })
        );
    }

    #[test]
    fn a_mandate_starts_then_ends_once() {
        let started = given_when(
            &registered_elu(),
            &C::StartMandate(mandate("m-1", 100, None)),
        )
        .unwrap();
        assert!(matches!(&started[..], [E::MandateStarted(m)] if m.mandate_id == "m-1"));
        let given = with(registered_elu(), started);
        let end = C::EndMandate {
            mandate_id: "m-1".into(),
            ended_at: at(200),
        };
        let ended = given_when(&given, &end).unwrap();
        assert_eq!(
            ended,
            vec![E::MandateEnded(pb::MandateEnded {
                stakeholder_id: ID.into(),
                mandate_id: "m-1".into(),
                ended_at: Some(at(200)),
            })]
        );
        let given = with(given, ended);
        assert!(!fold(&given).has_running_mandate());
        testing::given::<Stakeholder>(&given)
            .when(&end)
            .then_refused(StakeholderError::MandateAlreadyEnded("m-1".into()));
        testing::given::<Stakeholder>(&given)
            .when(&C::EndMandate {
                mandate_id: "m-9".into(),
                ended_at: at(200),
            })
            .then_refused(StakeholderError::MandateNotFound("m-9".into()));
    }

    #[test]
    fn a_profile_update_replaces_the_profile_unless_it_drops_the_elu_kind_with_running_mandates() {
        let update = C::UpdatePersonProfile {
            profile: person_profile(&[pb::PersonKind::BusinessLeader]),
            now: now(),
        };
        let events = given_when(&registered_elu(), &update).unwrap();
        let state = fold(&with(registered_elu(), events));
        assert_eq!(
            state.profile,
            Some(Profile::Person(person_profile(&[
                pb::PersonKind::BusinessLeader
            ])))
        );
        let given = with(
            registered_elu(),
            given_when(
                &registered_elu(),
                &C::StartMandate(mandate("m-1", 100, None)),
            )
            .unwrap(),
        );
        testing::given::<Stakeholder>(&given)
            .when(&update)
            .then_refused(StakeholderError::RunningMandates);
    }

    #[test]
    fn person_commands_refuse_organisations_and_unknown_ids() {
        let update = C::UpdatePersonProfile {
            profile: person_profile(&[]),
            now: now(),
        };
        testing::given_nothing::<Stakeholder>()
            .when(&update)
            .then_refused(StakeholderError::NotFound);
        testing::given::<Stakeholder>(&registered_organisation())
            .when(&update)
            .then_refused(StakeholderError::NotAPerson);
        testing::given::<Stakeholder>(&registered_organisation())
            .when(&C::RecordConsent {
                channel: pb::ConsentChannel::Email,
                legal_basis: pb::LegalBasis::Consent,
                purposes: vec![],
                now: now(),
            })
            .then_refused(StakeholderError::NotAPerson);
        testing::given::<Stakeholder>(&registered_organisation())
            .when(erase())
            .then_refused(StakeholderError::NotAPerson);
        testing::given_nothing::<Stakeholder>()
            .when(erase())
            .then_refused(StakeholderError::NotFound);
        testing::given_nothing::<Stakeholder>()
            .when(&C::Archive { now: now() })
            .then_refused(StakeholderError::NotFound);
    }

    #[test]
    fn an_organisation_profile_update_keeps_its_kind_and_skips_no_ops() {
        let mut renamed = business();
        renamed.name = "Menuiserie Durand & fils".into();
        let update = C::UpdateOrganisationProfile {
            profile: renamed.clone(),
            now: now(),
        };
        let events = given_when(&registered_organisation(), &update).unwrap();
        assert!(
            matches!(&events[..], [E::OrganisationProfileUpdated(e)] if e.profile == Some(renamed.clone()))
        );
        let same = C::UpdateOrganisationProfile {
            profile: business(),
            now: now(),
        };
        testing::given::<Stakeholder>(&registered_organisation())
            .when(&same)
            .then([]);
        let mut association = business();
        association.details = Some(pb::organisation_profile::Details::Association(
            pb::AssociationDetails {},
        ));
        let change_kind = C::UpdateOrganisationProfile {
            profile: association,
            now: now(),
        };
        testing::given::<Stakeholder>(&registered_organisation())
            .when(&change_kind)
            .then_refused(StakeholderError::OrganisationKindChanged);
        testing::given::<Stakeholder>(&registered_inhabitant())
            .when(&update)
            .then_refused(StakeholderError::NotAnOrganisation);
        testing::given::<Stakeholder>(&archived(registered_organisation()))
            .when(&update)
            .then_refused(StakeholderError::Archived);
    }

    #[test]
    fn affiliations_are_added_once_per_role_and_end_after_they_start() {
        let add = C::AddAffiliation {
            affiliation_id: "a-1".into(),
            organisation_id: ORG.into(),
            role: "gérante".into(),
            started_at: at(100),
        };
        let added = given_when(&registered_inhabitant(), &add).unwrap();
        assert!(
            matches!(&added[..], [E::AffiliationAdded(a)] if a.organisation_id == ORG && a.role == "gérante")
        );
        let given = with(registered_inhabitant(), added);
        testing::given::<Stakeholder>(&given)
            .when(&add)
            .then_refused(StakeholderError::AffiliationAlreadyActive);
        let end = |seconds| C::EndAffiliation {
            affiliation_id: "a-1".into(),
            ended_at: at(seconds),
        };
        testing::given::<Stakeholder>(&given)
            .when(end(50))
            .then_refused(StakeholderError::EndBeforeStart {
                field: "ended_at".into(),
            });
        let ended = given_when(&given, &end(150)).unwrap();
        let given = with(given, ended);
        assert_eq!(fold(&given).affiliations[0].ended_at, Some(at(150)));
        testing::given::<Stakeholder>(&given)
            .when(end(160))
            .then_refused(StakeholderError::AffiliationAlreadyEnded("a-1".into()));
        testing::given::<Stakeholder>(&given)
            .when(&C::EndAffiliation {
                affiliation_id: "a-2".into(),
                ended_at: at(1),
            })
            .then_refused(StakeholderError::AffiliationNotFound("a-2".into()));
        // Once ended, the same role may start again.
        assert!(given_when(&given, &add).is_ok());
    }

    #[test]
    fn consent_is_recorded_per_channel_and_withdrawn_even_when_archived() {
        let record = C::RecordConsent {
            channel: pb::ConsentChannel::Email,
            legal_basis: pb::LegalBasis::Consent,
            purposes: vec![],
            now: now(),
        };
        let recorded = given_when(&registered_inhabitant(), &record).unwrap();
        let given = with(registered_inhabitant(), recorded);
        assert_eq!(
            given_when(&given, &record),
            Ok(vec![]),
            "the same basis again changes nothing"
        );
        let withdraw = |channel| C::WithdrawConsent {
            channel,
            purposes: vec![],
            now: now(),
        };
        testing::given::<Stakeholder>(&given)
            .when(withdraw(pb::ConsentChannel::Phone))
            .then_refused(StakeholderError::ConsentNotRecorded);
        let given = archived(given);
        testing::given::<Stakeholder>(&given)
            .when(&record)
            .then_refused(StakeholderError::Archived);
        let withdrawn = given_when(&given, &withdraw(pb::ConsentChannel::Email)).unwrap();
        assert!(
            matches!(&withdrawn[..], [E::ConsentWithdrawn(w)] if w.channel == pb::ConsentChannel::Email as i32)
        );
        assert!(fold(&with(given, withdrawn)).consents.is_empty());
    }

    #[test]
    fn archiving_is_recorded_once_and_freezes_the_stakeholder() {
        let given = archived(registered_elu());
        assert!(fold(&given).archived);
        testing::given::<Stakeholder>(&given)
            .when(&C::Archive { now: now() })
            .then([]);
        testing::given::<Stakeholder>(&given)
            .when(C::StartMandate(mandate("m-1", 1, None)))
            .then_refused(StakeholderError::Archived);
        testing::given::<Stakeholder>(&given)
            .when(&C::UpdatePersonProfile {
                profile: person_profile(&[]),
                now: now(),
            })
            .then_refused(StakeholderError::Archived);
        // An archived person can still be erased.
        assert!(matches!(
            &given_when(&given, &erase()).unwrap()[..],
            [E::PersonErased(_)]
        ));
    }

    #[test]
    fn erasure_records_who_when_why_and_which_interactions_then_refuses_everything() {
        let events = given_when(&registered_elu(), &erase()).unwrap();
        assert_eq!(
            events,
            vec![E::PersonErased(pb::PersonErased {
                stakeholder_id: ID.into(),
                erased_at: Some(timestamp(now())),
                reason: "RGPD art. 17".into(),
                interaction_ids: vec!["i-1".into()],
                erased_by: "admin-1".into(),
            })]
        );
        let given = erased(registered_elu());
        assert_eq!(
            given_when(&given, &erase()),
            Ok(vec![]),
            "erasing again changes nothing"
        );
        for command in [
            C::StartMandate(mandate("m-1", 1, None)),
            C::UpdatePersonProfile {
                profile: person_profile(&[]),
                now: now(),
            },
            C::WithdrawConsent {
                channel: pb::ConsentChannel::Email,
                purposes: vec![],
                now: now(),
            },
            C::Archive { now: now() },
        ] {
            assert_eq!(
                given_when(&given, &command),
                Err(StakeholderError::Erased),
                "{command:?}"
            );
        }
    }

    #[test]
    fn every_event_round_trips_through_its_payload() {
        use maillage_es::EventPayload;
        let events = with(
            with(
                registered_elu(),
                given_when(&registered_elu(), &C::StartMandate(mandate("m-1", 1, None))).unwrap(),
            ),
            given_when(&registered_elu(), &erase()).unwrap(),
        );
        for event in events {
            let decoded = StakeholderEvent::decode(event.event_type(), &event.encode()).unwrap();
            assert_eq!(decoded, event);
        }
        assert!(matches!(
            StakeholderEvent::decode("maillage.v1.Nope", &[]),
            Err(maillage_es::DecodeError::UnknownType(_))
        ));
    }
    #[test]
    fn an_old_consent_without_purposes_covers_none_and_purposes_are_withdrawn_one_by_one() {
        // An event recorded before purposes existed decodes with none.
        let old = pb::ConsentRecorded {
            stakeholder_id: ID.into(),
            channel: pb::ConsentChannel::Email as i32,
            legal_basis: pb::LegalBasis::Consent as i32,
            recorded_at: Some(at(10)),
            purposes: vec![],
        };
        let given = with(registered_inhabitant(), [E::ConsentRecorded(old)]);
        let consent = fold(&given).consents[&(pb::ConsentChannel::Email as i32)].clone();
        let email = pb::ConsentChannel::Email as i32;
        let newsletter = pb::ConsentPurpose::Newsletter as i32;
        let surveys = pb::ConsentPurpose::Surveys as i32;
        assert!(!covers(&consent, email, newsletter));
        // Recording purposes replaces the channel's consent.
        let record = C::RecordConsent {
            channel: pb::ConsentChannel::Email,
            legal_basis: pb::LegalBasis::Consent,
            purposes: vec![surveys, newsletter],
            now: now(),
        };
        let events = given_when(&given, &record).unwrap();
        let given = with(given, events);
        let consent = fold(&given).consents[&email].clone();
        assert!(covers(&consent, email, newsletter) && covers(&consent, email, surveys));
        assert!(!covers(
            &consent,
            pb::ConsentChannel::Phone as i32,
            newsletter
        ));
        assert_eq!(given_when(&given, &record), Ok(vec![]));
        // Withdrawing one purpose keeps the others.
        let withdraw = |purposes: Vec<i32>| C::WithdrawConsent {
            channel: pb::ConsentChannel::Email,
            purposes,
            now: now(),
        };
        let events = given_when(&given, &withdraw(vec![newsletter])).unwrap();
        let given = with(given, events);
        let consent = fold(&given).consents[&email].clone();
        assert!(!covers(&consent, email, newsletter) && covers(&consent, email, surveys));
        assert_eq!(
            given_when(&given, &withdraw(vec![newsletter])),
            Err(StakeholderError::PurposeNotCovered(
                "CONSENT_PURPOSE_NEWSLETTER"
            ))
        );
        // Withdrawing with no purposes withdraws the channel.
        let events = given_when(&given, &withdraw(vec![])).unwrap();
        assert!(fold(&with(given, events)).consents.is_empty());
    }

    #[test]
    fn organisations_link_once_end_once_and_never_to_themselves() {
        const OTHER: &str = "0190a1b2-0000-7000-8000-0000000000bb";
        let link = |to: &str| C::LinkOrganisation {
            link_id: "l-1".into(),
            kind: pb::OrganisationLinkKind::MemberOf,
            linked_organisation_id: to.into(),
            started_at: at(100),
        };
        assert_eq!(
            given_when(&registered_organisation(), &link(ORG)),
            Err(StakeholderError::LinkToItself)
        );
        assert_eq!(
            given_when(&registered_inhabitant(), &link(OTHER)),
            Err(StakeholderError::NotAnOrganisation)
        );
        assert_eq!(
            given_when(&[], &link(OTHER)),
            Err(StakeholderError::NotFound)
        );
        let linked = given_when(&registered_organisation(), &link(OTHER)).unwrap();
        let given = with(registered_organisation(), linked);
        assert_eq!(
            given_when(&given, &link(OTHER)),
            Err(StakeholderError::LinkAlreadyActive)
        );
        let end = |id: &str, seconds| C::EndOrganisationLink {
            link_id: id.into(),
            ended_at: at(seconds),
        };
        assert_eq!(
            given_when(&given, &end("l-9", 200)),
            Err(StakeholderError::LinkNotFound("l-9".into()))
        );
        assert_eq!(
            given_when(&given, &end("l-1", 99)),
            Err(StakeholderError::EndBeforeStart {
                field: "ended_at".into()
            })
        );
        let ended = given_when(&given, &end("l-1", 200)).unwrap();
        let given = with(given, ended);
        let state = fold(&given);
        assert_eq!(state.organisation_links.len(), 1);
        assert_eq!(state.organisation_links[0].ended_at, Some(at(200)));
        assert_eq!(
            given_when(&given, &end("l-1", 300)),
            Err(StakeholderError::LinkAlreadyEnded("l-1".into()))
        );
        // Ended: the same link may start again.
        assert!(given_when(&given, &link(OTHER)).is_ok());
        assert_eq!(
            given_when(&archived(given), &link(OTHER)),
            Err(StakeholderError::Archived)
        );
    }
}
