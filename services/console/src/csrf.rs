//! CSRF protection. A signed-in person's forms carry their session's
//! synchronizer token ([`crate::session::Session::csrf`]); the forms shown
//! before a session exists (sign-in, the public survey) carry a token signed
//! with a key made at start, bound to the form's purpose and valid for two
//! hours. A POST without the right token is refused (403) before anything is
//! sent to a service.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use maillage_eventstore::Clock;

/// How long a signed form token stays valid.
const VALIDITY: Duration = Duration::from_secs(2 * 3600);

/// Signs and checks the tokens of pre-session forms.
pub(crate) struct Signer {
    key: [u8; 32],
    clock: Arc<dyn Clock>,
}

impl Signer {
    /// A signer with a fresh random key.
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        use rand::RngCore as _;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Self { key, clock }
    }

    fn mac(&self, purpose: &str, issued: u64) -> String {
        blake3::keyed_hash(&self.key, format!("{purpose}\n{issued}").as_bytes())
            .to_hex()
            .to_string()
    }

    fn now_secs(&self) -> u64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0)
    }

    /// A token for a form of `purpose` (e.g. `sign-in`, `survey:<id>`).
    pub(crate) fn issue(&self, purpose: &str) -> String {
        let issued = self.now_secs();
        format!("{issued}.{}", self.mac(purpose, issued))
    }

    /// Whether `token` was issued for `purpose` less than two hours ago.
    pub(crate) fn check(&self, purpose: &str, token: &str) -> bool {
        let Some((issued, mac)) = token.split_once('.') else {
            return false;
        };
        let Ok(issued) = issued.parse::<u64>() else {
            return false;
        };
        let now = self.now_secs();
        issued <= now && now - issued < VALIDITY.as_secs() && same(mac, &self.mac(purpose, issued))
    }
}

/// Compares two tokens in time independent of where they differ.
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |differ, (x, y)| differ | (x ^ y))
            == 0
}
