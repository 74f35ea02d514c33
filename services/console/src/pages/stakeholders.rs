//! *Acteurs*: the register (search by name, type and commune, as
//! `SearchStakeholders` offers) and a stakeholder's page (profile, mandates,
//! affiliations, consents, timeline of contacts). What a role may see of
//! personal data is the services' decision: an analyst gets no name here
//! because the register does not send one.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{ended, guard, message, render, Input, Nav, REGISTER_READERS, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

/// Results per page of the register.
const PAGE_SIZE: u32 = 50;

/// What a page shows where the role may not see a personal field.
const MASKED: &str = "(masqué pour votre rôle)";

struct Row {
    id: String,
    name: String,
    masked: bool,
    kinds: String,
    commune: String,
    last_contact: String,
}

#[derive(Template)]
#[template(path = "stakeholders.html")]
struct List {
    nav: Nav,
    title: String,
    name: Input,
    kind: Input,
    commune: Input,
    errors: Vec<String>,
    rows: Vec<Row>,
    total: u64,
    next: String,
    can_register: bool,
}

fn display_name(given: &str, family: &str, organisation: &str) -> (String, bool) {
    let name = if organisation.is_empty() {
        format!("{given} {family}").trim().to_owned()
    } else {
        organisation.to_owned()
    };
    if name.is_empty() {
        (MASKED.to_owned(), true)
    } else {
        (name, false)
    }
}

