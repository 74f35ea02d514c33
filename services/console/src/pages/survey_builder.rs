//! The survey builder (facilitators): a survey drafted with its information
//! text, campaign actions, themes, axes and questions of the five types
//! (`DraftSurvey`), and a draft's questions revised (`ReviseSurveyQuestions`,
//! at the version read). Each question is a block of the form; "Ajouter une
//! question" redraws the form with one more block (no script). The service
//! checks everything: its refusal of `questions[i]...` is shown in the block
//! of that question, next to the field it names, everything typed kept.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State as Shared};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1::{self as pb, survey_question::Kind};
use tonic::Code;

use super::{check_csrf, ended, guard, message, place, render, Choice, Input, Nav, WRITERS};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::session::Session;
use crate::{labels, State};

/// Blocks a new questionnaire starts with.
const FIRST_BLOCKS: usize = 1;
/// Most blocks the form shows (the service takes at most 100 questions).
const MAX_BLOCKS: usize = 100;

/// The question types: (form value, label).
const KINDS: [(&str, &str); 5] = [
    ("single_choice", "Choix unique"),
    ("multiple_choice", "Choix multiples"),
    ("scale", "Échelle"),
    ("free_text", "Texte libre"),
    ("ranking", "Classement"),
];

/// A field of a question block: what the macros of `macros.html` show.
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) label: &'static str,
    pub(crate) hint: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
    pub(crate) value: String,
    pub(crate) error: String,
    pub(crate) options: Vec<Choice>,
}

impl Field {
    /// `name` as typed, or `default` in a block not shown before (`fresh`).
    fn new(name: String, label: &'static str, fields: &Fields, default: &str, fresh: bool) -> Self {
        Self {
            value: if fresh {
                default.to_owned()
            } else {
                fields.raw(&name)
            },
            name,
            label,
            hint: "",
            kind: "text",
            required: false,
            error: String::new(),
            options: Vec::new(),
        }
    }
}

/// One question of the form.
pub(crate) struct Block {
    pub(crate) number: usize,
    pub(crate) legend: String,
    pub(crate) required_name: String,
    pub(crate) required: bool,
    pub(crate) error: String,
    pub(crate) id: Field,
    pub(crate) text: Field,
    pub(crate) kind: Field,
    pub(crate) options: Field,
    pub(crate) max_selections: Field,
    pub(crate) scale_min: Field,
    pub(crate) scale_max: Field,
    pub(crate) min_label: Field,
    pub(crate) max_label: Field,
    pub(crate) max_length: Field,
}

impl Block {
    /// Block `index`, from `fields` unless `fresh` (then with defaults).
    fn new(index: usize, fields: &Fields, fresh: bool) -> Self {
        let at = |name: &str| format!("questions[{index}].{name}");
        let number = index + 1;
        let mut kind = Field::new(at("kind"), "Type de question", fields, "", fresh);
        kind.required = true;
        kind.options = std::iter::once(("", "—"))
            .chain(KINDS)
            .map(|(value, label)| Choice {
                selected: kind.value == value,
                value: value.to_owned(),
                label: label.to_owned(),
            })
            .collect();
        let mut id = Field::new(
            at("question_id"),
            "Identifiant",
            fields,
            &format!("q{number}"),
            fresh,
        );
        id.hint = "(lettres, chiffres, - et _)";
        let mut text = Field::new(at("text"), "Question", fields, "", fresh);
        text.required = true;
        let mut options = Field::new(at("options"), "Propositions", fields, "", fresh);
        options.kind = "textarea";
        options.hint = "(choix et classement : une par ligne)";
        let mut max_selections = Field::new(
            at("max_selections"),
            "Nombre de choix au plus",
            fields,
            "0",
            fresh,
        );
        max_selections.kind = "number";
        max_selections.hint = "(choix multiples ; 0 : sans limite)";
        let mut scale_min = Field::new(at("scale.min"), "Échelle : de", fields, "1", fresh);
        scale_min.kind = "number";
        let mut scale_max = Field::new(at("scale.max"), "Échelle : à", fields, "5", fresh);
        scale_max.kind = "number";
        let min_label = Field::new(
            at("scale.min_label"),
            "Libellé du minimum",
            fields,
            "",
            fresh,
        );
        let max_label = Field::new(
            at("scale.max_label"),
            "Libellé du maximum",
            fields,
            "",
            fresh,
        );
        let mut max_length = Field::new(
            at("max_length"),
            "Longueur maximale de la réponse",
            fields,
            "500",
            fresh,
        );
        max_length.kind = "number";
        max_length.hint = "(texte libre, en caractères)";
        Self {
            number,
            legend: format!("Question {number}"),
            required_name: at("required"),
            required: !fresh && !fields.get(&at("required")).is_empty(),
            error: String::new(),
            id,
            text,
            kind,
            options,
            max_selections,
            scale_min,
            scale_max,
            min_label,
            max_label,
            max_length,
        }
    }

