//! The "Retours d'expérience" section: the lessons-learned register — what
//! succeeded and what failed, per theme of the seed and per axis of the
//! programme, each lesson with its source (an action, an interview, a
//! diagnostic). Withdrawn lessons are left out. Rendered by
//! `templates/report/lessons.html`.

use std::collections::BTreeMap;

use askama::Template;
use maillage_proto::v1::{self as pb, LessonOutcome};

use super::data::ReportData;
use super::dates::date_fr;
use super::labels::topic;

/// Successes and failures of a theme or an axis.
pub struct Tally {
    /// The theme or the axis, in French.
    pub name: String,
    /// Titles of the successes, joined.
    pub successes: String,
    /// Titles of the failures, joined.
    pub failures: String,
}

/// One lesson as listed.
pub struct Line<'a> {
    /// When it was recorded (`JJ/MM/AAAA`).
    pub date: String,
    /// "Réussite" or "Échec".
    pub outcome: &'static str,
    /// The lesson.
    pub lesson: &'a pb::LessonEntry,
    /// Its themes, in French, joined.
    pub themes: String,
    /// Its axes' names, joined.
    pub axes: String,
    /// Where it was learned, in French.
    pub source: &'static str,
}

/// The section (`templates/report/lessons.html`).
#[derive(Template)]
#[template(path = "report/lessons.html")]
pub struct LessonsSection<'a> {
    successes: usize,
    failures: usize,
    by_theme: Vec<Tally>,
    by_axis: Vec<Tally>,
    lines: Vec<Line<'a>>,
}

fn success(lesson: &pb::LessonEntry) -> bool {
    lesson.outcome == LessonOutcome::Success as i32
}

/// Groups `lessons` under each of the names `names_of` gives them.
fn tallies<'a>(
    lessons: &[&'a pb::LessonEntry],
    names_of: impl Fn(&'a pb::LessonEntry) -> Vec<String>,
) -> Vec<Tally> {
    let mut groups: BTreeMap<String, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for lesson in lessons {
        for name in names_of(lesson) {
            let group = groups.entry(name).or_default();
            if success(lesson) {
                group.0.push(&lesson.title);
            } else {
                group.1.push(&lesson.title);
            }
        }
    }
    groups
        .into_iter()
        .map(|(name, (successes, failures))| Tally {
            name,
            successes: successes.join(" ; "),
            failures: failures.join(" ; "),
        })
        .collect()
}

/// The register, as of the report's instant.
pub fn section(data: &ReportData) -> LessonsSection<'_> {
    let lessons: Vec<&pb::LessonEntry> = data.lessons.iter().filter(|l| !l.withdrawn).collect();
    let axis = |id: &String| {
        data.axis_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("axe {}", id.get(..8).unwrap_or(id)))
    };
    let lines = lessons
        .iter()
        .map(|lesson| Line {
            date: lesson.recorded_at.as_ref().map(date_fr).unwrap_or_default(),
            outcome: if success(lesson) {
                "Réussite"
            } else {
                "Échec"
            },
            lesson,
            themes: lesson
                .topics
                .iter()
                .map(|t| topic(*t))
                .collect::<Vec<_>>()
                .join(", "),
            axes: lesson
                .axis_ids
                .iter()
                .map(axis)
                .collect::<Vec<_>>()
                .join(", "),
            source: match lesson.source_kind.as_str() {
                "action" => "une action",
                "interview" => "un entretien",
                "diagnostic" => "un diagnostic",
                _ => "—",
            },
        })
        .collect();
    LessonsSection {
        successes: lessons.iter().filter(|l| success(l)).count(),
        failures: lessons.iter().filter(|l| !success(l)).count(),
        by_theme: tallies(&lessons, |lesson| {
            lesson.topics.iter().map(|t| topic(*t)).collect()
        }),
        by_axis: tallies(&lessons, |lesson| {
            lesson.axis_ids.iter().map(axis).collect()
        }),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(outcome: LessonOutcome, title: &str, withdrawn: bool) -> pb::LessonEntry {
        pb::LessonEntry {
            outcome: outcome as i32,
            title: title.into(),
            topics: vec![pb::Theme::Awareness as i32],
            axis_ids: vec!["a1".into()],
            source_kind: "action".into(),
            recorded_at: Some(prost_types::Timestamp {
                seconds: 1_780_000_000,
                nanos: 0,
            }),
            withdrawn,
            ..Default::default()
        }
    }

    #[test]
    fn successes_and_failures_per_theme_and_axis_withdrawn_left_out() {
        let data = ReportData {
            axis_names: [("a1".to_owned(), "Sensibiliser".to_owned())].into(),
            lessons: vec![
                lesson(LessonOutcome::Success, "Le marché <attire>", false),
                lesson(LessonOutcome::Failure, "Un mardi à 14 h", false),
                lesson(LessonOutcome::Failure, "Retiré", true),
            ],
            ..Default::default()
        };
        let html = section(&data).render().unwrap();
        assert!(html.contains("Retours d'expérience"), "{html}");
        assert!(html.contains("<strong>1</strong> réussites"), "{html}");
        assert!(html.contains("<strong>1</strong> échecs"), "{html}");
        assert!(html.contains("Le marché &#60;attire&#62;"), "{html}");
        assert!(html.contains("<td>Sensibiliser</td>"), "{html}");
        assert!(html.contains("une action"), "{html}");
        assert!(!html.contains("Retiré"), "{html}");
        let empty = section(&ReportData::default()).render().unwrap();
        assert!(empty.contains("Aucun retour d'expérience"), "{empty}");
    }
}
