//! The Survey aggregate: a questionnaire drafted, opened after an information
//! campaign, answered, and closed.
//!
//! A survey names its information campaign (awareness actions): it opens only
//! once one of them was held, unless a facilitator overrides the rule with a
//! reason, recorded in `SurveyOpened`. Whether an action was held is a fact of
//! another aggregate: the service reads it and passes it in the command
//! ([`Change::Open`]), and this decider decides. A survey without a campaign
//! (the campaign was optional before the rule, and still is) opens as it
//! always did; a draft recorded before the rule that names a campaign action
//! is held to the rule when it is opened.
//!
//! Questions change only while the survey is a draft. A response must answer
//! every required question with a value that fits the question (option that
//! exists, scale within bounds, text within its length, ranking that is a
//! permutation, no more selections than allowed); nothing is taken once closed;
//! a respondent token (stored as a keyed hash) or a stakeholder answers once.
//! Free-text answers are checked in clear and recorded sealed: the command
//! carries both, and the event only the sealed form.
//!
//! The state is kept small on purpose — the questions, counts and the set of
//! token hashes, never the responses — because the command loop caches it and
//! folds only the stream's tail: the 10,001st response costs what the first did.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use maillage_es::Decider;
use maillage_proto::v1::{
    self as pb, survey_answer::Value, survey_question::Kind, EngagementAudience, SurveyStatus,
    Theme,
};
use uuid::Uuid;

use super::{instant, timestamp};

/// Most questions in a survey.
pub const MAX_QUESTIONS: usize = 100;
/// Most options in a choice or ranking question.
pub const MAX_OPTIONS: usize = 50;
/// Longest question text, in characters.
pub const MAX_QUESTION_TEXT: usize = 1_000;
/// Longest option label or scale label, in characters.
pub const MAX_LABEL: usize = 200;
/// Longest free-text limit a question may set, in characters.
pub const MAX_FREE_TEXT: u32 = 10_000;
/// Widest scale (max - min).
pub const MAX_SCALE_WIDTH: i64 = 100;

/// The keyed BLAKE3 hash of a respondent token, with a key derived from the
/// survey id: the log never holds the token, and equal tokens of two surveys
/// hash differently.
pub fn token_hash(survey_id: &Uuid, token: &str) -> [u8; 32] {
    let key = blake3::derive_key(
        "maillage.v1 engagement survey respondent token",
        survey_id.as_bytes(),
    );
    *blake3::keyed_hash(&key, token.as_bytes()).as_bytes()
}

/// Who responds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Respondent {
    /// A known stakeholder.
    Stakeholder(Uuid),
    /// Someone anonymous: an audience and a commune only.
    Anonymous {
        /// Their audience.
        audience: EngagementAudience,
        /// Their commune (validated INSEE code).
        commune_code: String,
    },
}

impl Respondent {
    fn to_proto(&self) -> pb::SurveyRespondent {
        use pb::survey_respondent::Who;
        pb::SurveyRespondent {
            who: Some(match self {
                Respondent::Stakeholder(id) => Who::StakeholderId(id.to_string()),
                Respondent::Anonymous {
                    audience,
                    commune_code,
                } => Who::Anonymous(pb::AnonymousParticipant {
                    audience: *audience as i32,
                    commune_code: commune_code.clone(),
                }),
            }),
        }
    }
}

/// What to draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// The new survey's id (from the server).
    pub survey_id: Uuid,
    /// Title (non-empty).
    pub title: String,
    /// Description.
    pub description: String,
    /// The actions of the information campaign that precedes it (distinct,
    /// checked by the service; empty: none).
    pub campaign: Vec<Uuid>,
    /// Themes (distinct).
    pub themes: Vec<Theme>,
    /// The programme's axes it serves (checked by the service).
    pub axes: Vec<Uuid>,
    /// The questionnaire (checked by `decide`).
    pub questions: Vec<pb::SurveyQuestion>,
    /// The short name of its public address (checked and unique by the
    /// service; empty: none).
    pub slug: String,
}

/// One response.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The response's id (from the server).
    pub response_id: Uuid,
    /// Who.
    pub respondent: Respondent,
    /// The hash of the respondent token, if one was given.
    pub token_hash: Option<[u8; 32]>,
    /// The answers (checked against the questions by `decide`), free text in clear.
    pub answers: Vec<pb::SurveyAnswer>,
    /// The sealed form of each free-text answer, by question id: what the
    /// event holds instead of the clear text.
    pub sealed_texts: BTreeMap<String, Vec<u8>>,
    /// The current time.
    pub now: SystemTime,
}

/// A request about a survey: drafting it, or changing one that exists (two
/// types, so that the decider's changes never meet a `Draft`).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Drafts a new survey.
    Draft(Draft),
    /// Changes a survey already drafted.
    Change(Change),
}

impl From<Draft> for Command {
    fn from(command: Draft) -> Self {
        Command::Draft(command)
    }
}

impl From<Change> for Command {
    fn from(change: Change) -> Self {
        Command::Change(change)
    }
}

/// A change to a survey already drafted.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Replaces the questions of a draft.
    ReviseQuestions {
        /// The new questionnaire.
        questions: Vec<pb::SurveyQuestion>,
    },
    /// Opens a draft for responses.
    Open {
        /// The current time.
        now: SystemTime,
        /// The actions of its campaign already held, as the service found
        /// them (an action once held stays held, so the fact cannot go stale).
        campaign_held: Vec<Uuid>,
        /// Opening before the campaign was held, if the caller asks to.
        campaign_override: Option<CampaignOverride>,
    },
    /// Submits a response to an open survey.
    Submit(Submission),
    /// Closes an open survey.
    Close {
        /// The current time.
        now: SystemTime,
    },
}

/// A facilitator's decision to open a survey before its campaign was held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignOverride {
    /// Why (non-empty, checked by the service).
    pub reason: String,
    /// The principal deciding it.
    pub by: String,
}

maillage_es::proto_events! {
    /// A fact recorded in a survey's stream.
    Event {
        SurveyDrafted(SurveyDrafted),
        SurveyQuestionsRevised(SurveyQuestionsRevised),
        SurveyOpened(SurveyOpened),
        SurveyResponseSubmitted(SurveyResponseSubmitted),
        SurveyClosed(SurveyClosed),
    }
}

