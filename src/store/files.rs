//! The bytes of evidence files, addressed by their SHA-256 so that a file stored twice is kept
//! once: in a local directory (the default: one machine, or a mount every instance shares) or in
//! an S3-compatible bucket (instances with nothing on their own disks). Either way a file is
//! stored whole before its upload is acknowledged, and every operation ends within a bounded time.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};

use super::StoreError;

/// Where evidence files are kept, as configured.
#[derive(Debug, Clone)]
pub enum StorageLocation {
    Directory(PathBuf),
    Bucket(BucketSettings),
}

/// An S3-compatible bucket: AWS, or any server speaking its API (MinIO, Ceph, OSS, COS, OBS).
#[derive(Clone)]
pub struct BucketSettings {
    pub bucket: String,
    /// Keys are `<prefix>/<first two hex digits>/<sha256>`.
    pub prefix: String,
    /// The server's address; `None` is AWS itself (by region, virtual-hosted style).
    pub endpoint: Option<String>,
    pub region: String,
    /// Key id and secret; `None` takes them from the instance's role (AWS metadata service).
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for BucketSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketSettings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|(id, _)| (id, "[redacted]")),
            )
            .finish()
    }
}

impl BucketSettings {
    /// Reads `s3://bucket[/prefix]`.
    pub fn parse_url(url: &str) -> Result<(String, String), String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{url}` is not an s3://bucket[/prefix] URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!(
                "`{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, dots, hyphens)"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix
            .split('/')
            .any(|part| part == "." || part == ".." || part.chars().any(char::is_control))
        {
            return Err(format!("`{prefix}` is not a usable key prefix"));
        }
        Ok((bucket.to_owned(), prefix.to_owned()))
    }
}

/// The evidence files of the hotline.
#[derive(Debug, Clone)]
pub struct FileStore {
    place: Place,
    /// No operation, retries included, takes longer: a store that stops answering costs the
    /// client this much, and then a 503.
    timeout: Duration,
}

#[derive(Debug, Clone)]
enum Place {
    Directory(Directory),
    Bucket(Bucket),
}

impl FileStore {
    pub fn open(location: &StorageLocation, timeout: Duration) -> Result<Self, StoreError> {
        let place = match location {
            StorageLocation::Directory(root) => Place::Directory(Directory::open(root)?),
            StorageLocation::Bucket(settings) => Place::Bucket(Bucket::open(settings, timeout)?),
        };
        Ok(Self { place, timeout })
    }

