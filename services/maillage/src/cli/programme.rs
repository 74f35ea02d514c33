//! `maillage programme`: the programme of the accompaniment as the collectivité
//! defines it. `show` prints its axes in their order (retired ones last, with
//! why) and the officers designated for each; `define-axis NAME` adds an axis
//! (role facilitator or admin). The engagement service decides every rule:
//! a name already used by an axis in use is refused, naming the field.

use std::fmt::Write as _;

use maillage_proto::v1 as pb;
use maillage_proto::v1::engagement_client::EngagementClient;

use super::client::{explain, Connection};

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
                "    responsable : {} {}",
                officer.principal, officer.title
            );
        }
    }
    for officer in programme.officers.iter().filter(|o| o.axis_id.is_empty()) {
        let _ = writeln!(
            out,
            "Responsable de tout le programme : {} {}",
            officer.principal, officer.title
        );
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
                },
                pb::ProgrammeOfficer {
                    principal: "maire".into(),
                    axis_id: String::new(),
                    title: String::new(),
                },
            ],
        };
        let shown = text(&programme);
        assert!(
            shown.starts_with(" 1. Attractivité — a1\n    responsable : dgs (DGS)\n"),
            "{shown}"
        );
        assert!(
            shown.contains("   Ancien axe (retiré : fusionné) — a2"),
            "{shown}"
        );
        assert!(
            shown.ends_with("Responsable de tout le programme : maire \n"),
            "{shown}"
        );
        assert!(text(&pb::ProgrammeView::default()).starts_with("Aucun axe défini"));
    }
}
