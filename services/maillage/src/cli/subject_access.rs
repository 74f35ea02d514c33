//! `maillage subject-export`: everything the platform holds about a person
//! (RGPD art. 15), from every service, in one document — the stakeholders
//! profile, mandates, affiliations, consents and contacts; engagement's facts
//! naming them (invitations, answers, attendance, organising), the interviews
//! held with them and the survey responses they gave, decrypted; governance's
//! facts naming them (appointments as a member's representative...) — each
//! fact with its log position. Written as JSON (mode 600 when a file), and
//! with `--html` as a summary page in French that a DPO can hand over.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use askama::Template;
use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;
use maillage_proto::v1::governance_client::GovernanceClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use serde_json::{json, Value};

use super::client::{explain, Connection};
use super::privacy::{enum_name, export_json, time};

/// Options of `maillage subject-export`.
#[derive(Debug, Clone, clap::Args)]
pub struct SubjectExportArgs {
    /// The person's stakeholder id.
    pub person_id: String,
    /// JSON output file, written mode 600 (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write a summary page in French (HTML, mode 600).
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// What every service holds about the person.
struct Holdings {
    stakeholders: pb::PersonDataExport,
    engagement: pb::EngagementPersonData,
    governance: pb::PersonFacts,
}

/// Runs `maillage subject-export`.
pub async fn run(connection: &Connection, args: SubjectExportArgs) -> anyhow::Result<()> {
    let channel = connection.connect().await?;
    let person = args.person_id.trim().to_owned();
    let stakeholders = StakeholdersClient::new(channel.clone())
        .export_person_data(pb::ExportPersonDataRequest {
            stakeholder_id: person.clone(),
        })
        .await
        .map_err(explain)?
        .into_inner();
    let facts_request = pb::ExportPersonFactsRequest {
        stakeholder_id: person,
    };
    let engagement = EngagementClient::new(channel.clone())
        .export_person_data(facts_request.clone())
        .await
        .map_err(explain)?
        .into_inner();
    let governance = GovernanceClient::new(channel)
        .export_person_data(facts_request)
        .await
        .map_err(explain)?
        .into_inner();
    let holdings = Holdings {
        stakeholders,
        engagement,
        governance,
    };
    let mut json_bytes = serde_json::to_vec_pretty(&document(&holdings))?;
    json_bytes.push(b'\n');
    match &args.out {
        Some(path) => write_private(path, &json_bytes)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&json_bytes)?;
            stdout.flush()?;
        }
    }
    if let Some(path) = &args.html {
        write_private(path, summary_page(&holdings)?.as_bytes())?;
    }
    Ok(())
}

/// Writes `bytes` to `path`, readable by its owner only (personal data).
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("impossible d'écrire {}", path.display()))?;
    // An existing file keeps its mode on open: set it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    eprintln!("maillage: écrit {} (lisible par vous seul)", path.display());
    Ok(())
}

fn facts(facts: Option<&pb::PersonFacts>) -> Value {
    let list = facts.map(|f| f.facts.as_slice()).unwrap_or_default();
    Value::Array(
        list.iter()
            .map(|fact| {
                json!({
                    "position": fact.position,
                    "stream_id": fact.stream_id,
                    "event_type": fact.event_type,
                    "recorded_at": time(fact.recorded_at.as_ref()),
                    "recorded_by": fact.actor,
                })
            })
            .collect(),
    )
}

fn answer_value(answer: &pb::SurveyAnswer) -> Value {
    use pb::survey_answer::Value as A;
    match &answer.value {
        Some(A::Choice(choice)) => json!(choice),
        Some(A::Choices(list)) | Some(A::Ranking(list)) => json!(list.option_ids),
        Some(A::Scale(value)) => json!(value),
        Some(A::Text(text)) => json!(text),
        Some(A::SealedText(_)) | None => Value::Null,
    }
}

