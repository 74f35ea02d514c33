//! A search's filter (`maillage.v1.StakeholderFilter`), checked and ready to
//! match the index's rows: every list capped and every value checked before
//! any work, each refusal an INVALID_ARGUMENT naming the field.

use std::collections::HashSet;

use maillage_proto::v1 as pb;
use maillage_service_kit::ServiceError;
use maillage_territory::{Territory, TerritoryLevel, TerritoryRef as CogRef};
use prost_types::Timestamp;

use super::blind::query_words;
use super::calendar::months_before;
use super::state::{topic_bits, Entry};
use crate::domain::ts_key;
use crate::validate;

/// Most territories in a filter.
pub const MAX_TERRITORIES: usize = 20;
/// Most themes in a filter.
pub const MAX_TOPICS: usize = 20;
/// Most values of any other list of a filter.
pub const MAX_VALUES: usize = 10;
/// Longest name query, in characters.
pub const MAX_NAME_QUERY: usize = 100;
/// Most words of a name query.
pub const MAX_QUERY_WORDS: usize = 8;
/// Most months of `not_contacted_for_months` (a century).
pub const MAX_MONTHS: u32 = 1_200;

/// A checked filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    r#type: Option<pb::StakeholderType>,
    person_kinds: Vec<i32>,
    organisation_types: Vec<i32>,
    territories: Vec<CogRef>,
    /// The communes the territories cover (codes), checked once per row.
    communes: HashSet<String>,
    offices: Vec<i32>,
    topics: u64,
    /// Channel, legal basis (if given), purpose (if given).
    consent: Option<(i32, Option<i32>, Option<i32>)>,
    /// Persons with a current affiliation to this organisation.
    affiliated_to: Option<String>,
    contacted_before: Option<Timestamp>,
    contacted_after: Option<Timestamp>,
    never_contacted: bool,
    not_contacted_since: Option<Timestamp>,
    since_mandate_start: bool,
    archived: pb::ArchivedFilter,
    /// The name query's folded words (empty: none).
    pub name_words: Vec<String>,
}

fn invalid(field: String, message: &str) -> ServiceError {
    ServiceError::invalid_argument(field, message)
}

/// The values of a repeated enum field, each known and set, at most `max`.
fn enums<E: TryFrom<i32> + Into<i32>>(
    field: &str,
    values: &[i32],
    max: usize,
) -> Result<Vec<i32>, ServiceError> {
    if values.len() > max {
        return Err(invalid(field.to_owned(), &format!("at most {max} values")));
    }
    let mut checked = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let value: E = validate::enum_value(&format!("{field}[{index}]"), *value)?;
        checked.push(value.into());
    }
    checked.sort_unstable();
    checked.dedup();
    Ok(checked)
}

/// The COG level of a wire level.
fn cog_level(level: i32) -> Option<TerritoryLevel> {
    match pb::TerritoryLevel::try_from(level) {
        Ok(pb::TerritoryLevel::Commune) => Some(TerritoryLevel::Commune),
        Ok(pb::TerritoryLevel::Epci) => Some(TerritoryLevel::Epci),
        Ok(pb::TerritoryLevel::Departement) => Some(TerritoryLevel::Departement),
        Ok(pb::TerritoryLevel::Region) => Some(TerritoryLevel::Region),
        _ => None,
    }
}

/// Whether a mandate runs at `now`.
pub fn is_current(mandate: &pb::Mandate, now: &Timestamp) -> bool {
    let now = ts_key(now);
    mandate
        .started_at
        .as_ref()
        .is_some_and(|start| ts_key(start) <= now)
        && mandate
            .ended_at
            .as_ref()
            .is_none_or(|end| ts_key(end) > now)
}

/// Whether an affiliation runs at `now` (started, not ended).
pub fn runs(affiliation: &pb::Affiliation, now: &Timestamp) -> bool {
    let now = ts_key(now);
    affiliation
        .started_at
        .as_ref()
        .is_none_or(|start| ts_key(start) <= now)
        && affiliation
            .ended_at
            .as_ref()
            .is_none_or(|end| ts_key(end) > now)
}

