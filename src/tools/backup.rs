//! A backup of a running hotline, and putting one back.
//!
//! A backup is a directory: the database (`hotline.db`, a consistent copy SQLite writes with
//! `VACUUM INTO` while the service goes on writing; or `hotline.pgdump`, `pg_dump`'s custom
//! format, one snapshot) and, when evidence is kept in a directory, `storage/` with every file
//! the copied database names. A file is stored before the row that names it commits, so every
//! file a backup's rows name was already there to copy. Evidence in a bucket stays there: its
//! versioning or replication is the bucket's own backup.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{create_empty_dir, sync_dir, sync_file};
use crate::config::Settings;
use crate::store::files::{self, StorageLocation};
use crate::store::{DatabaseUrl, Db, backup as copies};

pub const SQLITE_FILE: &str = "hotline.db";
pub const POSTGRES_FILE: &str = "hotline.pgdump";
pub const EVIDENCE_DIR: &str = "storage";

/// What a backup or a restore did.
#[derive(Debug)]
pub struct Outcome {
    pub database: PathBuf,
    /// Tickets in the copy (SQLite; `pg_dump` reports none of its own).
    pub tickets: Option<i64>,
    pub evidence_files: usize,
    pub evidence_in_bucket: bool,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database: {}", self.database.display())?;
        if let Some(tickets) = self.tickets {
            write!(f, " ({tickets} tickets)")?;
        }
        if self.evidence_in_bucket {
            write!(f, "; evidence stays in its bucket")
        } else {
            write!(f, "; evidence files: {}", self.evidence_files)
        }
    }
}

/// Writes a backup of the live database (and its evidence directory) into `target`, which must
/// not exist yet or be empty: a backup is never written over another.
pub fn backup(settings: &Settings, target: &Path) -> Result<Outcome, String> {
    create_empty_dir(target, "a backup")?;
    let (database, tickets, digests) = match &settings.database_url {
        DatabaseUrl::Sqlite { open, .. } => {
            let file = target.join(SQLITE_FILE);
            let partial = target.join(format!("{SQLITE_FILE}.part"));
            copies::sqlite_copy(open, &partial)
                .map_err(|e| format!("cannot copy the database: {e}"))?;
            sync_file(&partial)?;
            fs::rename(&partial, &file).map_err(|e| format!("cannot name the copy: {e}"))?;
            sync_dir(target)?;
            let (tickets, digests) = copies::check_sqlite_copy(&file).map_err(|e| e.to_string())?;
            (file, Some(tickets), digests)
        }
        DatabaseUrl::Postgres(url) => {
            let file = target.join(POSTGRES_FILE);
            run(Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(&file)
                .arg(url))?;
            sync_file(&file)?;
            // The dump is one snapshot; evidence named by rows committed after it began is
            // copied too, which does no harm.
            let db = Db::open(&settings.database_url, &settings.pool).map_err(|e| e.to_string())?;
            let digests = db
                .read(copies::evidence_digests)
                .map_err(|e| e.to_string())?;
            (file, None, digests)
        }
    };
    let (evidence_files, evidence_in_bucket) = match &settings.storage {
        StorageLocation::Directory(root) => (
            copy_evidence(root, &target.join(EVIDENCE_DIR), &digests)?,
            false,
        ),
        StorageLocation::Bucket(_) => (0, true),
    };
    Ok(Outcome {
        database,
        tickets,
        evidence_files,
        evidence_in_bucket,
    })
}

