//! The command line (and `MAILLAGE_*` environment) of the separate
//! `maillage-projections` process: the shared server settings (whose
//! `--nats` names the servers of the feed), the durable consumer, and the command services' `EventLog` endpoints that
//! replays and rebuilds read.

use std::path::PathBuf;
use std::str::FromStr;

use maillage_service_kit::ServiceConfig;

/// One source log: `context=url`, e.g. `stakeholders=http://127.0.0.1:50061`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// The context whose log it is.
    pub context: String,
    /// The URL of the service serving its `EventLog`.
    pub url: String,
}

impl FromStr for SourceSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (context, url) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected context=url"))?;
        let context = context.trim();
        if !matches!(context, "stakeholders" | "engagement" | "governance") {
            return Err(format!(
                "{context:?}: the context is stakeholders, engagement or governance"
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("{url:?}: expected an http:// or https:// URL"));
        }
        Ok(Self {
            context: context.to_owned(),
            url: url.trim().to_owned(),
        })
    }
}

/// Settings of the separate projections process.
#[derive(Debug, Clone, clap::Args)]
pub struct ProjectionsConfig {
    /// The settings every server binary shares (gRPC address, data directory, tokens, keys, NATS).
    #[command(flatten)]
    pub service: ServiceConfig,

    /// The durable JetStream consumer's name.
    #[arg(
        long,
        env = "MAILLAGE_PROJECTIONS_DURABLE",
        default_value = "projections"
    )]
    pub durable: String,

    /// A source log for replays and rebuilds, `context=url`; once per context.
    #[arg(
        long = "source",
        env = "MAILLAGE_PROJECTIONS_SOURCES",
        value_delimiter = ','
    )]
    pub sources: Vec<SourceSpec>,

    /// File holding the bearer token (role `tool`) used to read the sources.
    #[arg(long, env = "MAILLAGE_SOURCE_TOKEN_FILE")]
    pub source_token_file: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        projections: ProjectionsConfig,
    }

    #[test]
    fn flags_parse() {
        let cli = Cli::try_parse_from([
            "p",
            "--nats",
            "nats://127.0.0.1:4222",
            "--source",
            "stakeholders=http://127.0.0.1:50061",
            "--source",
            "governance=http://127.0.0.1:50063",
            "--source-token-file",
            "/tmp/t",
        ])
        .unwrap();
        assert_eq!(cli.projections.sources.len(), 2);
        assert_eq!(cli.projections.sources[1].context, "governance");
        assert_eq!(
            cli.projections.service.nats.servers(),
            Some("nats://127.0.0.1:4222")
        );
        assert!(Cli::try_parse_from(["p", "--nats", "x", "--source", "nope=http://x"]).is_err());
        assert!(Cli::try_parse_from(["p", "--nats", "x", "--source", "engagement"]).is_err());
    }
}
