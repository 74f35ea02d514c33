//! Projection of the lessons-learned register: each lesson with its outcome,
//! themes, axes and source, and whether it was withdrawn.

use maillage_proto::v1::{self as pb, lesson_source::Of};

use super::Event;
use crate::model::ReadModel;
use crate::time::opt_micros;

pub(super) fn lesson_recorded(model: &mut ReadModel, event: &Event<'_>, p: pb::LessonRecorded) {
    let row = model.lessons.upsert(&p.lesson_id);
    row.outcome = p.outcome;
    row.title = p.title;
    row.detail = p.detail;
    row.topics = p.topics;
    row.axis_ids = p.axis_ids;
    (row.source_kind, row.source_id) = match p.source.and_then(|source| source.of) {
        Some(Of::ActionId(id)) => ("action".to_owned(), id),
        Some(Of::InterviewId(id)) => ("interview".to_owned(), id),
        Some(Of::DiagnosticId(id)) => ("diagnostic".to_owned(), id),
        None => (String::new(), String::new()),
    };
    row.recorded_by = if p.recorded_by.is_empty() {
        event.actor.to_owned()
    } else {
        p.recorded_by
    };
    row.recorded_at = Some(opt_micros(p.recorded_at.as_ref()).unwrap_or(event.at));
}

pub(super) fn lesson_withdrawn(model: &mut ReadModel, _event: &Event<'_>, p: pb::LessonWithdrawn) {
    model.lessons.upsert(&p.lesson_id).withdrawn = true;
}
