//! Exports: a report as a CSV or JSON document, byte for byte the same for the
//! same read model (rows sorted by the queries, fixed-width RFC 3339 instants,
//! numbers rounded to 6 decimals, JSON object keys sorted) — and, when the
//! request asks for it, stating its [`Provenance`]: the request and each
//! log's last event, so that the document can be recomputed and compared.

use maillage_proto::v1 as pb;
use serde_json::{json, Value};

use crate::time::{micros, rfc3339};

/// The CSV media type.
pub const CSV: &str = "text/csv; charset=utf-8";
/// The JSON media type.
pub const JSON: &str = "application/json";

fn instant(timestamp: Option<&prost_types::Timestamp>) -> String {
    timestamp.map(|t| rfc3339(micros(t))).unwrap_or_default()
}

/// What a document was computed from: the request that asked for it (its
/// protobuf encoding) and each log's last event applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The `ExportReportRequest`, encoded.
    pub request: Vec<u8>,
    /// Each log's last event applied, in the order of the projection's sources.
    pub sources: Vec<pb::ExportSource>,
}

impl Provenance {
    /// The comment lines a CSV document starts with.
    fn csv_lines(&self) -> Vec<u8> {
        let mut lines = format!("# maillage-request,{}\r\n", hex::encode(&self.request));
        for source in &self.sources {
            lines.push_str(&format!(
                "# maillage-source,{},{},{}\r\n",
                source.context, source.position, source.hash
            ));
        }
        lines.into_bytes()
    }