    /// Whether nothing was typed in it (it is not sent).
    fn is_blank(&self) -> bool {
        self.text.value.trim().is_empty() && self.kind.value.is_empty()
    }

    /// The question it describes.
    fn question(&self) -> pb::SurveyQuestion {
        let options = || -> Vec<pb::SurveyOption> {
            self.options
                .value
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .enumerate()
                .map(|(i, label)| pb::SurveyOption {
                    option_id: format!("o{}", i + 1),
                    label: label.to_owned(),
                })
                .collect()
        };
        // A number that does not parse is sent as one the service refuses,
        // naming the field.
        let number = |field: &Field| field.value.trim().parse::<i64>().unwrap_or(-1);
        let unsigned = |field: &Field| u32::try_from(number(field)).unwrap_or(u32::MAX);
        let signed = |field: &Field| i32::try_from(number(field)).unwrap_or(i32::MIN);
        let kind = match self.kind.value.as_str() {
            "single_choice" => Some(Kind::SingleChoice(pb::SurveySingleChoice {
                options: options(),
            })),
            "multiple_choice" => Some(Kind::MultipleChoice(pb::SurveyMultipleChoice {
                options: options(),
                max_selections: unsigned(&self.max_selections),
            })),
            "scale" => Some(Kind::Scale(pb::SurveyScale {
                min: signed(&self.scale_min),
                max: signed(&self.scale_max),
                min_label: self.min_label.value.trim().to_owned(),
                max_label: self.max_label.value.trim().to_owned(),
            })),
            "free_text" => Some(Kind::FreeText(pb::SurveyFreeText {
                max_length: unsigned(&self.max_length),
            })),
            "ranking" => Some(Kind::Ranking(pb::SurveyRanking { options: options() })),
            _ => None,
        };
        pb::SurveyQuestion {
            question_id: self.id.value.trim().to_owned(),
            text: self.text.value.trim().to_owned(),
            required: self.required,
            kind,
        }
    }

    /// Puts the service's refusal of `rest` (the field after
    /// `questions[i].`) next to the field it names.
    fn refuse(&mut self, rest: &str, text: String) {
        let field = if rest.starts_with("question_id") {
            &mut self.id
        } else if rest.starts_with("text") {
            &mut self.text
        } else if rest.starts_with("kind") {
            &mut self.kind
        } else if rest.contains("options") {
            &mut self.options
        } else if rest.contains("max_selections") {
            &mut self.max_selections
        } else if rest.contains("min_label") {
            &mut self.min_label
        } else if rest.contains("max_label") {
            &mut self.max_label
        } else if rest.starts_with("scale") {
            &mut self.scale_max
        } else if rest.contains("max_length") {
            &mut self.max_length
        } else {
            self.error = text;
            return;
        };
        field.error = text;
    }
}

