//! Query-time joins across contexts: what kind of stakeholder an id is, where
//! it is, which communes an élu answers for, and who was contacted when.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use crate::labels::ORGANISATION_BUSINESS;
use crate::model::{ContactHead, ReadModel, StakeholderRow};

/// Whether the stakeholder is an élu (a person of kind elected official).
pub fn is_elu(row: &StakeholderRow) -> bool {
    row.person
        && row
            .person_kinds
            .contains(&(pb::PersonKind::ElectedOfficial as i32))
}

/// Whether the stakeholder is a business (organisation) or a business leader.
pub fn is_business(row: &StakeholderRow) -> bool {
    if row.person {
        row.person_kinds
            .contains(&(pb::PersonKind::BusinessLeader as i32))
    } else {
        row.organisation_kind == ORGANISATION_BUSINESS
    }
}

/// The communes a stakeholder answers for: its own, and for an élu the
/// communes of its commune mandates (maire, adjoint, conseiller municipal).
pub fn communes_of(row: &StakeholderRow) -> BTreeSet<&str> {
    let mut communes = BTreeSet::new();
    if !row.commune.is_empty() {
        communes.insert(row.commune.as_str());
    }
    if is_elu(row) {
        for mandate in row.mandates.values() {
            if mandate.authority_level == pb::TerritoryLevel::Commune as i32 {
                communes.insert(mandate.authority_code.as_str());
            }
        }
    }
    communes
}

/// The ids of the registered stakeholders of `reference`'s communes (located
/// there, or an élu with a mandate of one of them).
pub fn stakeholders_in<'m>(
    model: &'m ReadModel,
    territory: &Territory,
    reference: &CogRef,
) -> BTreeSet<&'m str> {
    let communes = super::commune_codes(territory, reference);
    model
        .stakeholders
        .iter()
        .filter(|(_, row)| {
            row.registered && communes_of(row).iter().any(|code| communes.contains(*code))
        })
        .map(|(id, _)| id.as_str())
        .collect()
}

/// The ids of the contacts `stakeholder_id` is a current participant of
/// (logged or not), in id order.
pub fn contacts_of(model: &ReadModel, stakeholder_id: &str) -> Vec<String> {
    model
        .interactions
        .rows("")
        .filter(|row| {
            row.head::<ContactHead<'_>>()
                .is_some_and(|head| head.with(stakeholder_id))
        })
        .map(|row| row.key().to_owned())
        .collect()
}

/// Whether `stakeholder_id` is a current participant of a contact (logged or not).
pub fn in_a_contact(model: &ReadModel, stakeholder_id: &str) -> bool {
    model.interactions.rows("").any(|row| {
        row.head::<ContactHead<'_>>()
            .is_some_and(|head| head.with(stakeholder_id))
    })
}

/// Contacts per stakeholder: how many interactions, and the latest date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactStats {
    /// Number of logged interactions it is a current participant of.
    pub contacts: u64,
    /// When the latest of them took place, in microseconds since the epoch (UTC).
    pub last_at: Option<i64>,
}

/// Every stakeholder's contacts (current participants of logged interactions).
pub fn contact_stats(model: &ReadModel) -> BTreeMap<String, ContactStats> {
    let mut stats = BTreeMap::<String, ContactStats>::new();
    for row in model.interactions.rows("") {
        let Some(interaction) = row.head::<ContactHead<'_>>() else {
            continue;
        };
        if !interaction.logged {
            continue;
        }
        for (stakeholder_id, _) in &interaction.participants {
            // The id copied only the first time it is seen.
            if !stats.contains_key(*stakeholder_id) {
                stats.insert((*stakeholder_id).to_owned(), ContactStats::default());
            }
            if let Some(entry) = stats.get_mut(*stakeholder_id) {
                entry.contacts += 1;
                entry.last_at = entry.last_at.max(interaction.occurred_at);
            }
        }
    }
    stats
}

/// The audience a stakeholder respondent stands for (derived from its kind).
pub fn audience_of(row: Option<&StakeholderRow>) -> pb::EngagementAudience {
    use pb::EngagementAudience as A;
    use pb::PersonKind as K;
    let Some(row) = row else {
        return A::Unspecified;
    };
    if row.person {
        let has = |kind: K| row.person_kinds.contains(&(kind as i32));
        if has(K::ElectedOfficial) {
            A::Elus
        } else if has(K::BusinessLeader) {
            A::Businesses
        } else if has(K::TiersLieuManager) {
            A::TiersLieux
        } else if has(K::AssociationMember) {
            A::Associations
        } else if has(K::PublicAgent) {
            A::Administrations
        } else if has(K::Inhabitant) {
            A::Population
        } else {
            A::Unspecified
        }
    } else {
        match row.organisation_kind.as_str() {
            ORGANISATION_BUSINESS => A::Businesses,
            "ORGANISATION_TIERS_LIEU" => A::TiersLieux,
            "ORGANISATION_ASSOCIATION" => A::Associations,
            "ORGANISATION_CHAMBER" => A::Chambers,
            "ORGANISATION_LOCAL_AUTHORITY" | "ORGANISATION_PUBLIC_ADMINISTRATION" => {
                A::Administrations
            }
            _ => A::Unspecified,
        }
    }
}

/// The kind labels of a stakeholder: a person's kinds, or its organisation kind.
pub fn kind_labels(row: &StakeholderRow) -> Vec<String> {
    if row.person {
        row.person_kinds
            .iter()
            .map(|kind| crate::labels::person_kind(*kind).to_owned())
            .collect()
    } else {
        vec![row.organisation_kind.clone()]
    }
}
