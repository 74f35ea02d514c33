//! Who is calling and what they may do: roles, principals, the tokens file, and
//! the tower layer that authenticates every RPC.
//!
//! Callers present `authorization: Bearer <token>`. The server never stores a
//! token in clear: the tokens file holds the BLAKE3 hash of each token with the
//! principal it stands for and that principal's roles, one per line, then
//! optional `key=value` fields: when it was added, when it expires, and its
//! first characters (to recognise it; never the secret). Lines without them,
//! written before tokens had dates, still work and never expire:
//!
//! ```text
//! # <blake3 hex of the token> <principal> <role,role,...> [created=…] [expires=…] [prefix=…]
//! 5f0c…e1 mailing-tool tool
//! 9a4b…07 alice facilitator,analyst created=2026-12-07T09:30:00Z expires=2027-06-30T00:00:00Z prefix=mlg_Xk3p9Q
//! ```
//!
//! [`TokenFile::add`] generates a token (`mlg_` + 43 base64url characters),
//! writes only its hash (atomically, mode 0600) and returns the clear token once.
//! [`TokenStore`] serves lookups and reloads the file when it changes, so adding
//! or revoking a token takes effect on a running server without a restart; an
//! expired token is refused. [`AuthLayer`] puts the caller's [`Principal`] in
//! the request extensions, where handlers check roles with [`require`], and
//! hands the server the call's credential, with which an open stream checks,
//! every second, that its token is still valid.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::SystemTime;

use base64::Engine as _;
use futures::future::BoxFuture;
use maillage_eventstore::{Clock, SystemClock};
use rand::RngCore;
use tonic::Status;

use crate::error::ServiceError;
use crate::utc;

/// What a principal may do (design §6). [`Role::Admin`] passes every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything, including administration.
    Admin,
    /// Writes stakeholders and engagement (the partner's facilitators).
    Facilitator,
    /// Writes governance (the consortium's secretary).
    Secretary,
    /// Reads projections.
    Analyst,
    /// Reads the audit and verifies the chain.
    Auditor,
    /// Reads the event log (internal tools).
    Tool,
    /// Answers an open survey and reads its questionnaire, nothing else: the
    /// console's public survey page calls the services under this role.
    Respondent,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Facilitator,
        Role::Secretary,
        Role::Analyst,
        Role::Auditor,
        Role::Tool,
        Role::Respondent,
    ];

    /// The role's name in French, for a person (a refusal naming the roles).
    pub fn french(self) -> &'static str {
        match self {
            Role::Admin => "administrateur",
            Role::Facilitator => "animateur",
            Role::Secretary => "secrétaire",
            Role::Analyst => "analyste",
            Role::Auditor => "auditeur",
            Role::Tool => "outil interne",
            Role::Respondent => "répondant d'enquête",
        }
    }

    /// The lowercase name used in the tokens file and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Facilitator => "facilitator",
            Role::Secretary => "secretary",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Tool => "tool",
            Role::Respondent => "respondent",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| AuthError::UnknownRole(value.to_owned()))
    }
}

/// An authenticated caller: a name (recorded as the actor of every event it
/// causes) and its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's name, e.g. `mailing-tool` or `alice`.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether it holds `role` (admin holds every role).
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&Role::Admin) || self.roles.contains(&role)
    }

    /// Ok when it holds one of `roles` (or is admin), else PERMISSION_DENIED naming them.
    pub fn require(&self, roles: &[Role]) -> Result<(), ServiceError> {
        if self.roles.contains(&Role::Admin) || roles.iter().any(|role| self.roles.contains(role)) {
            Ok(())
        } else {
            Err(ServiceError::permission_denied(roles))
        }
    }
}

/// Errors of the tokens file.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file could not be read or written.
    #[error("tokens file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("tokens file {path}, line {line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A role name that is not one of [`Role::ALL`].
    #[error("unknown role {0:?} (roles: admin, facilitator, secretary, analyst, auditor, tool, respondent)")]
    UnknownRole(String),
    /// A principal name that is empty, too long, or has characters outside `[A-Za-z0-9._@-]`.
    #[error("invalid principal name {0:?}: use 1 to 128 of A-Z a-z 0-9 . _ @ -")]
    InvalidPrincipal(String),
    /// A token must carry at least one role.
    #[error("a token needs at least one role")]
    NoRole,
    /// `revoke` matched nothing.
    #[error("no token matches {0:?}")]
    NoMatch(String),
    /// A hash prefix given to `revoke` is too short to be safe.
    #[error("a hash prefix must have at least {MIN_REVOKE_PREFIX} hex digits")]
    PrefixTooShort,
    /// A new token's expiry is not in the future.
    #[error("the expiry {} is not in the future", utc::format(*.0))]
    ExpiryPassed(SystemTime),
}

