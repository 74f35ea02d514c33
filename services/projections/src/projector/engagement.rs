//! Projection of the engagement context: actions (kind, themes, audiences,
//! venue, status, invitations, answers, attendance, head counts), surveys
//! (questions and running tallies), interviews and diagnostics, and the
//! timeline facts they add to the stakeholders involved.

use maillage_proto::v1 as pb;
use pb::action_venue::Place;
use pb::survey_answer::Value;
use pb::survey_question::Kind;

use super::{add_timeline, Event};
use crate::labels;
use crate::model::{survey_respondent_key, QuestionRow, ReadModel};
use crate::time::opt_micros;

fn set_venue(row: &mut crate::model::ActionRow, venue: Option<&pb::ActionVenue>) {
    match venue.and_then(|venue| venue.place.as_ref()) {
        Some(Place::CommuneCode(code)) => {
            row.commune = code.clone();
            row.online = false;
        }
        Some(Place::Online(online)) => {
            row.commune.clear();
            row.online = *online;
        }
        None => {}
    }
}

pub(super) fn action_planned(model: &mut ReadModel, event: &Event<'_>, p: pb::ActionPlanned) {
    let row = model.actions.upsert(&p.action_id);
    row.kind = p.kind;
    row.topics = p.topics;
    row.themes = p.themes;
    row.audiences = p.audiences;
    set_venue(row, p.venue.as_ref());
    if let Some(target) = p.target_territory {
        row.target_level = target.level;
        row.target_code = target.code;
    }
    row.status = pb::ActionStatus::Planned as i32;
    row.planned_by = if p.planned_by.is_empty() {
        event.actor.to_owned()
    } else {
        p.planned_by
    };
}

pub(super) fn action_scheduled(model: &mut ReadModel, _event: &Event<'_>, p: pb::ActionScheduled) {
    let row = model.actions.upsert(&p.action_id);
    row.starts_at = opt_micros(p.starts_at.as_ref());
    row.status = pb::ActionStatus::Scheduled as i32;
}

pub(super) fn action_rescheduled(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::ActionRescheduled,
) {
    let row = model.actions.upsert(&p.action_id);
    row.starts_at = opt_micros(p.starts_at.as_ref());
    set_venue(row, p.venue.as_ref());
}

pub(super) fn invitations_sent(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::ActionInvitationsSent,
) {
    let row = model.actions.upsert(&p.action_id);
    for id in &p.stakeholder_ids {
        row.invitations.entry(id.clone()).or_insert(0);
    }
    for id in &p.stakeholder_ids {
        add_timeline(
            model,
            event,
            id,
            event.at,
            "INVITATION",
            &p.action_id,
            String::new(),
        );
    }
}

pub(super) fn invitation_answered(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::ActionInvitationAnswered,
) {
    model
        .actions
        .upsert(&p.action_id)
        .invitations
        .insert(p.stakeholder_id.clone(), p.answer);
    add_timeline(
        model,
        event,
        &p.stakeholder_id,
        event.at,
        "INVITATION_ANSWER",
        &p.action_id,
        labels::invitation_answer(p.answer).to_owned(),
    );
}

pub(super) fn attendance_recorded(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::ActionAttendanceRecorded,
) {
    let row = model.actions.upsert(&p.action_id);
    for id in &p.attendee_ids {
        row.attendees.insert(id.clone());
    }
    for count in &p.head_counts {
        row.head_counts.insert(count.audience, count.count);
    }
    for id in &p.attendee_ids {
        add_timeline(
            model,
            event,
            id,
            event.at,
            "ATTENDANCE",
            &p.action_id,
            String::new(),
        );
    }
}

