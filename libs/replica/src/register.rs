//! The register as engagement and governance check it: for each stakeholder,
//! person or organisation (and which kind of organisation), commune, archived,
//! erased, and an organisation's name — folded from the stakeholders log, with
//! no personal data (a person's name and contact details stay sealed in that
//! log and are not copied; an organisation's name is recorded in clear there,
//! and governance shows its members by it).
//!
//! [`Replica::<Register>::expect`] is the one check every command naming a
//! stakeholder runs: unknown → `INVALID_ARGUMENT` naming the field (the caller
//! may have sent the id before the replica saw it: see [`crate::after`]),
//! erased or of the wrong kind → `FAILED_PRECONDITION` saying what was expected.

use maillage_proto::v1::{self as pb, organisation_profile::Details, EventEnvelope};
use maillage_service_kit::ServiceError;
use prost::{Message, Name};
use uuid::Uuid;

use crate::replica::{FoldError, Model, Overlay, Replica};

/// A person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StakeholderKind {
    /// A person (élu, business leader, inhabitant...).
    Person,
    /// An organisation, of this type.
    Organisation(OrganisationType),
}

/// What kind of organisation (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationType {
    /// A collectivité (commune, EPCI, département, région).
    LocalAuthority,
    /// A business.
    Business,
    /// A chambre consulaire.
    Chamber,
    /// An association.
    Association,
    /// A public administration.
    PublicAdministration,
    /// A tiers-lieu.
    TiersLieu,
    /// A profile with no details (never accepted by the stakeholders service).
    Unspecified,
}

impl OrganisationType {
    const ALL: [OrganisationType; 7] = [
        Self::Unspecified,
        Self::LocalAuthority,
        Self::Business,
        Self::Chamber,
        Self::Association,
        Self::PublicAdministration,
        Self::TiersLieu,
    ];

    fn of(details: Option<&Details>) -> Self {
        match details {
            Some(Details::LocalAuthority(_)) => Self::LocalAuthority,
            Some(Details::Business(_)) => Self::Business,
            Some(Details::Chamber(_)) => Self::Chamber,
            Some(Details::Association(_)) => Self::Association,
            Some(Details::PublicAdministration(_)) => Self::PublicAdministration,
            Some(Details::TiersLieu(_)) => Self::TiersLieu,
            None => Self::Unspecified,
        }
    }

    fn code(self) -> u8 {
        Self::ALL.iter().position(|t| *t == self).unwrap_or(0) as u8
    }

    fn from_code(code: u8) -> Self {
        Self::ALL
            .get(usize::from(code))
            .copied()
            .unwrap_or(Self::Unspecified)
    }

    /// How a caller reads it in a refusal.
    pub fn label(self) -> &'static str {
        match self {
            Self::LocalAuthority => "a collectivité (local authority)",
            Self::Business => "a business",
            Self::Chamber => "a chambre consulaire",
            Self::Association => "an association",
            Self::PublicAdministration => "a public administration",
            Self::TiersLieu => "a tiers-lieu",
            Self::Unspecified => "an organisation",
        }
    }

    /// The kind in French, for a person reading a refusal.
    pub fn french(self) -> &'static str {
        match self {
            Self::LocalAuthority => "une collectivité",
            Self::Business => "une entreprise",
            Self::Chamber => "une chambre consulaire",
            Self::Association => "une association",
            Self::PublicAdministration => "une administration publique",
            Self::TiersLieu => "un tiers-lieu",
            Self::Unspecified => "une organisation",
        }
    }
}

/// One stakeholder as the replica knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterEntry {
    /// Person or organisation.
    pub kind: StakeholderKind,
    /// INSEE code of their commune.
    pub commune: String,
    /// Archived (kept, no longer active).
    pub archived: bool,
    /// Erased or being erased (crypto-shredding started): nothing new may name them.
    pub erased: bool,
    /// An organisation's name (empty for a person, and for an organisation
    /// folded before the replica kept names, until its profile changes).
    pub name: String,
}

impl RegisterEntry {
    fn encode(&self) -> Vec<u8> {
        let (person, organisation) = match self.kind {
            StakeholderKind::Person => (1, 0),
            StakeholderKind::Organisation(kind) => (0, kind.code()),
        };
        let mut bytes = vec![
            person,
            organisation,
            u8::from(self.archived),
            u8::from(self.erased),
        ];
        bytes.extend_from_slice(self.commune.as_bytes());
        // A commune code has no NUL byte: what follows one is the name (rows
        // written before names were kept end with the commune).
        if !self.name.is_empty() {
            bytes.push(0);
            bytes.extend_from_slice(self.name.as_bytes());
        }
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let [person, organisation, archived, erased, rest @ ..] = bytes else {
            return None;
        };
        let (commune, name) = match rest.iter().position(|byte| *byte == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        Some(Self {
            kind: if *person == 1 {
                StakeholderKind::Person
            } else {
                StakeholderKind::Organisation(OrganisationType::from_code(*organisation))
            },
            commune: String::from_utf8_lossy(commune).into_owned(),
            archived: *archived == 1,
            erased: *erased == 1,
            name: String::from_utf8_lossy(name).into_owned(),
        })
    }
}

/// What a command expects of a stakeholder it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Any stakeholder, person or organisation.
    Any,
    /// A person.
    Person,
    /// An organisation of any type.
    Organisation,
    /// An organisation of this type.
    OrganisationOf(OrganisationType),
}