/// `GET /acteurs?nom=…&type=…&commune=…&page=…`.
pub(super) async fn list(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let session = match guard(&state, &headers, &uri, &REGISTER_READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let query = Fields::parse(uri.query().unwrap_or("").as_bytes());
    let name = Input::text("nom", "Nom", &query);
    let mut kind = Input::choices(
        "type",
        "Type",
        [
            ("", "Tous"),
            ("personne", "Personnes"),
            ("organisation", "Organisations"),
        ]
        .map(|(value, label)| (value.to_owned(), label.to_owned())),
        &query,
    );
    if query.get("type").is_empty() {
        if let Some(first) = kind.options.first_mut() {
            first.selected = true;
        }
    }
    let mut commune = Input::text("commune", "Commune", &query).hint("(code INSEE)");
    let stakeholder_type = match query.get("type").as_str() {
        "personne" => pb::StakeholderType::Person,
        "organisation" => pb::StakeholderType::Organisation,
        _ => pb::StakeholderType::Unspecified,
    };
    let territories = match query.get("commune") {
        code if code.is_empty() => Vec::new(),
        code => vec![pb::TerritoryRef {
            level: pb::TerritoryLevel::Commune as i32,
            code,
        }],
    };
    let request = pb::SearchStakeholdersRequest {
        filter: Some(pb::StakeholderFilter {
            r#type: stakeholder_type as i32,
            territories,
            name_query: query.get("nom"),
            ..Default::default()
        }),
        page: Some(pb::PageRequest {
            page_size: PAGE_SIZE,
            page_token: query.get("page"),
        }),
        ..Default::default()
    };
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .search_stakeholders(request)
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let (rows, total, next, errors) = match answer {
        Ok(found) => {
            let found = found.into_inner();
            let rows = found
                .stakeholders
                .into_iter()
                .map(|summary| {
                    let (name, masked) = display_name(
                        &summary.given_name,
                        &summary.family_name,
                        &summary.organisation_name,
                    );
                    let kinds = summary
                        .person_kinds()
                        .map(labels::person_kind)
                        .collect::<Vec<_>>()
                        .join(", ");
                    let kinds = if kinds.is_empty() {
                        labels::stakeholder_kind(&format!(
                            "ORGANISATION_{}",
                            summary
                                .organisation_type()
                                .as_str_name()
                                .trim_start_matches("ORGANISATION_TYPE_")
                        ))
                    } else {
                        kinds
                    };
                    Row {
                        id: summary.stakeholder_id,
                        name,
                        masked,
                        kinds,
                        commune: summary.commune_code,
                        last_contact: time::show_date(summary.last_contact_at.as_ref()),
                    }
                })
                .collect();
            let next = found
                .page
                .map(|page| page.next_page_token)
                .unwrap_or_default();
            (rows, found.total, next, Vec::new())
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => {
            let errors = super::place(&refusal, &mut [&mut commune]);
            (Vec::new(), 0, String::new(), errors)
        }
    };
    let next = if next.is_empty() {
        String::new()
    } else {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        serializer
            .append_pair("nom", &query.get("nom"))
            .append_pair("type", &query.get("type"))
            .append_pair("commune", &query.get("commune"))
            .append_pair("page", &next);
        serializer.finish()
    };
    render(&List {
        nav: Nav::of(&session, "acteurs"),
        title: "Acteurs".to_owned(),
        name,
        kind,
        commune,
        errors,
        rows,
        total,
        next,
        can_register: session.any(&WRITERS),
    })
}

struct Entry {
    at: String,
    kind: String,
    detail: String,
    contact: String,
}

struct Detail {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "stakeholder.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    details: Vec<Detail>,
    mandates: Vec<String>,
    affiliations: Vec<String>,
    consents: Vec<String>,
    timeline: Vec<Entry>,
    timeline_note: String,
    can_write: bool,
    /// A person's profile (not erased): a facilitator may edit it.
    editable: bool,
    /// A person not erased, and an admin reading: the erasure is offered.
    can_erase: bool,
}

fn or_masked(value: &str, full: bool) -> String {
    match (value.is_empty(), full) {
        (false, _) => value.to_owned(),
        (true, true) => "—".to_owned(),
        (true, false) => MASKED.to_owned(),
    }
}

/// `GET /acteurs/{id}`.
pub(super) async fn page(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &REGISTER_READERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let answer = match state.backend.stakeholders(&session.token) {
        Ok(mut client) => client
            .get_stakeholder(pb::GetStakeholderRequest {
                stakeholder_id: id.clone(),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let stakeholder = match answer {
        Ok(stakeholder) => stakeholder.into_inner(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => {
            let status = if matches!(refusal.code, Code::NotFound | Code::InvalidArgument) {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::BAD_GATEWAY
            };
            return message(
                status,
                Nav::of(&session, "acteurs"),
                "Acteur introuvable",
                &refusal.message,
            );
        }
    };
    let full = stakeholder.disclosure() == pb::Disclosure::Full;
    let mut details = Vec::new();
    let title;
    if let Some(person) = &stakeholder.person {
        let (name, _) = display_name(&person.given_name, &person.family_name, "");
        title = name;
        details.push(Detail {
            label: "Qualités",
            value: person
                .kinds()
                .map(labels::person_kind)
                .collect::<Vec<_>>()
                .join(", "),
        });
        details.push(Detail {
            label: "Commune",
            value: person.commune_code.clone(),
        });
        details.push(Detail {
            label: "Courriel",
            value: or_masked(&person.email, full),
        });
        details.push(Detail {
            label: "Téléphone",
            value: or_masked(&person.phone, full),
        });
        details.push(Detail {
            label: "Adresse",
            value: or_masked(&person.postal_address, full),
        });
        details.push(Detail {
            label: "Notes",
            value: or_masked(&person.notes, full),
        });
    } else if let Some(organisation) = &stakeholder.organisation {
        title = organisation.name.clone();
        details.push(Detail {
            label: "Commune du siège",
            value: organisation.commune_code.clone(),
        });
        details.push(Detail {
            label: "SIREN",
            value: or_masked(&organisation.siren, true),
        });
    } else {
        title = MASKED.to_owned();
    }
    details.push(Detail {
        label: "Inscrit·e le",
        value: format!(
            "{} par {}",
            time::show(stakeholder.registered_at.as_ref()),
            stakeholder.registered_by
        ),
    });
    if stakeholder.archived {
        details.push(Detail {
            label: "État",
            value: "archivé".to_owned(),
        });
    }
    if stakeholder.erased {
        details.push(Detail {
            label: "Effacement",
            value: format!(
                "personne effacée le {} : ses données personnelles ont disparu pour de bon",
                time::show(stakeholder.erased_at.as_ref())
            ),
        });
    }
    let mandates = stakeholder
        .mandates
        .iter()
        .map(|mandate| {
            let authority = mandate
                .authority
                .as_ref()
                .map(|authority| authority.code.clone())
                .unwrap_or_default();
            let ended = time::show_date(mandate.ended_at.as_ref());
            format!(
                "{} ({}) depuis le {}{}",
                labels::office(mandate.office()),
                authority,
                time::show_date(mandate.started_at.as_ref()),
                if ended.is_empty() {
                    String::new()
                } else {
                    format!(", jusqu'au {ended}")
                }
            )
        })
        .collect();
    let affiliations = stakeholder
        .affiliations
        .iter()
        .map(|affiliation| {
            format!(
                "{} chez {} depuis le {}",
                or_masked(&affiliation.role, full),
                affiliation.organisation_id,
                time::show_date(affiliation.started_at.as_ref())
            )
        })
        .collect();
    let consents = stakeholder
        .consents
        .iter()
        .map(|consent| {
            format!(
                "{} — {} (le {})",
                labels::consent_channel(consent.channel()),
                labels::legal_basis(consent.legal_basis()),
                time::show_date(consent.recorded_at.as_ref())
            )
        })
        .collect();
    let (timeline, timeline_note) = timeline(&state, &session.token, &id).await;
    render(&Page {
        nav: Nav::of(&session, "acteurs"),
        title,
        id,
        details,
        mandates,
        affiliations,
        consents,
        timeline,
        timeline_note,
        can_write: session.any(&WRITERS),
        editable: stakeholder.person.is_some() && !stakeholder.erased,
        can_erase: stakeholder.person.is_some()
            && !stakeholder.erased
            && session.any(&super::administration::ADMINS),
    })
}

/// The stakeholder's timeline from the projections, or why it is not shown.
async fn timeline(state: &State, token: &str, id: &str) -> (Vec<Entry>, String) {
    let answer = match state.backend.projections(token) {
        Ok(mut client) => client
            .get_stakeholder_timeline(pb::StakeholderTimelineRequest {
                stakeholder_id: id.to_owned(),
                as_of: None,
                page: Some(pb::PageRequest {
                    page_size: 200,
                    page_token: String::new(),
                }),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(timeline) => {
            let entries = timeline
                .into_inner()
                .entries
                .into_iter()
                .map(|entry| Entry {
                    at: time::show(entry.at.as_ref()),
                    contact: if entry.kind == "CONTACT" {
                        entry.reference_id.clone()
                    } else {
                        String::new()
                    },
                    kind: labels::timeline_kind(&entry.kind).to_owned(),
                    detail: pb::InteractionChannel::from_str_name(&entry.detail)
                        .map(|channel| labels::channel(channel).to_owned())
                        .unwrap_or(entry.detail),
                })
                .collect();
            (entries, String::new())
        }
        Err(refusal) if refusal.code == Code::PermissionDenied => (
            Vec::new(),
            "Votre rôle ne donne pas accès à la chronologie (rôle analyste).".to_owned(),
        ),
        Err(refusal) => (Vec::new(), refusal.message),
    }
}
