//! `maillage follow-ups`: the follow-ups of contacts still to do, by owner,
//! territory and due date, soonest due first, with what each one is (read
//! from the contact, for the roles that may read it) — the list a
//! facilitator starts the day with.

use std::collections::{BTreeMap, BTreeSet};

use maillage_proto::v1 as pb;
use maillage_proto::v1::projections_client::ProjectionsClient;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;

use super::client::{explain, Connection};
use super::territory;
use crate::report::dates::date_fr;

/// Options of `maillage follow-ups`.
#[derive(Debug, Clone, clap::Args)]
pub struct FollowUpsArgs {
    /// Only this owner's (a principal name).
    #[arg(long)]
    pub owner: Option<String>,
    /// Only those of contacts with a stakeholder of this territory
    /// (`commune:37003`, `epci:243700499`, `departement:37`, `region:24`).
    #[arg(long)]
    pub territory: Option<String>,
    /// Only the overdue ones.
    #[arg(long)]
    pub overdue: bool,
    /// Those already done too.
    #[arg(long)]
    pub all: bool,
}

/// Follow-ups asked for per call.
const PAGE: u32 = 1_000;

/// Lists the follow-ups, in French.
pub async fn run(connection: &Connection, args: FollowUpsArgs) -> anyhow::Result<()> {
    let channel = connection.connect().await?;
    let mut projections = ProjectionsClient::new(channel.clone());
    let mut stakeholders = StakeholdersClient::new(channel);
    let territory = args
        .territory
        .as_deref()
        .map(territory::resolve)
        .transpose()?
        .map(|reference| territory::to_proto(&reference));
    let mut items = Vec::new();
    let mut page_token = String::new();
    loop {
        let reply = projections
            .list_follow_ups(pb::FollowUpListRequest {
                owner: args.owner.clone().unwrap_or_default(),
                territory: territory.clone(),
                overdue_only: args.overdue,
                include_completed: args.all,
                page: Some(pb::PageRequest {
                    page_size: PAGE,
                    page_token,
                }),
                ..Default::default()
            })
            .await
            .map_err(explain)?
            .into_inner();
        items.extend(reply.items);
        page_token = reply
            .page
            .map(|page| page.next_page_token)
            .unwrap_or_default();
        if page_token.is_empty() {
            break;
        }
    }
    // What each one is: its description, read once per contact.
    let mut descriptions = BTreeMap::<String, String>::new();
    let mut contacts = BTreeSet::<&str>::new();
    for item in &items {
        if !contacts.insert(item.interaction_id.as_str()) {
            continue;
        }
        let interaction = stakeholders
            .get_interaction(pb::GetInteractionRequest {
                interaction_id: item.interaction_id.clone(),
            })
            .await
            .map_err(explain)?
            .into_inner();
        for follow_up in interaction.follow_ups {
            descriptions.insert(follow_up.follow_up_id, follow_up.description);
        }
    }
    let overdue = items.iter().filter(|item| item.overdue).count();
    println!(
        "{} relance{} dont {} en retard",
        items.len(),
        if items.len() > 1 { "s" } else { "" },
        overdue
    );
    for item in &items {
        let due = item.due_at.as_ref().map_or_else(
            || "sans échéance".to_owned(),
            |at| format!("pour le {}", date_fr(at)),
        );
        let state = if item.completed {
            " [faite]"
        } else if item.overdue {
            " [EN RETARD]"
        } else {
            ""
        };
        let description = descriptions
            .get(&item.follow_up_id)
            .filter(|text| !text.is_empty())
            .map_or(
                "(description non lisible avec ce rôle, ou effacée)",
                String::as_str,
            );
        let contact = item
            .occurred_at
            .as_ref()
            .map(|at| format!(" — contact du {}", date_fr(at)))
            .unwrap_or_default();
        println!(
            "- {due}{state} · {} · {description}{contact} (interaction {})",
            item.owner, item.interaction_id
        );
    }
    Ok(())
}