/// The whole document: what stakeholders holds at the top level (the shape
/// this command always had), then a section per other service.
fn document(holdings: &Holdings) -> Value {
    let engagement = &holdings.engagement;
    let mut document = export_json(&holdings.stakeholders);
    document["engagement"] = json!({
        "facts": facts(engagement.facts.as_ref()),
        "interviews": engagement.interviews.iter().map(|i| json!({
            "interview_id": i.interview_id,
            "conducted_at": time(i.conducted_at.as_ref()),
            "interviewer": i.interviewer,
            "themes": i.themes.iter().map(|t| enum_name(*t, pb::EngagementTheme::as_str_name)).collect::<Vec<_>>(),
            "motivations": i.motivations,
            "expectations": i.expectations,
            "notes": i.notes,
            "erased": i.notes_erased,
        })).collect::<Vec<_>>(),
        "survey_responses": engagement.responses.iter().map(|r| json!({
            "survey_id": r.survey_id,
            "response_id": r.response_id,
            "position": r.position,
            "submitted_at": time(r.submitted_at.as_ref()),
            "answers": r.answers.iter().map(|a| json!({
                "question_id": a.question_id,
                "answer": answer_value(a),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    document["governance"] = json!({ "facts": facts(Some(&holdings.governance)) });
    document
}

/// What a fact of the logs is, for the person reading the summary.
fn fact_label(event_type: &str) -> &str {
    match event_type
        .strip_prefix("maillage.v1.")
        .unwrap_or(event_type)
    {
        "ActionPlanned" => "organisation d'une action",
        "ActionInvitationsSent" => "invitation à une action",
        "ActionInvitationAnswered" => "réponse à une invitation",
        "ActionAttendanceRecorded" => "présence à une action",
        "InterviewRecorded" => "entretien",
        "SurveyResponseSubmitted" => "réponse à une enquête",
        "EngagementPersonErased" => "effacement des données",
        "MembershipApplied" | "MemberAdmitted" => "adhésion au consortium",
        "RepresentativeAppointed" => "désignation comme représentant d'un membre",
        "ConsortiumFounded" => "fondation du consortium",
        other => other,
    }
}

fn cell(value: Option<&prost_types::Timestamp>) -> String {
    time(value).as_str().map(str::to_owned).unwrap_or_default()
}

/// A row of the summary page's tables, its cells in order.
type Row = Vec<String>;

fn fact_rows(facts: &[pb::PersonFact]) -> Vec<Row> {
    facts
        .iter()
        .map(|fact| {
            vec![
                cell(fact.recorded_at.as_ref()),
                fact_label(&fact.event_type).to_owned(),
                fact.position.to_string(),
            ]
        })
        .collect()
}

/// The summary page in French (`templates/subject_access.html`).
#[derive(Template)]
#[template(path = "subject_access.html")]
struct SummaryPage {
    erased: bool,
    profile: pb::PersonProfile,
    interactions: Vec<Row>,
    interviews: Vec<Row>,
    answers: Vec<Row>,
    engagement_facts: Vec<Row>,
    governance_facts: Vec<Row>,
}

/// The summary page in French.
fn summary_page(holdings: &Holdings) -> askama::Result<String> {
    let export = &holdings.stakeholders;
    let mut answers = Vec::new();
    for response in &holdings.engagement.responses {
        for answer in &response.answers {
            answers.push(vec![
                cell(response.submitted_at.as_ref()),
                answer.question_id.clone(),
                answer_value(answer).to_string(),
            ]);
        }
    }
    SummaryPage {
        erased: export.erased,
        profile: export
            .stakeholder
            .as_ref()
            .and_then(|s| s.person.clone())
            .unwrap_or_default(),
        interactions: export
            .interactions
            .iter()
            .map(|interaction| {
                vec![
                    cell(interaction.occurred_at.as_ref()),
                    interaction.subject.clone(),
                    interaction.notes.clone(),
                ]
            })
            .collect(),
        interviews: holdings
            .engagement
            .interviews
            .iter()
            .map(|interview| {
                vec![
                    cell(interview.conducted_at.as_ref()),
                    interview.motivations.join(" ; "),
                    interview.expectations.join(" ; "),
                    interview.notes.clone(),
                ]
            })
            .collect(),
        answers,
        engagement_facts: holdings
            .engagement
            .facts
            .as_ref()
            .map(|facts| fact_rows(&facts.facts))
            .unwrap_or_default(),
        governance_facts: fact_rows(&holdings.governance.facts),
    }
    .render()
}
