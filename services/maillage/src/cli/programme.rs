//! `maillage programme`: the programme of the accompaniment as the collectivité
//! defines it. `show` prints its axes in their order (retired ones last, with
//! why), the officers designated for each, the objectives of each axis and
//! the missions of the contract with their deliverables; the other
//! subcommands change it (role facilitator or admin): `define-axis`,
//! `retire-axis`, `designate`, `set-objective`, `define-mission`,
//! `add-deliverable`, `deliver`; `concertation` records and lists the
//! meetings with the designated officers (`super::concertation`). The
//! engagement service decides every rule and names the field it refuses.

use std::fmt::Write as _;

use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;

use super::client::{explain, Connection};
use crate::report::dates::{date_fr, parse_rfc3339};

/// `maillage programme` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ProgrammeCommand {
    /// Prints the axes in their order and the designated officers.
    Show,
    /// Adds an axis to the programme.
    DefineAxis {
        /// Its name (unique among the axes in use).
        #[arg(value_name = "NAME")]
        name: String,
        /// What it covers.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Retires an axis (what was tagged with it keeps it).
    RetireAxis {
        /// The axis (its id, as `show` prints it).
        #[arg(value_name = "AXIS_ID")]
        axis: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Designates an officer of the collectivité, who approves thematic actions.
    Designate {
        /// The officer's principal (the name their token carries).
        #[arg(value_name = "PRINCIPAL")]
        principal: String,
        /// For this axis only (default: the whole programme).
        #[arg(long)]
        axis: Option<String>,
        /// Their office, e.g. "DGS".
        #[arg(long, default_value = "")]
        title: String,
        /// The person they are in the register (a stakeholder id).
        #[arg(long = "personne")]
        stakeholder: Option<String>,
        /// Since when the designation holds (YYYY-MM-DD or RFC 3339; default: now).
        #[arg(long = "depuis")]
        from: Option<String>,
    },
    /// Concertation meetings with the designated officers.
    #[command(subcommand)]
    Concertation(super::concertation::ConcertationCommand),
    /// Sets an objective of an axis: what is counted, the target, the due date.
    SetObjective(ObjectiveArgs),
    /// Adds a mission of the contract.
    DefineMission {
        /// Its name (unique among the missions).
        #[arg(value_name = "NAME")]
        name: String,
        /// What it covers.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Adds a deliverable to a mission.
    AddDeliverable {
        /// The mission (its id, as `show` prints it).
        #[arg(value_name = "MISSION_ID")]
        mission: String,
        /// What is to be delivered.
        #[arg(value_name = "LABEL")]
        label: String,
        /// When it is due (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        due: String,
    },
    /// Records that a deliverable was delivered.
    Deliver {
        /// The deliverable (its id, as `show` prints it).
        #[arg(value_name = "DELIVERABLE_ID")]
        deliverable: String,
        /// When (YYYY-MM-DD or RFC 3339; default: now).
        #[arg(long)]
        on: Option<String>,
        /// What was delivered (a document's name or reference).
        #[arg(long, default_value = "")]
        reference: String,
    },
}

/// What `set-objective` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Measure {
    /// Actions held.
    ActionsHeld,
    /// Communes reached by a held action.
    CommunesReached,
    /// Interviews.
    Interviews,
    /// Responses to the axis's surveys.
    SurveyResponses,
}

/// Options of `maillage programme set-objective`.
#[derive(Debug, Clone, clap::Args)]
pub struct ObjectiveArgs {
    /// The axis (its id, as `show` prints it).
    #[arg(long)]
    axis: String,
    /// What the objective says.
    #[arg(long)]
    label: String,
    /// What is counted.
    #[arg(long, value_enum)]
    measure: Measure,
    /// Only actions of this kind count (repeatable), e.g. roundtable, awareness-stand.
    #[arg(long = "kind")]
    kinds: Vec<String>,
    /// Only actions for this audience count (repeatable), e.g. businesses, elus.
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// The count to reach.
    #[arg(
        long,
        conflicts_with = "every_commune",
        required_unless_present = "every_commune"
    )]
    target: Option<u32>,
    /// The target is every commune of the territory (with communes-reached).
    #[arg(long)]
    every_commune: bool,
    /// When it is due (YYYY-MM-DD or RFC 3339).
    #[arg(long)]
    due: String,
    /// Replaces this objective instead of adding one.
    #[arg(long)]
    replaces: Option<String>,
}