/// The prefix of every generated token.
pub const TOKEN_PREFIX: &str = "mlg_";

/// Fewest hex digits of a hash prefix that `revoke` accepts.
pub const MIN_REVOKE_PREFIX: usize = 8;

/// Longest principal name.
const MAX_PRINCIPAL_LEN: usize = 128;

/// Characters of a token kept in the tokens file to recognise it: `mlg_` and
/// 6 of its 43 random ones (36 of its 256 bits).
pub const SHOWN_TOKEN_CHARS: usize = TOKEN_PREFIX.len() + 6;

/// One token of the tokens file (its hash, never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// BLAKE3 of the token, 64 lowercase hex digits.
    pub hash: String,
    /// Who the token stands for.
    pub principal: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// When it was added (`None` for lines written before tokens had dates).
    pub created: Option<SystemTime>,
    /// From when it is refused (`None`: never).
    pub expires: Option<SystemTime>,
    /// Its first [`SHOWN_TOKEN_CHARS`] characters (`None` for older lines).
    pub prefix: Option<String>,
    /// When it was revoked (`None`: not revoked). A revoked token stays in
    /// the file, so that it is listed as revoked, and is refused.
    pub revoked: Option<SystemTime>,
}

impl TokenEntry {
    fn to_line(&self) -> String {
        let roles: Vec<&str> = self.roles.iter().map(|role| role.as_str()).collect();
        let mut line = format!("{} {} {}", self.hash, self.principal, roles.join(","));
        if let Some(created) = self.created {
            line.push_str(&format!(" created={}", utc::format(created)));
        }
        if let Some(expires) = self.expires {
            line.push_str(&format!(" expires={}", utc::format(expires)));
        }
        if let Some(prefix) = &self.prefix {
            line.push_str(&format!(" prefix={prefix}"));
        }
        if let Some(revoked) = self.revoked {
            line.push_str(&format!(" revoked={}", utc::format(revoked)));
        }
        line
    }

