//! Territory engagement: per member commune, then rolled up to the territory
//! asked for (a commune, an EPCI, a département or a région), with coverage,
//! white zones and rates per 1,000 inhabitants.
//!
//! Definitions (joined at query time):
//! - a stakeholder is *of* a commune when it is located there, or, for an
//!   élu, when it holds a mandate of that commune;
//! - *contacted*: a current participant of at least one logged interaction;
//! - an action counts where its venue is, once held (or reported);
//! - people reached: distinct named attendees plus anonymous head counts;
//! - a commune is a *white zone* when nothing happened there: no stakeholder
//!   of it contacted or attending, no action held, no survey response, no
//!   interview and no consortium member;
//! - by theme (the shared `Theme` vocabulary): the contacts and actions
//!   counted above, the surveys with a response from the territory, the
//!   interviews with someone of it, and the commitments (not dropped) of the
//!   consortia covering part of it;
//! - by axis of the collectivité's programme: the contacts counted above and
//!   the commitments counted by theme that are tagged with it (actions,
//!   surveys and interviews per axis are the report's business).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use maillage_proto::themes;
use maillage_proto::v1 as pb;
use maillage_territory::{Territory, TerritoryRef as CogRef};

use super::contact_view::ContactView;
use super::joins::{communes_of, is_business, is_elu, kind_labels};
use super::{label_counts, ratio, resolve_territory, to_pb_territory, Page};
use crate::labels;
use crate::model::{ActionRow, AxisTagsRow, ReadModel, StakeholderRow};
use crate::time::opt_timestamp;

/// The tables the report reads (with the open and overdue follow-ups of
/// [`super::follow_ups::open_and_overdue`]): an `as_of` report loads only
/// these from a snapshot.
pub const TABLES: crate::snapshot::Tables = &[
    "stakeholders",
    "interactions",
    "actions",
    "surveys",
    "survey_respondents",
    "interviews",
    "consortia",
    "commitments",
    "contact_axes",
    "commitment_axes",
];

#[derive(Default)]
struct CommuneAcc {
    stakeholders: u64,
    stakeholders_contacted: u64,
    elus_contacted: u64,
    businesses_contacted: u64,
    actions_held: u64,
    named: BTreeSet<String>,
    anonymous: u64,
    survey_responses: u64,
    engaged: bool,
}

/// What was done on one theme (see [`pb::ThemeActivity`]).
#[derive(Default)]
struct ThemeAcc {
    contacts: u64,
    actions_held: u64,
    surveys: u64,
    interviews: u64,
    commitments: u64,
    commitments_done: u64,
}

/// The counters of each `Theme` value, filled as the report goes.
#[derive(Default)]
struct ByTheme(BTreeMap<i32, ThemeAcc>);

impl ByTheme {
    /// Counts one item about `topics` with `count`.
    fn add(&mut self, topics: impl IntoIterator<Item = i32>, count: impl Fn(&mut ThemeAcc)) {
        for topic in topics {
            count(self.0.entry(topic).or_default());
        }
    }

    /// The report's rows, in `Theme` order.
    fn into_rows(self) -> Vec<pb::ThemeActivity> {
        self.0
            .into_iter()
            .map(|(topic, acc)| pb::ThemeActivity {
                theme: labels::theme(topic).to_owned(),
                contacts: acc.contacts,
                actions_held: acc.actions_held,
                surveys: acc.surveys,
                interviews: acc.interviews,
                commitments: acc.commitments,
                commitments_done: acc.commitments_done,
            })
            .collect()
    }
}

/// The counters of each axis, by axis id (see [`pb::AxisActivity`]).
#[derive(Default)]
struct ByAxis(BTreeMap<String, pb::AxisActivity>);

impl ByAxis {
    /// Counts one item tagged with `axes` (a row of `contact_axes` or
    /// `commitment_axes`; none: not tagged) with `count`.
    fn add(&mut self, axes: Option<&AxisTagsRow>, count: impl Fn(&mut pb::AxisActivity)) {
        for axis in axes.map_or(&[][..], |row| &row.axis_ids[..]) {
            count(
                self.0
                    .entry(axis.clone())
                    .or_insert_with(|| pb::AxisActivity {
                        axis_id: axis.clone(),
                        ..Default::default()
                    }),
            );
        }
    }
}

