//! Page tokens: the sort key of a page's last result, sealed, so that the
//! next page starts strictly after it (keyset pagination: stable whatever is
//! registered meanwhile, and no result twice).
//!
//! A key sorted by name holds a folded name, so the token is sealed
//! (XChaCha20-Poly1305 under a key derived one-way from the master key,
//! [`PAGE_KEY_CONTEXT`]): the client sees opaque bytes, cannot forge a
//! position, and the token is bound to the search it came from (a
//! fingerprint of its filter, segment, order and the caller's disclosure, as
//! associated data). A token stops opening after a master-key rotation: the
//! search starts again from its first page.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use maillage_privacy::KeyVault;
use maillage_proto::v1 as pb;
use maillage_service_kit::ServiceError;
use prost::Message;
use rand::RngCore;

use super::order::SortKey;

/// Key-derivation context of the page tokens' key.
pub const PAGE_KEY_CONTEXT: &str = "maillage 2026 search page token key v1";
/// Longest page token accepted, in characters.
pub const MAX_TOKEN_CHARS: usize = 1_024;
/// Results per page when the request says 0.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Most results per page (a larger page size is cut to it, as `PageRequest` says).
pub const MAX_PAGE_SIZE: usize = 500;

const NONCE_LEN: usize = 24;

/// What identifies a search across its pages.
pub type SearchId = [u8; 16];

/// The fingerprint of a search: `parts` (its filter's bytes, its segment,
/// its order, the caller's disclosure...) hashed.
pub fn search_id(parts: &[&[u8]]) -> SearchId {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    id
}

/// The fingerprint of a search's filter, segment, order and disclosure.
pub fn search_id_of(
    request: &pb::SearchStakeholdersRequest,
    disclosure: pb::Disclosure,
) -> SearchId {
    let filter = request
        .filter
        .as_ref()
        .map(Message::encode_to_vec)
        .unwrap_or_default();
    search_id(&[
        b"search",
        &filter,
        request.segment_id.trim().as_bytes(),
        &request.sort.to_be_bytes(),
        &[u8::from(request.descending)],
        &(disclosure as i32).to_be_bytes(),
    ])
}

/// A decoded page request: start after `after`, return at most `size`.
#[derive(Debug, Clone)]
pub struct Page {
    /// The last key of the previous page (`None`: the first page).
    pub after: Option<SortKey>,
    /// How many results.
    pub size: usize,
}

/// Seals and opens page tokens.
pub struct PageTokens {
    cipher: XChaCha20Poly1305,
}

impl PageTokens {
    /// Tokens under the key derived from `vault`'s master key.
    pub fn from_vault(vault: &KeyVault) -> Self {
        let key = vault.derive_key(PAGE_KEY_CONTEXT);
        Self {
            cipher: XChaCha20Poly1305::new(key.as_ref().into()),
        }
    }

    /// The token of a page ending at `last`, for search `search`.
    pub fn seal(&self, search: &SearchId, last: &SortKey) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: &last.encode(),
            aad: search,
        };
        // Encryption with a valid key and nonce cannot fail (only inputs
        // over 256 GiB would); an empty token would restart the search.
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The page `request` asks for in search `search` (field `field`).
    pub fn page(
        &self,
        field: &str,
        request: Option<&pb::PageRequest>,
        search: &SearchId,
        default_size: usize,
    ) -> Result<Page, ServiceError> {
        let request = request.cloned().unwrap_or_default();
        let size = match request.page_size as usize {
            0 => default_size,
            size => size.min(MAX_PAGE_SIZE),
        };
        let token = request.page_token.trim();
        if token.is_empty() {
            return Ok(Page { after: None, size });
        }
        let refused =
            |why: &str| ServiceError::invalid_argument(format!("{field}.page_token"), why);
        if token.len() > MAX_TOKEN_CHARS {
            return Err(refused("not a token this service gave"));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| refused("not a token this service gave"))?;
        if bytes.len() <= NONCE_LEN {
            return Err(refused("not a token this service gave"));
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: search,
        };
        let opened = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| {
                refused("not a token of this search (another filter, order or role, or a key rotated since): start from the first page")
            })?;
        let after =
            SortKey::decode(&opened).ok_or_else(|| refused("not a token this service gave"))?;
        Ok(Page {
            after: Some(after),
            size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> PageTokens {
        PageTokens {
            cipher: XChaCha20Poly1305::new(&[3u8; 32].into()),
        }
    }

    fn with_token(token: &str) -> pb::PageRequest {
        pb::PageRequest {
            page_size: 0,
            page_token: token.to_owned(),
        }
    }

    #[test]
    fn a_token_opens_only_for_its_search() {
        let search = search_id(&[b"one"]);
        let key = SortKey::Commune {
            code: "11069".into(),
            id: uuid::Uuid::now_v7(),
        };
        let token = tokens().seal(&search, &key);
        let page = tokens()
            .page("page", Some(&with_token(&token)), &search, 50)
            .unwrap();
        assert_eq!(page.after, Some(key));
        assert_eq!(page.size, 50);
        let other = search_id(&[b"two"]);
        assert!(tokens()
            .page("page", Some(&with_token(&token)), &other, 50)
            .is_err());
        let mut forged = token.into_bytes();
        let last = forged.len() - 1;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(tokens()
            .page("page", Some(&with_token(&forged)), &search, 50)
            .is_err());
        assert!(tokens()
            .page("page", Some(&with_token("!!")), &search, 50)
            .is_err());
    }

    #[test]
    fn page_sizes_are_capped() {
        let search = search_id(&[b"one"]);
        let request = pb::PageRequest {
            page_size: 100_000,
            page_token: String::new(),
        };
        let page = tokens().page("page", Some(&request), &search, 50).unwrap();
        assert_eq!(page.size, MAX_PAGE_SIZE);
    }
}