    /// Reads the optional `key=value` fields after the roles.
    fn read_options<'a>(&mut self, fields: impl Iterator<Item = &'a str>) -> Result<(), String> {
        for field in fields {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("expected key=value after the roles, found {field:?}"))?;
            let instant = || {
                utc::parse(value)
                    .ok_or_else(|| format!("{key} is not a UTC instant like 2027-06-30T00:00:00Z"))
            };
            let duplicate = match key {
                "created" => self.created.replace(instant()?).is_some(),
                "expires" => self.expires.replace(instant()?).is_some(),
                "revoked" => self.revoked.replace(instant()?).is_some(),
                "prefix" => {
                    let valid = value.starts_with(TOKEN_PREFIX)
                        && value.len() <= SHOWN_TOKEN_CHARS
                        && value[TOKEN_PREFIX.len()..]
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
                    if !valid {
                        return Err(format!(
                            "prefix must be {TOKEN_PREFIX} and at most {} base64url characters",
                            SHOWN_TOKEN_CHARS - TOKEN_PREFIX.len()
                        ));
                    }
                    self.prefix.replace(value.to_owned()).is_some()
                }
                other => {
                    return Err(format!(
                        "unknown field {other:?} (created, expires, prefix, revoked)"
                    ))
                }
            };
            if duplicate {
                return Err(format!("{key} is given twice"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Line {
    /// A comment or blank line, kept as written.
    Verbatim(String),
    Entry(TokenEntry),
}

/// The parsed tokens file. Comments and blank lines are kept when it is rewritten.
#[derive(Debug, Clone, Default)]
pub struct TokenFile {
    lines: Vec<Line>,
}

impl TokenFile {
    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, AuthError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| AuthError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Reads the file, or an empty one when it does not exist yet.
    fn load_or_empty(path: &Path) -> Result<Self, AuthError> {
        match fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(AuthError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Self, AuthError> {
        let mut lines = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let malformed = |reason: String| AuthError::Malformed {
                path: path.to_owned(),
                line: index + 1,
                reason,
            };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                lines.push(Line::Verbatim(raw.to_owned()));
                continue;
            }
            let mut fields = trimmed.split_whitespace();
            let (Some(hash), Some(principal), Some(roles)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed(
                    "expected `<hash> <principal> <roles>` and optional key=value fields".into(),
                ));
            };
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(malformed("the hash is not 64 hex digits".into()));
            }
            check_principal(principal).map_err(|error| malformed(error.to_string()))?;
            let roles = parse_roles(roles).map_err(|error| malformed(error.to_string()))?;
            let mut entry = TokenEntry {
                hash: hash.to_ascii_lowercase(),
                principal: principal.to_owned(),
                roles,
                created: None,
                expires: None,
                prefix: None,
                revoked: None,
            };
            entry.read_options(fields).map_err(malformed)?;
            lines.push(Line::Entry(entry));
        }
        Ok(Self { lines })
    }

    /// The tokens it holds (hashes, principals, roles), revoked ones
    /// included, in file order.
    pub fn list(&self) -> Vec<TokenEntry> {
        self.entries().cloned().collect()
    }

    fn entries(&self) -> impl Iterator<Item = &TokenEntry> {
        self.lines.iter().filter_map(|line| match line {
            Line::Entry(entry) => Some(entry),
            Line::Verbatim(_) => None,
        })
    }

    /// The tokens not revoked: those that may still be accepted.
    fn live(&self) -> impl Iterator<Item = &TokenEntry> {
        self.entries().filter(|entry| entry.revoked.is_none())
    }

    /// The principal a clear `token` stands for, if any (expired or not;
    /// never a revoked one).
    pub fn lookup(&self, token: &str) -> Option<Principal> {
        let hash = hash_token(token);
        self.live()
            .find(|entry| entry.hash == hash)
            .map(|entry| Principal {
                name: entry.principal.clone(),
                roles: entry.roles.clone(),
            })
    }

    /// Generates a token for `principal` with `roles` that never expires; see
    /// [`TokenFile::add_expiring`].
    pub fn add(
        path: impl AsRef<Path>,
        principal: &str,
        roles: &[Role],
    ) -> Result<String, AuthError> {
        Self::add_expiring(path, principal, roles, None)
    }

    /// Generates a token for `principal` with `roles`, refused from `expires`
    /// on (never when `None`), adds its hash, its creation date, its expiry
    /// and its first characters to the file at `path` (created if missing),
    /// and returns the clear token: the only time it is ever shown.
    pub fn add_expiring(
        path: impl AsRef<Path>,
        principal: &str,
        roles: &[Role],
        expires: Option<SystemTime>,
    ) -> Result<String, AuthError> {
        let path = path.as_ref();
        check_principal(principal)?;
        if roles.is_empty() {
            return Err(AuthError::NoRole);
        }
        let now = SystemTime::now();
        if let Some(expires) = expires.filter(|expires| *expires <= now) {
            return Err(AuthError::ExpiryPassed(expires));
        }
        let mut roles = roles.to_vec();
        roles.sort();
        roles.dedup();
        let _lock = Self::lock(path)?;
        let mut file = Self::load_or_empty(path)?;
        let token = generate_token();
        file.lines.push(Line::Entry(TokenEntry {
            hash: hash_token(&token),
            principal: principal.to_owned(),
            roles,
            // Whole seconds, as the file keeps them.
            created: utc::parse(&utc::format(now)),
            expires,
            prefix: Some(token[..SHOWN_TOKEN_CHARS].to_owned()),
            revoked: None,
        }));
        file.write(path)?;
        Ok(token)
    }

    /// Holds the exclusive lock of the tokens file at `path` (on the file
    /// `.<name>.lock` beside it) until the returned file is dropped: an add
    /// and a revoke each read, change and rewrite the whole file, so two
    /// running at once would lose one's change (a revoked token would come
    /// back). The lock is advisory and taken by every writer of the file.
    fn lock(path: &Path) -> Result<fs::File, AuthError> {
        let io = |source| AuthError::Io {
            path: path.to_owned(),
            source,
        };
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".into());
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!(".{name}.lock")))
            .map_err(io)?;
        lock.lock().map_err(io)?;
        Ok(lock)
    }

    /// Revokes every token of the principal named `principal_or_hash`, or the
    /// tokens whose hash starts with it (at least [`MIN_REVOKE_PREFIX`] hex
    /// digits), not revoked yet: they stay in the file, marked revoked now,
    /// and are refused from then on. Returns what was revoked;
    /// [`AuthError::NoMatch`] when nothing was.
    pub fn revoke(
        path: impl AsRef<Path>,
        principal_or_hash: &str,
    ) -> Result<Vec<TokenEntry>, AuthError> {
        let path = path.as_ref();
        let _lock = Self::lock(path)?;
        let mut file = Self::load(path)?;
        let wanted = principal_or_hash.to_ascii_lowercase();
        let by_principal = file
            .live()
            .any(|entry| entry.principal == principal_or_hash);
        if !by_principal
            && wanted.len() < MIN_REVOKE_PREFIX
            && wanted.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(AuthError::PrefixTooShort);
        }
        // Whole seconds, as the file keeps them.
        let now = utc::parse(&utc::format(SystemTime::now()));
        let mut removed = Vec::new();
        for line in &mut file.lines {
            match line {
                Line::Entry(entry)
                    if entry.revoked.is_none()
                        && ((by_principal && entry.principal == principal_or_hash)
                            || (!by_principal && entry.hash.starts_with(&wanted))) =>
                {
                    entry.revoked = now;
                    removed.push(entry.clone());
                }
                _ => {}
            }
        }
        if removed.is_empty() {
            return Err(AuthError::NoMatch(principal_or_hash.to_owned()));
        }
        file.write(path)?;
        Ok(removed)
    }

    /// Writes the file atomically: a temporary file with mode 0600 in the same
    /// directory, synced, then renamed over `path`.
    fn write(&self, path: &Path) -> Result<(), AuthError> {
        let io = |source| AuthError::Io {
            path: path.to_owned(),
            source,
        };
        let mut text = String::new();
        if self.lines.is_empty() {
            text.push_str(
                "# <blake3 hex of the token> <principal> <role,role,...> [created=…] [expires=…] [prefix=…]\n",
            );
        }
        for line in &self.lines {
            match line {
                Line::Verbatim(raw) => text.push_str(raw),
                Line::Entry(entry) => text.push_str(&entry.to_line()),
            }
            text.push('\n');
        }
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens".into());
        let temp = dir.join(format!(
            ".{file_name}.tmp-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let result = (|| {
            let mut file = options.open(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&temp, path)?;
            // Make the rename itself durable.
            if let Ok(dir) = fs::File::open(&dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map_err(io)
    }
}

/// The BLAKE3 hash of a token, as lowercase hex (what the tokens file stores).
pub fn hash_token(token: &str) -> String {
    blake3::hash(token.as_bytes()).to_hex().to_string()
}

/// A new random token: `mlg_` then 32 random bytes in base64url without padding.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Parses `role,role,...` (at least one).
pub fn parse_roles(text: &str) -> Result<Vec<Role>, AuthError> {
    let mut roles = text
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(Role::from_str)
        .collect::<Result<Vec<_>, _>>()?;
    if roles.is_empty() {
        return Err(AuthError::NoRole);
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// Checks a principal name: 1 to 128 of `A-Z a-z 0-9 . _ @ -`.
pub fn check_principal(name: &str) -> Result<(), AuthError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_PRINCIPAL_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(AuthError::InvalidPrincipal(name.to_owned()))
    }
}

/// What identifies one version of the file on disk (a rewrite by rename
/// changes the inode even within one mtime tick).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> Option<Self> {
        let metadata = fs::metadata(path).ok()?;
        Some(Self {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&metadata),
        })
    }
}