    /// Where the files go, for the start-up log.
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Directory(d) => format!("directory {}", d.root.display()),
            Place::Bucket(b) => format!("bucket {}", b.describe),
        }
    }

    /// Stores the bytes, once for any number of uploads of them; returns their SHA-256 (hex).
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String, StoreError> {
        let sha256 = hex_sha256(&bytes);
        let work = {
            let sha256 = sha256.clone();
            let place = self.place.clone();
            async move {
                match place {
                    Place::Directory(d) => off_the_workers(move || d.put(&sha256, &bytes)).await,
                    Place::Bucket(b) => b.put(&sha256, bytes).await,
                }
            }
        };
        self.bounded("store", work).await?;
        Ok(sha256)
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        check_sha256(sha256)?;
        let sha256 = sha256.to_owned();
        let place = self.place.clone();
        self.bounded("read", async move {
            match place {
                Place::Directory(d) => off_the_workers(move || d.get(&sha256)).await,
                Place::Bucket(b) => b.get(&sha256).await,
            }
        })
        .await
    }

    /// Removes what a process that died while writing left behind (a bucket keeps no partial
    /// objects, so there is nothing to remove there).
    pub fn remove_leftovers(&self, older_than: Duration) -> usize {
        match &self.place {
            Place::Directory(d) => d.remove_leftovers(older_than),
            Place::Bucket(_) => 0,
        }
    }

    async fn bounded<T>(
        &self,
        what: &str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::EvidenceStore(format!(
                "could not {what} an evidence file within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A digest written as lowercase hex, as SHA-256 sums are everywhere.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_sha256(sha256: &str) -> Result<(), StoreError> {
    if !is_sha256(sha256) {
        return Err(StoreError::corrupt(format!("not a SHA-256: {sha256}")));
    }
    Ok(())
}

/// Where a file lies under an evidence directory: `<first two hex digits>/<sha256>`.
pub fn relative_path(sha256: &str) -> Result<PathBuf, StoreError> {
    check_sha256(sha256)?;
    Ok(Path::new(&sha256[..2]).join(sha256))
}

/// Disk work runs on the runtime's blocking threads, never on the workers that answer requests.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::EvidenceStore(format!("the file task failed: {e}")))?
}

/// An S3-compatible bucket, through the `object_store` crate's S3 client.
#[derive(Debug, Clone)]
struct Bucket {
    client: Arc<AmazonS3>,
    prefix: String,
    describe: String,
}

impl Bucket {
    fn open(settings: &BucketSettings, timeout: Duration) -> Result<Self, StoreError> {
        // The same TLS implementation as the webhook client; installed once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut options = ClientOptions::new()
            .with_timeout(timeout)
            .with_connect_timeout(timeout.min(Duration::from_secs(3)));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: timeout,
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &settings.endpoint {
            if endpoint.starts_with("http://") {
                options = options.with_allow_http(true);
            }
            builder = builder.with_endpoint(endpoint);
        }
        if let Some((key_id, secret)) = &settings.credentials {
            builder = builder
                .with_access_key_id(key_id)
                .with_secret_access_key(secret);
        }
        let client = builder
            .with_client_options(options)
            .build()
            .map_err(|e| StoreError::Config(format!("the evidence bucket: {e}")))?;
        Ok(Self {
            client: Arc::new(client),
            prefix: settings.prefix.clone(),
            describe: format!(
                "s3://{}/{} at {}",
                settings.bucket,
                settings.prefix,
                settings.endpoint.as_deref().unwrap_or("AWS")
            ),
        })
    }

    fn key(&self, sha256: &str) -> object_store::path::Path {
        let key = format!("{}/{sha256}", &sha256[..2]);
        match self.prefix.as_str() {
            "" => object_store::path::Path::from(key),
            prefix => object_store::path::Path::from(format!("{prefix}/{key}")),
        }
    }

    async fn put(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let key = self.key(sha256);
        // A key is its content's digest: an object already there holds these very bytes.
        match self.client.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(bucket_error("look up", error)),
        }
        self.client
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(|e| bucket_error("store", e))?;
        Ok(())
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let key = self.key(sha256);
        let object = self
            .client
            .get(&key)
            .await
            .map_err(|e| bucket_error("read", e))?;
        let bytes = object.bytes().await.map_err(|e| bucket_error("read", e))?;
        Ok(bytes.to_vec())
    }
}

/// Every failure of a bucket is the store's, not the client's: the client is told to retry
/// (a missing object too: a bucket restored after the database, or one replicating from another
/// region, may hold it shortly), and the log tells the operator which it was.
fn bucket_error(what: &str, error: object_store::Error) -> StoreError {
    let message = match &error {
        object_store::Error::NotFound { path, .. } => {
            format!("the evidence file {path} is missing from the bucket")
        }
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            format!("the bucket refuses to {what}: {error}")
        }
        _ => format!("cannot {what} in the bucket: {error}"),
    };
    // MinIO and Ceph answer 507 when their disks are full; so does this service.
    if message.contains("Insufficient Storage") || message.contains("XMinioStorageFull") {
        return StoreError::StorageFull(message);
    }
    StoreError::EvidenceStore(message)
}

/// A directory: `<root>/<first two hex digits>/<sha256>`, written to a temporary name, flushed
/// to disk and renamed into place.
#[derive(Debug, Clone)]
struct Directory {
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

impl Directory {
    fn open(root: &Path) -> Result<Self, StoreError> {
        let root = root.to_path_buf();
        fs::create_dir_all(root.join("tmp"))
            .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", root.display())))?;
        Ok(Self { root })
    }

