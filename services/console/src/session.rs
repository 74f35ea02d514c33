//! Signed-in sessions, kept server-side: a random id in a cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` under https) names a session holding the
//! person's principal, roles, token (the bearer of their gRPC calls: it never
//! goes back to the browser) and CSRF token. A session ends when it is not
//! used for the idle time, at its maximum age, or at sign-out.
//!
//! **Stored so that they survive a restart.** Sessions live in a small sled
//! database (the session directory, mode 0700), one record per session:
//! - the key is the BLAKE3 hash of the session id, never the id;
//! - the session's end and idle deadline, in clear (to purge expired ones);
//! - the principal, roles, token and CSRF token, sealed with
//!   XChaCha20-Poly1305 under a key derived from the session id
//!   (`blake3::derive_key`), the hash as associated data.
//!
//! The id lives only in the person's cookie: a copy of the directory (a
//! backup, a disk) opens no session and discloses no token. Expired records
//! are purged at start and at most once a minute at sign-in; sign-out deletes
//! the record (and flushes); a revoked token ends its session at its next
//! call, as the services refuse it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use maillage_eventstore::Clock;
use maillage_service_kit::Role;
use serde::{Deserialize, Serialize};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "maillage_session";

/// Most sessions held at once (expired ones are purged first; then sign-in
/// is refused until some end).
const MAX_SESSIONS: usize = 10_000;

/// The context of the key that seals a session (BLAKE3 `derive_key`).
const SEAL_CONTEXT: &str = "maillage console 2026-12-07 session seal";

/// How often sign-in purges expired sessions, at most.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// A record: end and idle deadline (milliseconds since the epoch, big
/// endian), the nonce, then the sealed [`Sealed`].
const HEAD: usize = 16;
const NONCE: usize = 24;

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

/// What a record seals.
#[derive(Serialize, Deserialize)]
struct Sealed {
    principal: String,
    roles: Vec<String>,
    token: String,
    csrf: String,
}

/// Every open session, by the BLAKE3 hash of its id.
pub(crate) struct Sessions {
    clock: Arc<dyn Clock>,
    idle: Duration,
    max: Duration,
    tree: sled::Tree,
    /// Keeps the database open as long as the sessions are.
    _db: sled::Db,
    last_purge: Mutex<SystemTime>,
}

impl Sessions {
    /// The sessions stored in `dir` (created mode 0700), or in a temporary
    /// database removed when the console stops (`None`: a restart signs
    /// everyone out); they end after `idle` unused or `max` in all. Expired
    /// ones are purged.
    pub(crate) fn open_store(
        dir: Option<&Path>,
        clock: Arc<dyn Clock>,
        idle: Duration,
        max: Duration,
    ) -> anyhow::Result<Self> {
        let db = match dir {
            Some(dir) => {
                private_dir(dir)?;
                maillage_eventstore::open_sled(
                    dir,
                    &maillage_eventstore::SledOptions {
                        cache_capacity: 8 * 1024 * 1024,
                        segment_size: 512 * 1024,
                        ..maillage_eventstore::SledOptions::default()
                    },
                )
                .map_err(|error| {
                    anyhow::anyhow!("cannot open the sessions in {}: {error}", dir.display())
                })?
            }
            None => sled::Config::new().temporary(true).open()?,
        };
        let tree = db.open_tree("sessions")?;
        let sessions = Self {
            last_purge: Mutex::new(clock.now()),
            clock,
            idle,
            max,
            tree,
            _db: db,
        };
        sessions.purge(sessions.clock.now())?;
        Ok(sessions)
    }

    /// Opens a session; returns its id (for the cookie), or `None` when too
    /// many are open or the store fails.
    pub(crate) fn open(
        &self,
        principal: String,
        roles: Vec<Role>,
        token: String,
    ) -> Option<String> {
        let now = self.clock.now();
        self.purge_now_and_then(now);
        if self.tree.len() >= MAX_SESSIONS {
            if let Err(error) = self.purge(now) {
                tracing::error!(%error, "cannot purge the console's sessions");
            }
            if self.tree.len() >= MAX_SESSIONS {
                return None;
            }
        }
        let id = random_id();
        let sealed = Sealed {
            principal,
            roles: roles.iter().map(|role| role.as_str().to_owned()).collect(),
            token,
            csrf: random_id(),
        };
        let key = key(&id);
        let record = seal(&id, &key, &sealed, now + self.max, now + self.idle)?;
        // Flushed: a session handed out survives a restart that follows.
        match self
            .tree
            .insert(key, record)
            .and_then(|_| self.tree.flush())
        {
            Ok(_) => Some(id),
            Err(error) => {
                tracing::error!(%error, "cannot store a console session");
                None
            }
        }
    }