/// What a token grants: a principal, until its expiry.
struct Grant {
    principal: Principal,
    expires: Option<SystemTime>,
}

struct Loaded {
    stamp: Option<FileStamp>,
    /// Token hash → grant. Empty when the file is missing or malformed.
    grants: HashMap<String, Grant>,
}

/// The live table of tokens behind the auth layer: loaded from the tokens file
/// and reloaded whenever the file changes (checked on each lookup, and every
/// second by each open stream). Expiry is judged by its clock.
///
/// If the file becomes unreadable or malformed, no token is accepted until it
/// is fixed (fail closed); the error is logged once per change.
pub struct TokenStore {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("path", &self.path)
            .finish()
    }
}

impl TokenStore {
    /// Loads the tokens file at `path`; it must exist and be well formed.
    pub fn open(path: impl Into<PathBuf>) -> Result<Arc<Self>, AuthError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Like [`TokenStore::open`], judging expiry by `clock`.
    pub fn open_with_clock(
        path: impl Into<PathBuf>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<Self>, AuthError> {
        let path = path.into();
        let stamp = FileStamp::of(&path);
        let file = TokenFile::load(&path)?;
        Ok(Arc::new(Self {
            loaded: RwLock::new(Loaded {
                stamp,
                grants: table(&file),
            }),
            path,
            clock,
        }))
    }

    /// The tokens file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The principal a clear `token` stands for; UNAUTHENTICATED if none, or
    /// if it has expired (the message says when).
    pub fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        self.check(&hash_token(token))
    }

