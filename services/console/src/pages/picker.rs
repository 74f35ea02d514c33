//! Picking stakeholders by a search of the register, without JavaScript:
//! the chosen ones ride in the page's query string (`avec=<id>`, repeated),
//! a name query (`nom=`) lists matches, each with a link that adds it (or,
//! for a single choice, picks it instead). `picker.html` shows it.

use maillage_proto::v1 as pb;

use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

/// Most stakeholders a search proposes.
const PICKS: u32 = 10;

/// A stakeholder as the picker shows it.
pub(crate) struct Pick {
    pub(crate) name: String,
    /// The query string that picks it (for the found ones).
    pub(crate) add: String,
}

/// What the picker shows: who is chosen, what the search found.
pub(crate) struct Picker {
    /// The page the search and the links go to.
    pub(crate) path: String,
    /// What the search asks for ("un participant", "le tiers-lieu"...).
    pub(crate) label: &'static str,
    pub(crate) chosen: Vec<Pick>,
    pub(crate) chosen_ids: Vec<String>,
    pub(crate) query: String,
    pub(crate) found: Vec<Pick>,
    /// The search's refusal, if any.
    pub(crate) error: String,
}

/// A stakeholder's name, or its id when it has none to show.
pub(crate) fn name_of(stakeholder: &pb::Stakeholder) -> String {
    if let Some(organisation) = &stakeholder.organisation {
        return organisation.name.clone();
    }
    match &stakeholder.person {
        Some(person) => format!("{} {}", person.given_name, person.family_name)
            .trim()
            .to_owned(),
        None => stakeholder.stakeholder_id.clone(),
    }
}

/// The picker of `path` for the query string `query` under `token`: the
/// names of the chosen ones, and the matches of its name query (only
/// organisations of type `only`, when given; a single choice replaces the
/// chosen one, several add to them).
pub(crate) async fn pick(
    state: &State,
    token: &str,
    path: String,
    label: &'static str,
    query: &Fields,
    single: bool,
    only: Option<pb::OrganisationType>,
) -> Picker {
    let chosen_ids = query.all("avec");
    let mut picker = Picker {
        path,
        label,
        chosen: Vec::new(),
        chosen_ids: Vec::new(),
        query: query.get("nom"),
        found: Vec::new(),
        error: String::new(),
    };
    let mut register = match state.backend.stakeholders(token) {
        Ok(register) => register,
        Err(refusal) => {
            picker.error = refusal.message;
            return picker;
        }
    };
    for id in &chosen_ids {
        let name = match register
            .get_stakeholder(pb::GetStakeholderRequest {
                stakeholder_id: id.clone(),
            })
            .await
        {
            Ok(found) => name_of(&found.into_inner()),
            Err(status) => Refusal::from(status).message,
        };
        picker.chosen.push(Pick {
            name,
            add: String::new(),
        });
    }
    if !picker.query.is_empty() {
        let search = register
            .search_stakeholders(pb::SearchStakeholdersRequest {
                filter: Some(pb::StakeholderFilter {
                    name_query: picker.query.clone(),
                    organisation_types: only.map(|only| only as i32).into_iter().collect(),
                    ..Default::default()
                }),
                page: Some(pb::PageRequest {
                    page_size: PICKS,
                    page_token: String::new(),
                }),
                ..Default::default()
            })
            .await;
        match search {
            Ok(found) => {
                picker.found = found
                    .into_inner()
                    .stakeholders
                    .into_iter()
                    .filter(|summary| !chosen_ids.contains(&summary.stakeholder_id))
                    .map(|summary| {
                        let mut add = form_urlencoded::Serializer::new(String::new());
                        let kept = if single { &[][..] } else { &chosen_ids[..] };
                        for id in kept.iter().chain([&summary.stakeholder_id]) {
                            add.append_pair("avec", id);
                        }
                        let name = if summary.organisation_name.is_empty() {
                            format!("{} {}", summary.given_name, summary.family_name)
                        } else {
                            summary.organisation_name.clone()
                        };
                        Pick {
                            name: format!("{} ({})", name.trim(), summary.commune_code),
                            add: add.finish(),
                        }
                    })
                    .collect();
            }
            Err(status) => picker.error = Refusal::from(status).message,
        }
    }
    picker.chosen_ids = chosen_ids;
    picker
}
