//! The consortium: members by college with their weights, meetings with their
//! resolutions and weighted votes, and the commitments of the action plan with their
//! progress.

use maillage_proto::v1 as pb;

use super::charts;
use super::data::ReportData;
use super::dates::date_fr;
use super::html::escape;
use super::labels::{commitment_status, percent, resolution_status};

fn ratio(value: Option<&pb::WeightRatio>) -> f64 {
    let Some(value) = value else { return 0.0 };
    let numerator: f64 = value.numerator.parse().unwrap_or(0.0);
    let denominator: f64 = value.denominator.parse().unwrap_or(1.0);
    if denominator == 0.0 {
        0.0
    } else {
        numerator / denominator
    }
}

fn colleges(data: &ReportData, state: &pb::ConsortiumState) -> String {
    let rows: String = state
        .colleges
        .iter()
        .map(|college| {
            let members: Vec<String> = college
                .member_ids
                .iter()
                .map(|id| escape(&data.organisation(id)))
                .collect();
            format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                escape(&college.name),
                college.weight,
                college.member_ids.len(),
                members.join(", "),
                college.applied
            )
        })
        .collect();
    format!(
        "<h3>Membres par collège</h3><table id=\"colleges\"><thead><tr><th>Collège</th><th class=\"n\">Poids</th>\
         <th class=\"n\">Membres</th><th>Organisations admises</th><th class=\"n\">Candidatures en attente</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

fn meetings(state: &pb::ConsortiumState) -> String {
    let body_name = |code: &str| {
        state
            .bodies
            .iter()
            .find(|b| b.body_code == code)
            .map_or_else(|| code.to_owned(), |b| b.name.clone())
    };
    let mut out = String::new();
    for meeting in &state.meetings {
        out.push_str(&format!(
            "<h3>{} du {}</h3><p>{} membres présents, {} pouvoirs{}.</p>",
            escape(&body_name(&meeting.body_code)),
            meeting
                .scheduled_at
                .as_ref()
                .map(date_fr)
                .unwrap_or_default(),
            meeting.members_present,
            meeting.proxies,
            if meeting.minutes_approved {
                ", procès-verbal approuvé"
            } else {
                ""
            }
        ));
        let rows: String = meeting
            .resolutions
            .iter()
            .map(|resolution| {
                let tally = resolution.tally.as_ref();
                let cast = ratio(tally.and_then(|t| t.votes_cast.as_ref()));
                let share = |value: Option<&pb::WeightRatio>| {
                    if cast > 0.0 { percent(ratio(value) / cast) } else { "—".to_owned() }
                };
                let class = match pb::ResolutionStatus::try_from(resolution.status) {
                    Ok(pb::ResolutionStatus::Adopted) => "ok",
                    Ok(pb::ResolutionStatus::Rejected) => "ko",
                    _ => "",
                };
                format!(
                    "<tr><td class=\"n\">{}</td><td>{}</td><td><span class=\"tag {class}\">{}</span></td>\
                     <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    resolution.agenda_item,
                    escape(&resolution.title),
                    resolution_status(resolution.status),
                    resolution.ballots,
                    share(tally.and_then(|t| t.votes_for.as_ref())),
                    share(tally.and_then(|t| t.votes_against.as_ref())),
                    share(tally.and_then(|t| t.abstentions.as_ref())),
                    if tally.is_some_and(|t| t.quorum_reached) { "atteint" } else { "non atteint" }
                )
            })
            .collect();
        out.push_str(&format!(
            "<table class=\"resolutions\"><thead><tr><th class=\"n\">Point</th><th>Résolution</th><th>Issue</th><th class=\"n\">Bulletins</th>\
             <th class=\"n\">Pour (pondéré)</th><th class=\"n\">Contre</th><th class=\"n\">Abstention</th><th>Quorum</th></tr></thead><tbody>{rows}</tbody></table>"
        ));
    }
    out
}

fn commitments(data: &ReportData, state: &pb::ConsortiumState) -> String {
    if state.commitments.is_empty() {
        return "<p class=\"muted\">Aucun engagement.</p>".to_owned();
    }
    let rows: String = state
        .commitments
        .iter()
        .map(|commitment| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
                escape(&commitment.title),
                escape(&data.organisation(&commitment.owner_member_id)),
                escape(&commitment.theme),
                commitment.due_at.as_ref().map(date_fr).unwrap_or_default(),
                commitment_status(commitment.status),
                if commitment.overdue {
                    " <span class=\"tag late\">en retard</span>"
                } else {
                    ""
                },
                charts::progress(commitment.percent)
            )
        })
        .collect();
    format!(
        "<h3>Engagements du plan d'action</h3><table id=\"engagements\"><thead><tr><th>Engagement</th><th>Porteur</th><th>Thème</th>\
         <th>Échéance</th><th>État</th><th>Avancement</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

/// The consortium section.
pub fn section(data: &ReportData) -> String {
    let Some(state) = &data.consortium else {
        return "<section id=\"consortium\"><h2>Consortium</h2><p class=\"muted\">Aucun consortium sur ce territoire.</p></section>".to_owned();
    };
    let admitted: usize = state.colleges.iter().map(|c| c.member_ids.len()).sum();
    let bodies: Vec<String> = state.bodies.iter().map(|b| b.name.clone()).collect();
    format!(
        "<section id=\"consortium\"><h2>Consortium : {}</h2><p>Fondé par {} ; {} membres admis dans {} collèges. Instances : {}.</p>{}{}{}</section>",
        escape(&state.name),
        escape(&data.organisation(&state.founding_collectivite_id)),
        admitted,
        state.colleges.len(),
        escape(&bodies.join(", ")),
        colleges(data, state),
        meetings(state),
        commitments(data, state)
    )
}