    /// [`TokenStore::authenticate`] for the token of hash `hash`.
    fn check(&self, hash: &str) -> Result<Principal, ServiceError> {
        self.reload_if_changed();
        let loaded = self
            .loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let grant = loaded.grants.get(hash).ok_or_else(|| {
            ServiceError::unauthenticated(
                "unknown or revoked token",
                "Ce jeton est inconnu ou a été révoqué : demandez-en un à l'administrateur.",
            )
        })?;
        match grant.expires {
            Some(expires) if expires <= self.clock.now() => Err(ServiceError::unauthenticated(
                format!("token expired at {}", utc::format(expires)),
                format!(
                    "Ce jeton a expiré le {} (UTC) : demandez-en un nouveau à l'administrateur.",
                    utc::format(expires)
                ),
            )),
            _ => Ok(grant.principal.clone()),
        }
    }

    fn reload_if_changed(&self) {
        let stamp = FileStamp::of(&self.path);
        {
            let loaded = self
                .loaded
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if loaded.stamp == stamp {
                return;
            }
        }
        let grants = match TokenFile::load(&self.path) {
            Ok(file) => {
                tracing::info!(path = %self.path.display(), "tokens file reloaded");
                table(&file)
            }
            Err(error) => {
                tracing::error!(%error, "tokens file unusable: refusing every token until it is fixed");
                HashMap::new()
            }
        };
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *loaded = Loaded { stamp, grants };
    }
}

fn table(file: &TokenFile) -> HashMap<String, Grant> {
    file.live()
        .map(|entry| {
            (
                entry.hash.clone(),
                Grant {
                    principal: Principal {
                        name: entry.principal.clone(),
                        roles: entry.roles.clone(),
                    },
                    expires: entry.expires,
                },
            )
        })
        .collect()
}

/// The token an authenticated call was made with (its hash), to check again
/// while the call's response stream is open.
#[derive(Clone)]
pub(crate) struct Credential {
    tokens: Arc<TokenStore>,
    hash: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hash names the token in the tokens file: not for logs.
        f.debug_struct("Credential").finish_non_exhaustive()
    }
}

impl Credential {
    /// Ok while the token is in the tokens file and not expired; else the
    /// UNAUTHENTICATED status that ends the stream.
    pub(crate) fn check(&self) -> Result<(), Status> {
        self.tokens.check(&self.hash)?;
        Ok(())
    }
}

/// Anything that carries request extensions: a [`tonic::Request`] or the
/// extensions themselves.
pub trait HasExtensions {
    /// The request's extensions.
    fn extensions_ref(&self) -> &http::Extensions;
}

impl<T> HasExtensions for tonic::Request<T> {
    fn extensions_ref(&self) -> &http::Extensions {
        self.extensions()
    }
}

impl HasExtensions for http::Extensions {
    fn extensions_ref(&self) -> &http::Extensions {
        self
    }
}

/// The authenticated principal of a request (put there by [`AuthLayer`]);
/// UNAUTHENTICATED when there is none.
pub fn principal(request: &impl HasExtensions) -> Result<Principal, Status> {
    request
        .extensions_ref()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| {
            ServiceError::unauthenticated(
                "no authenticated principal",
                "Vous n'êtes pas identifié : connectez-vous avec votre jeton.",
            )
            .into()
        })
}

/// The request's principal if it holds one of `roles` (admin passes every
/// check); else PERMISSION_DENIED naming the roles needed, or UNAUTHENTICATED.
pub fn require(request: &impl HasExtensions, roles: &[Role]) -> Result<Principal, Status> {
    let principal = principal(request)?;
    principal.require(roles)?;
    Ok(principal)
}