/// The protobuf value of `value` (`roundtable` for `ACTION_KIND_ROUNDTABLE`)
/// in the enum whose names start with `prefix`, by `from_str_name`.
fn enum_arg(
    option: &str,
    prefix: &str,
    value: &str,
    from_str_name: fn(&str) -> Option<i32>,
) -> anyhow::Result<i32> {
    let name = format!("{prefix}{}", value.trim().to_uppercase().replace('-', "_"));
    from_str_name(&name).filter(|v| *v != 0).ok_or_else(|| {
        anyhow::anyhow!("--{option} {value} : valeur inconnue (par exemple roundtable, awareness-stand, businesses, elus)")
    })
}

/// The request of `set-objective`.
fn objective_request(args: ObjectiveArgs) -> anyhow::Result<pb::SetProgrammeObjectiveRequest> {
    let kinds = args
        .kinds
        .iter()
        .map(|k| {
            enum_arg("kind", "ACTION_KIND_", k, |n| {
                pb::ActionKind::from_str_name(n).map(i32::from)
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let audiences = args
        .audiences
        .iter()
        .map(|a| {
            enum_arg("audience", "ENGAGEMENT_AUDIENCE_", a, |n| {
                pb::EngagementAudience::from_str_name(n).map(i32::from)
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(pb::SetProgrammeObjectiveRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        expected_version: None,
        objective_id: args.replaces.unwrap_or_default(),
        axis_id: args.axis,
        label: args.label,
        measure: match args.measure {
            Measure::ActionsHeld => pb::ObjectiveMeasure::ActionsHeld,
            Measure::CommunesReached => pb::ObjectiveMeasure::CommunesReached,
            Measure::Interviews => pb::ObjectiveMeasure::Interviews,
            Measure::SurveyResponses => pb::ObjectiveMeasure::SurveyResponses,
        }
        .into(),
        action_kinds: kinds,
        audiences,
        target: args.target.unwrap_or(0),
        every_commune: args.every_commune,
        due_at: Some(parse_rfc3339(&args.due)?),
    })
}

/// The person an officer is in the register, as `show` prints it.
fn person(officer: &pb::ProgrammeOfficer) -> String {
    match (officer.stakeholder_erased, officer.stakeholder_id.as_str()) {
        (true, _) => " (personne effacée du registre)".to_owned(),
        (false, "") => String::new(),
        (false, id) => format!(" (personne {id})"),
    }
}

/// The programme in French, as `show` prints it.
fn text(programme: &pb::ProgrammeView) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    if programme.axes.is_empty() {
        let _ = writeln!(
            out,
            "Aucun axe défini : maillage programme define-axis NOM les ajoute."
        );
    }
    for axis in &programme.axes {
        if axis.retired {
            let _ = writeln!(
                out,
                "   {} (retiré : {}) — {}",
                axis.name, axis.retirement_reason, axis.axis_id
            );
        } else {
            let _ = writeln!(out, "{:>2}. {} — {}", axis.order, axis.name, axis.axis_id);
        }
        if !axis.description.is_empty() {
            let _ = writeln!(out, "    {}", axis.description);
        }
        for officer in programme
            .officers
            .iter()
            .filter(|o| o.axis_id == axis.axis_id)
        {
            let _ = writeln!(
                out,
                "    responsable : {} {}{}",
                officer.principal,
                officer.title,
                person(officer)
            );
        }
    }
    for officer in programme.officers.iter().filter(|o| o.axis_id.is_empty()) {
        let _ = writeln!(
            out,
            "Responsable de tout le programme : {} {}{}",
            officer.principal,
            officer.title,
            person(officer)
        );
    }
    let axis_name = |id: &str| {
        programme
            .axes
            .iter()
            .find(|axis| axis.axis_id == id)
            .map_or_else(|| id.to_owned(), |axis| axis.name.clone())
    };
    let day = |at: &Option<prost_types::Timestamp>| at.as_ref().map(date_fr).unwrap_or_default();
    if !programme.objectives.is_empty() {
        let _ = writeln!(out, "Objectifs :");
    }
    for objective in &programme.objectives {
        let target = match objective.every_commune {
            true => "toutes les communes".to_owned(),
            false => objective.target.to_string(),
        };
        let _ = write!(
            out,
            "  - {} ({}) : cible {target}, échéance {} — {}",
            objective.label,
            axis_name(&objective.axis_id),
            day(&objective.due_at),
            objective.objective_id
        );
        if objective.withdrawn {
            let _ = write!(out, " [retiré : {}]", objective.withdrawal_reason);
        }
        let _ = writeln!(out);
    }
    for mission in &programme.missions {
        let _ = writeln!(out, "Mission : {} — {}", mission.name, mission.mission_id);
        for deliverable in &mission.deliverables {
            let state = match &deliverable.delivered_at {
                Some(_) => format!("remis le {}", day(&deliverable.delivered_at)),
                None => format!("attendu le {}", day(&deliverable.due_at)),
            };
            let _ = writeln!(
                out,
                "  - {} : {state} — {}",
                deliverable.label, deliverable.deliverable_id
            );
        }
    }
    out
}

/// Runs `maillage programme`.
pub async fn run(connection: &Connection, command: ProgrammeCommand) -> anyhow::Result<()> {
    let mut client = EngagementClient::new(connection.connect().await?);
    let out = match command {
        ProgrammeCommand::Show => {
            let programme = client
                .get_programme(pb::GetProgrammeRequest {})
                .await
                .map_err(explain)?
                .into_inner();
            text(&programme)
        }
        ProgrammeCommand::DefineAxis { name, description } => {
            let reply = client
                .define_programme_axis(pb::DefineProgrammeAxisRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    name,
                    description,
                    expected_version: None,
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!("axe enregistré (programme en version {})\n", reply.version)
        }
        ProgrammeCommand::RetireAxis { axis, reason } => {
            let reply = client
                .retire_programme_axis(pb::RetireProgrammeAxisRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    axis_id: axis,
                    expected_version: None,
                    reason,
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!("axe retiré (programme en version {})\n", reply.version)
        }
        ProgrammeCommand::Concertation(command) => {
            super::concertation::run(&mut client, command).await?
        }
        ProgrammeCommand::Designate {
            principal,
            axis,
            title,
            stakeholder,
            from,
        } => {
            let reply = client
                .designate_programme_officer(pb::DesignateProgrammeOfficerRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    expected_version: None,
                    principal,
                    axis_id: axis.unwrap_or_default(),
                    title,
                    stakeholder_id: stakeholder.unwrap_or_default(),
                    designated_from: from.as_deref().map(parse_rfc3339).transpose()?,
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "responsable désigné (programme en version {})\n",
                reply.version
            )
        }
        ProgrammeCommand::SetObjective(args) => {
            let reply = client
                .set_programme_objective(objective_request(args)?)
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "objectif enregistré : {} (programme en version {})\n",
                reply.id, reply.version
            )
        }
        ProgrammeCommand::DefineMission { name, description } => {
            let reply = client
                .define_programme_mission(pb::DefineProgrammeMissionRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    expected_version: None,
                    name,
                    description,
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "mission enregistrée : {} (programme en version {})\n",
                reply.id, reply.version
            )
        }
        ProgrammeCommand::AddDeliverable {
            mission,
            label,
            due,
        } => {
            let reply = client
                .add_mission_deliverable(pb::AddMissionDeliverableRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    expected_version: None,
                    mission_id: mission,
                    label,
                    due_at: Some(parse_rfc3339(&due)?),
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!(
                "livrable enregistré : {} (programme en version {})\n",
                reply.id, reply.version
            )
        }
        ProgrammeCommand::Deliver {
            deliverable,
            on,
            reference,
        } => {
            let delivered_at = match on {
                Some(on) => parse_rfc3339(&on)?,
                None => std::time::SystemTime::now().into(),
            };
            let reply = client
                .deliver_mission_deliverable(pb::DeliverMissionDeliverableRequest {
                    request_id: uuid::Uuid::now_v7().to_string(),
                    expected_version: None,
                    deliverable_id: deliverable,
                    delivered_at: Some(delivered_at),
                    reference,
                })
                .await
                .map_err(explain)?
                .into_inner();
            format!("livrable remis (programme en version {})\n", reply.version)
        }
    };
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_in_order_then_retired_with_their_officers() {
        let axis = |id: &str, name: &str, order, retired| pb::ProgrammeAxis {
            axis_id: id.into(),
            name: name.into(),
            order,
            retired,
            retirement_reason: if retired {
                "fusionné".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        let programme = pb::ProgrammeView {
            version: 4,
            axes: vec![
                axis("a1", "Attractivité", 1, false),
                axis("a2", "Ancien axe", 0, true),
            ],
            officers: vec![
                pb::ProgrammeOfficer {
                    principal: "dgs".into(),
                    axis_id: "a1".into(),
                    title: "(DGS)".into(),
                    stakeholder_id: "p1".into(),
                    ..Default::default()
                },
                pb::ProgrammeOfficer {
                    principal: "maire".into(),
                    stakeholder_erased: true,
                    ..Default::default()
                },
            ],
            objectives: vec![pb::ProgrammeObjective {
                objective_id: "o1".into(),
                axis_id: "a1".into(),
                label: "Toutes les communes sensibilisées".into(),
                every_commune: true,
                due_at: Some(prost_types::Timestamp {
                    seconds: 1_814_313_600,
                    nanos: 0,
                }),
                ..Default::default()
            }],
            missions: vec![pb::ProgrammeMission {
                mission_id: "m1".into(),
                name: "Mission 1".into(),
                description: String::new(),
                deliverables: vec![pb::MissionDeliverable {
                    deliverable_id: "d1".into(),
                    label: "Bilan".into(),
                    due_at: Some(prost_types::Timestamp {
                        seconds: 1_814_313_600,
                        nanos: 0,
                    }),
                    delivered_at: None,
                    reference: String::new(),
                }],
            }],
        };
        let shown = text(&programme);
        assert!(
            shown.starts_with(" 1. Attractivité — a1\n    responsable : dgs (DGS) (personne p1)\n"),
            "{shown}"
        );
        assert!(
            shown.contains("   Ancien axe (retiré : fusionné) — a2"),
            "{shown}"
        );
        assert!(
            shown.contains(
                "Responsable de tout le programme : maire  (personne effacée du registre)\n"
            ),
            "{shown}"
        );
        assert!(
            shown.contains("  - Toutes les communes sensibilisées (Attractivité) : cible toutes les communes, échéance 30/06/2027 — o1\n"),
            "{shown}"
        );
        assert!(
            shown.ends_with("Mission : Mission 1 — m1\n  - Bilan : attendu le 30/06/2027 — d1\n"),
            "{shown}"
        );
        assert!(text(&pb::ProgrammeView::default()).starts_with("Aucun axe défini"));
    }
}

#[cfg(test)]
mod arguments {
    use super::*;

    #[test]
    fn kinds_and_audiences_are_named_as_on_the_wire_without_their_prefix() {
        let kind = |v| {
            enum_arg("kind", "ACTION_KIND_", v, |n| {
                pb::ActionKind::from_str_name(n).map(i32::from)
            })
        };
        assert_eq!(
            kind("roundtable").unwrap(),
            pb::ActionKind::Roundtable as i32
        );
        assert_eq!(
            kind("Awareness-Stand").unwrap(),
            pb::ActionKind::AwarenessStand as i32
        );
        assert!(kind("unspecified").is_err());
        assert!(kind("table-ronde")
            .unwrap_err()
            .to_string()
            .contains("--kind table-ronde"));
    }
}