    /// The live session the request's cookie names (its idle time starts
    /// again); an expired one is removed.
    pub(crate) fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let now = self.clock.now();
        let key = key(&id);
        let record = self.tree.get(key).ok()??;
        let (ends, idle_until) = head(&record)?;
        if now >= ends || now >= idle_until {
            let _ = self.tree.remove(key);
            return None;
        }
        let session = open_sealed(&id, &key, &record)?;
        // The new idle deadline is written when it moved by a tenth of the
        // idle time, not at every request (a session may end that much
        // early); never over a record removed meanwhile (sign-out).
        let idle_until_now = now + self.idle;
        let step = self.idle / 10;
        if idle_until_now
            .duration_since(idle_until)
            .unwrap_or_default()
            >= step
        {
            let mut moved = record.to_vec();
            moved[8..HEAD].copy_from_slice(&millis(idle_until_now).to_be_bytes());
            let _ = self.tree.compare_and_swap(key, Some(record), Some(moved));
        }
        Some(session)
    }

    /// Ends the session the request's cookie names.
    pub(crate) fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            if self.tree.remove(key(&id)).is_ok() {
                if let Err(error) = self.tree.flush() {
                    tracing::error!(%error, "cannot flush a console sign-out");
                }
            }
        }
    }

    /// Purges the expired sessions if the last purge is a minute old.
    fn purge_now_and_then(&self, now: SystemTime) {
        {
            let mut last = self
                .last_purge
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if now.duration_since(*last).unwrap_or_default() < PURGE_EVERY {
                return;
            }
            *last = now;
        }
        if let Err(error) = self.purge(now) {
            tracing::error!(%error, "cannot purge the console's sessions");
        }
    }

    /// Removes every session ended at `now` (and any unreadable record).
    fn purge(&self, now: SystemTime) -> sled::Result<()> {
        for entry in self.tree.iter() {
            let (key, record) = entry?;
            let alive = head(&record).is_some_and(|(ends, idle)| now < ends && now < idle);
            if !alive {
                self.tree.remove(key)?;
            }
        }
        Ok(())
    }
}

/// Creates `dir` (and its parents) and makes it private to the user (0700).
fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|error| anyhow::anyhow!("cannot restrict {}: {error}", dir.display()))?;
    }
    Ok(())
}

/// Milliseconds since the epoch.
fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A record's end and idle deadline.
fn head(record: &[u8]) -> Option<(SystemTime, SystemTime)> {
    let at = |bytes: &[u8]| -> Option<SystemTime> {
        let millis = u64::from_be_bytes(bytes.try_into().ok()?);
        UNIX_EPOCH.checked_add(Duration::from_millis(millis))
    };
    if record.len() < HEAD + NONCE {
        return None;
    }
    Some((at(&record[..8])?, at(&record[8..HEAD])?))
}

/// The cipher sealing the session `id`.
fn cipher(id: &str) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&blake3::derive_key(SEAL_CONTEXT, id.as_bytes()).into())
}

/// The record of session `id` (stored under `key`).
fn seal(
    id: &str,
    key: &[u8; 32],
    sealed: &Sealed,
    ends: SystemTime,
    idle_until: SystemTime,
) -> Option<Vec<u8>> {
    let plain = serde_json::to_vec(sealed).ok()?;
    let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::rngs::OsRng);
    let sealed = cipher(id)
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: key,
            },
        )
        .ok()?;
    let mut record = Vec::with_capacity(HEAD + NONCE + sealed.len());
    record.extend_from_slice(&millis(ends).to_be_bytes());
    record.extend_from_slice(&millis(idle_until).to_be_bytes());
    record.extend_from_slice(&nonce);
    record.extend_from_slice(&sealed);
    Some(record)
}

/// The session a record of `id` (stored under `key`) seals; `None` when it
/// does not open with `id`.
fn open_sealed(id: &str, key: &[u8; 32], record: &[u8]) -> Option<Session> {
    let nonce = record.get(HEAD..HEAD + NONCE)?;
    let plain = cipher(id)
        .decrypt(
            nonce.into(),
            Payload {
                msg: record.get(HEAD + NONCE..)?,
                aad: key,
            },
        )
        .ok()?;
    let sealed: Sealed = serde_json::from_slice(&plain).ok()?;
    Some(Session {
        principal: sealed.principal,
        roles: sealed
            .roles
            .iter()
            .filter_map(|role| role.parse().ok())
            .collect(),
        token: sealed.token,
        csrf: sealed.csrf,
    })
}

/// Where session `id` is stored: the BLAKE3 hash of the id.
fn key(id: &str) -> [u8; 32] {
    *blake3::hash(id.as_bytes()).as_bytes()
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