/// Puts the backup in `source` in place of the configured database (and into the evidence
/// directory). An existing database is replaced only with `force`, and the service must be
/// stopped first: a running instance would go on with the database it had open.
pub fn restore(settings: &Settings, source: &Path, force: bool) -> Result<Outcome, String> {
    let (database, tickets) = match &settings.database_url {
        DatabaseUrl::Sqlite { path, .. } => {
            let copy = source.join(SQLITE_FILE);
            if !copy.is_file() {
                return Err(format!("{} holds no {SQLITE_FILE}", source.display()));
            }
            let (tickets, _) = copies::check_sqlite_copy(&copy).map_err(|e| e.to_string())?;
            if path.exists() && !force {
                return Err(format!(
                    "{} exists: stop the service and pass --force to replace it",
                    path.display()
                ));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let partial = path.with_extension("restore-part");
            fs::copy(&copy, &partial).map_err(|e| format!("cannot copy the backup: {e}"))?;
            sync_file(&partial)?;
            // The old database's write-ahead log must not be replayed onto the restored file.
            for suffix in ["-wal", "-shm"] {
                let mut side = path.as_os_str().to_owned();
                side.push(suffix);
                match fs::remove_file(PathBuf::from(side)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(format!("cannot remove the old {suffix} file: {e}")),
                }
            }
            fs::rename(&partial, path).map_err(|e| format!("cannot put the copy in place: {e}"))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                sync_dir(dir)?;
            }
            (path.clone(), Some(tickets))
        }
        DatabaseUrl::Postgres(url) => {
            let dump = source.join(POSTGRES_FILE);
            if !dump.is_file() {
                return Err(format!("{} holds no {POSTGRES_FILE}", source.display()));
            }
            // Creates the database when it is missing and the account may.
            let db = Db::open(&settings.database_url, &settings.pool).map_err(|e| e.to_string())?;
            let existing = db
                .read(|c| Ok::<_, crate::store::StoreError>(copies::holds_tickets(c)))
                .map_err(|e| e.to_string())?;
            if existing && !force {
                return Err(
                    "the database already holds a hotline: stop the service and pass --force to \
                     replace it"
                        .to_owned(),
                );
            }
            drop(db);
            run(Command::new("pg_restore")
                .args([
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    "--dbname",
                ])
                .arg(url)
                .arg(&dump))?;
            (dump, None)
        }
    };
    let evidence = source.join(EVIDENCE_DIR);
    let (evidence_files, evidence_in_bucket) = match &settings.storage {
        StorageLocation::Directory(root) if evidence.is_dir() => (
            copy_evidence(&evidence, root, &digests_in(&evidence)?)?,
            false,
        ),
        StorageLocation::Directory(_) => (0, false),
        StorageLocation::Bucket(_) => (0, true),
    };
    Ok(Outcome {
        database,
        tickets,
        evidence_files,
        evidence_in_bucket,
    })
}

/// The digests of the files under a backup's evidence directory.
fn digests_in(root: &Path) -> Result<Vec<String>, String> {
    let mut digests = Vec::new();
    for shard in fs::read_dir(root).map_err(|e| format!("cannot read {}: {e}", root.display()))? {
        let shard = shard.map_err(|e| e.to_string())?.path();
        if !shard.is_dir() {
            continue;
        }
        for file in fs::read_dir(&shard).map_err(|e| e.to_string())? {
            let name = file.map_err(|e| e.to_string())?.file_name();
            let name = name.to_string_lossy();
            if files::is_sha256(&name) {
                digests.push(name.into_owned());
            }
        }
    }
    Ok(digests)
}

/// Copies the files named by `digests` from one evidence directory to another, skipping those
/// already there (content-addressed: same name, same bytes); returns how many it copied.
fn copy_evidence(from: &Path, to: &Path, digests: &[String]) -> Result<usize, String> {
    let mut copied = 0;
    for sha256 in digests {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "the database names a file `{sha256}` that is not a SHA-256"
            ));
        }
        let relative = Path::new(&sha256[..2]).join(sha256);
        let destination = to.join(&relative);
        if destination.is_file() {
            continue;
        }
        let dir = to.join(&sha256[..2]);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let partial = dir.join(format!("{sha256}.part"));
        fs::copy(from.join(&relative), &partial).map_err(|e| {
            format!(
                "the evidence file {sha256} cannot be copied from {}: {e}",
                from.display()
            )
        })?;
        sync_file(&partial)?;
        fs::rename(&partial, &destination).map_err(|e| e.to_string())?;
        copied += 1;
    }
    if copied > 0 {
        sync_dir(to)?;
    }
    Ok(copied)
}

fn run(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .map_err(|e| format!("cannot run {program} (is it on PATH?): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