impl Filter {
    /// Checks `filter` (the request field `field`): `now` is the server's clock.
    pub fn check(
        territory: &Territory,
        field: &str,
        filter: Option<&pb::StakeholderFilter>,
        now: &Timestamp,
    ) -> Result<Self, ServiceError> {
        let Some(filter) = filter else {
            return Ok(Filter::default());
        };
        let at = |name: &str| format!("{field}.{name}");
        let r#type = match filter.r#type {
            0 => None,
            value => Some(validate::enum_value::<pb::StakeholderType>(
                &at("type"),
                value,
            )?),
        };
        let person_kinds =
            enums::<pb::PersonKind>(&at("person_kinds"), &filter.person_kinds, MAX_VALUES)?;
        let organisation_types = enums::<pb::OrganisationType>(
            &at("organisation_types"),
            &filter.organisation_types,
            MAX_VALUES,
        )?;
        if !person_kinds.is_empty() && !organisation_types.is_empty() {
            return Err(invalid(
                at("organisation_types"),
                "cannot be combined with person_kinds: a stakeholder is a person or an organisation",
            ));
        }
        if r#type == Some(pb::StakeholderType::Organisation) && !person_kinds.is_empty() {
            return Err(invalid(at("person_kinds"), "only persons have kinds"));
        }
        if r#type == Some(pb::StakeholderType::Person) && !organisation_types.is_empty() {
            return Err(invalid(
                at("organisation_types"),
                "only organisations have a type",
            ));
        }
        if filter.territories.len() > MAX_TERRITORIES {
            return Err(invalid(
                at("territories"),
                &format!("at most {MAX_TERRITORIES} territories"),
            ));
        }
        let mut territories = Vec::with_capacity(filter.territories.len());
        for (index, reference) in filter.territories.iter().enumerate() {
            let field = at(&format!("territories[{index}]"));
            let checked = validate::territory_ref(territory, &field, Some(reference))?;
            let level = cog_level(checked.level)
                .ok_or_else(|| invalid(format!("{field}.level"), "must be set"))?;
            let cog = CogRef::new(level, checked.code)
                .map_err(|error| invalid(format!("{field}.code"), &error.to_string()))?;
            territories.push(cog);
        }
        let mut communes = HashSet::new();
        for cog in &territories {
            let covered = territory
                .communes_in(cog)
                .map_err(|error| invalid(at("territories"), &error.to_string()))?;
            communes.extend(covered.into_iter().map(|commune| commune.code.clone()));
        }
        let offices = enums::<pb::MandateOffice>(
            &at("current_mandates"),
            &filter.current_mandates,
            MAX_VALUES,
        )?;
        let topics = enums::<pb::Theme>(&at("contact_topics"), &filter.contact_topics, MAX_TOPICS)?;
        let consent = match &filter.consent {
            None => None,
            Some(consent) => {
                let channel: pb::ConsentChannel =
                    validate::enum_value(&at("consent.channel"), consent.channel)?;
                let basis = match consent.legal_basis {
                    0 => None,
                    value => Some(validate::enum_value::<pb::LegalBasis>(
                        &at("consent.legal_basis"),
                        value,
                    )? as i32),
                };
                let purpose = match consent.purpose {
                    0 => None,
                    value => Some(validate::enum_value::<pb::ConsentPurpose>(
                        &at("consent.purpose"),
                        value,
                    )? as i32),
                };
                Some((channel as i32, basis, purpose))
            }
        };
        let affiliated_to = if filter.affiliated_to.is_empty() {
            None
        } else {
            Some(validate::id(&at("affiliated_to"), &filter.affiliated_to)?.to_string())
        };
        let contacted_before = validate::optional_instant(
            &at("last_contact_before"),
            filter.last_contact_before.as_ref(),
        )?;
        let contacted_after = validate::optional_instant(
            &at("last_contact_after"),
            filter.last_contact_after.as_ref(),
        )?;
        if filter.never_contacted && (contacted_before.is_some() || contacted_after.is_some()) {
            return Err(invalid(
                at("never_contacted"),
                "cannot be combined with last_contact_before or last_contact_after",
            ));
        }
        if filter.not_contacted_for_months > MAX_MONTHS {
            return Err(invalid(
                at("not_contacted_for_months"),
                &format!("at most {MAX_MONTHS}"),
            ));
        }
        let not_contacted_since = (filter.not_contacted_for_months > 0)
            .then(|| months_before(now, filter.not_contacted_for_months));
        let archived = match filter.archived {
            0 => pb::ArchivedFilter::NotArchived,
            value => validate::enum_value(&at("archived"), value)?,
        };
        let name_words = name_query(&at("name_query"), &filter.name_query)?;
        Ok(Filter {
            r#type,
            person_kinds,
            organisation_types,
            territories,
            communes,
            offices,
            topics: topic_bits(&topics),
            consent,
            affiliated_to,
            contacted_before,
            contacted_after,
            never_contacted: filter.never_contacted,
            not_contacted_since,
            since_mandate_start: filter.not_contacted_since_mandate_start,
            archived,
            name_words,
        })
    }

    /// Whether `entry` passes every filter but the name query (the index
    /// matches that on its tokens).
    pub fn matches(&self, entry: &Entry, now: &Timestamp) -> bool {
        let row = &entry.row;
        let person = entry.is_person();
        if let Some(r#type) = self.r#type {
            if row.r#type != r#type as i32 {
                return false;
            }
        }
        if !self.person_kinds.is_empty() {
            let of_a_kind = person
                && row
                    .person_kinds
                    .iter()
                    .any(|k| self.person_kinds.contains(k));
            if !of_a_kind {
                return false;
            }
        }
        if !self.organisation_types.is_empty()
            && (person || !self.organisation_types.contains(&row.organisation_type))
        {
            return false;
        }
        match self.archived {
            pb::ArchivedFilter::Archived if !row.archived => return false,
            pb::ArchivedFilter::Unspecified | pb::ArchivedFilter::NotArchived if row.archived => {
                return false
            }
            _ => {}
        }
        if let Some((channel, basis, purpose)) = self.consent {
            let held = row.consents.iter().any(|consent| {
                consent.channel == channel
                    && basis.is_none_or(|basis| consent.legal_basis == basis)
                    && purpose.is_none_or(|purpose| consent.purposes.contains(&purpose))
            });
            if !held {
                return false;
            }
        }
        if let Some(organisation) = &self.affiliated_to {
            let current = row.affiliations.iter().any(|affiliation| {
                &affiliation.organisation_id == organisation && runs(affiliation, now)
            });
            if !person || !current {
                return false;
            }
        }
        if self.topics != 0 && entry.topics & self.topics == 0 {
            return false;
        }
        let last = entry.last_contact.as_ref().map(ts_key);
        if self.never_contacted && last.is_some() {
            return false;
        }
        if let Some(before) = &self.contacted_before {
            // Never contacted, or contacted since: not before.
            if last.is_none_or(|last| last >= ts_key(before)) {
                return false;
            }
        }
        if let Some(after) = &self.contacted_after {
            if last.is_none_or(|last| last < ts_key(after)) {
                return false;
            }
        }
        if let Some(since) = &self.not_contacted_since {
            if last.is_some_and(|last| last >= ts_key(since)) {
                return false;
            }
        }
        let mut current = row
            .mandates
            .iter()
            .filter(|mandate| is_current(mandate, now))
            .filter(|mandate| self.offices.is_empty() || self.offices.contains(&mandate.office))
            .peekable();
        if (!self.offices.is_empty() || self.since_mandate_start) && current.peek().is_none() {
            return false;
        }
        if self.since_mandate_start {
            let start = current
                .filter_map(|mandate| mandate.started_at.as_ref().map(ts_key))
                .max();
            // No current mandate, or contacted since its start.
            if start.is_none_or(|start| last.is_some_and(|last| last >= start)) {
                return false;
            }
        }
        self.territories.is_empty() || self.in_territories(entry, now)
    }

    /// Whether the stakeholder's commune, or the authority of one of their
    /// current mandates, lies in one of the filter's territories.
    fn in_territories(&self, entry: &Entry, now: &Timestamp) -> bool {
        if self.communes.contains(&entry.row.commune_code) {
            return true;
        }
        entry.row.mandates.iter().any(|mandate| {
            let Some(authority) = &mandate.authority else {
                return false;
            };
            if !is_current(mandate, now) {
                return false;
            }
            match cog_level(authority.level) {
                Some(TerritoryLevel::Commune) => self.communes.contains(&authority.code),
                Some(level) => self
                    .territories
                    .iter()
                    .any(|wanted| level == wanted.level() && authority.code == wanted.code()),
                None => false,
            }
        })
    }
}