/// Whether the territory `(level, code)` has at least one commune in the
/// reported territory (whose communes are the keys of `acc`).
fn overlaps(
    territory: &Territory,
    acc: &BTreeMap<&str, CommuneAcc>,
    level: i32,
    code: &str,
) -> bool {
    let reference = pb::TerritoryRef {
        level,
        code: code.to_owned(),
    };
    let Ok(reference) = resolve_territory(territory, Some(&reference), "territory") else {
        return false;
    };
    territory
        .communes_in(&reference)
        .unwrap_or_default()
        .iter()
        .any(|commune| acc.contains_key(commune.code.as_str()))
}

/// Whether `action` names a target territory lying within the reported
/// territory (whose communes are the keys of `acc`).
fn is_for(territory: &Territory, acc: &BTreeMap<&str, CommuneAcc>, action: &ActionRow) -> bool {
    if action.target_level == 0 {
        return false;
    }
    let target = pb::TerritoryRef {
        level: action.target_level,
        code: action.target_code.clone(),
    };
    let Ok(target) = resolve_territory(territory, Some(&target), "target_territory") else {
        return false;
    };
    let communes = territory.communes_in(&target).unwrap_or_default();
    !communes.is_empty()
        && communes
            .iter()
            .all(|commune| acc.contains_key(commune.code.as_str()))
}

/// The report for `reference` (already validated), with `page` of its
/// communes; its open and overdue follow-ups are left at 0 ([`report_at`]
/// counts them).
pub fn report(
    model: &ReadModel,
    territory: &Territory,
    reference: &CogRef,
    page: Page,
) -> pb::TerritoryEngagementReport {
    build(model, territory, reference, page, None)
}

/// The report for `reference` (already validated), with `page` of its
/// communes, and the open follow-ups of contacts with a stakeholder of the
/// territory and those of them overdue at `now` (µs), as
/// [`super::follow_ups::open_and_overdue`] counts them, in the same pass over
/// the contacts.
pub fn report_at(
    model: &ReadModel,
    territory: &Territory,
    reference: &CogRef,
    page: Page,
    now: i64,
) -> pb::TerritoryEngagementReport {
    build(model, territory, reference, page, Some(now))
}