/// gRPC paths that need no token: health checks and reflection.
pub const UNAUTHENTICATED_PREFIXES: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// Tower layer that authenticates every request except health and reflection.
///
/// It reads `authorization: Bearer <token>`, looks the token up in the
/// [`TokenStore`], removes the header (so no handler can log it) and inserts
/// the [`Principal`] in the request extensions. A missing, malformed or
/// unknown token is answered UNAUTHENTICATED without reaching the service.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    tokens: Arc<TokenStore>,
}

impl AuthLayer {
    /// A layer checking tokens against `tokens`.
    pub fn new(tokens: Arc<TokenStore>) -> Self {
        Self { tokens }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the server's routes.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    tokens: Arc<TokenStore>,
}

impl<S> AuthService<S> {
    /// Authenticates `request`; the credential to check again while its
    /// response streams (none for health and reflection).
    fn authenticate<B>(
        &self,
        request: &mut http::Request<B>,
    ) -> Result<Option<Credential>, Status> {
        let path = request.uri().path();
        if UNAUTHENTICATED_PREFIXES
            .iter()
            .any(|prefix| path.starts_with(prefix))
        {
            return Ok(None);
        }
        let header = request
            .headers_mut()
            .remove(http::header::AUTHORIZATION)
            .ok_or_else(|| {
                Status::from(ServiceError::unauthenticated(
                    "missing authorization: Bearer <token>",
                    "Aucun jeton fourni : connectez-vous avec votre jeton.",
                ))
            })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Status::from(ServiceError::unauthenticated(
                    "authorization must be `Bearer <token>`",
                    "L'en-tête d'autorisation doit être « Bearer <jeton> ».",
                ))
            })?;
        let hash = hash_token(token);
        let principal = self.tokens.check(&hash)?;
        request.extensions_mut().insert(principal);
        Ok(Some(Credential {
            tokens: self.tokens.clone(),
            hash,
        }))
    }
}

