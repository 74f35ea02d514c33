//! Act 4b of the demo: the team's lessons learned so far (retours
//! d'expérience, issue 14) — what succeeded and what failed, per theme and
//! axis, each drawn from the information campaign, an interview or a
//! diagnostic; one is withdrawn once contradicted.

use maillage_proto::v1 as pb;
use pb::lesson_source::Of;
use pb::{LessonOutcome as O, Theme as T};

use super::player::Player;
use super::programme::Axes;

const ENGAGEMENT: &str = maillage_engagement::CONTEXT;

/// What the lessons are drawn from.
pub struct Sources<'a> {
    /// The survey's information campaign (an awareness action).
    pub campaign: &'a str,
    /// The interviews, in the order held.
    pub interviews: &'a [String],
    /// The diagnostics of the existing tiers-lieux.
    pub diagnostics: &'a [String],
}

/// Records the lessons; withdraws the last one.
pub async fn play(player: &mut Player, axes: &Axes, sources: &Sources<'_>) -> anyhow::Result<()> {
    player.phase("Retours d'expérience");
    let first = |ids: &[String]| ids.first().cloned().unwrap_or_default();
    let lessons = [
        (
            O::Success,
            "Une lettre d'information en ligne touche toutes les communes",
            "La campagne a atteint les 16 communes avant l'ouverture de l'enquête.",
            vec![T::Awareness],
            &axes.inform,
            Of::ActionId(sources.campaign.to_owned()),
        ),
        (
            O::Failure,
            "Les entretiens en journée ne touchent pas les actifs",
            "Proposer des créneaux en soirée ou le samedi matin.",
            vec![T::Survey, T::Telework],
            &axes.consult,
            Of::InterviewId(first(sources.interviews)),
        ),
        (
            O::Success,
            "Un animateur fait vivre le lieu",
            "Les deux tiers-lieux existants en ont besoin, salarié ou bénévoles.",
            vec![T::ExistingTiersLieux, T::Governance],
            &axes.structure,
            Of::DiagnosticId(first(sources.diagnostics)),
        ),
        (
            O::Failure,
            "La restauration n'intéresse pas les tiers-lieux",
            "À vérifier auprès d'autres tiers-lieux.",
            vec![T::ExistingTiersLieux],
            &axes.structure,
            Of::DiagnosticId(first(sources.diagnostics)),
        ),
    ];
    let mut last = String::new();
    for (outcome, title, detail, topics, axis, source) in lessons {
        let request = pb::RecordLessonRequest {
            request_id: player.request_id(),
            outcome: outcome as i32,
            title: title.to_owned(),
            detail: detail.to_owned(),
            topics: topics.into_iter().map(|t| t as i32).collect(),
            axis_ids: vec![axis.clone()],
            source: Some(pb::LessonSource { of: Some(source) }),
        };
        let result = player.engagement.record_lesson(request).await;
        let reply = player.answer("retour d'expérience", result)?;
        last = player.done(ENGAGEMENT, reply);
    }
    let request = pb::WithdrawLessonRequest {
        request_id: player.request_id(),
        lesson_id: last,
        expected_version: None,
        reason: "Un seul tiers-lieu l'a dit : trop tôt pour en tirer une leçon.".to_owned(),
    };
    let result = player.engagement.withdraw_lesson(request).await;
    let reply = player.answer("retour d'expérience retiré", result)?;
    player.done(ENGAGEMENT, reply);
    Ok(())
}
