//! The register's filter flags, shared by `maillage search` and `maillage
//! segment define`, and how they become a `maillage.v1.StakeholderFilter`.

use anyhow::bail;
use maillage_proto::themes;
use maillage_proto::v1 as pb;

use super::territory;
use crate::report::dates::parse_rfc3339;

/// Persons or organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Natural persons.
    Person,
    /// Organisations (businesses, collectivités, associations…).
    Organisation,
}

/// What a person is to the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PersonKind {
    /// Élus (holders of an elected office).
    ElectedOfficial,
    /// Heads of a business.
    BusinessLeader,
    /// Members of an association.
    AssociationMember,
    /// Agents of a public administration or collectivité.
    PublicAgent,
    /// Inhabitants of the territory.
    Inhabitant,
    /// Managers of a tiers-lieu.
    TiersLieuManager,
}

/// What kind of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OrganisationType {
    /// Collectivités (communes, EPCI, départements, régions).
    LocalAuthority,
    /// Businesses.
    Business,
    /// Consular chambers (CCI, chambre de métiers, chambre d'agriculture).
    Chamber,
    /// Associations.
    Association,
    /// Public administrations and agencies of the State.
    PublicAdministration,
    /// Tiers-lieux.
    TiersLieu,
}

/// An elected office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Office {
    /// Maire of a commune.
    Maire,
    /// Adjoint au maire.
    Adjoint,
    /// Conseiller municipal.
    ConseillerMunicipal,
    /// Conseiller communautaire (EPCI council).
    ConseillerCommunautaire,
    /// President of an EPCI.
    PresidentEpci,
    /// Vice-president of an EPCI.
    VicePresidentEpci,
    /// Conseiller départemental.
    ConseillerDepartemental,
    /// Conseiller régional.
    ConseillerRegional,
}

/// A channel a person may be contacted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Channel {
    /// E-mail.
    Email,
    /// Telephone calls.
    Phone,
    /// Text messages (SMS).
    Sms,
    /// Postal mail.
    Post,
}

/// The filter flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Words starting the name (from 3 letters; accents, case and hyphens ignored).
    #[arg(long)]
    pub name: Option<String>,
    /// Persons or organisations only.
    #[arg(long = "type", value_enum)]
    pub kind: Option<Kind>,
    /// Persons of this kind (repeatable: any of them).
    #[arg(long = "person-kind", value_enum)]
    pub person_kinds: Vec<PersonKind>,
    /// Organisations of this type (repeatable: any of them).
    #[arg(long = "org-type", value_enum)]
    pub organisation_types: Vec<OrganisationType>,
    /// In this territory: commune:11069, epci:200035715, departement:11,
    /// region:76, a bare code or a name (repeatable: any of them).
    #[arg(long)]
    pub territory: Vec<String>,
    /// Holding a current mandate of this office (repeatable: any of them).
    #[arg(long, value_enum)]
    pub mandate: Vec<Office>,
    /// Contacted on this theme: its French label ("télétravail") or its name
    /// (THEME_TELEWORK) (repeatable: any of them).
    #[arg(long)]
    pub theme: Vec<String>,
    /// Holding a consent on this channel.
    #[arg(long, value_enum)]
    pub consent: Option<Channel>,
    /// Last contacted before this date (2026-03-15 or RFC 3339).
    #[arg(long)]
    pub contacted_before: Option<String>,
    /// Last contacted on or after this date.
    #[arg(long)]
    pub contacted_after: Option<String>,
    /// Never contacted.
    #[arg(long)]
    pub never_contacted: bool,
    /// Not contacted for this many months (or never).
    #[arg(long, value_name = "MONTHS")]
    pub not_contacted_for: Option<u32>,
    /// Holding a current mandate that started after their last contact (or never contacted).
    #[arg(long)]
    pub not_contacted_since_mandate: bool,
    /// Archived stakeholders only.
    #[arg(long, conflicts_with = "include_archived")]
    pub archived: bool,
    /// Archived stakeholders too.
    #[arg(long)]
    pub include_archived: bool,
    /// Persons currently affiliated to this organisation (its id): an
    /// organisation's current people.
    #[arg(long, value_name = "ORGANISATION_ID")]
    pub affiliated_to: Option<String>,
}

/// The theme a flag names; an error listing the themes when it names none.
fn theme(text: &str) -> anyhow::Result<pb::Theme> {
    let found = themes::from_label(text);
    let names_other =
        ["autre", "other", "theme_other"].contains(&text.trim().to_lowercase().as_str());
    if found == pb::Theme::Unspecified || (found == pb::Theme::Other && !names_other) {
        let known: Vec<&str> = themes::ALL
            .iter()
            .map(|theme| themes::label_fr(*theme))
            .collect();
        bail!(
            "thème inconnu « {} » ; thèmes : {}",
            text.trim(),
            known.join(", ")
        );
    }
    Ok(found)
}

