//! Everything the HTML report shows, gathered once: rendering is then a pure function
//! of this value (the same data always gives the same page).

use std::collections::BTreeMap;

use maillage_proto::v1 as pb;

/// Contacts and actions of one month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    /// Contacts with stakeholders of the territory that took place that month.
    pub contacts: u64,
    /// Actions held in the territory that started that month.
    pub actions: u64,
}

/// Where a log stood when the report was computed: the last event it includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSource {
    /// The log: "stakeholders", "engagement" or "governance".
    pub context: String,
    /// The position of the last event included (0: none).
    pub position: u64,
    /// That event's hash, in hexadecimal (empty when none): it chains every
    /// earlier event, so it pins the whole prefix of the log the report read.
    pub hash: String,
}

/// The report's data.
#[derive(Debug, Clone, Default)]
pub struct ReportData {
    /// The territory asked for, as `level:code` (`epci:243700499`).
    pub scope: String,
    /// The territory engagement, with every member commune.
    pub territory: pb::TerritoryEngagementReport,
    /// The instant replayed (RFC 3339), or None for the live state.
    pub as_of: Option<String>,
    /// Actions with their venue in the territory, by theme, audience and kind.
    pub actions: pb::ActionStatistics,
    /// By month, in order.
    pub months: Vec<MonthFigures>,
    /// Surveys with responses from the territory.
    pub surveys: Vec<pb::SurveyResults>,
    /// The consortium of the territory, if any.
    pub consortium: Option<pb::ConsortiumState>,
    /// The stakeholder map of the territory.
    pub stakeholder_map: pb::StakeholderMap,
    /// Organisation names by stakeholder id (organisations are not personal data).
    pub organisation_names: BTreeMap<String, String>,
    /// The élus to reach again since the municipal elections (counts).
    pub reengagement: super::reengagement::Reengagement,
    /// Where each log stood: the report was computed from these prefixes.
    pub sources: Vec<LogSource>,
    /// What was done on each axis of the programme.
    pub axes: Vec<super::axes::AxisProgress>,
    /// The programme's objectives in force, measured.
    pub objectives: Vec<super::objectives::ObjectiveProgress>,
    /// The deliverables of the contract's missions.
    pub deliverables: Vec<super::objectives::DeliverableProgress>,
    /// The coded findings of the diagnostics of the territory's tiers-lieux.
    pub diagnostics: pb::DiagnosticSynthesis,
    /// The lessons-learned register (withdrawn lessons included: the
    /// section leaves them out).
    pub lessons: Vec<pb::LessonEntry>,
    /// The outputs of foresight workshops, each with the day the workshop
    /// started (`JJ/MM/AAAA`, empty if unknown), in that order.
    pub foresight: Vec<(String, pb::ForesightOutputsRecorded)>,
    /// The concertations with the designated officers, oldest first.
    pub concertations: Vec<super::concertations::ConcertationLine>,
    /// The programme's axes' names, by axis id.
    pub axis_names: BTreeMap<String, String>,
    /// Survey id → the territory's communes its information campaign reached
    /// (surveys with a campaign only).
    pub campaign_reach: BTreeMap<String, std::collections::BTreeSet<String>>,
}

impl ReportData {
    /// An organisation's name, or a short form of its id.
    pub fn organisation(&self, id: &str) -> String {
        self.organisation_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("membre {}", id.get(..8).unwrap_or(id)))
    }
}
