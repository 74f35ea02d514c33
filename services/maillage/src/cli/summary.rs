//! The territory engagement summary the demo prints, in French: coverage, white zones,
//! élus and businesses engaged, activity, top themes and the consortium's state.

use std::fmt::Write;

use maillage_proto::v1 as pb;

use crate::report::dates::date_fr;
use crate::report::labels::{fr, percent, thousands};
use crate::report::ReportData;

/// The summary, as lines of text.
pub fn text(data: &ReportData) -> String {
    let t = &data.territory;
    let mut out = String::new();
    let code = t
        .territory
        .as_ref()
        .map(|r| r.code.clone())
        .unwrap_or_default();
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "Territoire : {} ({code}) — {} communes, {} habitants",
        t.name,
        t.communes_total,
        thousands(t.population)
    );
    let _ = writeln!(
        out,
        "Couverture : {} ({} communes sur {} avec au moins un élu contacté)",
        percent(t.coverage),
        t.communes_with_elu_contacted,
        t.communes_total
    );
    let names: Vec<String> = t
        .white_zone_communes
        .iter()
        .map(|code| {
            t.communes
                .iter()
                .find(|c| &c.code == code)
                .map_or_else(|| code.clone(), |c| c.name.clone())
        })
        .collect();
    let _ = writeln!(
        out,
        "Zones blanches ({}) : {}",
        names.len(),
        if names.is_empty() {
            "aucune".to_owned()
        } else {
            names.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "Élus contactés : {} sur {} ; entreprises contactées : {} sur {}",
        t.elus_engaged, t.elus, t.businesses_engaged, t.businesses
    );
    let _ = writeln!(
        out,
        "Contacts : {} ; actions tenues : {} ; personnes touchées : {} ; réponses à l'enquête : {}",
        t.contacts, t.actions_held, t.people_reached, t.survey_responses
    );
    // The themes most worked on: contacts, actions and commitments together.
    let mut themes: Vec<_> = t
        .by_theme
        .iter()
        .map(|theme| {
            (
                theme.contacts + theme.actions_held + theme.commitments,
                theme,
            )
        })
        .collect();
    themes.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.theme.cmp(&y.theme)));
    let top: Vec<String> = themes
        .iter()
        .take(3)
        .map(|(_, theme)| {
            format!(
                "{} ({} contacts, {} actions, {} engagements)",
                fr(&theme.theme),
                theme.contacts,
                theme.actions_held,
                theme.commitments
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "Thèmes principaux : {}",
        if top.is_empty() {
            "aucun".to_owned()
        } else {
            top.join(", ")
        }
    );
    match &data.consortium {
        None => {
            let _ = writeln!(out, "Consortium : aucun");
        }
        Some(state) => consortium(&mut out, state),
    }
    out
}

fn consortium(out: &mut String, state: &pb::ConsortiumState) {
    let colleges: Vec<String> = state
        .colleges
        .iter()
        .map(|c| format!("{} {}", c.name, c.member_ids.len()))
        .collect();
    let members: usize = state.colleges.iter().map(|c| c.member_ids.len()).sum();
    let _ = writeln!(
        out,
        "Consortium : {} — {members} membres ({})",
        state.name,
        colleges.join(", ")
    );
    for meeting in &state.meetings {
        let adopted = meeting
            .resolutions
            .iter()
            .filter(|r| r.status == pb::ResolutionStatus::Adopted as i32)
            .count();
        let _ =
            writeln!(
            out,
            "  Réunion du {} : {} présents, {} pouvoirs, {} résolutions dont {adopted} adoptées",
            meeting.scheduled_at.as_ref().map(date_fr).unwrap_or_default(),
            meeting.members_present,
            meeting.proxies,
            meeting.resolutions.len()
        );
    }
    let count = state.commitments.len();
    if count > 0 {
        let mean = state
            .commitments
            .iter()
            .map(|c| u64::from(c.percent))
            .sum::<u64>()
            / count as u64;
        let done = state
            .commitments
            .iter()
            .filter(|c| c.status == pb::CommitmentStatus::Completed as i32)
            .count();
        let _ = writeln!(
            out,
            "  Engagements : {count} (tenus : {done}, en retard : {}), avancement moyen {mean} %",
            state.overdue_commitment_ids.len()
        );
    }
}
