//! The stored checkpoint of a replica, a reactor or any other follower of a
//! log (the stakeholders search index): the last position applied (8 bytes,
//! big-endian), then the hash of the event there (32 bytes), which the
//! JetStream feed checks the next event's `prev_hash` against. A row written
//! before hashes were kept holds the position alone.

/// The row for `position`, with its event's `hash` when known.
pub fn row(position: u64, hash: Option<[u8; 32]>) -> Vec<u8> {
    let mut row = position.to_be_bytes().to_vec();
    if let Some(hash) = hash {
        row.extend_from_slice(&hash);
    }
    row
}

/// The checkpoint stored at `key` in `tree`: (0, None) when there is none;
/// a malformed row reads as no hash and the position its first 8 bytes give.
pub fn read(tree: &sled::Tree, key: &[u8]) -> Result<(u64, Option<[u8; 32]>), sled::Error> {
    let Some(stored) = tree.get(key)? else {
        return Ok((0, None));
    };
    let position = stored
        .get(..8)
        .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0);
    let hash = stored
        .get(8..)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    Ok((position, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_keeps_its_hash_and_old_rows_still_read() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let tree = db.open_tree("t").unwrap();
        assert_eq!(read(&tree, b"k").unwrap(), (0, None));
        tree.insert(b"k", row(12, Some([7; 32]))).unwrap();
        assert_eq!(read(&tree, b"k").unwrap(), (12, Some([7; 32])));
        tree.insert(b"k", &12u64.to_be_bytes()).unwrap();
        assert_eq!(read(&tree, b"k").unwrap(), (12, None));
    }
}