pub(super) fn action_held(model: &mut ReadModel, event: &Event<'_>, p: pb::ActionHeld) {
    let row = model.actions.upsert(&p.action_id);
    row.status = pb::ActionStatus::Held as i32;
    row.held_at = Some(opt_micros(p.held_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn minutes_published(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::ActionMinutesPublished,
) {
    model.actions.upsert(&p.action_id).status = pb::ActionStatus::Reported as i32;
}

pub(super) fn outcomes_recorded(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::ActionOutcomesRecorded,
) {
    let row = model.actions.upsert(&p.action_id);
    row.outcomes = row
        .outcomes
        .saturating_add(u32::try_from(p.outcomes.len()).unwrap_or(u32::MAX));
}

pub(super) fn action_cancelled(model: &mut ReadModel, _event: &Event<'_>, p: pb::ActionCancelled) {
    model.actions.upsert(&p.action_id).status = pb::ActionStatus::Cancelled as i32;
}

fn question_rows(questions: &[pb::SurveyQuestion]) -> Vec<QuestionRow> {
    let options = |options: &[pb::SurveyOption]| -> Vec<(String, String)> {
        options
            .iter()
            .map(|option| (option.option_id.clone(), option.label.clone()))
            .collect()
    };
    questions
        .iter()
        .map(|question| {
            let mut row = QuestionRow {
                question_id: question.question_id.clone(),
                text: question.text.clone(),
                ..QuestionRow::default()
            };
            match &question.kind {
                Some(Kind::SingleChoice(kind)) => {
                    row.kind = "SINGLE_CHOICE".into();
                    row.options = options(&kind.options);
                }
                Some(Kind::MultipleChoice(kind)) => {
                    row.kind = "MULTIPLE_CHOICE".into();
                    row.options = options(&kind.options);
                }
                Some(Kind::Scale(kind)) => {
                    row.kind = "SCALE".into();
                    row.scale_min = kind.min;
                    row.scale_max = kind.max;
                }
                Some(Kind::FreeText(_)) => row.kind = "FREE_TEXT".into(),
                Some(Kind::Ranking(kind)) => {
                    row.kind = "RANKING".into();
                    row.options = options(&kind.options);
                }
                None => row.kind = "UNSPECIFIED".into(),
            }
            row
        })
        .collect()
}

pub(super) fn survey_drafted(model: &mut ReadModel, _event: &Event<'_>, p: pb::SurveyDrafted) {
    let row = model.surveys.upsert(&p.survey_id);
    row.title = p.title;
    row.topics = p.topics;
    row.themes = p.themes;
    row.questions = question_rows(&p.questions);
    row.status = pb::SurveyStatus::Draft as i32;
}

pub(super) fn survey_questions_revised(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::SurveyQuestionsRevised,
) {
    model.surveys.upsert(&p.survey_id).questions = question_rows(&p.questions);
}

pub(super) fn survey_opened(model: &mut ReadModel, event: &Event<'_>, p: pb::SurveyOpened) {
    let row = model.surveys.upsert(&p.survey_id);
    row.status = pb::SurveyStatus::Open as i32;
    row.opened_at = Some(opt_micros(p.opened_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn survey_response_submitted(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::SurveyResponseSubmitted,
) {
    let mut respondent_id = String::new();
    if let Some(pb::survey_respondent::Who::StakeholderId(id)) = p
        .respondent
        .as_ref()
        .and_then(|respondent| respondent.who.as_ref())
    {
        // A row of its own, not an entry of the survey's row: the survey's
        // row is written again with each batch that changes it.
        *model
            .survey_respondents
            .upsert(&survey_respondent_key(&p.survey_id, id)) += 1;
        respondent_id = id.clone();
    }
    let row = model.surveys.upsert(&p.survey_id);
    row.responses += 1;
    match p.respondent.and_then(|respondent| respondent.who) {
        Some(pb::survey_respondent::Who::StakeholderId(_)) => {}
        Some(pb::survey_respondent::Who::Anonymous(anonymous)) => {
            *row.anonymous_by_commune
                .entry(anonymous.commune_code)
                .or_default() += 1;
            *row.anonymous_by_audience
                .entry(anonymous.audience)
                .or_default() += 1;
        }
        None => {}
    }
    for answer in p.answers {
        let tally = row.tallies.entry(answer.question_id).or_default();
        tally.answered += 1;
        match answer.value {
            Some(Value::Choice(option)) => *tally.chosen.entry(option).or_default() += 1,
            Some(Value::Choices(list)) => {
                for option in list.option_ids {
                    *tally.chosen.entry(option).or_default() += 1;
                }
            }
            Some(Value::Scale(value)) => *tally.scale.entry(value).or_default() += 1,
            Some(Value::Ranking(list)) => {
                for (index, option) in list.option_ids.into_iter().enumerate() {
                    *tally.rank_sums.entry(option.clone()).or_default() += index as u64 + 1;
                    *tally.rank_counts.entry(option).or_default() += 1;
                }
            }
            Some(Value::Text(_) | Value::SealedText(_)) | None => {}
        }
    }
    let at = opt_micros(p.submitted_at.as_ref()).unwrap_or(event.at);
    add_timeline(
        model,
        event,
        &respondent_id,
        at,
        "SURVEY_RESPONSE",
        &p.survey_id,
        p.response_id,
    );
}

pub(super) fn survey_closed(model: &mut ReadModel, event: &Event<'_>, p: pb::SurveyClosed) {
    let row = model.surveys.upsert(&p.survey_id);
    row.status = pb::SurveyStatus::Closed as i32;
    row.closed_at = Some(opt_micros(p.closed_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn interview_recorded(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::InterviewRecorded,
) {
    let conducted_at = opt_micros(p.conducted_at.as_ref());
    let row = model.interviews.upsert(&p.interview_id);
    row.interviewer = if p.interviewer.is_empty() {
        event.actor.to_owned()
    } else {
        p.interviewer
    };
    row.conducted_at = conducted_at;
    row.topics = p.topics;
    row.themes = p.themes;
    row.survey_id = p.survey_id;
    row.motivation_codes = p.motivation_codes;
    row.expectation_codes = p.expectation_codes;
    match p.subject.and_then(|subject| subject.who) {
        Some(pb::interview_subject::Who::StakeholderId(id)) => row.stakeholder_id = id,
        Some(pb::interview_subject::Who::Anonymous(anonymous)) => {
            row.anonymous_commune = anonymous.commune_code;
            row.anonymous_audience = anonymous.audience;
        }
        None => {}
    }
    let stakeholder_id = row.stakeholder_id.clone();
    add_timeline(
        model,
        event,
        &stakeholder_id,
        conducted_at.unwrap_or(event.at),
        "INTERVIEW",
        &p.interview_id,
        String::new(),
    );
}

/// A later coding replaces the earlier one (an `as_of` replay before it
/// keeps the earlier).
pub(super) fn interview_recoded(model: &mut ReadModel, _: &Event<'_>, p: pb::InterviewRecoded) {
    // Recorded before in the same log: the row exists.
    let row = model.interviews.upsert(&p.interview_id);
    row.motivation_codes = p.motivation_codes;
    row.expectation_codes = p.expectation_codes;
    row.survey_id = p.survey_id;
}

pub(super) fn diagnostic_recorded(
    model: &mut ReadModel,
    event: &Event<'_>,
    p: pb::DiagnosticRecorded,
) {
    let conducted_at = opt_micros(p.conducted_at.as_ref());
    let row = model.diagnostics.upsert(&p.diagnostic_id);
    row.tiers_lieu_id = p.tiers_lieu_id.clone();
    row.conducted_by = if p.conducted_by.is_empty() {
        event.actor.to_owned()
    } else {
        p.conducted_by
    };
    row.conducted_at = conducted_at;
    row.development_priorities = p.findings.as_ref().map_or(0, |findings| {
        u32::try_from(findings.development_priorities.len()).unwrap_or(u32::MAX)
    });
    row.codes = p.findings.map(coded).unwrap_or_default();
    add_timeline(
        model,
        event,
        &p.tiers_lieu_id,
        conducted_at.unwrap_or(event.at),
        "DIAGNOSTIC",
        &p.diagnostic_id,
        String::new(),
    );
}

pub(super) fn diagnostic_revised(
    model: &mut ReadModel,
    _event: &Event<'_>,
    p: pb::DiagnosticRevised,
) {
    let row = model.diagnostics.upsert(&p.diagnostic_id);
    row.revisions += 1;
    row.development_priorities = p.findings.as_ref().map_or(0, |findings| {
        u32::try_from(findings.development_priorities.len()).unwrap_or(u32::MAX)
    });
    row.codes = p.findings.map(coded).unwrap_or_default();
}

/// The codes of `findings`, every list in turn.
fn coded(findings: pb::DiagnosticFindings) -> Vec<String> {
    let mut codes = findings.initial_motivation_codes;
    codes.extend(findings.priority_codes);
    codes.extend(findings.refusal_codes);
    codes.extend(findings.need_codes);
    codes
}