/// Authenticates each call; an authenticated call's response carries its
/// credential in its extensions, for the server to check it again while the
/// response streams.
impl<S, B, ResBody> tower_service::Service<http::Request<B>> for AuthService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.authenticate(&mut request) {
            Ok(credential) => {
                let call = self.inner.call(request);
                Box::pin(async move {
                    let mut response = call.await?;
                    if let Some(credential) = credential {
                        response.extensions_mut().insert(credential);
                    }
                    Ok(response)
                })
            }
            Err(status) => {
                if let Some(span) = request.extensions().get::<crate::server::RpcSpan>() {
                    span.record_header_ids(request.headers());
                }
                Box::pin(futures::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15, defect 5: adds and revokes racing on one file lose nobody's
    /// change (before the lock, concurrent read-change-rewrites dropped adds
    /// and could bring a revoked token back).
    #[test]
    fn concurrent_adds_and_revokes_lose_no_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        TokenFile::add(&path, "victim", &[Role::Tool]).unwrap();
        let writers: Vec<_> = (0..8)
            .map(|writer| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for n in 0..20 {
                        TokenFile::add(&path, &format!("w{writer}-{n}"), &[Role::Analyst]).unwrap();
                    }
                })
            })
            .collect();
        let revoker = {
            let path = path.clone();
            std::thread::spawn(move || TokenFile::revoke(&path, "victim").unwrap())
        };
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(revoker.join().unwrap().len(), 1);
        let file = TokenFile::load(&path).unwrap();
        let principals: Vec<&str> = file
            .entries()
            .map(|entry| entry.principal.as_str())
            .collect();
        assert_eq!(principals.len(), 161, "adds were lost");
        assert!(
            file.entries()
                .all(|entry| (entry.principal == "victim") == entry.revoked.is_some()),
            "a revoked token came back"
        );
    }

    /// Issue 15, defect 5: lines written before tokens had dates load, never
    /// expire and survive a rewrite; a new line carries its creation date,
    /// its expiry and the token's first characters, never the token.
    #[test]
    fn token_lines_carry_dates_and_a_prefix_and_older_lines_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let old = "a".repeat(64);
        fs::write(&path, format!("# tokens\n{old} bob tool\n")).unwrap();
        let expires = SystemTime::now() + std::time::Duration::from_secs(86_400);
        let token =
            TokenFile::add_expiring(&path, "alice", &[Role::Analyst], Some(expires)).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(&format!("\n{old} bob tool\n")), "{text}");
        assert!(!text.contains(&token), "clear token written");

        let listed = TokenFile::load(&path).unwrap().list();
        assert_eq!(
            (
                listed[0].created,
                listed[0].expires,
                listed[0].prefix.as_deref()
            ),
            (None, None, None)
        );
        let alice = &listed[1];
        assert_eq!(alice.prefix.as_deref(), Some(&token[..SHOWN_TOKEN_CHARS]));
        assert_eq!(alice.prefix.as_ref().map(String::len), Some(10));
        assert_eq!(alice.expires.map(utc::format), Some(utc::format(expires)));
        assert!(alice
            .created
            .is_some_and(|created| created <= SystemTime::now()));

        let past = SystemTime::now() - std::time::Duration::from_secs(1);
        assert!(matches!(
            TokenFile::add_expiring(&path, "carol", &[Role::Tool], Some(past)),
            Err(AuthError::ExpiryPassed(_))
        ));
    }

    /// Issue 13: a revoked token stays in the file with the instant it was
    /// revoked (an older line without dates too), is listed as revoked, is
    /// refused, and is not revoked twice; a file without revocations loads
    /// as before.
    #[test]
    fn a_revoked_token_stays_listed_as_revoked_and_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let old = "b".repeat(64);
        fs::write(&path, format!("{old} bob tool\n")).unwrap();
        assert_eq!(TokenFile::load(&path).unwrap().list()[0].revoked, None);
        let kept = TokenFile::add(&path, "carol", &[Role::Analyst]).unwrap();
        let before = SystemTime::now() - std::time::Duration::from_secs(1);
        let revoked = TokenFile::revoke(&path, "bob").unwrap();
        assert_eq!(revoked.len(), 1);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(&format!("{old} bob tool revoked=")),
            "{text}"
        );
        let file = TokenFile::load(&path).unwrap();
        let listed = file.list();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].revoked.is_some_and(|at| at >= before));
        assert_eq!(listed[1].revoked, None);
        assert_eq!(table(&file).len(), 1);
        assert_eq!(file.lookup(&kept).unwrap().name, "carol");
        assert!(matches!(
            TokenFile::revoke(&path, "bob"),
            Err(AuthError::NoMatch(_))
        ));
        assert!(matches!(
            TokenFile::revoke(&path, &old[..12]),
            Err(AuthError::NoMatch(_))
        ));
    }

    #[test]
    fn malformed_token_fields_are_refused_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let hash = "b".repeat(64);
        for (fields, reason) in [
            ("expires=tomorrow", "expires is not a UTC instant"),
            ("colour=blue", "unknown field \"colour\""),
            (
                "created=2026-01-01 created=2026-01-02",
                "created is given twice",
            ),
            ("prefix=abc", "prefix must be mlg_"),
            ("prefix=mlg_abcdefgh", "prefix must be mlg_"),
            ("stray", "expected key=value"),
        ] {
            fs::write(&path, format!("{hash} bob tool {fields}\n")).unwrap();
            match TokenFile::load(&path) {
                Err(AuthError::Malformed {
                    line: 1,
                    reason: why,
                    ..
                }) => {
                    assert!(why.starts_with(reason), "{fields}: {why}")
                }
                other => panic!("{fields}: {other:?}"),
            }
        }
        fs::write(
            &path,
            format!("{hash} bob tool expires=2027-06-30 prefix=mlg_Ab-_9z\n"),
        )
        .unwrap();
        let entry = &TokenFile::load(&path).unwrap().list()[0];
        assert_eq!(
            entry.expires.map(utc::format).as_deref(),
            Some("2027-06-30T00:00:00Z")
        );
    }

    #[test]
    fn an_expired_token_is_refused_saying_when_it_expired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let expires = SystemTime::now() + std::time::Duration::from_secs(60);
        let token = TokenFile::add_expiring(&path, "temp", &[Role::Tool], Some(expires)).unwrap();
        let clock = Arc::new(maillage_eventstore::FixedClock::new(SystemTime::now()));
        let store = TokenStore::open_with_clock(&path, clock.clone()).unwrap();
        assert_eq!(store.authenticate(&token).unwrap().name, "temp");
        clock.set(expires);
        let refused = Status::from(store.authenticate(&token).unwrap_err());
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert_eq!(
            refused.message(),
            format!("token expired at {}", utc::format(expires))
        );
    }

    #[test]
    fn roles_round_trip_lowercase() {
        for role in Role::ALL {
            assert_eq!(role.to_string().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.to_string().to_lowercase());
        }
        assert!("Admin".parse::<Role>().is_err());
        assert_eq!(
            parse_roles("tool,auditor,tool").unwrap(),
            vec![Role::Auditor, Role::Tool]
        );
        assert!(parse_roles("").is_err());
    }

    #[test]
    fn admin_passes_every_check_others_need_a_listed_role() {
        let admin = Principal {
            name: "root".into(),
            roles: vec![Role::Admin],
        };
        let facilitator = Principal {
            name: "alice".into(),
            roles: vec![Role::Facilitator],
        };
        assert!(admin.require(&[Role::Tool]).is_ok());
        assert!(facilitator
            .require(&[Role::Facilitator, Role::Secretary])
            .is_ok());
        let denied = Status::from(
            facilitator
                .require(&[Role::Tool, Role::Auditor])
                .unwrap_err(),
        );
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        assert!(denied.message().contains("tool, auditor"), "{denied:?}");
    }

    #[test]
    fn tokens_look_random_and_are_stored_hashed() {
        let token = generate_token();
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 43);
        assert_ne!(token, generate_token());
        assert_eq!(hash_token(&token).len(), 64);
    }

    #[test]
    fn add_list_revoke_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let tool = TokenFile::add(&path, "mailing-tool", &[Role::Tool]).unwrap();
        let alice = TokenFile::add(&path, "alice", &[Role::Facilitator, Role::Analyst]).unwrap();

        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&tool) && !text.contains(&alice),
            "clear token written"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }

        let file = TokenFile::load(&path).unwrap();
        let listed = file.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].principal, "alice");
        assert_eq!(listed[1].roles, vec![Role::Facilitator, Role::Analyst]);
        assert_eq!(file.lookup(&tool).unwrap().name, "mailing-tool");
        assert!(file.lookup("mlg_nope").is_none());

        // By hash prefix.
        let prefix = &listed[0].hash[..10];
        let removed = TokenFile::revoke(&path, prefix).unwrap();
        assert_eq!(removed[0].principal, "mailing-tool");
        assert!(matches!(
            TokenFile::revoke(&path, "abc"),
            Err(AuthError::PrefixTooShort)
        ));
        // By principal.
        TokenFile::revoke(&path, "alice").unwrap();
        // Revoked tokens stay listed, marked revoked, and are refused.
        let file = TokenFile::load(&path).unwrap();
        assert_eq!(file.list().len(), 2);
        assert!(file.list().iter().all(|entry| entry.revoked.is_some()));
        assert!(file.lookup(&tool).is_none() && file.lookup(&alice).is_none());
        assert!(table(&file).is_empty());
        assert!(matches!(
            TokenFile::revoke(&path, "alice"),
            Err(AuthError::NoMatch(_))
        ));
        // Both lines stay, each marked with when it was revoked.
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(" revoked=").count(), 2, "{text}");
    }

    #[test]
    fn malformed_lines_are_refused_with_their_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        fs::write(
            &path,
            format!("# ok\n{} bob tool\nshort bob tool\n", "a".repeat(64)),
        )
        .unwrap();
        match TokenFile::load(&path) {
            Err(AuthError::Malformed { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
        fs::write(&path, format!("{} bob wizard\n", "a".repeat(64))).unwrap();
        assert!(TokenFile::load(&path).is_err());
        assert!(TokenFile::add(&path, "bad name", &[Role::Tool]).is_err());
        assert!(matches!(
            TokenFile::add(dir.path().join("other"), "bob", &[]),
            Err(AuthError::NoRole)
        ));
    }

    #[test]
    fn token_store_reloads_on_change_and_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let first = TokenFile::add(&path, "one", &[Role::Tool]).unwrap();
        let store = TokenStore::open(&path).unwrap();
        assert_eq!(store.authenticate(&first).unwrap().name, "one");
        let second = TokenFile::add(&path, "two", &[Role::Auditor]).unwrap();
        assert_eq!(store.authenticate(&second).unwrap().name, "two");
        TokenFile::revoke(&path, "one").unwrap();
        assert!(store.authenticate(&first).is_err());
        fs::write(&path, "garbage\n").unwrap();
        assert!(store.authenticate(&second).is_err());
    }
}
