//! The lessons-learned register, searched: by theme, axis, outcome, source
//! kind and words of the title or detail, oldest first.

use maillage_proto::v1 as pb;

use crate::model::{LessonRow, ReadModel};
use crate::time::opt_timestamp;

/// What a search asks (every filter optional; those given must all match).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A `Theme` among the lesson's.
    pub topic: Option<i32>,
    /// An axis among the lesson's.
    pub axis_id: Option<String>,
    /// A `LessonOutcome`.
    pub outcome: Option<i32>,
    /// "action", "interview" or "diagnostic".
    pub source_kind: Option<String>,
    /// Words, lowercased, each found in the title or the detail.
    pub words: Vec<String>,
    /// Withdrawn lessons too.
    pub include_withdrawn: bool,
}

impl Filter {
    fn matches(&self, row: &LessonRow) -> bool {
        let text = format!("{} {}", row.title, row.detail).to_lowercase();
        (self.include_withdrawn || !row.withdrawn)
            && self.topic.is_none_or(|topic| row.topics.contains(&topic))
            && self
                .axis_id
                .as_ref()
                .is_none_or(|axis| row.axis_ids.contains(axis))
            && self.outcome.is_none_or(|outcome| row.outcome == outcome)
            && self
                .source_kind
                .as_ref()
                .is_none_or(|kind| row.source_kind == *kind)
            && self.words.iter().all(|word| text.contains(word.as_str()))
    }
}

/// The lessons matching `filter`, oldest first (then by id).
pub fn list(model: &ReadModel, filter: &Filter) -> Vec<pb::LessonEntry> {
    let mut rows: Vec<(&String, &LessonRow)> = model
        .lessons
        .iter()
        .filter(|(_, row)| filter.matches(row))
        .collect();
    rows.sort_by_key(|(id, row)| (row.recorded_at, *id));
    rows.into_iter()
        .map(|(id, row)| pb::LessonEntry {
            lesson_id: id.clone(),
            outcome: row.outcome,
            title: row.title.clone(),
            detail: row.detail.clone(),
            topics: row.topics.clone(),
            axis_ids: row.axis_ids.clone(),
            source_kind: row.source_kind.clone(),
            source_id: row.source_id.clone(),
            recorded_by: row.recorded_by.clone(),
            recorded_at: opt_timestamp(row.recorded_at),
            withdrawn: row.withdrawn,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ReadModel {
        let mut model = ReadModel::default();
        let lesson =
            |at: i64, outcome: pb::LessonOutcome, title: &str, topic: pb::Theme| LessonRow {
                outcome: outcome as i32,
                title: title.into(),
                topics: vec![topic as i32],
                axis_ids: vec!["axe".into()],
                source_kind: "action".into(),
                recorded_at: Some(at),
                ..Default::default()
            };
        use pb::{LessonOutcome as O, Theme as T};
        *model.lessons.upsert("l2") =
            lesson(2, O::Success, "Le marché attire du monde", T::Awareness);
        *model.lessons.upsert("l1") = lesson(1, O::Failure, "Un mardi à 14 h", T::Awareness);
        *model.lessons.upsert("l3") = LessonRow {
            withdrawn: true,
            ..lesson(3, O::Failure, "Retiré", T::Telework)
        };
        model
    }

    fn ids(lessons: Vec<pb::LessonEntry>) -> Vec<String> {
        lessons.into_iter().map(|l| l.lesson_id).collect()
    }

    #[test]
    fn lessons_are_searched_by_each_filter_oldest_first() {
        let model = model();
        assert_eq!(ids(list(&model, &Filter::default())), ["l1", "l2"]);
        let all = Filter {
            include_withdrawn: true,
            ..Filter::default()
        };
        assert_eq!(ids(list(&model, &all)), ["l1", "l2", "l3"]);
        let failures = Filter {
            outcome: Some(pb::LessonOutcome::Failure as i32),
            ..Filter::default()
        };
        assert_eq!(ids(list(&model, &failures)), ["l1"]);
        let words = Filter {
            words: vec!["marché".into()],
            ..Filter::default()
        };
        assert_eq!(ids(list(&model, &words)), ["l2"]);
        let telework = Filter {
            topic: Some(pb::Theme::Telework as i32),
            include_withdrawn: true,
            ..Filter::default()
        };
        assert_eq!(ids(list(&model, &telework)), ["l3"]);
        let other = Filter {
            axis_id: Some("autre".into()),
            ..Filter::default()
        };
        assert!(list(&model, &other).is_empty());
        let interviews = Filter {
            source_kind: Some("interview".into()),
            ..Filter::default()
        };
        assert!(list(&model, &interviews).is_empty());
    }
}
