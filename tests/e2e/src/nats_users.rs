//! The NATS users of `deploy/nats/authorization.conf` for one test run: a
//! random password each, the environment nats-server reads them from, and
//! the user and password each Maillage binary connects with (`--nats-user`,
//! `MAILLAGE_NATS_PASSWORD`), so that the end-to-end tests run the services
//! under the permissions they are deployed with.

use std::path::{Path, PathBuf};

use maillage_bus::NatsConfig;

/// The users of the deployed authorization.
const USERS: [&str; 7] = [
    "admin",
    "stakeholders",
    "engagement",
    "governance",
    "projections",
    "maillage",
    "reader",
];

/// `deploy/nats/authorization.conf`.
pub fn authorization_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats/authorization.conf")
}

/// The users and their passwords for this run.
#[derive(Clone)]
pub struct NatsUsers {
    passwords: Vec<(&'static str, String)>,
}

impl NatsUsers {
    /// A fresh random password for every user. It starts with a letter:
    /// nats-server reads an environment value that starts with digits as a
    /// number (`8e2…` is 800) and refuses to start.
    pub fn generate() -> Self {
        Self {
            passwords: USERS
                .iter()
                .map(|user| (*user, format!("p{}", uuid::Uuid::new_v4().simple())))
                .collect(),
        }
    }

    /// The environment nats-server needs with the deployed authorization
    /// (`NATS_<USER>_PASSWORD`).
    pub fn server_env(&self) -> Vec<(String, String)> {
        self.passwords
            .iter()
            .map(|(user, password)| {
                (
                    format!("NATS_{}_PASSWORD", user.to_uppercase()),
                    password.clone(),
                )
            })
            .collect()
    }

    /// The user a Maillage binary connects as (`maillage-stakeholders` →
    /// `stakeholders`), and its password.
    pub fn for_binary(&self, binary: &str) -> (&'static str, &str) {
        let user = binary.strip_prefix("maillage-").unwrap_or(binary);
        self.passwords
            .iter()
            .find(|(name, _)| *name == user)
            .map(|(name, password)| (*name, password.as_str()))
            .unwrap_or_else(|| panic!("no NATS user for {binary}"))
    }

    /// The servers `urls`, as `user`.
    pub fn config(&self, urls: &str, user: &str) -> NatsConfig {
        let (user, password) = self.for_binary(user);
        let mut config = NatsConfig::from(urls);
        config.user = Some(user.to_owned());
        config.password = Some(password.to_owned());
        config
    }
}
