//! The queries: pure functions from a read model (live, or replayed as of an
//! instant) to the protobuf answers. Cross-context joins happen here. Every
//! list is sorted, so the same read model always gives the same bytes.
//!
//! - [`territory`]: engagement across a commune, EPCI, département or région;
//! - [`timeline`]: everything that involved one stakeholder;
//! - [`audit`]: the contact audit;
//! - [`surveys`], [`actions`], [`consortium`]: results and state;
//! - [`coding`]: coded findings of interviews and diagnostics;
//! - [`comparison`]: what changed on a territory between two instants;
//! - [`lessons`]: the lessons-learned register, searched;
//! - [`follow_ups`]: who owns which follow-up, due when;
//! - [`engagement_lists`]: the actions, interviews and diagnostics;
//! - [`stakeholder_map`]: influence × interest quadrants and positions;
//! - [`contact_view`]: a contact's first fields read in place, without allocating;
//! - [`joins`]: who is an élu or a business, where a stakeholder is, who was contacted;
//! - this module: pagination and territory references.

pub mod actions;
pub mod audit;
pub mod coding;
pub mod comparison;
pub mod consortium;
pub mod contact_view;
pub mod engagement_lists;
pub mod follow_ups;
pub mod joins;
pub mod lessons;
pub mod stakeholder_map;
pub mod surveys;
pub mod territory;
pub mod timeline;

use std::collections::BTreeSet;

use maillage_proto::v1 as pb;
use maillage_service_kit::ServiceError;
use maillage_territory::{Territory, TerritoryLevel, TerritoryRef as CogRef};

/// Items per page when the request says 0.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Most items per page.
pub const MAX_PAGE_SIZE: usize = 1_000;

/// A decoded page request: skip `offset` items, return at most `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip: where the page starts in the whole list.
    pub offset: usize,
    /// Most items to return (requests get at most [`MAX_PAGE_SIZE`]; [`Page::ALL`] has no limit).
    pub size: usize,
}

impl Page {
    /// Everything (exports).
    pub const ALL: Page = Page {
        offset: 0,
        size: usize::MAX,
    };

    /// Decodes `request` (absent: the first page); a bad token is
    /// INVALID_ARGUMENT on `page.page_token`.
    pub fn from_request(request: Option<&pb::PageRequest>) -> Result<Self, ServiceError> {
        let Some(request) = request else {
            return Ok(Page {
                offset: 0,
                size: DEFAULT_PAGE_SIZE,
            });
        };
        let size = match request.page_size {
            0 => DEFAULT_PAGE_SIZE,
            size => (size as usize).min(MAX_PAGE_SIZE),
        };
        let offset = if request.page_token.is_empty() {
            0
        } else {
            request
                .page_token
                .strip_prefix('o')
                .and_then(|digits| digits.parse::<usize>().ok())
                .ok_or_else(|| {
                    ServiceError::invalid_argument(
                        "page.page_token",
                        "not a token this service gave",
                    )
                })?
        };
        Ok(Page { offset, size })
    }

    /// This page of `items`, and where the list continues.
    pub fn slice<T>(self, items: Vec<T>) -> (Vec<T>, pb::PageInfo) {
        let total = items.len();
        let end = self.offset.saturating_add(self.size).min(total);
        let next_page_token = if end < total {
            format!("o{end}")
        } else {
            String::new()
        };
        let page = items
            .into_iter()
            .skip(self.offset)
            .take(end.saturating_sub(self.offset))
            .collect();
        (page, pb::PageInfo { next_page_token })
    }
}

/// Longest territory code a request may give: COG codes have 2 to 9
/// characters. A longer one is refused before any search for close names.
pub const MAX_TERRITORY_CODE_LEN: usize = 16;

/// The INSEE codes of the communes of `reference` (none when it is unknown).
pub fn commune_codes<'t>(territory: &'t Territory, reference: &CogRef) -> BTreeSet<&'t str> {
    territory
        .communes_in(reference)
        .unwrap_or_default()
        .into_iter()
        .map(|commune| commune.code.as_str())
        .collect()
}

/// The COG territory of a request field: INVALID_ARGUMENT naming `field`
/// (`<field>.level` or `<field>.code`, with the closest territory names) when
/// it is missing, malformed or unknown.
pub fn resolve_territory(
    territory: &Territory,
    reference: Option<&pb::TerritoryRef>,
    field: &str,
) -> Result<CogRef, ServiceError> {
    let reference = reference
        .ok_or_else(|| ServiceError::invalid_argument(field, "a territory is required"))?;
    let level = match pb::TerritoryLevel::try_from(reference.level) {
        Ok(pb::TerritoryLevel::Commune) => TerritoryLevel::Commune,
        Ok(pb::TerritoryLevel::Epci) => TerritoryLevel::Epci,
        Ok(pb::TerritoryLevel::Departement) => TerritoryLevel::Departement,
        Ok(pb::TerritoryLevel::Region) => TerritoryLevel::Region,
        _ => {
            return Err(ServiceError::invalid_argument(
                format!("{field}.level"),
                "must be commune, EPCI, département or région",
            ))
        }
    };
    if reference.code.len() > MAX_TERRITORY_CODE_LEN {
        // Not echoed, and no search for close names: it could be of any size.
        return Err(ServiceError::invalid_argument(
            format!("{field}.code"),
            format!(
                "{} bytes, a territory code has at most {MAX_TERRITORY_CODE_LEN}",
                reference.code.len()
            ),
        ));
    }
    let code = reference.code.trim();
    let checked = CogRef::new(level, code).and_then(|cog| {
        territory.validate(&cog)?;
        Ok(cog)
    });
    checked.map_err(|error| {
        let closest: Vec<String> = territory
            .closest_names(code, 3)
            .into_iter()
            .map(|found| format!("{} ({})", found.name, found.territory))
            .collect();
        let french = match closest.is_empty() {
            true => error.french(),
            false => format!("{} Noms proches : {}.", error.french(), closest.join(", ")),
        };
        ServiceError::invalid_argument(
            format!("{field}.code"),
            format!("{error}; closest names: {}", closest.join(", ")),
        )
        .with_french(french)
    })
}

/// The protobuf form of a COG reference.
pub fn to_pb_territory(reference: &CogRef) -> pb::TerritoryRef {
    let level = match reference.level() {
        TerritoryLevel::Commune => pb::TerritoryLevel::Commune,
        TerritoryLevel::Epci => pb::TerritoryLevel::Epci,
        TerritoryLevel::Departement => pb::TerritoryLevel::Departement,
        TerritoryLevel::Region => pb::TerritoryLevel::Region,
    };
    pb::TerritoryRef {
        level: level as i32,
        code: reference.code().to_owned(),
    }
}

/// A ratio, 0 when the denominator is 0.
pub fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// Label counts sorted by label.
pub fn label_counts<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> Vec<pb::LabelCount> {
    let mut merged = std::collections::BTreeMap::<&str, u64>::new();
    for (label, count) in counts {
        *merged.entry(label).or_default() += count;
    }
    merged
        .into_iter()
        .map(|(label, count)| pb::LabelCount {
            label: label.to_owned(),
            count,
        })
        .collect()
}