/// The report, with the follow-ups counted when `now` is given. The contacts
/// are read once: the territory's stakeholders are found first, then every
/// contact with one of them is counted and marks its participants of the
/// territory contacted (the figures of a full scan of every stakeholder's
/// contacts: a stakeholder of the territory in a logged contact makes that
/// contact one of the territory's).
fn build(
    model: &ReadModel,
    territory: &Territory,
    reference: &CogRef,
    page: Page,
    now: Option<i64>,
) -> pb::TerritoryEngagementReport {
    // Validated by the caller: an unknown territory cannot reach here, and
    // would only give an empty report.
    let communes = territory.communes_in(reference).unwrap_or_default();
    let mut acc: BTreeMap<&str, CommuneAcc> = communes
        .iter()
        .map(|commune| (commune.code.as_str(), CommuneAcc::default()))
        .collect();

    let mut report = pb::TerritoryEngagementReport {
        territory: Some(to_pb_territory(reference)),
        name: territory.name_of(reference).unwrap_or_default().to_owned(),
        communes_total: communes.len() as u64,
        population: communes
            .iter()
            .map(|commune| u64::from(commune.population.unwrap_or(0)))
            .sum(),
        ..Default::default()
    };

    // The registered stakeholders of the territory, and where every one is.
    let mut members = Vec::<(&str, &StakeholderRow, Vec<&str>)>::new();
    let mut in_territory = HashSet::<&str>::new();
    let mut stakeholder_commune = HashMap::<&str, &str>::new();
    for (id, row) in model.stakeholders.iter() {
        if !row.registered {
            continue;
        }
        if !row.commune.is_empty() {
            stakeholder_commune.insert(id.as_str(), row.commune.as_str());
        }
        let mine: Vec<&str> = communes_of(row)
            .into_iter()
            .filter(|code| acc.contains_key(code))
            .collect();
        if mine.is_empty() {
            continue;
        }
        in_territory.insert(id.as_str());
        members.push((id.as_str(), row, mine));
    }

    // Their contacts, in one pass over every contact.
    let mut contacted = HashSet::<&str>::new();
    let mut by_topic = ByTheme::default();
    let mut by_axis = ByAxis::default();
    let mut last_contact: Option<i64> = None;
    for row in model.interactions.rows("") {
        let Some(interaction) = row.head::<ContactView<'_>>() else {
            continue;
        };
        if !interaction.logged {
            continue;
        }
        let mut with_a_member = false;
        for (participant, _) in interaction.participants.iter() {
            // The member's id as the model holds it: the row's is read in place.
            if let Some(member) = in_territory.get(*participant) {
                with_a_member = true;
                contacted.insert(*member);
            }
        }
        if !with_a_member {
            continue;
        }
        report.contacts += 1;
        last_contact = last_contact.max(interaction.occurred_at);
        if interaction.topics.is_empty() {
            // A row stored before topics: its themes in the older vocabulary.
            let older: Vec<i32> = interaction.themes.iter().copied().collect();
            let topics = themes::topics_or_older(&[], &older, themes::from_interaction_value);
            by_topic.add(topics, |t| t.contacts += 1);
        } else {
            by_topic.add(interaction.topics.iter().copied(), |t| t.contacts += 1);
        }
        by_axis.add(model.contact_axes.get(row.key()), |a| a.contacts += 1);
        if let Some(now) = now {
            for due_at in interaction.open_follow_ups.0.iter() {
                report.follow_ups_open += 1;
                report.follow_ups_overdue += u64::from(due_at.is_some_and(|due| due < now));
            }
        }
    }
    report.last_contact_at = opt_timestamp(last_contact);

    // Stakeholders, élus, businesses, contacted.
    let mut kinds = BTreeMap::<String, u64>::new();
    let mut communes_with_elu = BTreeSet::<&str>::new();
    for (id, row, mine) in &members {
        let contacted = contacted.contains(id);
        if let Some(located) = acc.get_mut(row.commune.as_str()) {
            located.stakeholders += 1;
            for label in kind_labels(row) {
                *kinds.entry(label).or_default() += 1;
            }
            report.stakeholders_total += 1;
            if contacted {
                located.stakeholders_contacted += 1;
                located.engaged = true;
            }
            if is_business(row) {
                report.businesses += 1;
                if contacted {
                    report.businesses_engaged += 1;
                    located.businesses_contacted += 1;
                }
            }
        }
        if is_elu(row) {
            report.elus += 1;
            if contacted {
                report.elus_engaged += 1;
                for code in mine {
                    if let Some(commune) = acc.get_mut(code) {
                        commune.elus_contacted += 1;
                        commune.engaged = true;
                    }
                    communes_with_elu.insert(code);
                }
            }
        }
    }
    report.stakeholders_by_kind = label_counts(kinds.iter().map(|(k, v)| (k.as_str(), *v)));

    // Actions held in the territory and the people they reached.
    let held = [
        pb::ActionStatus::Held as i32,
        pb::ActionStatus::Reported as i32,
    ];
    let mut by_kind = BTreeMap::<&str, u64>::new();
    let mut by_theme = BTreeMap::<&str, u64>::new();
    let mut named = BTreeSet::<&str>::new();
    for (_, action) in model.actions.iter() {
        if !held.contains(&action.status) {
            continue;
        }
        // Attending engages the attendee's home commune, wherever the action
        // took place (in the next EPCI, online...).
        for attendee in &action.attendees {
            if let Some(home) = stakeholder_commune.get(attendee.as_str()) {
                if let Some(home) = acc.get_mut(home) {
                    home.engaged = true;
                }
            }
        }
        let anonymous: u64 = action.head_counts.values().map(|c| u64::from(*c)).sum();
        if let Some(commune) = acc.get_mut(action.commune.as_str()) {
            // Held in one of the territory's communes: counted there too.
            commune.actions_held += 1;
            commune.engaged = true;
            commune.anonymous += anonymous;
            for attendee in &action.attendees {
                commune.named.insert(attendee.clone());
            }
        } else if !is_for(territory, &acc, action) {
            // Neither held in the territory nor for it (an online action
            // for a territory within this one counts for the territory as a
            // whole, in no commune).
            continue;
        }
        report.anonymous_people_reached += anonymous;
        named.extend(action.attendees.iter().map(String::as_str));
        report.actions_held += 1;
        by_topic.add(action.topics(), |t| t.actions_held += 1);
        *by_kind.entry(labels::action_kind(action.kind)).or_default() += 1;
        for theme in &action.themes {
            *by_theme
                .entry(labels::engagement_theme(*theme))
                .or_default() += 1;
        }
    }
    report.named_people_reached = named.len() as u64;
    report.people_reached = report.named_people_reached + report.anonymous_people_reached;
    report.actions_held_by_kind = label_counts(by_kind);
    report.actions_held_by_theme = label_counts(by_theme);

    // Survey responses and interviews from the territory.
    for (survey_id, survey) in model.surveys.iter() {
        let mut answered_here = false;
        for (code, count) in &survey.anonymous_by_commune {
            if let Some(commune) = acc.get_mut(code.as_str()) {
                commune.survey_responses += count;
                commune.engaged = true;
                report.survey_responses += count;
                answered_here = true;
            }
        }
        for (id, count) in model.respondents(survey_id, survey) {
            let home = stakeholder_commune.get(id).copied().unwrap_or("");
            if let Some(commune) = acc.get_mut(home) {
                commune.survey_responses += count;
                commune.engaged = true;
                report.survey_responses += count;
                answered_here = true;
            }
        }
        if answered_here {
            by_topic.add(survey.topics(), |t| t.surveys += 1);
        }
    }
    for (_, interview) in model.interviews.iter() {
        let home = if interview.stakeholder_id.is_empty() {
            interview.anonymous_commune.as_str()
        } else {
            stakeholder_commune
                .get(interview.stakeholder_id.as_str())
                .copied()
                .unwrap_or("")
        };
        if let Some(commune) = acc.get_mut(home) {
            commune.engaged = true;
            by_topic.add(interview.topics(), |t| t.interviews += 1);
        }
    }

    // Commitments of the consortia covering part of the territory.
    let covering: BTreeSet<&str> = model
        .consortia
        .iter()
        .filter(|(_, consortium)| {
            consortium
                .territory
                .iter()
                .any(|(level, code)| overlaps(territory, &acc, *level, code))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    for (id, commitment) in model.commitments.iter() {
        if commitment.status == pb::CommitmentStatus::Dropped as i32
            || !covering.contains(commitment.consortium_id.as_str())
        {
            continue;
        }
        let done = commitment.status == pb::CommitmentStatus::Completed as i32;
        by_axis.add(model.commitment_axes.get(id), |a| {
            a.commitments += 1;
            a.commitments_done += u64::from(done);
        });
        let topic = commitment.topic();
        if topic == 0 {
            continue;
        }
        by_topic.add([topic], |t| {
            t.commitments += 1;
            t.commitments_done += u64::from(done);
        });
    }
    report.by_theme = by_topic.into_rows();
    report.by_axis = by_axis.0.into_values().collect();

    // Consortium members located in the territory.
    let mut members = BTreeSet::<&str>::new();
    for (_, consortium) in model.consortia.iter() {
        for (member_id, member) in &consortium.members {
            if member.status != pb::MembershipStatus::Admitted as i32 {
                continue;
            }
            let home = stakeholder_commune
                .get(member_id.as_str())
                .copied()
                .unwrap_or("");
            if let Some(commune) = acc.get_mut(home) {
                commune.engaged = true;
                members.insert(member_id.as_str());
            }
        }
    }
    report.consortium_members = members.len() as u64;

    // Coverage, white zones, rates, the communes page.
    report.communes_with_elu_contacted = communes_with_elu.len() as u64;
    report.coverage = ratio(report.communes_with_elu_contacted, report.communes_total);
    let per_1000 = |count: u64| ratio(count * 1_000, report.population);
    let contacted_total: u64 = acc.values().map(|c| c.stakeholders_contacted).sum();
    report.rates_per_1000 = Some(pb::TerritoryEngagementRates {
        stakeholders_contacted: per_1000(contacted_total),
        people_reached: per_1000(report.people_reached),
        survey_responses: per_1000(report.survey_responses),
        actions_held: per_1000(report.actions_held),
    });
    let rows: Vec<pb::CommuneEngagement> = communes
        .iter()
        .map(|commune| {
            // Invariant: `acc` has an entry for every commune of `communes`.
            let figures = &acc[commune.code.as_str()];
            pb::CommuneEngagement {
                code: commune.code.clone(),
                name: commune.name.clone(),
                population: u64::from(commune.population.unwrap_or(0)),
                stakeholders: figures.stakeholders,
                stakeholders_contacted: figures.stakeholders_contacted,
                elus_contacted: figures.elus_contacted,
                businesses_contacted: figures.businesses_contacted,
                actions_held: figures.actions_held,
                people_reached: figures.named.len() as u64 + figures.anonymous,
                survey_responses: figures.survey_responses,
                white_zone: !figures.engaged,
            }
        })
        .collect();
    report.white_zone_communes = rows
        .iter()
        .filter(|row| row.white_zone)
        .map(|row| row.code.clone())
        .collect();
    let (communes_page, page_info) = page.slice(rows);
    report.communes = communes_page;
    report.page = Some(page_info);
    report
}