/// A name query's folded words: at most [`MAX_NAME_QUERY`] characters on one
/// line, at most [`MAX_QUERY_WORDS`] words, at least one letter or digit when
/// given.
fn name_query(field: &str, query: &str) -> Result<Vec<String>, ServiceError> {
    if query.trim().is_empty() {
        return Ok(Vec::new());
    }
    let query = validate::required_line(field, query, MAX_NAME_QUERY)?;
    let words = query_words(&query);
    if words.is_empty() {
        return Err(invalid(field.to_owned(), "must hold a letter or a digit"));
    }
    if words.len() > MAX_QUERY_WORDS {
        return Err(invalid(
            field.to_owned(),
            &format!("at most {MAX_QUERY_WORDS} words"),
        ));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp {
            seconds: 1_780_000_000,
            nanos: 0,
        }
    }

    fn field_of(filter: pb::StakeholderFilter) -> String {
        match Filter::check(Territory::shared(), "filter", Some(&filter), &now()) {
            Err(ServiceError::InvalidArgument { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn bad_filters_are_refused_naming_the_field() {
        assert_eq!(
            field_of(pb::StakeholderFilter {
                territories: vec![
                    pb::TerritoryRef {
                        level: pb::TerritoryLevel::Commune as i32,
                        code: "11069".into(),
                    },
                    pb::TerritoryRef {
                        level: pb::TerritoryLevel::Departement as i32,
                        code: "999".into(),
                    },
                ],
                ..Default::default()
            }),
            "filter.territories[1].code"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                current_mandates: vec![1, 99],
                ..Default::default()
            }),
            "filter.current_mandates[1]"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                contact_topics: vec![1; 21],
                ..Default::default()
            }),
            "filter.contact_topics"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                never_contacted: true,
                last_contact_after: Some(now()),
                ..Default::default()
            }),
            "filter.never_contacted"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                name_query: "a".repeat(101),
                ..Default::default()
            }),
            "filter.name_query"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                name_query: "a b c d e f g h i".into(),
                ..Default::default()
            }),
            "filter.name_query"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                person_kinds: vec![1],
                organisation_types: vec![2],
                ..Default::default()
            }),
            "filter.organisation_types"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter::default()),
                ..Default::default()
            }),
            "filter.consent.channel"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                not_contacted_for_months: 1_201,
                ..Default::default()
            }),
            "filter.not_contacted_for_months"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                consent: Some(pb::ConsentFilter {
                    channel: pb::ConsentChannel::Email as i32,
                    purpose: 99,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            "filter.consent.purpose"
        );
        assert_eq!(
            field_of(pb::StakeholderFilter {
                affiliated_to: "not-an-id".into(),
                ..Default::default()
            }),
            "filter.affiliated_to"
        );
    }

    #[test]
    fn current_mandates_run_between_their_dates() {
        let at = |seconds| Some(Timestamp { seconds, nanos: 0 });
        let mandate = |start: i64, end: Option<i64>| pb::Mandate {
            started_at: at(start),
            ended_at: end.and_then(at),
            ..Default::default()
        };
        assert!(is_current(&mandate(1_000, None), &now()));
        assert!(!is_current(&mandate(1_900_000_000, None), &now()));
        assert!(!is_current(&mandate(1_000, Some(2_000)), &now()));
        assert!(is_current(&mandate(1_000, Some(1_900_000_000)), &now()));
    }
}
