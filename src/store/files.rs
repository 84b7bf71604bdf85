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
    let message = format!("cannot {what} {}: {error}", path.display());
    match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StoreError::StorageFull(message)
        }
        std::io::ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly(message),
        _ => StoreError::Unavailable(message),
    }
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
        if target.is_file() {
            return Ok(sha256);
        }
        let dir = target.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let temporary = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        let written = write_durably(&temporary, bytes)
            .and_then(|()| fs::rename(&temporary, &target).map_err(|e| io("store", &target, e)));
        if let Err(error) = written {
            // A partial file would keep the space it took, and a full disk would stay full.
            let _ = fs::remove_file(&temporary);
            return Err(error);
        }
        fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("sync", &dir, e))?;
        Ok(sha256)
    }

    /// Removes what a process that died while writing left in the temporary folder. Another
    /// instance sharing the folder may be writing its own file right now, so only files
    /// untouched for `older_than` go.
    pub fn remove_leftovers(&self, older_than: std::time::Duration) -> usize {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "part"))
            .filter(|e| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|age| age >= older_than)
            })
            .filter(|e| fs::remove_file(e.path()).is_ok())
            .count()
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

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = fs::File::create(path).map_err(|e| io("create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| io("write", path, e))
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

    #[test]
    fn a_failed_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let sha: String = Sha256::digest(b"photo")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // A directory where the file should go makes the final rename fail.
        fs::create_dir_all(dir.path().join(&sha[..2]).join(&sha).join("occupied")).unwrap();
        assert!(store.put(b"photo").is_err());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn only_old_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        fs::write(dir.path().join("tmp").join("a.part"), b"half").unwrap();
        assert_eq!(
            store.remove_leftovers(std::time::Duration::from_secs(3600)),
            0
        );
        assert_eq!(store.remove_leftovers(std::time::Duration::ZERO), 1);
    }
}