impl Expected {
    fn accepts(self, kind: StakeholderKind) -> bool {
        match (self, kind) {
            (Self::Any, _) => true,
            (Self::Person, StakeholderKind::Person) => true,
            (Self::Organisation, StakeholderKind::Organisation(_)) => true,
            (Self::OrganisationOf(want), StakeholderKind::Organisation(have)) => want == have,
            _ => false,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Any => "a stakeholder",
            Self::Person => "a person",
            Self::Organisation => "an organisation",
            Self::OrganisationOf(kind) => kind.label(),
        }
    }

    fn french(self) -> &'static str {
        match self {
            Self::Any => "un acteur",
            Self::Person => "une personne",
            Self::Organisation => "une organisation",
            Self::OrganisationOf(kind) => kind.french(),
        }
    }
}

fn kind_label(kind: StakeholderKind) -> &'static str {
    match kind {
        StakeholderKind::Person => "a person",
        StakeholderKind::Organisation(kind) => kind.label(),
    }
}

fn kind_french(kind: StakeholderKind) -> &'static str {
    match kind {
        StakeholderKind::Person => "une personne",
        StakeholderKind::Organisation(kind) => kind.french(),
    }
}

/// The register model: the stakeholders context's events folded into one
/// [`RegisterEntry`] per stakeholder, keyed by the id's 16 bytes.
pub struct Register;

fn decode<T: Message + Default>(envelope: &EventEnvelope) -> Result<T, FoldError> {
    T::decode(envelope.payload.as_slice()).map_err(|error| FoldError::undecodable(envelope, error))
}

fn key(id: &str) -> Option<Vec<u8>> {
    Uuid::try_parse(id).ok().map(|id| id.as_bytes().to_vec())
}

fn entry(rows: &Overlay<'_>, key: &[u8]) -> Result<Option<RegisterEntry>, FoldError> {
    rows.get(key)
        .map(|row| row.as_deref().and_then(RegisterEntry::decode))
        .map_err(|error| FoldError {
            event_type: String::new(),
            position: 0,
            reason: error.to_string(),
        })
}

/// Changes the stored entry of `id` with `change` (an event about a
/// stakeholder the replica never saw registered is ignored).
fn update(
    rows: &mut Overlay<'_>,
    id: &str,
    change: impl FnOnce(&mut RegisterEntry),
) -> Result<(), FoldError> {
    let Some(key) = key(id) else { return Ok(()) };
    if let Some(mut current) = entry(rows, &key)? {
        change(&mut current);
        rows.put(key, current.encode());
    }
    Ok(())
}

fn register(
    rows: &mut Overlay<'_>,
    id: &str,
    kind: StakeholderKind,
    commune: &str,
    name: &str,
) -> Result<(), FoldError> {
    let Some(key) = key(id) else { return Ok(()) };
    let entry = RegisterEntry {
        kind,
        commune: commune.to_owned(),
        archived: false,
        erased: false,
        name: name.to_owned(),
    };
    rows.put(key, entry.encode());
    Ok(())
}

impl Model for Register {
    const CONTEXT: &'static str = "stakeholders";

    fn fold(envelope: &EventEnvelope, rows: &mut Overlay<'_>) -> Result<(), FoldError> {
        let name = envelope
            .event_type
            .strip_prefix("maillage.v1.")
            .unwrap_or("");
        if name == pb::PersonRegistered::NAME {
            let event: pb::PersonRegistered = decode(envelope)?;
            let commune = event.profile.map(|p| p.commune_code).unwrap_or_default();
            register(
                rows,
                &event.stakeholder_id,
                StakeholderKind::Person,
                &commune,
                "",
            )
        } else if name == pb::OrganisationRegistered::NAME {
            let event: pb::OrganisationRegistered = decode(envelope)?;
            let profile = event.profile.unwrap_or_default();
            let kind =
                StakeholderKind::Organisation(OrganisationType::of(profile.details.as_ref()));
            register(
                rows,
                &event.stakeholder_id,
                kind,
                &profile.commune_code,
                &profile.name,
            )
        } else if name == pb::PersonProfileUpdated::NAME {
            let event: pb::PersonProfileUpdated = decode(envelope)?;
            let Some(profile) = event.profile else {
                return Ok(());
            };
            update(rows, &event.stakeholder_id, |entry| {
                entry.commune = profile.commune_code;
            })
        } else if name == pb::OrganisationProfileUpdated::NAME {
            let event: pb::OrganisationProfileUpdated = decode(envelope)?;
            let Some(profile) = event.profile else {
                return Ok(());
            };
            update(rows, &event.stakeholder_id, |entry| {
                entry.kind =
                    StakeholderKind::Organisation(OrganisationType::of(profile.details.as_ref()));
                entry.commune = profile.commune_code;
                entry.name = profile.name;
            })
        } else if name == pb::StakeholderArchived::NAME {
            let event: pb::StakeholderArchived = decode(envelope)?;
            update(rows, &event.stakeholder_id, |entry| entry.archived = true)
        } else if name == pb::PersonErasureStarted::NAME {
            // From the start of an erasure, nothing new may name the person.
            let event: pb::PersonErasureStarted = decode(envelope)?;
            update(rows, &event.stakeholder_id, |entry| entry.erased = true)
        } else if name == pb::PersonErased::NAME {
            let event: pb::PersonErased = decode(envelope)?;
            update(rows, &event.stakeholder_id, |entry| entry.erased = true)
        } else {
            Ok(())
        }
    }
}

