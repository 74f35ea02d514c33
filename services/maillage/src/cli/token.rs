//! `maillage token add|list|revoke`: bearer tokens through the Admin service.

use std::time::{Duration, SystemTime};

use anyhow::{bail, Context as _};
use maillage_proto::v1::admin_client::AdminClient;
use maillage_proto::v1::{AddTokenRequest, ListTokensRequest, RevokeTokenRequest, TokenInfo};
use prost_types::Timestamp;

use super::client::{explain, Connection};
use crate::report::dates;

/// What to do with tokens.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it once.
    Add {
        /// Who the token stands for (recorded as the actor of what it does).
        principal: String,
        /// Comma-separated roles: admin, facilitator, secretary, analyst, auditor, tool, respondent.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// When the token stops being accepted: a date (2027-06-30, midnight
        /// UTC), an RFC 3339 instant, or a duration from now (90j or 90d, 12h).
        /// Without it, the token never expires.
        #[arg(long, value_parser = parse_expiry)]
        expires: Option<Timestamp>,
    },
    /// Lists tokens (hash prefix, first characters, principal, roles, creation date, expiry).
    List,
    /// Revokes a principal's tokens, or the token whose hash starts with a prefix.
    Revoke {
        /// A principal, or a hash prefix of at least 8 hex digits.
        principal_or_hash_prefix: String,
    },
}

/// An expiry as `--expires` takes it: a date or an instant, or a duration
/// from now (`90j`, `90d`, `12h`).
fn parse_expiry(text: &str) -> anyhow::Result<Timestamp> {
    let text = text.trim();
    let duration = |digits: &str, unit: u64| -> anyhow::Result<Duration> {
        let count: u64 = digits
            .parse()
            .with_context(|| format!("« {text} » : durée invalide"))?;
        Ok(Duration::from_secs(count.saturating_mul(unit)))
    };
    let after = if let Some(days) = text.strip_suffix(['j', 'd']) {
        Some(duration(days, 86_400)?)
    } else if let Some(hours) = text.strip_suffix('h') {
        Some(duration(hours, 3_600)?)
    } else {
        None
    };
    match after {
        Some(after) if after.is_zero() => bail!("« {text} » : la durée doit être positive"),
        Some(after) => Ok(Timestamp::from(SystemTime::now() + after)),
        None => dates::parse_rfc3339(text).with_context(|| {
            format!("« {text} » : ni une date (2027-06-30), ni une durée (90j, 12h)")
        }),
    }
}

/// `30/06/2027 à 00:00 UTC`.
fn when(at: &Timestamp) -> String {
    let instant = dates::rfc3339(at);
    format!("{} à {} UTC", dates::date_fr(at), &instant[11..16])
}

fn line(info: &TokenInfo) -> String {
    let prefix = if info.token_prefix.is_empty() {
        "(début inconnu)".to_owned()
    } else {
        format!("{}…", info.token_prefix)
    };
    let created = match &info.created_at {
        Some(at) => format!("créé le {}", when(at)),
        None => "créé à une date inconnue".to_owned(),
    };
    let now = Timestamp::from(SystemTime::now());
    let expiry = match (&info.revoked_at, &info.expires_at) {
        (Some(at), _) => format!("révoqué le {}", when(at)),
        (None, None) => "sans expiration".to_owned(),
        (None, Some(at)) if at.seconds <= now.seconds => format!("expiré le {}", when(at)),
        (None, Some(at)) => format!("expire le {}", when(at)),
    };
    format!(
        "{}  {}  {}  {}  {}  {}",
        info.hash_prefix,
        prefix,
        info.principal,
        info.roles.join(","),
        created,
        expiry
    )
}

/// Runs the command against the platform.
pub async fn run(connection: &Connection, command: TokenCommand) -> anyhow::Result<()> {
    let mut admin = AdminClient::new(connection.connect().await?);
    match command {
        TokenCommand::Add {
            principal,
            roles,
            expires,
        } => {
            let added = admin
                .add_token(AddTokenRequest {
                    principal,
                    roles,
                    expires_at: expires,
                })
                .await
                .map_err(explain)?
                .into_inner();
            if let Some(info) = &added.info {
                eprintln!("ajouté {}", line(info));
            }
            println!("{}", added.token);
        }
        TokenCommand::List => {
            let listed = admin
                .list_tokens(ListTokensRequest {})
                .await
                .map_err(explain)?
                .into_inner();
            for info in &listed.tokens {
                println!("{}", line(info));
            }
        }
        TokenCommand::Revoke {
            principal_or_hash_prefix,
        } => {
            let revoked = admin
                .revoke_token(RevokeTokenRequest {
                    principal_or_hash_prefix,
                })
                .await
                .map_err(explain)?
                .into_inner();
            for info in &revoked.revoked {
                println!("révoqué {}", line(info));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_dates_instants_or_durations() {
        assert_eq!(
            dates::rfc3339(&parse_expiry("2027-06-30").unwrap()),
            "2027-06-30T00:00:00Z"
        );
        assert_eq!(
            dates::rfc3339(&parse_expiry("2027-06-30T12:00:00+02:00").unwrap()),
            "2027-06-30T10:00:00Z"
        );
        let now = SystemTime::now();
        let in_90_days = SystemTime::try_from(parse_expiry("90j").unwrap()).unwrap();
        let days = in_90_days.duration_since(now).unwrap().as_secs() / 86_400;
        assert!((89..=90).contains(&days), "{days}");
        assert!(parse_expiry("12h").is_ok());
        assert!(parse_expiry("90d").is_ok());
        for bad in ["0j", "demain", "xj", "2027-13-01"] {
            assert!(parse_expiry(bad).is_err(), "{bad}");
        }
        assert_eq!(
            when(&parse_expiry("2027-06-30").unwrap()),
            "30/06/2027 à 00:00 UTC"
        );
    }
}