/// Why a command on a survey is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Drafting an id that already exists.
    #[error("the survey already exists")]
    AlreadyExists,
    /// A command on a survey never drafted.
    #[error("no such survey")]
    NotFound,
    /// Changing questions once opened.
    #[error("the questions cannot change once the survey is open")]
    QuestionsFrozen,
    /// Opening twice.
    #[error("the survey is already open")]
    AlreadyOpen,
    /// Opening before any action of the information campaign was held, without override.
    #[error(
        "campaign_action_ids: no action of the survey's information campaign has been held yet; hold one first, or override with a reason (campaign_override.reason)"
    )]
    CampaignNotHeld,
    /// A response to, or closing of, a survey that is still a draft.
    #[error("the survey is not open")]
    NotOpen,
    /// Anything after closing.
    #[error("the survey is closed")]
    Closed,
    /// This respondent token was used already.
    #[error("this respondent token has already answered")]
    TokenAlreadyUsed,
    /// This stakeholder answered already.
    #[error("stakeholder {0} has already answered")]
    AlreadyResponded(Uuid),
    /// A question is malformed (`field` is its path in the request).
    #[error("{field}: {message}")]
    InvalidQuestion {
        /// e.g. `questions[2].scale.max`.
        field: String,
        /// What is wrong.
        message: String,
        /// The same in French, for a person.
        french: String,
    },
    /// A free-text answer came without its sealed form (the service found
    /// the survey not open when it prepared the response, and it opened
    /// since): clear text never reaches the log.
    #[error("the free-text answer to {0} was not sealed")]
    TextNotSealed(String),
    /// An answer does not fit the questions (`field` is its path in the request).
    #[error("{field}: {message}")]
    InvalidAnswer {
        /// e.g. `answers[1].ranking`.
        field: String,
        /// What is wrong.
        message: String,
        /// The same in French, for a person.
        french: String,
    },
}

/// A survey as its events made it (without its responses).
#[derive(Debug, Clone, Default)]
pub struct State {
    /// SURVEY_STATUS_UNSPECIFIED until drafted.
    pub status: SurveyStatus,
    /// Title, description, campaign, themes (questions: see `questions`).
    pub drafted: Option<Arc<pb::SurveyDrafted>>,
    /// The current questions.
    pub questions: Arc<Vec<pb::SurveyQuestion>>,
    /// Responses taken.
    pub response_count: u64,
    /// Hashes of the respondent tokens used.
    pub token_hashes: Arc<HashSet<[u8; 32]>>,
    /// Stakeholders who answered.
    pub stakeholder_respondents: Arc<HashSet<Uuid>>,
    /// When it opened.
    pub opened_at: Option<SystemTime>,
    /// How it opened (campaign actions held, or the override).
    pub opened: Option<Arc<pb::SurveyOpened>>,
    /// When it closed.
    pub closed_at: Option<SystemTime>,
}

impl State {
    /// The survey's id (empty before drafting).
    pub fn id(&self) -> String {
        self.drafted
            .as_ref()
            .map(|d| d.survey_id.clone())
            .unwrap_or_default()
    }

    /// The actions of its information campaign (none before drafting, nor
    /// for a survey drafted without one).
    pub fn campaign(&self) -> Vec<String> {
        self.drafted.as_deref().map(campaign_of).unwrap_or_default()
    }
}

/// The actions of a drafted survey's information campaign: `campaign_action_id`
/// (the only one in events written before `campaign_action_ids`), then the others.
pub fn campaign_of(drafted: &pb::SurveyDrafted) -> Vec<String> {
    std::iter::once(&drafted.campaign_action_id)
        .filter(|id| !id.is_empty())
        .chain(&drafted.campaign_action_ids)
        .cloned()
        .collect()
}

/// The Survey decider.
pub struct Survey;

impl Decider for Survey {
    type State = State;
    type Command = Command;
    type Event = Event;
    type Error = Error;

    fn decide(command: &Command, state: &State) -> Result<Vec<Event>, Error> {
        match command {
            Command::Draft(draft) => draft_survey(draft, state),
            Command::Change(change) => change_survey(change, state),
        }
    }

    fn evolve(state: &mut State, event: &Event) {
        match event {
            Event::SurveyDrafted(drafted) => {
                state.status = SurveyStatus::Draft;
                state.questions = Arc::new(drafted.questions.clone());
                state.drafted = Some(Arc::new(pb::SurveyDrafted {
                    questions: Vec::new(),
                    ..drafted.clone()
                }));
            }
            Event::SurveyQuestionsRevised(revised) => {
                state.questions = Arc::new(revised.questions.clone());
            }
            Event::SurveyOpened(opened) => {
                state.status = SurveyStatus::Open;
                state.opened_at = Some(instant(&opened.opened_at));
                state.opened = Some(Arc::new(opened.clone()));
            }
            Event::SurveyResponseSubmitted(response) => {
                state.response_count += 1;
                if let Ok(hash) = <[u8; 32]>::try_from(response.respondent_token_hash.as_slice()) {
                    Arc::make_mut(&mut state.token_hashes).insert(hash);
                }
                if let Some(pb::survey_respondent::Who::StakeholderId(id)) = response
                    .respondent
                    .as_ref()
                    .and_then(|respondent| respondent.who.as_ref())
                {
                    if let Ok(id) = id.parse() {
                        Arc::make_mut(&mut state.stakeholder_respondents).insert(id);
                    }
                }
            }
            Event::SurveyClosed(closed) => {
                state.status = SurveyStatus::Closed;
                state.closed_at = Some(instant(&closed.closed_at));
            }
        }
    }
}

