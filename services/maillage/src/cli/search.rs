//! `maillage search`: the register searched by filters, a name or a saved
//! segment (the stakeholders service's `SearchStakeholders`), printed as a
//! table in French, one page or all of them. Names appear as the token's role
//! may see them; the service journals the names it shows.

use std::fmt::Write as _;

use maillage_proto::themes;
use maillage_proto::v1 as pb;
use maillage_proto::v1::stakeholders_client::StakeholdersClient;
use maillage_territory::Territory;

use super::client::{explain, Connection};
use super::filter::FilterArgs;
use crate::report::dates::date_fr;

/// Orders of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// By name (accents and case folded; a person by family then given name).
    Name,
    /// By INSEE code of the commune.
    Commune,
    /// By last contact, the never contacted first (oldest contact first).
    LastContact,
}

/// Which pages to print.
#[derive(Debug, Clone, clap::Args)]
pub struct PageArgs {
    /// Results per page (at most 500).
    #[arg(long, default_value_t = 50)]
    pub page_size: u32,
    /// Go on from where a previous page stopped (the token it printed).
    #[arg(long)]
    pub page_token: Option<String>,
    /// Print every page.
    #[arg(long, conflicts_with = "page_token")]
    pub all: bool,
}

/// Options of `maillage search`.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Which stakeholders: the filter flags.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// A saved segment (its id), whose filter applies too.
    #[arg(long)]
    pub segment: Option<String>,
    /// Order of the results.
    #[arg(long, value_enum, default_value_t = Sort::Name)]
    pub sort: Sort,
    /// The order reversed.
    #[arg(long)]
    pub desc: bool,
    /// Which pages to print.
    #[command(flatten)]
    pub pages: PageArgs,
}

/// Runs `maillage search`.
pub async fn run(connection: &Connection, args: SearchArgs) -> anyhow::Result<()> {
    let request = pb::SearchStakeholdersRequest {
        filter: Some(args.filter.to_proto()?),
        segment_id: args.segment.unwrap_or_default(),
        sort: match args.sort {
            Sort::Name => pb::StakeholderSort::Name,
            Sort::Commune => pb::StakeholderSort::Commune,
            Sort::LastContact => pb::StakeholderSort::LastContact,
        } as i32,
        descending: args.desc,
        page: None,
    };
    let text = search(
        connection,
        request,
        &args.pages,
        "Recherche dans le registre",
    )
    .await?;
    super::output::write(None, text.as_bytes())
}

/// Runs `request` (its pages as `pages` says) and renders the results under `title`.
pub async fn search(
    connection: &Connection,
    mut request: pb::SearchStakeholdersRequest,
    pages: &PageArgs,
    title: &str,
) -> anyhow::Result<String> {
    let mut client = StakeholdersClient::new(connection.connect().await?);
    request.page = Some(pb::PageRequest {
        page_size: pages.page_size,
        page_token: pages.page_token.clone().unwrap_or_default(),
    });
    let mut rows = Vec::new();
    loop {
        let reply = client
            .search_stakeholders(request.clone())
            .await
            .map_err(explain)?
            .into_inner();
        rows.extend(reply.stakeholders.iter().cloned());
        let next = reply.page.clone().unwrap_or_default().next_page_token;
        if !pages.all || next.is_empty() {
            return Ok(render(title, &reply, &rows, &next));
        }
        if let Some(page) = request.page.as_mut() {
            page.page_token = next;
        }
    }
}

/// A person kind in French.
fn person_kind(kind: i32) -> &'static str {
    match pb::PersonKind::try_from(kind) {
        Ok(pb::PersonKind::ElectedOfficial) => "élu",
        Ok(pb::PersonKind::BusinessLeader) => "chef d'entreprise",
        Ok(pb::PersonKind::AssociationMember) => "membre d'association",
        Ok(pb::PersonKind::PublicAgent) => "agent public",
        Ok(pb::PersonKind::Inhabitant) => "habitant",
        Ok(pb::PersonKind::TiersLieuManager) => "gestionnaire de tiers-lieu",
        _ => "personne",
    }
}

/// An organisation type in French.
fn organisation_type(kind: i32) -> &'static str {
    match pb::OrganisationType::try_from(kind) {
        Ok(pb::OrganisationType::LocalAuthority) => "collectivité",
        Ok(pb::OrganisationType::Business) => "entreprise",
        Ok(pb::OrganisationType::Chamber) => "chambre consulaire",
        Ok(pb::OrganisationType::Association) => "association",
        Ok(pb::OrganisationType::PublicAdministration) => "administration",
        Ok(pb::OrganisationType::TiersLieu) => "tiers-lieu",
        _ => "organisation",
    }
}

/// An office in French.
pub(crate) fn office(office: i32) -> &'static str {
    match pb::MandateOffice::try_from(office) {
        Ok(pb::MandateOffice::Maire) => "maire",
        Ok(pb::MandateOffice::Adjoint) => "adjoint",
        Ok(pb::MandateOffice::ConseillerMunicipal) => "conseiller municipal",
        Ok(pb::MandateOffice::ConseillerCommunautaire) => "conseiller communautaire",
        Ok(pb::MandateOffice::PresidentEpci) => "président d'EPCI",
        Ok(pb::MandateOffice::VicePresidentEpci) => "vice-président d'EPCI",
        Ok(pb::MandateOffice::ConseillerDepartemental) => "conseiller départemental",
        Ok(pb::MandateOffice::ConseillerRegional) => "conseiller régional",
        _ => "mandat",
    }
}

/// The name of a commune, with its code.
fn commune(code: &str) -> String {
    match Territory::shared().commune(code) {
        Some(commune) => format!("{} ({code})", commune.name),
        None => code.to_owned(),
    }
}