/// The fields a question fills in the form, to show a draft's questions.
fn question_pairs(index: usize, question: &pb::SurveyQuestion) -> Vec<(String, String)> {
    let at = |name: &str| format!("questions[{index}].{name}");
    let mut pairs = vec![
        (at("question_id"), question.question_id.clone()),
        (at("text"), question.text.clone()),
    ];
    if question.required {
        pairs.push((at("required"), "1".to_owned()));
    }
    let labels = |options: &[pb::SurveyOption]| {
        options
            .iter()
            .map(|option| option.label.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (kind, more) = match &question.kind {
        Some(Kind::SingleChoice(kind)) => {
            ("single_choice", vec![("options", labels(&kind.options))])
        }
        Some(Kind::MultipleChoice(kind)) => (
            "multiple_choice",
            vec![
                ("options", labels(&kind.options)),
                ("max_selections", kind.max_selections.to_string()),
            ],
        ),
        Some(Kind::Scale(kind)) => (
            "scale",
            vec![
                ("scale.min", kind.min.to_string()),
                ("scale.max", kind.max.to_string()),
                ("scale.min_label", kind.min_label.clone()),
                ("scale.max_label", kind.max_label.clone()),
            ],
        ),
        Some(Kind::FreeText(kind)) => (
            "free_text",
            vec![("max_length", kind.max_length.to_string())],
        ),
        Some(Kind::Ranking(kind)) => ("ranking", vec![("options", labels(&kind.options))]),
        None => ("", Vec::new()),
    };
    pairs.push((at("kind"), kind.to_owned()));
    pairs.extend(more.into_iter().map(|(name, value)| (at(name), value)));
    pairs
}

/// `questions` as the form's fields.
fn question_fields(questions: &[pb::SurveyQuestion]) -> Fields {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("blocks", &questions.len().max(FIRST_BLOCKS).to_string());
    for (index, question) in questions.iter().enumerate() {
        for (name, value) in question_pairs(index, question) {
            form.append_pair(&name, &value);
        }
    }
    Fields::parse(form.finish().as_bytes())
}

/// The blocks of `fields` (`blocks` of them, one more when asked).
fn blocks(fields: &Fields) -> Vec<Block> {
    // Blocks the form showed (none before it was first sent).
    let shown = fields
        .get("blocks")
        .parse::<usize>()
        .unwrap_or(0)
        .min(MAX_BLOCKS);
    let mut count = shown.max(FIRST_BLOCKS);
    if fields.get("action") == "ajouter" {
        count = (count + 1).min(MAX_BLOCKS);
    }
    (0..count)
        .map(|index| Block::new(index, fields, index >= shown))
        .collect()
}

/// The questions the non-blank blocks describe, and for each the block it
/// came from (the service names `questions[i]` by the position sent).
fn questions(blocks: &[Block]) -> (Vec<pb::SurveyQuestion>, Vec<usize>) {
    blocks
        .iter()
        .enumerate()
        .filter(|(_, block)| !block.is_blank())
        .map(|(index, block)| (block.question(), index))
        .unzip()
}

/// Puts `refusal` in the block it names; else returns the general errors.
fn place_in_blocks(refusal: &Refusal, blocks: &mut [Block], sent: &[usize]) -> Option<Vec<String>> {
    let field = refusal.field.as_deref()?;
    let rest = field.strip_prefix("questions[")?;
    let (index, rest) = rest.split_once(']')?;
    let block = sent.get(index.parse::<usize>().ok()?)?;
    let block = blocks.get_mut(*block)?;
    block.refuse(rest.trim_start_matches('.'), refusal.message.clone());
    Some(vec![format!(
        "La question {} est à corriger : voyez le message à côté du champ.",
        block.number
    )])
}

#[derive(Template)]
#[template(path = "survey_builder.html")]
struct Builder {
    nav: Nav,
    title: String,
    action: String,
    errors: Vec<String>,
    request_id: String,
    version: String,
    drafting: bool,
    survey_title: Input,
    description: Input,
    slug: Input,
    campaign: Input,
    topics: Input,
    axes: Input,
    block_count: usize,
    blocks: Vec<Block>,
}

/// The programme's axes not retired, as (id, name).
pub(super) async fn axes(state: &State, session: &Session) -> Vec<(String, String)> {
    let Ok(mut client) = state.backend.engagement(&session.token) else {
        return Vec::new();
    };
    match client
        .get_programme(pb::GetProgrammeRequest::default())
        .await
    {
        Ok(programme) => programme
            .into_inner()
            .axes
            .into_iter()
            .filter(|axis| !axis.retired)
            .map(|axis| (axis.axis_id, axis.name))
            .collect(),
        Err(_) => Vec::new(),
    }
}

impl Builder {
    fn new(nav: Nav, fields: &Fields, axes: Vec<(String, String)>) -> Self {
        let blocks = blocks(fields);
        Self {
            nav,
            title: "Nouvelle enquête".to_owned(),
            action: "/enquetes/nouvelle".to_owned(),
            errors: Vec::new(),
            request_id: Some(fields.get("request_id"))
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            version: String::new(),
            drafting: true,
            survey_title: Input::text("title", "Titre", fields).required(),
            description: Input::text("description", "Texte d'information", fields)
                .kind("textarea")
                .hint("(montré en premier aux répondants : qui mène l'enquête, pourquoi, ce que deviennent les réponses)"),
            slug: Input::text("slug", "Adresse courte", fields).hint(
                "(facultative : lettres minuscules, chiffres et tirets ; le lien public devient /enquete/<adresse courte>)",
            ),
            campaign: Input::text("campaign_action_ids", "Actions de la campagne d'information", fields)
                .kind("textarea")
                .hint("(identifiants d'actions de sensibilisation, un par ligne ; l'enquête s'ouvre une fois l'une d'elles tenue)"),
            topics: Input::choices(
                "topics",
                "Thèmes",
                labels::all_themes().into_iter().map(|theme| {
                    (
                        theme.as_str_name().to_owned(),
                        labels::theme(theme).to_owned(),
                    )
                }),
                fields,
            ),
            axes: Input::choices("axis_ids", "Axes du programme", axes, fields),
            block_count: blocks.len(),
            blocks,
        }
    }
}

/// `GET /enquetes/nouvelle` (facilitator).
pub(super) async fn form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => {
            let axes = axes(&state, &session).await;
            render(&Builder::new(
                Nav::of(&session, "enquetes"),
                &Fields::default(),
                axes,
            ))
        }
        Err(response) => *response,
    }
}