/// Drafts a survey, unless it already exists.
fn draft_survey(draft: &Draft, state: &State) -> Result<Vec<Event>, Error> {
    if state.drafted.is_some() {
        return Err(Error::AlreadyExists);
    }
    check_questions(&draft.questions)?;
    Ok(vec![Event::SurveyDrafted(pb::SurveyDrafted {
        survey_id: draft.survey_id.to_string(),
        title: draft.title.clone(),
        description: draft.description.clone(),
        campaign_action_id: draft
            .campaign
            .first()
            .map(|id| id.to_string())
            .unwrap_or_default(),
        axis_ids: draft.axes.iter().map(Uuid::to_string).collect(),
        campaign_action_ids: draft
            .campaign
            .iter()
            .skip(1)
            .map(|id| id.to_string())
            .collect(),
        themes: maillage_proto::themes::older_values(
            &draft.themes,
            maillage_proto::themes::as_engagement_theme,
        ),
        topics: draft.themes.iter().map(|t| *t as i32).collect(),
        questions: draft.questions.clone(),
        slug: draft.slug.clone(),
    })])
}

/// Changes a survey, once drafted.
fn change_survey(change: &Change, state: &State) -> Result<Vec<Event>, Error> {
    if state.drafted.is_none() {
        return Err(Error::NotFound);
    }
    let survey_id = state.id();
    match change {
        Change::ReviseQuestions { questions } => {
            if state.status != SurveyStatus::Draft {
                return Err(Error::QuestionsFrozen);
            }
            check_questions(questions)?;
            if questions == state.questions.as_ref() {
                return Ok(vec![]);
            }
            Ok(vec![Event::SurveyQuestionsRevised(
                pb::SurveyQuestionsRevised {
                    survey_id,
                    questions: questions.clone(),
                },
            )])
        }
        Change::Open {
            now,
            campaign_held,
            campaign_override,
        } => match state.status {
            SurveyStatus::Draft => open_survey(state, *now, campaign_held, campaign_override),
            SurveyStatus::Open => Err(Error::AlreadyOpen),
            _ => Err(Error::Closed),
        },
        Change::Submit(submission) => {
            check_submission(state, submission)?;
            let answers = sealed_answers(&submission.answers, &submission.sealed_texts)?;
            Ok(vec![Event::SurveyResponseSubmitted(
                pb::SurveyResponseSubmitted {
                    survey_id,
                    response_id: submission.response_id.to_string(),
                    respondent: Some(submission.respondent.to_proto()),
                    respondent_token_hash: submission
                        .token_hash
                        .map(|hash| hash.to_vec())
                        .unwrap_or_default(),
                    answers,
                    submitted_at: Some(timestamp(submission.now)),
                },
            )])
        }
        Change::Close { now } => match state.status {
            SurveyStatus::Open => Ok(vec![Event::SurveyClosed(pb::SurveyClosed {
                survey_id,
                closed_at: Some(timestamp(*now)),
                response_count: state.response_count,
            })]),
            SurveyStatus::Draft => Err(Error::NotOpen),
            _ => Err(Error::Closed),
        },
    }
}

/// Opens a draft: at once without a campaign; else once one of the campaign's
/// actions was held (those held are recorded); else only with an override
/// (recorded).
fn open_survey(
    state: &State,
    now: SystemTime,
    campaign_held: &[Uuid],
    campaign_override: &Option<CampaignOverride>,
) -> Result<Vec<Event>, Error> {
    let campaign = state.campaign();
    let held: Vec<String> = campaign
        .iter()
        .filter(|id| campaign_held.iter().any(|held| held.to_string() == **id))
        .cloned()
        .collect();
    let mut opened = pb::SurveyOpened {
        survey_id: state.id(),
        opened_at: Some(timestamp(now)),
        ..Default::default()
    };
    if !campaign.is_empty() && held.is_empty() {
        let Some(decision) = campaign_override else {
            return Err(Error::CampaignNotHeld);
        };
        opened.campaign_override_reason = decision.reason.clone();
        opened.campaign_overridden_by = decision.by.clone();
    }
    opened.campaign_held_action_ids = held;
    Ok(vec![Event::SurveyOpened(opened)])
}

/// Whether `key` is a valid question or option id: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn invalid_question(field: String, message: impl Into<String>, french: impl Into<String>) -> Error {
    Error::InvalidQuestion {
        field,
        message: message.into(),
        french: french.into(),
    }
}

fn check_text(field: String, text: &str, max: usize, required: bool) -> Result<(), Error> {
    if required && text.trim().is_empty() {
        return Err(invalid_question(
            field,
            "must not be empty",
            "Ce texte ne doit pas être vide.",
        ));
    }
    if text.chars().count() > max {
        return Err(invalid_question(
            field,
            format!("at most {max} characters"),
            format!("{max} caractères au plus."),
        ));
    }
    Ok(())
}

fn check_options(field: &str, options: &[pb::SurveyOption]) -> Result<(), Error> {
    if options.len() < 2 {
        return Err(invalid_question(
            field.to_string(),
            "at least 2 options",
            "Il faut au moins 2 options.",
        ));
    }
    if options.len() > MAX_OPTIONS {
        return Err(invalid_question(
            field.to_string(),
            format!("at most {MAX_OPTIONS} options"),
            format!("{MAX_OPTIONS} options au plus."),
        ));
    }
    let mut ids = HashSet::new();
    for (j, option) in options.iter().enumerate() {
        if !is_key(&option.option_id) {
            return Err(invalid_question(
                format!("{field}[{j}].option_id"),
                "1 to 64 characters of [A-Za-z0-9_-]",
                "Un identifiant de 1 à 64 caractères parmi A-Z a-z 0-9 _ -.",
            ));
        }
        if !ids.insert(option.option_id.as_str()) {
            return Err(invalid_question(
                format!("{field}[{j}].option_id"),
                format!("option {} appears twice", option.option_id),
                format!("L'option {} figure deux fois.", option.option_id),
            ));
        }
        check_text(
            format!("{field}[{j}].label"),
            &option.label,
            MAX_LABEL,
            true,
        )?;
    }
    Ok(())
}