/// One result's cells: id, name, type, commune, mandates, last contact, themes.
fn cells(row: &pb::StakeholderSummary) -> [String; 7] {
    let person = row.r#type == pb::StakeholderType::Person as i32;
    let name = if !person {
        row.organisation_name.clone()
    } else if row.family_name.is_empty() && row.given_name.is_empty() {
        "(nom masqué)".to_owned()
    } else {
        format!("{} {}", row.given_name, row.family_name)
    };
    let kind = if person {
        row.person_kinds
            .iter()
            .map(|kind| person_kind(*kind))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        organisation_type(row.organisation_type).to_owned()
    };
    let territory = Territory::shared();
    let mandates = row
        .current_mandates
        .iter()
        .map(|mandate| {
            let authority = mandate.authority.clone().unwrap_or_default();
            let level = match pb::TerritoryLevel::try_from(authority.level) {
                Ok(pb::TerritoryLevel::Commune) => "commune",
                Ok(pb::TerritoryLevel::Epci) => "epci",
                Ok(pb::TerritoryLevel::Departement) => "departement",
                _ => "region",
            };
            let named = format!("{level}:{}", authority.code)
                .parse()
                .ok()
                .and_then(|reference| territory.name_of(&reference).map(str::to_owned))
                .unwrap_or(authority.code);
            format!("{} ({named})", office(mandate.office))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let last = row
        .last_contact_at
        .as_ref()
        .map_or_else(|| "jamais".to_owned(), date_fr);
    let topics = row
        .contact_topics
        .iter()
        .filter_map(|value| pb::Theme::try_from(*value).ok())
        .map(themes::label_fr)
        .collect::<Vec<_>>()
        .join(", ");
    [
        row.stakeholder_id.clone(),
        name,
        kind,
        commune(&row.commune_code),
        mandates,
        last,
        topics,
    ]
}

/// The results as a table in French, with the count, what the role hides and
/// where the list continues.
fn render(
    title: &str,
    reply: &pb::SearchStakeholdersResponse,
    rows: &[pb::StakeholderSummary],
    next: &str,
) -> String {
    let mut text = String::new();
    let total = reply.total;
    let _ = writeln!(
        text,
        "{title} : {total} résultat{}{}",
        if total > 1 { "s" } else { "" },
        if (rows.len() as u64) < total {
            format!(
                ", {} affiché{}",
                rows.len(),
                if rows.len() > 1 { "s" } else { "" }
            )
        } else {
            String::new()
        }
    );
    if rows.is_empty() {
        return text;
    }
    let header = [
        "Identifiant",
        "Nom",
        "Type",
        "Commune",
        "Mandats en cours",
        "Dernier contact",
        "Thèmes des contacts",
    ]
    .map(str::to_owned);
    let lines: Vec<[String; 7]> = std::iter::once(header)
        .chain(rows.iter().map(cells))
        .collect();
    let mut widths = [0usize; 7];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for line in &lines {
        let mut out = String::new();
        for (cell, width) in line.iter().zip(widths) {
            let _ = write!(out, "{cell}{}  ", " ".repeat(width - cell.chars().count()));
        }
        let _ = writeln!(text, "{}", out.trim_end());
    }
    if reply.disclosure != pb::Disclosure::Full as i32
        && rows.iter().any(|row| {
            row.r#type == pb::StakeholderType::Person as i32 && row.family_name.is_empty()
        })
    {
        let _ = writeln!(
            text,
            "Noms masqués : le rôle de ce jeton ne permet pas de voir le nom de ces personnes."
        );
    }
    if !next.is_empty() {
        let _ = writeln!(text, "Suite : relancez avec --page-token {next} (ou --all)");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_in_french_with_hidden_names_said() {
        let elu = pb::StakeholderSummary {
            stakeholder_id: "01".into(),
            r#type: pb::StakeholderType::Person as i32,
            person_kinds: vec![pb::PersonKind::ElectedOfficial as i32],
            commune_code: "11069".into(),
            current_mandates: vec![pb::Mandate {
                office: pb::MandateOffice::Maire as i32,
                authority: Some(pb::TerritoryRef {
                    level: pb::TerritoryLevel::Commune as i32,
                    code: "11069".into(),
                }),
                ..Default::default()
            }],
            contact_topics: vec![pb::Theme::Telework as i32],
            ..Default::default()
        };
        let business = pb::StakeholderSummary {
            stakeholder_id: "02".into(),
            r#type: pb::StakeholderType::Organisation as i32,
            organisation_name: "Menuiserie Durand".into(),
            organisation_type: pb::OrganisationType::Business as i32,
            commune_code: "11069".into(),
            last_contact_at: Some(prost_types::Timestamp {
                seconds: 1_773_532_800,
                nanos: 0,
            }),
            ..Default::default()
        };
        let reply = pb::SearchStakeholdersResponse {
            total: 3,
            disclosure: pb::Disclosure::Pseudonymous as i32,
            ..Default::default()
        };
        let text = render("Recherche", &reply, &[elu, business], "TOKEN");
        assert!(
            text.starts_with("Recherche : 3 résultats, 2 affichés\n"),
            "{text}"
        );
        assert!(text.contains("(nom masqué)"), "{text}");
        assert!(text.contains("maire (Carcassonne)"), "{text}");
        assert!(text.contains("Carcassonne (11069)"), "{text}");
        assert!(text.contains("Télétravail"), "{text}");
        assert!(text.contains("jamais"), "{text}");
        assert!(text.contains("15/03/2026"), "{text}");
        assert!(text.contains("Noms masqués"), "{text}");
        assert!(text.contains("--page-token TOKEN"), "{text}");
    }
}