    fn path(&self, sha256: &str) -> Result<PathBuf, StoreError> {
        Ok(self.root.join(relative_path(sha256)?))
    }

    /// Stores the bytes durably under their digest.
    fn put(&self, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let target = self.path(sha256)?;
        if target.is_file() {
            return Ok(());
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
        Ok(())
    }

    /// Removes what a process that died while writing left in the temporary folder. Another
    /// instance sharing the folder may be writing its own file right now, so only files
    /// untouched for `older_than` go.
    fn remove_leftovers(&self, older_than: std::time::Duration) -> usize {
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

    fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(sha256)?;
        fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::EvidenceStore(format!(
                "the evidence file {sha256} is missing from {}",
                self.root.display()
            )),
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
        let store = Directory::open(dir.path()).unwrap();
        let sha = hex_sha256(b"call recording");
        store.put(&sha, b"call recording").unwrap();
        store.put(&sha, b"call recording").unwrap();
        assert_eq!(store.get(&sha).unwrap(), b"call recording");
        assert!(store.get("../../etc/passwd").is_err());
        assert_eq!(
            fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "no temporary files left"
        );
        assert_eq!(fs::read_dir(dir.path().join(&sha[..2])).unwrap().count(), 1);
    }

    #[test]
    fn a_file_missing_from_the_directory_is_the_stores_failure() {
        let dir = tempfile::tempdir().unwrap();
        let store = Directory::open(dir.path()).unwrap();
        assert!(matches!(
            store.get(&hex_sha256(b"never stored")),
            Err(StoreError::EvidenceStore(_))
        ));
    }

    #[test]
    fn a_failed_write_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Directory::open(dir.path()).unwrap();
        let sha = hex_sha256(b"photo");
        // A directory where the file should go makes the final rename fail.
        fs::create_dir_all(dir.path().join(&sha[..2]).join(&sha).join("occupied")).unwrap();
        assert!(store.put(&sha, b"photo").is_err());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn only_old_leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Directory::open(dir.path()).unwrap();
        fs::write(dir.path().join("tmp").join("a.part"), b"half").unwrap();
        assert_eq!(store.remove_leftovers(Duration::from_secs(3600)), 0);
        assert_eq!(store.remove_leftovers(Duration::ZERO), 1);
    }

    #[test]
    fn bucket_urls_name_a_bucket_and_a_prefix() {
        assert_eq!(
            BucketSettings::parse_url("s3://hotline-evidence").unwrap(),
            ("hotline-evidence".to_owned(), String::new())
        );
        assert_eq!(
            BucketSettings::parse_url("s3://hotline-evidence/city/2026/").unwrap(),
            ("hotline-evidence".to_owned(), "city/2026".to_owned())
        );
        for refused in [
            "hotline-evidence",
            "https://hotline-evidence",
            "s3://",
            "s3://ab",
            "s3://Upper-Case",
            "s3://bucket/../other",
        ] {
            assert!(BucketSettings::parse_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn bucket_keys_spread_by_the_digests_first_byte() {
        let settings = |prefix: &str| BucketSettings {
            bucket: "evidence".into(),
            prefix: prefix.into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: "us-east-1".into(),
            credentials: Some(("id".into(), "secret".into())),
        };
        let sha = hex_sha256(b"x");
        let bare = Bucket::open(&settings(""), Duration::from_secs(1)).unwrap();
        assert_eq!(bare.key(&sha).as_ref(), format!("{}/{sha}", &sha[..2]));
        let under = Bucket::open(&settings("city"), Duration::from_secs(1)).unwrap();
        assert_eq!(
            under.key(&sha).as_ref(),
            format!("city/{}/{sha}", &sha[..2])
        );
        assert!(!format!("{:?}", settings("")).contains("secret"));
    }
}
