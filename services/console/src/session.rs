//! Signed-in sessions, kept server-side: a random id in a cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` under https) names a session holding the
//! person's principal, roles, token (the bearer of their gRPC calls: it never
//! goes back to the browser) and CSRF token. A session ends when it is not
//! used for the idle time, at its maximum age, or at sign-out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::http::HeaderMap;
use maillage_eventstore::Clock;
use maillage_service_kit::Role;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "maillage_session";

/// Most sessions held at once (the oldest expired ones go first; then sign-in
/// is refused until some end).
const MAX_SESSIONS: usize = 10_000;

/// One signed-in person.
#[derive(Clone)]
pub(crate) struct Session {
    /// Their principal (from `WhoAmI`).
    pub(crate) principal: String,
    /// Their roles.
    pub(crate) roles: Vec<Role>,
    /// Their token, the bearer of every call made for them.
    pub(crate) token: String,
    /// The synchronizer token every form of theirs carries.
    pub(crate) csrf: String,
    /// Ends when unused until then.
    idle_until: SystemTime,
    /// Ends then whatever happens.
    ends: SystemTime,
}

impl Session {
    /// Whether it holds `role` (admin holds every role).
    pub(crate) fn has(&self, role: Role) -> bool {
        self.roles.contains(&Role::Admin) || self.roles.contains(&role)
    }

    /// Whether it holds one of `roles` (admin holds every role).
    pub(crate) fn any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|role| self.has(*role))
    }
}

/// Every open session, by the BLAKE3 hash of its id.
pub(crate) struct Sessions {
    clock: Arc<dyn Clock>,
    idle: Duration,
    max: Duration,
    open: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// No session yet; they end after `idle` unused or `max` in all.
    pub(crate) fn new(clock: Arc<dyn Clock>, idle: Duration, max: Duration) -> Self {
        Self {
            clock,
            idle,
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Opens a session; returns its id (for the cookie), or `None` when too
    /// many are open.
    pub(crate) fn open(
        &self,
        principal: String,
        roles: Vec<Role>,
        token: String,
    ) -> Option<String> {
        let now = self.clock.now();
        let id = random_id();
        let session = Session {
            principal,
            roles,
            token,
            csrf: random_id(),
            idle_until: now + self.idle,
            ends: now + self.max,
        };
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if open.len() >= MAX_SESSIONS {
            open.retain(|_, session| alive(session, now));
            if open.len() >= MAX_SESSIONS {
                return None;
            }
        }
        open.insert(key(&id), session);
        Some(id)
    }

    /// The live session the request's cookie names (its idle time starts
    /// again); an expired one is removed.
    pub(crate) fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let now = self.clock.now();
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = key(&id);
        let session = open.get_mut(&key)?;
        if !alive(session, now) {
            open.remove(&key);
            return None;
        }
        session.idle_until = now + self.idle;
        Some(session.clone())
    }

    /// Ends the session the request's cookie names.
    pub(crate) fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            self.open
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&key(&id));
        }
    }
}

fn alive(session: &Session, now: SystemTime) -> bool {
    now < session.idle_until && now < session.ends
}

fn key(id: &str) -> String {
    blake3::hash(id.as_bytes()).to_hex().to_string()
}

/// 32 random bytes, base64url.
pub(crate) fn random_id() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value opening session `id`.
pub(crate) fn set_cookie(id: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(secure: bool) -> String {
    format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}