impl FilterArgs {
    /// The filter these flags describe.
    pub fn to_proto(&self) -> anyhow::Result<pb::StakeholderFilter> {
        let territories = self
            .territory
            .iter()
            .map(|input| territory::resolve(input).map(|found| territory::to_proto(&found)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let contact_topics = self
            .theme
            .iter()
            .map(|text| theme(text).map(|theme| theme as i32))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let date = |text: &Option<String>| text.as_deref().map(parse_rfc3339).transpose();
        Ok(pb::StakeholderFilter {
            r#type: match self.kind {
                None => 0,
                Some(Kind::Person) => pb::StakeholderType::Person as i32,
                Some(Kind::Organisation) => pb::StakeholderType::Organisation as i32,
            },
            person_kinds: self
                .person_kinds
                .iter()
                .map(|kind| person_kind(*kind) as i32)
                .collect(),
            organisation_types: self
                .organisation_types
                .iter()
                .map(|kind| organisation_type(*kind) as i32)
                .collect(),
            territories,
            current_mandates: self
                .mandate
                .iter()
                .map(|office| office_of(*office) as i32)
                .collect(),
            contact_topics,
            consent: self.consent.map(|channel| pb::ConsentFilter {
                channel: channel_of(channel) as i32,
                legal_basis: 0,
                purpose: 0,
            }),
            last_contact_before: date(&self.contacted_before)?,
            last_contact_after: date(&self.contacted_after)?,
            never_contacted: self.never_contacted,
            not_contacted_for_months: self.not_contacted_for.unwrap_or(0),
            not_contacted_since_mandate_start: self.not_contacted_since_mandate,
            archived: if self.archived {
                pb::ArchivedFilter::Archived as i32
            } else if self.include_archived {
                pb::ArchivedFilter::Any as i32
            } else {
                0
            },
            name_query: self.name.clone().unwrap_or_default(),
            affiliated_to: self.affiliated_to.clone().unwrap_or_default(),
        })
    }
}

fn person_kind(kind: PersonKind) -> pb::PersonKind {
    match kind {
        PersonKind::ElectedOfficial => pb::PersonKind::ElectedOfficial,
        PersonKind::BusinessLeader => pb::PersonKind::BusinessLeader,
        PersonKind::AssociationMember => pb::PersonKind::AssociationMember,
        PersonKind::PublicAgent => pb::PersonKind::PublicAgent,
        PersonKind::Inhabitant => pb::PersonKind::Inhabitant,
        PersonKind::TiersLieuManager => pb::PersonKind::TiersLieuManager,
    }
}

fn organisation_type(kind: OrganisationType) -> pb::OrganisationType {
    match kind {
        OrganisationType::LocalAuthority => pb::OrganisationType::LocalAuthority,
        OrganisationType::Business => pb::OrganisationType::Business,
        OrganisationType::Chamber => pb::OrganisationType::Chamber,
        OrganisationType::Association => pb::OrganisationType::Association,
        OrganisationType::PublicAdministration => pb::OrganisationType::PublicAdministration,
        OrganisationType::TiersLieu => pb::OrganisationType::TiersLieu,
    }
}

fn office_of(office: Office) -> pb::MandateOffice {
    match office {
        Office::Maire => pb::MandateOffice::Maire,
        Office::Adjoint => pb::MandateOffice::Adjoint,
        Office::ConseillerMunicipal => pb::MandateOffice::ConseillerMunicipal,
        Office::ConseillerCommunautaire => pb::MandateOffice::ConseillerCommunautaire,
        Office::PresidentEpci => pb::MandateOffice::PresidentEpci,
        Office::VicePresidentEpci => pb::MandateOffice::VicePresidentEpci,
        Office::ConseillerDepartemental => pb::MandateOffice::ConseillerDepartemental,
        Office::ConseillerRegional => pb::MandateOffice::ConseillerRegional,
    }
}

pub(crate) fn channel_of(channel: Channel) -> pb::ConsentChannel {
    match channel {
        Channel::Email => pb::ConsentChannel::Email,
        Channel::Phone => pb::ConsentChannel::Phone,
        Channel::Sms => pb::ConsentChannel::Sms,
        Channel::Post => pb::ConsentChannel::Post,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_the_filter() {
        let args = FilterArgs {
            name: Some("lebi".into()),
            territory: vec!["departement:11".into()],
            mandate: vec![Office::Maire],
            theme: vec!["télétravail".into(), "THEME_GOVERNANCE".into()],
            consent: Some(Channel::Email),
            contacted_before: Some("2026-03-15".into()),
            include_archived: true,
            ..Default::default()
        };
        let filter = args.to_proto().unwrap();
        assert_eq!(filter.name_query, "lebi");
        assert_eq!(filter.territories[0].code, "11");
        assert_eq!(filter.current_mandates, [pb::MandateOffice::Maire as i32]);
        assert_eq!(
            filter.contact_topics,
            [pb::Theme::Telework as i32, pb::Theme::Governance as i32]
        );
        assert_eq!(filter.archived, pb::ArchivedFilter::Any as i32);
        assert!(filter.last_contact_before.is_some());
    }

    #[test]
    fn unknown_themes_and_territories_are_refused_in_french() {
        let theme = FilterArgs {
            theme: vec!["jardinage".into()],
            ..Default::default()
        };
        let error = theme.to_proto().unwrap_err().to_string();
        assert!(error.contains("thème inconnu « jardinage »"), "{error}");
        assert!(error.contains("Télétravail"), "{error}");
        let other = FilterArgs {
            theme: vec!["autre".into()],
            ..Default::default()
        };
        assert_eq!(
            other.to_proto().unwrap().contact_topics,
            [pb::Theme::Other as i32]
        );
        let territory = FilterArgs {
            territory: vec!["Castelrenodais".into()],
            ..Default::default()
        };
        assert!(territory
            .to_proto()
            .unwrap_err()
            .to_string()
            .contains("territoire inconnu"));
    }
}
