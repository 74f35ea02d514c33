//! Stable labels of enum values for reports and exports: the protobuf enum
//! value names (`ACTION_KIND_ROUNDTABLE`), `UNKNOWN_<n>` for values this build
//! does not know, and the projection's own organisation-kind labels.

use maillage_proto::v1 as pb;
use pb::organisation_profile::Details;

macro_rules! label_fns {
    ($($fn_name:ident => $ty:ident),* $(,)?) => {
        $(
            /// The protobuf name of a value of this enum.
            pub fn $fn_name(value: i32) -> &'static str {
                match pb::$ty::try_from(value) {
                    Ok(known) => known.as_str_name(),
                    Err(_) => "UNKNOWN",
                }
            }
        )*
    };
}

label_fns! {
    person_kind => PersonKind,
    interaction_channel => InteractionChannel,
    interaction_direction => InteractionDirection,
    interaction_theme => InteractionTheme,
    stakeholder_type => StakeholderType,
    action_kind => ActionKind,
    engagement_theme => EngagementTheme,
    theme => Theme,
    engagement_audience => EngagementAudience,
    invitation_answer => ActionInvitationAnswer,
    vote_choice => VoteChoice,
    business_size => BusinessSize,
    project_position => ProjectPosition,
}

/// Label of a business organisation.
pub const ORGANISATION_BUSINESS: &str = "ORGANISATION_BUSINESS";

/// The label of an organisation's kind, from its profile's details.
pub fn organisation_kind(details: Option<&Details>) -> &'static str {
    match details {
        Some(Details::LocalAuthority(_)) => "ORGANISATION_LOCAL_AUTHORITY",
        Some(Details::Business(_)) => ORGANISATION_BUSINESS,
        Some(Details::Chamber(_)) => "ORGANISATION_CHAMBER",
        Some(Details::Association(_)) => "ORGANISATION_ASSOCIATION",
        Some(Details::PublicAdministration(_)) => "ORGANISATION_PUBLIC_ADMINISTRATION",
        Some(Details::TiersLieu(_)) => "ORGANISATION_TIERS_LIEU",
        None => "ORGANISATION_UNSPECIFIED",
    }
}