/// `POST /enquetes/nouvelle` (facilitator): one more block, or `DraftSurvey`.
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
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
    let axes = axes(&state, &session).await;
    let mut form = Builder::new(Nav::of(&session, "enquetes"), &fields, axes);
    if fields.get("action") == "ajouter" {
        return render(&form);
    }
    let (questions, sent) = questions(&form.blocks);
    let campaign: Vec<String> = fields
        .raw("campaign_action_ids")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let request = pb::DraftSurveyRequest {
        request_id: fields.get("request_id"),
        title: fields.get("title"),
        description: fields.raw("description").trim().to_owned(),
        campaign_action_ids: campaign,
        axis_ids: fields.all("axis_ids"),
        slug: fields.get("slug"),
        topics: fields
            .all("topics")
            .iter()
            .filter_map(|theme| pb::Theme::from_str_name(theme))
            .map(|theme| theme as i32)
            .collect(),
        questions,
        ..Default::default()
    };
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => client.draft_survey(request).await.map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let refusal = match answer {
        Ok(reply) => {
            return Redirect::to(&format!("/enquetes/{}", reply.into_inner().id)).into_response()
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    // ALREADY_EXISTS names the slug in its English message (no field violation).
    let refusal = if refusal.code == Code::AlreadyExists && refusal.english.contains("slug") {
        Refusal::field(
            "slug",
            "Cette adresse courte est déjà prise par une autre enquête.",
        )
    } else {
        refusal
    };
    form.errors = match place_in_blocks(&refusal, &mut form.blocks, &sent) {
        Some(errors) => errors,
        None => place(
            &refusal,
            &mut [
                &mut form.survey_title,
                &mut form.description,
                &mut form.slug,
                &mut form.campaign,
                &mut form.topics,
                &mut form.axes,
            ],
        ),
    };
    let mut response = render(&form);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// The revision form of a draft's questions.
fn revision(nav: Nav, id: &str, version: u64, fields: &Fields) -> Builder {
    let mut form = Builder::new(nav, fields, Vec::new());
    form.title = "Modifier les questions".to_owned();
    form.action = format!("/enquetes/{id}/questions");
    form.version = version.to_string();
    form.drafting = false;
    form
}

/// `GET /enquetes/{id}/questions` (facilitator): a draft's questions in the form.
pub(super) async fn revise_form(
    Shared(state): Shared<Arc<State>>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let session = match guard(&state, &headers, &uri, &WRITERS) {
        Ok(session) => session,
        Err(response) => return *response,
    };
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => client
            .get_survey(pb::GetSurveyRequest {
                survey_id: id.clone(),
                slug: String::new(),
            })
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    match answer {
        Ok(survey) => {
            let survey = survey.into_inner();
            let fields = question_fields(&survey.questions);
            render(&revision(
                Nav::of(&session, "enquetes"),
                &survey.survey_id,
                survey.version,
                &fields,
            ))
        }
        Err(refusal) if refusal.code == Code::Unauthenticated => ended(&state, &headers),
        Err(refusal) => message(
            StatusCode::NOT_FOUND,
            Nav::of(&session, "enquetes"),
            "Enquête introuvable",
            &refusal.message,
        ),
    }
}

/// `POST /enquetes/{id}/questions` (facilitator): one more block, or
/// `ReviseSurveyQuestions` at the version the form was read at.
pub(super) async fn revise(
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
    let version = fields.get("version").parse::<u64>().ok();
    let mut form = revision(
        Nav::of(&session, "enquetes"),
        &id,
        version.unwrap_or_default(),
        &fields,
    );
    if fields.get("action") == "ajouter" {
        return render(&form);
    }
    let (questions, sent) = questions(&form.blocks);
    let request = pb::ReviseSurveyQuestionsRequest {
        request_id: fields.get("request_id"),
        survey_id: id.clone(),
        expected_version: version,
        questions,
    };
    let answer = match state.backend.engagement(&session.token) {
        Ok(mut client) => client
            .revise_survey_questions(request)
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let refusal = match answer {
        Ok(_) => return Redirect::to(&format!("/enquetes/{id}")).into_response(),
        Err(refusal) if refusal.code == Code::Unauthenticated => return ended(&state, &headers),
        Err(refusal) => refusal,
    };
    form.errors = place_in_blocks(&refusal, &mut form.blocks, &sent).unwrap_or_else(|| {
        if refusal.code == Code::Aborted || refusal.code == Code::FailedPrecondition {
            vec![format!(
                "{} L'enquête a changé depuis que vous l'avez ouverte, ou elle n'est plus en brouillon : rechargez-la.",
                refusal.message
            )]
        } else {
            vec![refusal.message.clone()]
        }
    });
    let mut response = render(&form);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}