    /// The `provenance` object of a JSON document.
    fn json(&self) -> Value {
        json!({
            "request": hex::encode(&self.request),
            "sources": self.sources.iter().map(|source| json!({
                "context": source.context,
                "position": source.position,
                "hash": source.hash,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A CSV document, after the provenance's comment lines when there is one.
pub fn with_csv_provenance(document: Vec<u8>, provenance: Option<&Provenance>) -> Vec<u8> {
    match provenance {
        Some(provenance) => [provenance.csv_lines(), document].concat(),
        None => document,
    }
}

/// A JSON document: `value`, with its `provenance` when there is one.
fn json_document(mut value: Value, provenance: Option<&Provenance>) -> Vec<u8> {
    if let (Some(provenance), Value::Object(map)) = (provenance, &mut value) {
        map.insert("provenance".to_owned(), provenance.json());
    }
    to_bytes(&value)
}

/// A number rounded to 6 decimals (JSON) or written with 6 decimals (CSV).
fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

fn fixed6(value: f64) -> String {
    format!("{value:.6}")
}

/// Records as a CSV document (RFC 4180, the `csv` crate): fields separated
/// by `delimiter`, quoted only when they hold it, a quote or a line break;
/// lines ended by CRLF. The exports and the CLI's CSV files all use it.
pub fn csv_document(
    records: impl IntoIterator<Item = Vec<String>>,
    delimiter: u8,
) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        writer.write_record(&record)?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

fn participant_text(participant: &pb::ContactAuditParticipant) -> String {
    format!(
        "{}:{}:{}:{}",
        participant.display,
        participant.r#type,
        participant.kinds.join("+"),
        participant.commune_code
    )
}

fn correction_text(correction: &pb::ContactAuditCorrection) -> String {
    format!(
        "{}|{}|{}|{}",
        instant(correction.corrected_at.as_ref()),
        correction.corrected_by,
        correction.fields.join("+"),
        correction.values.join("+")
    )
}

/// The contact audit as CSV (one line per contact; participants and
/// corrections `;`-separated within their fields).
pub fn audit_csv(rows: &[pb::ContactAuditRow]) -> Result<Vec<u8>, csv::Error> {
    let header = [
        "interaction_id",
        "occurred_at",
        "logged_at",
        "logged_by",
        "channel",
        "direction",
        "themes",
        "subject",
        "participants",
        "corrections",
        "original_channel",
        "original_occurred_at",
        "original_participant_ids",
    ]
    .map(str::to_owned)
    .to_vec();
    let lines = rows.iter().map(|row| {
        vec![
            row.interaction_id.clone(),
            instant(row.occurred_at.as_ref()),
            instant(row.logged_at.as_ref()),
            row.logged_by.clone(),
            row.channel.clone(),
            row.direction.clone(),
            row.themes.join(";"),
            row.subject.clone(),
            row.participants
                .iter()
                .map(participant_text)
                .collect::<Vec<_>>()
                .join(";"),
            row.corrections
                .iter()
                .map(correction_text)
                .collect::<Vec<_>>()
                .join(";"),
            row.original_channel.clone(),
            instant(row.original_occurred_at.as_ref()),
            row.original_participant_ids.join(";"),
        ]
    });
    csv_document(std::iter::once(header).chain(lines), b',')
}

/// The contact audit as JSON: `{"rows": [...]}` (and its `provenance`).
pub fn audit_json(rows: &[pb::ContactAuditRow], provenance: Option<&Provenance>) -> Vec<u8> {
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "interaction_id": row.interaction_id,
                "occurred_at": instant(row.occurred_at.as_ref()),
                "logged_at": instant(row.logged_at.as_ref()),
                "logged_by": row.logged_by,
                "channel": row.channel,
                "direction": row.direction,
                "themes": row.themes,
                "subject": row.subject,
                "participants": row.participants.iter().map(|p| json!({
                    "stakeholder": p.display,
                    "type": p.r#type,
                    "kinds": p.kinds,
                    "commune_code": p.commune_code,
                    "erased": p.erased,
                })).collect::<Vec<_>>(),
                "corrections": row.corrections.iter().map(|c| json!({
                    "corrected_at": instant(c.corrected_at.as_ref()),
                    "corrected_by": c.corrected_by,
                    "fields": c.fields,
                    "values": c.values,
                })).collect::<Vec<_>>(),
                "original_channel": row.original_channel,
                "original_occurred_at": instant(row.original_occurred_at.as_ref()),
                "original_participant_ids": row.original_participant_ids,
            })
        })
        .collect();
    json_document(json!({ "rows": rows }), provenance)
}

/// The territory report as CSV: one line per member commune.
pub fn territory_csv(report: &pb::TerritoryEngagementReport) -> Result<Vec<u8>, csv::Error> {
    let header = [
        "code",
        "name",
        "population",
        "stakeholders",
        "stakeholders_contacted",
        "elus_contacted",
        "businesses_contacted",
        "actions_held",
        "people_reached",
        "survey_responses",
        "white_zone",
    ]
    .map(str::to_owned)
    .to_vec();
    let lines = report.communes.iter().map(|commune| {
        vec![
            commune.code.clone(),
            commune.name.clone(),
            commune.population.to_string(),
            commune.stakeholders.to_string(),
            commune.stakeholders_contacted.to_string(),
            commune.elus_contacted.to_string(),
            commune.businesses_contacted.to_string(),
            commune.actions_held.to_string(),
            commune.people_reached.to_string(),
            commune.survey_responses.to_string(),
            commune.white_zone.to_string(),
        ]
    });
    csv_document(std::iter::once(header).chain(lines), b',')
}

fn label_counts(counts: &[pb::LabelCount]) -> Value {
    Value::Object(
        counts
            .iter()
            .map(|c| (c.label.clone(), Value::from(c.count)))
            .collect(),
    )
}

/// The territory report as JSON (summary and every commune, and its `provenance`).
pub fn territory_json(
    report: &pb::TerritoryEngagementReport,
    provenance: Option<&Provenance>,
) -> Vec<u8> {
    let rates = report.rates_per_1000.unwrap_or_default();
    let territory = report.territory.clone().unwrap_or_default();
    let value = json!({
        "territory": { "level": territory.level().as_str_name(), "code": territory.code },
        "name": report.name,
        "communes_total": report.communes_total,
        "population": report.population,
        "stakeholders_total": report.stakeholders_total,
        "stakeholders_by_kind": label_counts(&report.stakeholders_by_kind),
        "elus": report.elus,
        "elus_engaged": report.elus_engaged,
        "businesses": report.businesses,
        "businesses_engaged": report.businesses_engaged,
        "last_contact_at": instant(report.last_contact_at.as_ref()),
        "contacts": report.contacts,
        "actions_held": report.actions_held,
        "actions_held_by_kind": label_counts(&report.actions_held_by_kind),
        "actions_held_by_theme": label_counts(&report.actions_held_by_theme),
        "named_people_reached": report.named_people_reached,
        "anonymous_people_reached": report.anonymous_people_reached,
        "people_reached": report.people_reached,
        "survey_responses": report.survey_responses,
        "consortium_members": report.consortium_members,
        "communes_with_elu_contacted": report.communes_with_elu_contacted,
        "coverage": round6(report.coverage),
        "coverage_text": fixed6(report.coverage),
        "white_zone_communes": report.white_zone_communes,
        "rates_per_1000": {
            "stakeholders_contacted": round6(rates.stakeholders_contacted),
            "people_reached": round6(rates.people_reached),
            "survey_responses": round6(rates.survey_responses),
            "actions_held": round6(rates.actions_held),
        },
        "communes": report.communes.iter().map(|c| json!({
            "code": c.code,
            "name": c.name,
            "population": c.population,
            "stakeholders": c.stakeholders,
            "stakeholders_contacted": c.stakeholders_contacted,
            "elus_contacted": c.elus_contacted,
            "businesses_contacted": c.businesses_contacted,
            "actions_held": c.actions_held,
            "people_reached": c.people_reached,
            "survey_responses": c.survey_responses,
            "white_zone": c.white_zone,
        })).collect::<Vec<_>>(),
        "by_theme": report.by_theme.iter().map(|t| json!({
            "theme": t.theme,
            "contacts": t.contacts,
            "actions_held": t.actions_held,
            "surveys": t.surveys,
            "interviews": t.interviews,
            "commitments": t.commitments,
            "commitments_done": t.commitments_done,
        })).collect::<Vec<_>>(),
        "as_of": instant(report.as_of.as_ref()),
    });
    json_document(value, provenance)
}

fn to_bytes(value: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail (its map keys are strings).
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
