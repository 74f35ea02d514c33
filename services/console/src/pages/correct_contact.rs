//! Correcting a contact (`CorrectInteraction`, facilitator): the form on the
//! contact's page (a field left empty is not corrected; the reason is
//! required), sent with the version the page showed, so a correction made
//! meanwhile is not overwritten unseen. The service keeps the contact as
//! logged and records the correction beside it, with who, when and why: the
//! page lists it as such, each field's value before and after it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1 as pb;
use tonic::Code;

use super::{check_csrf, ended, guard, place, render, Input, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::{labels, time, State};

/// One correction as the contact's page lists it.
pub(super) struct Shown {
    /// When, by whom, why.
    pub(super) summary: String,
    /// Each field it replaced: (field, before, after).
    pub(super) changes: Vec<(String, String, String)>,
}

/// `correction` as the page lists it, its free text through `masked` (the
/// service leaves it empty below full disclosure).
pub(super) fn shown(
    correction: &pb::InteractionCorrectionView,
    masked: &dyn Fn(&str) -> String,
) -> Shown {
    let value = |value: &pb::InteractionFieldValue| match value.field.as_str() {
        "participants" => value
            .participants
            .iter()
            .map(|participant| participant.stakeholder_id.clone())
            .collect::<Vec<_>>()
            .join(", "),
        "channel" => labels::channel(value.channel()).to_owned(),
        "direction" => labels::direction(value.direction()).to_owned(),
        "occurred_at" => format!("{} (UTC)", time::show(value.occurred_at.as_ref())),
        "subject" | "notes" => masked(&value.text),
        _ => value
            .topics()
            .map(labels::theme)
            .collect::<Vec<_>>()
            .join(", "),
    };
    Shown {
        summary: format!(
            "Corrigé le {} par {} — motif : {}",
            time::show(correction.corrected_at.as_ref()),
            correction.corrected_by,
            masked(&correction.reason)
        ),
        changes: correction
            .before
            .iter()
            .zip(&correction.after)
            .map(|(before, after)| {
                (
                    field_label(&before.field).to_owned(),
                    value(before),
                    value(after),
                )
            })
            .collect(),
    }
}

/// A corrected field's name (as the service records it) as people say it.
pub(super) fn field_label(field: &str) -> &str {
    match field {
        "participants" => "participants",
        "channel" => "canal",
        "direction" => "initiative",
        "occurred_at" => "date et heure",
        "subject" => "objet",
        "notes" => "notes",
        "themes" | "topics" => "thèmes",
        other => other,
    }
}

/// The correction form's fields.
pub(super) struct Form {
    pub(super) reason: Input,
    pub(super) channel: Input,
    pub(super) occurred: Input,
    pub(super) subject: Input,
    pub(super) notes: Input,
}

impl Form {
    /// The form, filled from `fields`.
    pub(super) fn new(fields: &Fields) -> Self {
        let channels = std::iter::once((String::new(), "— inchangé —".to_owned())).chain(
            labels::CHANNELS.map(|channel| {
                (
                    channel.as_str_name().to_owned(),
                    labels::channel(channel).to_owned(),
                )
            }),
        );
        Self {
            reason: Input::text("reason", "Motif de la correction", fields)
                .required()
                .hint("(gardé avec la correction)"),
            channel: Input::choices("channel", "Canal corrigé", channels, fields),
            occurred: Input::text("occurred_at", "Date et heure corrigées", fields)
                .kind("datetime-local")
                .hint("(heure UTC ; vide : inchangées)"),
            subject: Input::text("subject", "Objet corrigé", fields).hint("(vide : inchangé)"),
            notes: Input::text("notes", "Notes corrigées", fields)
                .kind("textarea")
                .hint("(vides : inchangées)"),
        }
    }

    fn inputs(&mut self) -> [&mut Input; 5] {
        [
            &mut self.reason,
            &mut self.channel,
            &mut self.occurred,
            &mut self.subject,
            &mut self.notes,
        ]
    }
}

fn request(id: &str, fields: &Fields) -> Result<pb::CorrectInteractionRequest, Refusal> {
    let occurred = fields.get("occurred_at");
    let occurred_at = if occurred.is_empty() {
        None
    } else {
        Some(
            time::date_time(&occurred)
                .ok_or_else(|| Refusal::field("occurred_at", "Date et heure invalides."))?,
        )
    };
    let given = |value: String| (!value.is_empty()).then_some(value);
    Ok(pb::CorrectInteractionRequest {
        axis_ids: Default::default(),
        request_id: fields.get("request_id"),
        interaction_id: id.to_owned(),
        expected_version: fields.get("expected_version").parse().ok(),
        reason: fields.get("reason"),
        participants: None,
        channel: pb::InteractionChannel::from_str_name(&fields.get("channel"))
            .map(|channel| channel as i32),
        direction: None,
        occurred_at,
        subject: given(fields.get("subject")),
        notes: given(fields.raw("notes").trim().to_owned()),
        themes: None,
        topics: None,
    })
}

/// `POST /contacts/{id}/corriger` (facilitator): back to the contact's page,
/// or that page with the service's refusal next to its field and what was
/// typed.
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let fields = Fields::parse(&body);
    if let Err(response) = check_csrf(&session, &fields) {
        return *response;
    }
    let answer = match request(&id, &fields) {
        Ok(request) => match state.backend.stakeholders(&session.token) {
            Ok(mut client) => client
                .correct_interaction(request)
                .await
                .map_err(Refusal::from),
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(_) => Redirect::to(&format!("/contacts/{id}")).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => {
            match super::contacts::load(&state, &headers, &session, id, &fields).await {
                Ok(mut page) => {
                    page.errors = place(&refusal, &mut page.correction.inputs());
                    let mut response = render(&page);
                    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    response
                }
                Err(response) => *response,
            }
        }
    }
}
