//! The bytes of evidence files, addressed by their SHA-256 so that a file stored twice is kept
//! once. A file is written to a temporary name, flushed to disk and renamed into place before
//! its upload is acknowledged.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::StoreError;

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

fn io(what: &str, path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("cannot {what} {}: {error}", path.display()))
}

impl FileStore {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        fs::create_dir_all(root.join("tmp"))
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", root.display())))?;
        Ok(Self { root })
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::corrupt(format!("not a SHA-256: {sha256}")));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Stores the bytes durably; returns their SHA-256 (hex).
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let sha256: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let target = self.path(&sha256)?;
        if target.exists() {
            return Ok(sha256);
        }
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let temporary = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        let mut file = fs::File::create(&temporary).map_err(|e| io("create", &temporary, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| io("write", &temporary, e))?;
        fs::rename(&temporary, &target).map_err(|e| io("store", &target, e))?;
        fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync", &dir, e))?;
        Ok(sha256)
    }

    pub fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(sha256)?;
        fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                StoreError::corrupt(format!("the file {sha256} is missing from the file store"))
            }
            _ => io("read", &path, e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_stored_once_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let sha = store.put(b"call recording").unwrap();
        assert_eq!(sha.len(), 64);
        assert_eq!(store.put(b"call recording").unwrap(), sha);
        assert_eq!(store.get(&sha).unwrap(), b"call recording");
        assert!(store.get("../../etc/passwd").is_err());
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "no temporary files left"
        );
    }
}
