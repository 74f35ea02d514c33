//! `maillage token add|list|revoke`: bearer tokens through the Admin service.

use maillage_proto::v1::admin_client::AdminClient;
use maillage_proto::v1::{AddTokenRequest, ListTokensRequest, RevokeTokenRequest, TokenInfo};

use super::client::{explain, Connection};

/// What to do with tokens.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Creates a token and prints it once.
    Add {
        /// Who the token stands for (recorded as the actor of what it does).
        principal: String,
        /// Comma-separated roles: admin, facilitator, secretary, analyst, auditor, tool.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
    },
    /// Lists tokens (hash prefix, principal, roles).
    List,
    /// Revokes a principal's tokens, or the token whose hash starts with a prefix.
    Revoke {
        /// A principal, or a hash prefix of at least 8 hex digits.
        principal_or_hash_prefix: String,
    },
}

fn line(info: &TokenInfo) -> String {
    format!(
        "{}  {}  {}",
        info.hash_prefix,
        info.principal,
        info.roles.join(",")
    )
}

/// Runs the command against the platform.
pub async fn run(connection: &Connection, command: TokenCommand) -> anyhow::Result<()> {
    let mut admin = AdminClient::new(connection.connect().await?);
    match command {
        TokenCommand::Add { principal, roles } => {
            let added = admin
                .add_token(AddTokenRequest { principal, roles })
                .await
                .map_err(explain)?
                .into_inner();
            if let Some(info) = &added.info {
                eprintln!("added {}", line(info));
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
                println!("revoked {}", line(info));
            }
        }
    }
    Ok(())
}