impl Replica<Register> {
    /// The entry of stakeholder `id`, if the replica has seen it registered.
    pub fn get(&self, id: &Uuid) -> Result<Option<RegisterEntry>, ServiceError> {
        let row = self
            .row(id.as_bytes())
            .map_err(|error| ServiceError::internal(format!("register replica: {error}")))?;
        Ok(row.as_deref().and_then(RegisterEntry::decode))
    }

    /// The name of the organisation `id`, when the replica knows it (empty
    /// for a person: the replica holds no person's name).
    pub fn organisation_name(&self, id: &str) -> Option<String> {
        let id = Uuid::try_parse(id).ok()?;
        let entry = self.get(&id).ok()??;
        match entry.kind {
            StakeholderKind::Organisation(_) if !entry.name.is_empty() => Some(entry.name),
            _ => None,
        }
    }

    /// Checks that `id`, given in the request's `field`, names a stakeholder
    /// that is `expected` and not erased; see the module docs for the statuses.
    pub fn expect(
        &self,
        field: &str,
        id: &Uuid,
        expected: Expected,
    ) -> Result<RegisterEntry, ServiceError> {
        let Some(entry) = self.get(id)? else {
            return Err(ServiceError::invalid_argument(
                field,
                format!(
                    "no stakeholder {id} in the register (at position {} of the stakeholders log; \
                     if it was just registered, send `maillage-after: stakeholders=<position>`)",
                    self.position()
                ),
            )
            .with_french(format!(
                "L'acteur {id} est introuvable dans le registre. S'il vient d'être enregistré, \
                 réessayez dans un instant."
            )));
        };
        if entry.erased {
            return Err(ServiceError::failed_precondition(format!(
                "{field}: stakeholder {id} was erased; nothing new may name them"
            ))
            .with_french(format!(
                "Les données de l'acteur {id} ont été effacées : plus rien de nouveau ne peut \
                 le citer."
            )));
        }
        if !expected.accepts(entry.kind) {
            return Err(ServiceError::failed_precondition(format!(
                "{field}: stakeholder {id} is {}, {} was expected",
                kind_label(entry.kind),
                expected.label()
            ))
            .with_french(format!(
                "L'acteur {id} est {} : il faut ici {}.",
                kind_french(entry.kind),
                expected.french()
            )));
        }
        Ok(entry)
    }

    /// [`Replica::<Register>::expect`] for each id of a list given in `field`
    /// (errors name `field[i]`).
    pub fn expect_all(
        &self,
        field: &str,
        ids: &[Uuid],
        expected: Expected,
    ) -> Result<(), ServiceError> {
        for (i, id) in ids.iter().enumerate() {
            self.expect(&format!("{field}[{i}]"), id, expected)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        for kind in [
            StakeholderKind::Person,
            StakeholderKind::Organisation(OrganisationType::TiersLieu),
            StakeholderKind::Organisation(OrganisationType::LocalAuthority),
        ] {
            for name in ["", "Tiers-lieu de la Gare", "Fab\u{e9}"] {
                let entry = RegisterEntry {
                    kind,
                    commune: "37018".into(),
                    archived: true,
                    erased: false,
                    name: name.into(),
                };
                assert_eq!(RegisterEntry::decode(&entry.encode()), Some(entry));
            }
        }
        assert_eq!(RegisterEntry::decode(&[1, 0]), None);
        // A row written before names were kept reads with no name.
        let old = [0, 6, 0, 0, b'3', b'7', b'0', b'1', b'8'];
        let entry = RegisterEntry::decode(&old).unwrap();
        assert_eq!((entry.commune.as_str(), entry.name.as_str()), ("37018", ""));
    }

    #[test]
    fn expectations_accept_only_their_kind() {
        let tiers_lieu = StakeholderKind::Organisation(OrganisationType::TiersLieu);
        assert!(Expected::Any.accepts(StakeholderKind::Person));
        assert!(Expected::Organisation.accepts(tiers_lieu));
        assert!(!Expected::Person.accepts(tiers_lieu));
        assert!(Expected::OrganisationOf(OrganisationType::TiersLieu).accepts(tiers_lieu));
        assert!(!Expected::OrganisationOf(OrganisationType::Business).accepts(tiers_lieu));
        assert!(!Expected::Organisation.accepts(StakeholderKind::Person));
    }
}
