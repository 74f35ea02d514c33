//! `maillage reach`: who to call first in a territory. After the March 2026
//! municipal elections renewed every conseil municipal, the élus whose
//! current mandate started after their last contact (or who were never
//! contacted); or the businesses not contacted for some months. A search of
//! the register (`SearchStakeholders`), the never contacted first, then the
//! oldest contact.

use maillage_proto::v1 as pb;

use super::client::Connection;
use super::search::{search, PageArgs};
use super::territory;

/// Options of `maillage reach`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(
    clap::ArgGroup::new("who")
        .required(true)
        .args(["elus_not_contacted_since_mandate", "businesses_not_contacted_for"])
))]
pub struct ReachArgs {
    /// The territory: commune:11069, epci:200035715, departement:11, region:76,
    /// a bare code or a name (repeatable).
    #[arg(long, required = true)]
    pub territory: Vec<String>,
    /// The élus whose current mandate started after their last contact, or never contacted.
    #[arg(long)]
    pub elus_not_contacted_since_mandate: bool,
    /// The businesses not contacted for this many months, or never.
    #[arg(long, value_name = "MONTHS")]
    pub businesses_not_contacted_for: Option<u32>,
    /// Which pages to print.
    #[command(flatten)]
    pub pages: PageArgs,
}

/// Runs `maillage reach`.
pub async fn run(connection: &Connection, args: ReachArgs) -> anyhow::Result<()> {
    let territories = args
        .territory
        .iter()
        .map(|input| territory::resolve(input))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let names: Vec<String> = territories.iter().map(territory::name_of).collect();
    let mut filter = pb::StakeholderFilter {
        territories: territories.iter().map(territory::to_proto).collect(),
        ..Default::default()
    };
    let title = match args.businesses_not_contacted_for {
        Some(months) => {
            filter.organisation_types = vec![pb::OrganisationType::Business as i32];
            filter.not_contacted_for_months = months;
            format!(
                "Entreprises sans contact depuis {months} mois ou jamais contactées — {}",
                names.join(", ")
            )
        }
        None => {
            filter.not_contacted_since_mandate_start = true;
            format!(
                "Élus à recontacter, pas de contact depuis le début de leur mandat en cours — {}",
                names.join(", ")
            )
        }
    };
    let request = pb::SearchStakeholdersRequest {
        filter: Some(filter),
        sort: pb::StakeholderSort::LastContact as i32,
        ..Default::default()
    };
    let text = search(connection, request, &args.pages, &title).await?;
    super::output::write(None, text.as_bytes())
}