/// Checks a questionnaire: 1 to 100 questions with distinct ids, each with a
/// text and a well-formed kind. Errors name the request field.
pub fn check_questions(questions: &[pb::SurveyQuestion]) -> Result<(), Error> {
    if questions.is_empty() {
        return Err(invalid_question(
            "questions".into(),
            "at least one question",
            "Il faut au moins une question.",
        ));
    }
    if questions.len() > MAX_QUESTIONS {
        return Err(invalid_question(
            "questions".into(),
            format!("at most {MAX_QUESTIONS} questions"),
            format!("{MAX_QUESTIONS} questions au plus."),
        ));
    }
    let mut ids = HashSet::new();
    for (i, question) in questions.iter().enumerate() {
        let at = format!("questions[{i}]");
        if !is_key(&question.question_id) {
            return Err(invalid_question(
                format!("{at}.question_id"),
                "1 to 64 characters of [A-Za-z0-9_-]",
                "Un identifiant de 1 à 64 caractères parmi A-Z a-z 0-9 _ -.",
            ));
        }
        if !ids.insert(question.question_id.as_str()) {
            return Err(invalid_question(
                format!("{at}.question_id"),
                format!("question {} appears twice", question.question_id),
                format!("La question {} figure deux fois.", question.question_id),
            ));
        }
        check_text(
            format!("{at}.text"),
            &question.text,
            MAX_QUESTION_TEXT,
            true,
        )?;
        match &question.kind {
            None => {
                return Err(invalid_question(
                    format!("{at}.kind"),
                    "a kind is required",
                    "Choisissez un type de question.",
                ))
            }
            Some(Kind::SingleChoice(kind)) => {
                check_options(&format!("{at}.single_choice.options"), &kind.options)?
            }
            Some(Kind::MultipleChoice(kind)) => {
                check_options(&format!("{at}.multiple_choice.options"), &kind.options)?;
                if kind.max_selections as usize > kind.options.len() {
                    return Err(invalid_question(
                        format!("{at}.multiple_choice.max_selections"),
                        "more than the number of options",
                        "Plus de choix permis que la question n'a d'options.",
                    ));
                }
            }
            Some(Kind::Ranking(kind)) => {
                check_options(&format!("{at}.ranking.options"), &kind.options)?
            }
            Some(Kind::Scale(scale)) => {
                let width = i64::from(scale.max) - i64::from(scale.min);
                if width <= 0 || width > MAX_SCALE_WIDTH {
                    return Err(invalid_question(
                        format!("{at}.scale.max"),
                        format!("must be above min, by at most {MAX_SCALE_WIDTH}"),
                        format!(
                            "Le maximum doit dépasser le minimum, de {MAX_SCALE_WIDTH} au plus."
                        ),
                    ));
                }
                check_text(
                    format!("{at}.scale.min_label"),
                    &scale.min_label,
                    MAX_LABEL,
                    false,
                )?;
                check_text(
                    format!("{at}.scale.max_label"),
                    &scale.max_label,
                    MAX_LABEL,
                    false,
                )?;
            }
            Some(Kind::FreeText(text)) => {
                if text.max_length == 0 || text.max_length > MAX_FREE_TEXT {
                    return Err(invalid_question(
                        format!("{at}.free_text.max_length"),
                        format!("between 1 and {MAX_FREE_TEXT}"),
                        format!("Entre 1 et {MAX_FREE_TEXT}."),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn invalid_answer(field: String, message: impl Into<String>, french: impl Into<String>) -> Error {
    Error::InvalidAnswer {
        field,
        message: message.into(),
        french: french.into(),
    }
}

fn kind_name(kind: &Option<Kind>) -> &'static str {
    match kind {
        Some(Kind::SingleChoice(_)) => "single choice",
        Some(Kind::MultipleChoice(_)) => "multiple choice",
        Some(Kind::Scale(_)) => "scale",
        Some(Kind::FreeText(_)) => "free text",
        Some(Kind::Ranking(_)) => "ranking",
        None => "unknown",
    }
}

fn has_option(options: &[pb::SurveyOption], id: &str) -> bool {
    options.iter().any(|option| option.option_id == id)
}

/// Whether the survey in `state` takes `submission` (its sealed texts
/// aside): open, a token or a stakeholder that has not answered yet, and
/// answers that fit the questions. `decide` runs it, and the service runs it
/// before sealing, so that a refused response makes no key.
pub fn check_submission(state: &State, submission: &Submission) -> Result<(), Error> {
    match state.status {
        SurveyStatus::Open => {}
        SurveyStatus::Draft => return Err(Error::NotOpen),
        _ => return Err(Error::Closed),
    }
    if let Some(hash) = &submission.token_hash {
        if state.token_hashes.contains(hash) {
            return Err(Error::TokenAlreadyUsed);
        }
    }
    if let Respondent::Stakeholder(id) = &submission.respondent {
        if state.stakeholder_respondents.contains(id) {
            return Err(Error::AlreadyResponded(*id));
        }
    }
    check_answers(&state.questions, &submission.answers)
}

/// The answers as the log holds them: each free text replaced by its sealed form.
fn sealed_answers(
    answers: &[pb::SurveyAnswer],
    sealed_texts: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<pb::SurveyAnswer>, Error> {
    answers
        .iter()
        .map(|answer| match &answer.value {
            Some(Value::Text(_)) => {
                let sealed = sealed_texts
                    .get(&answer.question_id)
                    .ok_or_else(|| Error::TextNotSealed(answer.question_id.clone()))?;
                Ok(pb::SurveyAnswer {
                    question_id: answer.question_id.clone(),
                    value: Some(Value::SealedText(sealed.clone())),
                })
            }
            _ => Ok(answer.clone()),
        })
        .collect()
}

/// Checks a response against the questions: each answer names a question once,
/// its value fits the question's kind, options, bounds and length, and every
/// required question is answered. Errors name the request field.
pub fn check_answers(
    questions: &[pb::SurveyQuestion],
    answers: &[pb::SurveyAnswer],
) -> Result<(), Error> {
    let mut answered = HashSet::new();
    for (i, answer) in answers.iter().enumerate() {
        let at = format!("answers[{i}]");
        let Some(question) = questions
            .iter()
            .find(|q| q.question_id == answer.question_id)
        else {
            return Err(invalid_answer(
                format!("{at}.question_id"),
                "no such question in this survey",
                "Cette question n'existe pas dans l'enquête.",
            ));
        };
        if !answered.insert(answer.question_id.as_str()) {
            return Err(invalid_answer(
                format!("{at}.question_id"),
                format!("question {} is answered twice", answer.question_id),
                format!("La question {} a deux réponses.", answer.question_id),
            ));
        }
        let mismatch = || {
            invalid_answer(
                format!("{at}.value"),
                format!(
                    "question {} is a {} question",
                    question.question_id,
                    kind_name(&question.kind)
                ),
                format!(
                    "Cette réponse ne correspond pas au type de la question {}.",
                    question.question_id
                ),
            )
        };
        match (&question.kind, &answer.value) {
            (_, None) => {
                return Err(invalid_answer(
                    format!("{at}.value"),
                    "a value is required",
                    "Une réponse est attendue.",
                ))
            }
            (Some(Kind::SingleChoice(kind)), Some(Value::Choice(choice))) => {
                if !has_option(&kind.options, choice) {
                    return Err(invalid_answer(
                        format!("{at}.choice"),
                        format!("no option {choice:?} in question {}", question.question_id),
                        format!(
                            "La question {} n'a pas d'option « {choice} ».",
                            question.question_id
                        ),
                    ));
                }
            }
            (Some(Kind::MultipleChoice(kind)), Some(Value::Choices(choices))) => {
                let field = format!("{at}.choices");
                let mut seen = HashSet::new();
                for choice in &choices.option_ids {
                    if !has_option(&kind.options, choice) {
                        return Err(invalid_answer(
                            field,
                            format!("no option {choice:?} in question {}", question.question_id),
                            format!(
                                "La question {} n'a pas d'option « {choice} ».",
                                question.question_id
                            ),
                        ));
                    }
                    if !seen.insert(choice.as_str()) {
                        return Err(invalid_answer(
                            field,
                            format!("option {choice:?} chosen twice"),
                            format!("L'option « {choice} » est choisie deux fois."),
                        ));
                    }
                }
                if kind.max_selections > 0
                    && choices.option_ids.len() > kind.max_selections as usize
                {
                    return Err(invalid_answer(
                        field,
                        format!("at most {} selections", kind.max_selections),
                        format!("{} choix au plus.", kind.max_selections),
                    ));
                }
                if question.required && choices.option_ids.is_empty() {
                    return Err(invalid_answer(
                        field,
                        "a required question needs a selection",
                        "Cette question est obligatoire : faites un choix.",
                    ));
                }
            }
            (Some(Kind::Scale(scale)), Some(Value::Scale(value))) => {
                if *value < scale.min || *value > scale.max {
                    return Err(invalid_answer(
                        format!("{at}.scale"),
                        format!("must be between {} and {}", scale.min, scale.max),
                        format!("Entre {} et {}.", scale.min, scale.max),
                    ));
                }
            }
            (Some(Kind::FreeText(kind)), Some(Value::Text(text))) => {
                if text.chars().count() > kind.max_length as usize {
                    return Err(invalid_answer(
                        format!("{at}.text"),
                        format!("at most {} characters", kind.max_length),
                        format!("{} caractères au plus.", kind.max_length),
                    ));
                }
                if question.required && text.trim().is_empty() {
                    return Err(invalid_answer(
                        format!("{at}.text"),
                        "a required question needs a text",
                        "Cette question est obligatoire : écrivez une réponse.",
                    ));
                }
            }
            (Some(Kind::Ranking(kind)), Some(Value::Ranking(ranking))) => {
                let mut seen = HashSet::new();
                let permutation = ranking.option_ids.len() == kind.options.len()
                    && ranking
                        .option_ids
                        .iter()
                        .all(|id| has_option(&kind.options, id) && seen.insert(id.as_str()));
                if !permutation {
                    return Err(invalid_answer(
                        format!("{at}.ranking"),
                        format!(
                            "must rank each of the {} options exactly once",
                            kind.options.len()
                        ),
                        format!(
                            "Classez chacune des {} options, une fois et une seule.",
                            kind.options.len()
                        ),
                    ));
                }
            }
            _ => return Err(mismatch()),
        }
    }
    if let Some(missing) = questions
        .iter()
        .find(|q| q.required && !answered.contains(q.question_id.as_str()))
    {
        return Err(invalid_answer(
            "answers".into(),
            format!("required question {} is not answered", missing.question_id),
            format!(
                "La question obligatoire {} n'a pas de réponse.",
                missing.question_id
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use pb::survey_question::Kind;

    use maillage_es::testing::given_nothing;

    use super::*;
    use crate::domain::testing;

    fn at(hours: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 + hours * 3600)
    }

    fn options(ids: &[&str]) -> Vec<pb::SurveyOption> {
        ids.iter()
            .map(|id| pb::SurveyOption {
                option_id: id.to_string(),
                label: format!("Option {id}"),
            })
            .collect()
    }

    fn question(id: &str, required: bool, kind: Kind) -> pb::SurveyQuestion {
        pb::SurveyQuestion {
            question_id: id.into(),
            text: format!("Question {id} ?"),
            required,
            kind: Some(kind),
        }
    }

    /// One question of each kind; q1 (single) and q3 (scale) are required.
    fn questions() -> Vec<pb::SurveyQuestion> {
        vec![
            question(
                "q1",
                true,
                Kind::SingleChoice(pb::SurveySingleChoice {
                    options: options(&["cowork", "fablab", "cafe"]),
                }),
            ),
            question(
                "q2",
                false,
                Kind::MultipleChoice(pb::SurveyMultipleChoice {
                    options: options(&["a", "b", "c", "d"]),
                    max_selections: 2,
                }),
            ),
            question(
                "q3",
                true,
                Kind::Scale(pb::SurveyScale {
                    min: 1,
                    max: 5,
                    min_label: "pas du tout".into(),
                    max_label: "tout à fait".into(),
                }),
            ),
            question(
                "q4",
                false,
                Kind::FreeText(pb::SurveyFreeText { max_length: 20 }),
            ),
            question(
                "q5",
                false,
                Kind::Ranking(pb::SurveyRanking {
                    options: options(&["x", "y", "z"]),
                }),
            ),
        ]
    }

    fn draft() -> Command {
        Command::Draft(drafted())
    }

    /// What [`draft`] drafts.
    fn drafted() -> Draft {
        Draft {
            survey_id: Uuid::from_u128(1),
            title: "Vos attentes d'un tiers-lieu".into(),
            description: String::new(),
            campaign: vec![Uuid::from_u128(9)],
            axes: Vec::new(),
            themes: vec![Theme::QuelsTla],
            questions: questions(),
            slug: String::new(),
        }
    }

    fn open() -> Command {
        opening(&[9], None)
    }

    /// Opens at `at(1)`, the campaign actions `held` (by number) held.
    fn opening(held: &[u128], reason: Option<&str>) -> Command {
        Change::Open {
            now: at(1),
            campaign_held: held.iter().map(|n| Uuid::from_u128(*n)).collect(),
            campaign_override: reason.map(|reason| CampaignOverride {
                reason: reason.into(),
                by: "claire".into(),
            }),
        }
        .into()
    }

    /// Drafts the survey with the campaign actions `campaign` (by number).
    fn draft_with_campaign(campaign: &[u128]) -> Command {
        Command::Draft(Draft {
            campaign: campaign.iter().map(|n| Uuid::from_u128(*n)).collect(),
            ..drafted()
        })
    }

    fn opened(held: &[u128], reason: &str, by: &str) -> Event {
        Event::SurveyOpened(pb::SurveyOpened {
            survey_id: Uuid::from_u128(1).to_string(),
            opened_at: Some(timestamp(at(1))),
            campaign_held_action_ids: held
                .iter()
                .map(|n| Uuid::from_u128(*n).to_string())
                .collect(),
            campaign_override_reason: reason.into(),
            campaign_overridden_by: by.into(),
        })
    }

    fn answer(id: &str, value: Value) -> pb::SurveyAnswer {
        pb::SurveyAnswer {
            question_id: id.into(),
            value: Some(value),
        }
    }

    fn list(ids: &[&str]) -> pb::SurveyOptionList {
        pb::SurveyOptionList {
            option_ids: ids.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn good_answers() -> Vec<pb::SurveyAnswer> {
        vec![
            answer("q1", Value::Choice("fablab".into())),
            answer("q2", Value::Choices(list(&["a", "c"]))),
            answer("q3", Value::Scale(4)),
            answer("q4", Value::Text("un café".into())),
            answer("q5", Value::Ranking(list(&["z", "x", "y"]))),
        ]
    }

    fn anonymous() -> Respondent {
        Respondent::Anonymous {
            audience: EngagementAudience::Population,
            commune_code: "15014".into(),
        }
    }

    /// Stand-ins for the sealed form of each free-text answer (the domain
    /// only carries them; sealing is the service's).
    fn sealed(answers: &[pb::SurveyAnswer]) -> BTreeMap<String, Vec<u8>> {
        answers
            .iter()
            .filter(|answer| matches!(answer.value, Some(Value::Text(_))))
            .map(|answer| (answer.question_id.clone(), b"sealed".to_vec()))
            .collect()
    }

    fn submit(n: u128, token: Option<&str>, answers: Vec<pb::SurveyAnswer>) -> Command {
        Change::Submit(submission(n, token, answers)).into()
    }

    /// What [`submit`] submits.
    fn submission(n: u128, token: Option<&str>, answers: Vec<pb::SurveyAnswer>) -> Submission {
        Submission {
            response_id: Uuid::from_u128(1000 + n),
            respondent: anonymous(),
            token_hash: token.map(|t| token_hash(&Uuid::from_u128(1), t)),
            sealed_texts: sealed(&answers),
            answers,
            now: at(2),
        }
    }

    fn given(commands: &[Command]) -> State {
        testing::given::<Survey>(commands)
    }

    fn when(given_commands: &[Command], command: Command) -> Result<Vec<Event>, Error> {
        Survey::decide(&command, &given(given_commands))
    }

    fn field_of(result: Result<Vec<Event>, Error>) -> String {
        match result {
            Err(Error::InvalidAnswer { field, .. } | Error::InvalidQuestion { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    fn answers_with(index: usize, replacement: pb::SurveyAnswer) -> Vec<pb::SurveyAnswer> {
        let mut answers = good_answers();
        answers[index] = replacement;
        answers
    }

    #[test]
    fn event_type_names_are_the_protobuf_full_names() {
        let event = &when(&[], draft()).unwrap()[0];
        testing::assert_events_encode(event);
    }

    #[test]
    fn drafting_records_the_questionnaire() {
        let state = given(&[draft()]);
        assert_eq!(state.status, SurveyStatus::Draft);
        assert_eq!(state.questions.len(), 5);
        assert_eq!(when(&[draft()], draft()), Err(Error::AlreadyExists));
    }

    #[test]
    fn malformed_questions_are_refused_naming_the_field() {
        let draft_with = |questions: Vec<pb::SurveyQuestion>| {
            Command::Draft(Draft {
                questions,
                ..drafted()
            })
        };
        assert_eq!(field_of(when(&[], draft_with(vec![]))), "questions");
        let mut q = questions();
        q[1].question_id = "q1".into();
        assert_eq!(
            field_of(when(&[], draft_with(q))),
            "questions[1].question_id"
        );
        let mut q = questions();
        q[2].kind = Some(Kind::Scale(pb::SurveyScale {
            min: 5,
            max: 5,
            ..Default::default()
        }));
        assert_eq!(field_of(when(&[], draft_with(q))), "questions[2].scale.max");
        let mut q = questions();
        q[0].kind = Some(Kind::SingleChoice(pb::SurveySingleChoice {
            options: options(&["a", "a"]),
        }));
        assert_eq!(
            field_of(when(&[], draft_with(q))),
            "questions[0].single_choice.options[1].option_id"
        );
        let mut q = questions();
        q[1].kind = Some(Kind::MultipleChoice(pb::SurveyMultipleChoice {
            options: options(&["a", "b"]),
            max_selections: 3,
        }));
        assert_eq!(
            field_of(when(&[], draft_with(q))),
            "questions[1].multiple_choice.max_selections"
        );
        let mut q = questions();
        q[3].kind = Some(Kind::FreeText(pb::SurveyFreeText { max_length: 0 }));
        assert_eq!(
            field_of(when(&[], draft_with(q))),
            "questions[3].free_text.max_length"
        );
        let mut q = questions();
        q[4].kind = None;
        assert_eq!(field_of(when(&[], draft_with(q))), "questions[4].kind");
        let mut q = questions();
        q[4].text = " ".into();
        assert_eq!(field_of(when(&[], draft_with(q))), "questions[4].text");
    }

    #[test]
    fn questions_change_only_in_draft() {
        let revise = Change::ReviseQuestions {
            questions: questions()[..2].to_vec(),
        };
        let state = given(&[draft(), revise.clone().into()]);
        assert_eq!(state.questions.len(), 2);
        assert_eq!(
            when(&[draft(), open()], revise.clone().into()),
            Err(Error::QuestionsFrozen)
        );
        let closed = [draft(), open(), Change::Close { now: at(3) }.into()];
        assert_eq!(when(&closed, revise.into()), Err(Error::QuestionsFrozen));
        let same = Change::ReviseQuestions {
            questions: questions(),
        };
        assert_eq!(when(&[draft()], same.into()), Ok(vec![]));
    }

    #[test]
    fn opening_only_a_draft() {
        assert_eq!(given(&[draft(), open()]).status, SurveyStatus::Open);
        assert_eq!(when(&[draft(), open()], open()), Err(Error::AlreadyOpen));
        let closed = [draft(), open(), Change::Close { now: at(3) }.into()];
        assert_eq!(when(&closed, open()), Err(Error::Closed));
        assert_eq!(when(&[], open()), Err(Error::NotFound));
    }

    #[test]
    fn a_survey_opens_only_once_an_action_of_its_campaign_was_held() {
        let campaign = || given_nothing::<Survey>().after([draft_with_campaign(&[9, 10])]);
        campaign()
            .when(opening(&[], None))
            .then_refused(Error::CampaignNotHeld);
        // An action held that is not in the campaign does not count.
        campaign()
            .when(opening(&[11], None))
            .then_refused(Error::CampaignNotHeld);
        // The actions held are recorded (only the campaign's).
        let after = campaign()
            .when(opening(&[10, 11], None))
            .then([opened(&[10], "", "")]);
        assert_eq!(after.state().status, SurveyStatus::Open);
        after
            .when(opening(&[10], None))
            .then_refused(Error::AlreadyOpen);
    }

    #[test]
    fn a_facilitator_may_open_before_the_campaign_with_a_reason_recorded() {
        let campaign = || given_nothing::<Survey>().after([draft_with_campaign(&[9])]);
        let given = campaign()
            .when(opening(&[], Some("la mairie a diffusé le lien")))
            .then([opened(&[], "la mairie a diffusé le lien", "claire")]);
        let recorded = given.state().opened.clone().unwrap();
        assert_eq!(recorded.campaign_overridden_by, "claire");
        // An override not needed is not recorded.
        campaign()
            .when(opening(&[9], Some("inutile")))
            .then([opened(&[9], "", "")]);
    }

    #[test]
    fn a_survey_without_campaign_opens_as_before() {
        given_nothing::<Survey>()
            .after([draft_with_campaign(&[])])
            .when(opening(&[], None))
            .then([opened(&[], "", "")]);
    }

    #[test]
    fn the_campaign_is_the_first_field_then_the_others_and_old_drafts_have_one() {
        let events = when(&[], draft_with_campaign(&[9, 10, 12])).unwrap();
        let Event::SurveyDrafted(drafted) = &events[0] else {
            panic!()
        };
        assert_eq!(drafted.campaign_action_id, Uuid::from_u128(9).to_string());
        assert_eq!(drafted.campaign_action_ids.len(), 2);
        assert_eq!(campaign_of(drafted).len(), 3);
        // A draft recorded before `campaign_action_ids` existed: its one campaign action.
        let old = pb::SurveyDrafted {
            campaign_action_ids: Vec::new(),
            ..drafted.clone()
        };
        let state = maillage_es::testing::given::<Survey>([Event::SurveyDrafted(old)]);
        assert_eq!(
            state.state().campaign(),
            vec![Uuid::from_u128(9).to_string()]
        );
        maillage_es::testing::given::<Survey>([Event::SurveyDrafted(old_without_campaign())])
            .when(opening(&[], None))
            .then([opened(&[], "", "")]);
    }

    /// A draft recorded with no campaign at all.
    fn old_without_campaign() -> pb::SurveyDrafted {
        pb::SurveyDrafted {
            survey_id: Uuid::from_u128(1).to_string(),
            title: "t".into(),
            questions: questions(),
            ..Default::default()
        }
    }

    #[test]
    fn a_fitting_response_is_recorded_and_counted() {
        let events = when(&[draft(), open()], submit(1, Some("tok"), good_answers())).unwrap();
        let Event::SurveyResponseSubmitted(response) = &events[0] else {
            panic!()
        };
        assert_eq!(response.respondent_token_hash.len(), 32);
        assert_ne!(response.respondent_token_hash, b"tok".to_vec());
        let state = given(&[draft(), open(), submit(1, Some("tok"), good_answers())]);
        assert_eq!(state.response_count, 1);
    }

    #[test]
    fn free_text_is_recorded_sealed_and_never_in_clear() {
        let events = when(&[draft(), open()], submit(1, None, good_answers())).unwrap();
        let Event::SurveyResponseSubmitted(response) = &events[0] else {
            panic!()
        };
        let q4 = response
            .answers
            .iter()
            .find(|answer| answer.question_id == "q4")
            .unwrap();
        assert_eq!(q4.value, Some(Value::SealedText(b"sealed".to_vec())));
        assert!(!response
            .answers
            .iter()
            .any(|answer| matches!(answer.value, Some(Value::Text(_)))));
        assert_eq!(response.answers.len(), good_answers().len());
    }

    #[test]
    fn free_text_without_its_sealed_form_is_refused() {
        let mut submission = submission(1, None, good_answers());
        submission.sealed_texts.clear();
        assert_eq!(
            when(&[draft(), open()], Change::Submit(submission).into()),
            Err(Error::TextNotSealed("q4".into()))
        );
    }

    #[test]
    fn a_request_may_not_send_sealed_text() {
        let mut answers = good_answers();
        answers[3].value = Some(Value::SealedText(b"forged".to_vec()));
        assert!(matches!(
            when(&[draft(), open()], submit(1, None, answers)),
            Err(Error::InvalidAnswer { .. })
        ));
    }

    #[test]
    fn optional_questions_may_be_left_out() {
        let answers = good_answers()
            .into_iter()
            .filter(|a| a.question_id == "q1" || a.question_id == "q3")
            .collect();
        assert!(when(&[draft(), open()], submit(1, None, answers)).is_ok());
    }

    #[test]
    fn no_response_before_opening_or_after_closing() {
        assert_eq!(
            when(&[draft()], submit(1, None, good_answers())),
            Err(Error::NotOpen)
        );
        let closed = [draft(), open(), Change::Close { now: at(3) }.into()];
        assert_eq!(
            when(&closed, submit(1, None, good_answers())),
            Err(Error::Closed)
        );
    }

    #[test]
    fn a_repeated_respondent_token_is_refused() {
        let given_commands = [draft(), open(), submit(1, Some("tok"), good_answers())];
        assert_eq!(
            when(&given_commands, submit(2, Some("tok"), good_answers())),
            Err(Error::TokenAlreadyUsed)
        );
        assert!(when(&given_commands, submit(2, Some("other"), good_answers())).is_ok());
        assert!(when(&given_commands, submit(2, None, good_answers())).is_ok());
    }

    #[test]
    fn a_stakeholder_answers_once() {
        let by = |n: u128| {
            Change::Submit(Submission {
                response_id: Uuid::from_u128(2000 + n),
                respondent: Respondent::Stakeholder(Uuid::from_u128(77)),
                token_hash: None,
                sealed_texts: sealed(&good_answers()),
                answers: good_answers(),
                now: at(2),
            })
        };
        assert_eq!(
            when(&[draft(), open(), by(1).into()], by(2).into()),
            Err(Error::AlreadyResponded(Uuid::from_u128(77)))
        );
    }

    #[test]
    fn token_hashes_depend_on_the_survey() {
        let a = token_hash(&Uuid::from_u128(1), "tok");
        assert_eq!(a, token_hash(&Uuid::from_u128(1), "tok"));
        assert_ne!(a, token_hash(&Uuid::from_u128(2), "tok"));
    }

    #[test]
    fn required_answers_must_be_there() {
        let answers: Vec<_> = good_answers()
            .into_iter()
            .filter(|a| a.question_id != "q3")
            .collect();
        let result = when(&[draft(), open()], submit(1, None, answers));
        assert_eq!(field_of(result), "answers");
    }

    #[test]
    fn answers_must_fit_their_question() {
        let open_survey = [draft(), open()];
        let check = |answers, field: &str| {
            assert_eq!(
                field_of(when(&open_survey, submit(1, None, answers))),
                field
            );
        };
        // Unknown question, a question answered twice, a missing value.
        check(
            answers_with(3, answer("q9", Value::Text("x".into()))),
            "answers[3].question_id",
        );
        check(
            answers_with(3, answer("q1", Value::Choice("cafe".into()))),
            "answers[3].question_id",
        );
        check(
            answers_with(
                0,
                pb::SurveyAnswer {
                    question_id: "q1".into(),
                    value: None,
                },
            ),
            "answers[0].value",
        );
        // Kind mismatch.
        check(
            answers_with(0, answer("q1", Value::Scale(3))),
            "answers[0].value",
        );
        // An option that does not exist.
        check(
            answers_with(0, answer("q1", Value::Choice("piscine".into()))),
            "answers[0].choice",
        );
        check(
            answers_with(1, answer("q2", Value::Choices(list(&["a", "zz"])))),
            "answers[1].choices",
        );
        // Max selections, and a duplicate selection.
        check(
            answers_with(1, answer("q2", Value::Choices(list(&["a", "b", "c"])))),
            "answers[1].choices",
        );
        check(
            answers_with(1, answer("q2", Value::Choices(list(&["a", "a"])))),
            "answers[1].choices",
        );
        // Scale bounds.
        check(
            answers_with(2, answer("q3", Value::Scale(6))),
            "answers[2].scale",
        );
        check(
            answers_with(2, answer("q3", Value::Scale(0))),
            "answers[2].scale",
        );
        // Text length (in characters).
        check(
            answers_with(3, answer("q4", Value::Text("é".repeat(21)))),
            "answers[3].text",
        );
        // Ranking: missing one, duplicate, unknown.
        for bad in [&["x", "y"][..], &["x", "y", "y"], &["x", "y", "w"]] {
            check(
                answers_with(4, answer("q5", Value::Ranking(list(bad)))),
                "answers[4].ranking",
            );
        }
    }

    #[test]
    fn boundary_values_fit() {
        let open_survey = [draft(), open()];
        let answers = answers_with(2, answer("q3", Value::Scale(5)));
        assert!(when(&open_survey, submit(1, None, answers)).is_ok());
        let answers = answers_with(3, answer("q4", Value::Text("é".repeat(20))));
        assert!(when(&open_survey, submit(1, None, answers)).is_ok());
    }

    #[test]
    fn closing_records_the_count_and_only_once() {
        let given_commands = [draft(), open(), submit(1, None, good_answers())];
        let events = when(&given_commands, Change::Close { now: at(3) }.into()).unwrap();
        let Event::SurveyClosed(closed) = &events[0] else {
            panic!()
        };
        assert_eq!(closed.response_count, 1);
        let mut closed_survey = given_commands.to_vec();
        closed_survey.push(Change::Close { now: at(3) }.into());
        assert_eq!(
            when(&closed_survey, Change::Close { now: at(4) }.into()),
            Err(Error::Closed)
        );
        assert_eq!(
            when(&[draft()], Change::Close { now: at(4) }.into()),
            Err(Error::NotOpen)
        );
    }
}
