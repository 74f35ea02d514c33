//! The public survey page, `/enquete/<survey id or slug>`: no sign-in. The survey's
//! information text first, then its questionnaire (the five question types),
//! the service's refusal next to the question it names with every answer
//! kept, and a thank-you page. The console reads and answers as its
//! `respondent` principal, which may do nothing else; submissions are limited
//! per client address.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State as Shared};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maillage_proto::v1::{self as pb, survey_answer::Value, survey_question::Kind};

use super::{forged, message, render, Choice, Nav};
use crate::backend::Refusal;
use crate::form::Fields;
use crate::State;

struct Question {
    name: String,
    text: String,
    required: bool,
    kind: &'static str,
    options: Vec<Choice>,
    hint: String,
    value: String,
    rankings: Vec<Ranking>,
    error: String,
}

struct Ranking {
    name: String,
    label: String,
    ranks: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct Page {
    nav: Nav,
    title: String,
    id: String,
    information: String,
    csrf: String,
    request_id: String,
    errors: Vec<String>,
    questions: Vec<Question>,
    commune: String,
    commune_error: String,
    code: String,
    code_error: String,
}

#[derive(Template)]
#[template(path = "survey_thanks.html")]
struct Thanks {
    nav: Nav,
    title: String,
}

fn purpose(id: &str) -> String {
    format!("survey:{id}")
}

fn field_name(question: &pb::SurveyQuestion) -> String {
    format!("q.{}", question.question_id)
}

fn choice(value: &str, label: &str, chosen: &[String]) -> Choice {
    Choice {
        selected: chosen.iter().any(|c| c == value),
        value: value.to_owned(),
        label: label.to_owned(),
    }
}

fn question(question: &pb::SurveyQuestion, fields: &Fields) -> Question {
    let name = field_name(question);
    let chosen = fields.all(&name);
    let mut view = Question {
        text: question.text.clone(),
        required: question.required,
        kind: "text",
        options: Vec::new(),
        hint: String::new(),
        value: fields.raw(&name),
        rankings: Vec::new(),
        error: String::new(),
        name,
    };
    match &question.kind {
        Some(Kind::SingleChoice(kind)) => {
            view.kind = "single";
            view.options = kind
                .options
                .iter()
                .map(|o| choice(&o.option_id, &o.label, &chosen))
                .collect();
        }
        Some(Kind::MultipleChoice(kind)) => {
            view.kind = "multiple";
            view.options = kind
                .options
                .iter()
                .map(|o| choice(&o.option_id, &o.label, &chosen))
                .collect();
            if kind.max_selections > 0 {
                view.hint = format!("(au plus {} réponses)", kind.max_selections);
            }
        }
        Some(Kind::Scale(kind)) => {
            view.kind = "scale";
            view.options = (kind.min..=kind.max)
                .map(|value| choice(&value.to_string(), &value.to_string(), &chosen))
                .collect();
            view.hint = format!(
                "({} = {}, {} = {})",
                kind.min, kind.min_label, kind.max, kind.max_label
            );
        }
        Some(Kind::FreeText(kind)) => {
            view.kind = "text";
            view.hint = format!("(au plus {} caractères)", kind.max_length);
        }
        Some(Kind::Ranking(kind)) => {
            view.kind = "ranking";
            view.hint =
                "(1 = en premier ; donnez un rang différent à chaque proposition)".to_owned();
            let count = kind.options.len();
            view.rankings =
                kind.options
                    .iter()
                    .map(|option| {
                        let name = format!("{}.{}", view.name, option.option_id);
                        let chosen = fields.all(&name);
                        Ranking {
                            label: option.label.clone(),
                            ranks: std::iter::once(choice("", "—", &chosen))
                                .chain((1..=count).map(|rank| {
                                    choice(&rank.to_string(), &rank.to_string(), &chosen)
                                }))
                                .collect(),
                            name,
                        }
                    })
                    .collect();
        }
        None => {}
    }
    view
}

/// The answers typed for `questions`, in question order, unanswered ones
/// left out (the service says which required one is missing).
fn answers(questions: &[pb::SurveyQuestion], fields: &Fields) -> Vec<pb::SurveyAnswer> {
    questions
        .iter()
        .filter_map(|question| {
            let name = field_name(question);
            let value = match &question.kind {
                Some(Kind::SingleChoice(_)) => Some(fields.get(&name))
                    .filter(|v| !v.is_empty())
                    .map(Value::Choice),
                Some(Kind::MultipleChoice(_)) => Some(fields.all(&name))
                    .filter(|v| !v.is_empty())
                    .map(|option_ids| Value::Choices(pb::SurveyOptionList { option_ids })),
                Some(Kind::Scale(_)) => match fields.get(&name) {
                    v if v.is_empty() => None,
                    // A value that is no number is out of every scale: the
                    // service names it.
                    v => Some(Value::Scale(v.parse().unwrap_or(i32::MIN))),
                },
                Some(Kind::FreeText(_)) => Some(fields.raw(&name).trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .map(Value::Text),
                Some(Kind::Ranking(kind)) => {
                    let mut ranked: Vec<(u32, String)> = kind
                        .options
                        .iter()
                        .filter_map(|option| {
                            let rank = fields.get(&format!("{name}.{}", option.option_id));
                            rank.parse()
                                .ok()
                                .map(|rank| (rank, option.option_id.clone()))
                        })
                        .collect();
                    ranked.sort();
                    (!ranked.is_empty()).then(|| {
                        Value::Ranking(pb::SurveyOptionList {
                            option_ids: ranked.into_iter().map(|(_, id)| id).collect(),
                        })
                    })
                }
                None => None,
            }?;
            Some(pb::SurveyAnswer {
                question_id: question.question_id.clone(),
                value: Some(value),
            })
        })
        .collect()
}

/// The open survey `id`, or the page saying there is none.
async fn open_survey(state: &State, id: &str) -> Result<pb::SurveyView, Box<Response>> {
    let unavailable = |text: &str| {
        message(
            StatusCode::NOT_FOUND,
            Nav::public(),
            "Enquête introuvable",
            text,
        )
    };
    let mut client = state.backend.respondent().map_err(|refusal| {
        message(
            StatusCode::SERVICE_UNAVAILABLE,
            Nav::public(),
            "Enquête indisponible",
            &refusal.message,
        )
    })?;
    // The address names the survey by its id or by its slug.
    let request = if uuid::Uuid::try_parse(id).is_ok() {
        pb::GetSurveyRequest {
            survey_id: id.to_owned(),
            slug: String::new(),
        }
    } else {
        pb::GetSurveyRequest {
            survey_id: String::new(),
            slug: id.to_owned(),
        }
    };
    match client.get_survey(request).await {
        Ok(survey) => Ok(survey.into_inner()),
        Err(status)
            if matches!(
                status.code(),
                tonic::Code::NotFound | tonic::Code::InvalidArgument
            ) =>
        {
            Err(Box::new(unavailable(
                "Cette enquête n'existe pas, ou elle n'est pas ouverte aux réponses.",
            )))
        }
        Err(status) => Err(Box::new(message(
            StatusCode::SERVICE_UNAVAILABLE,
            Nav::public(),
            "Enquête indisponible",
            &Refusal::from(status).message,
        ))),
    }
}

fn page(state: &State, survey: &pb::SurveyView, fields: &Fields) -> Page {
    Page {
        nav: Nav::public(),
        title: survey.title.clone(),
        id: survey.survey_id.clone(),
        information: survey.description.clone(),
        csrf: state.csrf.issue(&purpose(&survey.survey_id)),
        request_id: uuid::Uuid::new_v4().to_string(),
        errors: Vec::new(),
        questions: survey
            .questions
            .iter()
            .map(|q| question(q, fields))
            .collect(),
        commune: fields.get("commune"),
        commune_error: String::new(),
        code: fields.get("code"),
        code_error: String::new(),
    }
}

/// `GET /enquete/{id}` (an id or a slug; the form posts to the id).
pub(super) async fn form(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> Response {
    match open_survey(&state, &id).await {
        Ok(survey) => render(&page(&state, &survey, &Fields::default())),
        Err(response) => *response,
    }
}

/// `POST /enquete/{id}`: the answers through `SubmitSurveyResponse`.
pub(super) async fn submit(
    Shared(state): Shared<Arc<State>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if !state.csrf.check(&purpose(&id), &fields.get("csrf")) {
        return forged(Nav::public());
    }
    if state.survey_limit.exhausted(client.ip()) {
        return message(
            StatusCode::TOO_MANY_REQUESTS,
            Nav::public(),
            "Trop de réponses",
            "Trop de réponses ont été envoyées depuis votre adresse : réessayez dans une heure.",
        );
    }
    let survey = match open_survey(&state, &id).await {
        Ok(survey) => survey,
        Err(response) => return *response,
    };
    let answers = answers(&survey.questions, &fields);
    let request = pb::SubmitSurveyResponseRequest {
        request_id: fields.get("request_id"),
        survey_id: survey.survey_id.clone(),
        respondent: Some(pb::SurveyRespondent {
            who: Some(pb::survey_respondent::Who::Anonymous(
                pb::AnonymousParticipant {
                    audience: pb::EngagementAudience::Population as i32,
                    commune_code: fields.get("commune"),
                },
            )),
        }),
        respondent_token: fields.get("code"),
        answers: answers.clone(),
    };
    state.survey_limit.record(client.ip());
    let answer = match state.backend.respondent() {
        Ok(mut client) => client
            .submit_survey_response(request)
            .await
            .map_err(Refusal::from),
        Err(refusal) => Err(refusal),
    };
    let refusal = match answer {
        Ok(_) => {
            return Redirect::to(&format!("/enquete/{}/merci", survey.survey_id)).into_response()
        }
        Err(refusal) => refusal,
    };
    let mut view = page(&state, &survey, &fields);
    let field = refusal.field.clone().unwrap_or_default();
    if field.starts_with("respondent.anonymous") {
        view.commune_error = refusal.message.clone();
    } else if field == "respondent_token" || refusal.code == tonic::Code::AlreadyExists {
        view.code_error = if refusal.code == tonic::Code::AlreadyExists {
            "Ce code a déjà servi à répondre à cette enquête.".to_owned()
        } else {
            refusal.message.clone()
        };
    } else if let Some(index) = field
        .strip_prefix("answers[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|index| index.parse::<usize>().ok())
    {
        // `answers[i]` is the i-th answer sent: find its question.
        let question_id = answers.get(index).map(|answer| answer.question_id.clone());
        match survey
            .questions
            .iter()
            .position(|q| Some(&q.question_id) == question_id.as_ref())
        {
            Some(position) => view.questions[position].error = refusal.message.clone(),
            None => view.errors.push(refusal.message.clone()),
        }
    } else if let Some(position) = survey.questions.iter().position(|q| {
        refusal
            .english
            .contains(&format!("question {}", q.question_id))
    }) {
        // A required question left out: the service's (English) message names it.
        view.questions[position].error = "Cette question demande une réponse.".to_owned();
    } else {
        view.errors.push(refusal.message.clone());
    }
    if view.errors.is_empty() {
        view.errors
            .push("Une réponse est à corriger : voyez le message à côté d'elle.".to_owned());
    }
    let mut response = render(&view);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// `GET /enquete/{id}/merci`.
pub(super) async fn thanks() -> Response {
    render(&Thanks {
        nav: Nav::public(),
        title: "Merci pour votre réponse".to_owned(),
    })
}
