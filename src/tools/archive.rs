//! Archiving the record of months past the keeping period: the rows are written to a new
//! directory (one JSON Lines file per table and a manifest with counts and SHA-256 digests),
//! flushed to disk, and only then removed from the database, in one transaction that removes
//! exactly the rows written or nothing. Tickets themselves, their assignments and replies stay.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{create_empty_dir, sync_dir, sync_file};
use crate::config::Settings;
use crate::domain::period::Month;
use crate::domain::retention;
use crate::store::archive::{ARCHIVED, ArchiveRun};
use crate::store::{self, Db, StoreError};

pub const MANIFEST: &str = "manifest.json";

/// One table's part of an archive.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TableArchive {
    pub table: String,
    pub file: String,
    pub rows: u64,
    pub sha256: String,
    pub highest_id: i64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Rows written before the first instant of this month (UTC) are in the archive.
    pub before: String,
    pub cutoff: DateTime<Utc>,
    pub keep_months: u32,
    pub archived_at: DateTime<Utc>,
    pub tables: Vec<TableArchive>,
}

/// What an archive run did.
#[derive(Debug)]
pub struct Outcome {
    pub directory: PathBuf,
    pub manifest: Manifest,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows written before {} archived into {} and removed:",
            self.manifest.cutoff.to_rfc3339(),
            self.directory.display()
        )?;
        for table in &self.manifest.tables {
            write!(f, " {} {};", table.table, table.rows)?;
        }
        Ok(())
    }
}

/// Archives the rows written before `before` (a UTC month, `YYYY-MM`) into `target`, a new
/// or empty directory, then removes them; refuses a month still within the keeping period.
pub fn archive(
    settings: &Settings,
    before: &str,
    target: &Path,
    now: DateTime<Utc>,
) -> Result<Outcome, String> {
    let month = Month::parse(before)?;
    let cutoff = retention::archive_cutoff(month, now, settings.keep_months)
        .map_err(|refused| format!("{refused} (HOTLINE_KEEP_MONTHS)"))?;
    create_empty_dir(target, "an archive")?;
    let db = crate::startup::open_database(settings).map_err(|e| e.to_string())?;
    let mut tables = Vec::new();
    for archived in &ARCHIVED {
        tables.push(export(&db, archived, cutoff, target)?);
    }
    let manifest = Manifest {
        before: month.to_string(),
        cutoff,
        keep_months: settings.keep_months,
        archived_at: now,
        tables,
    };
    let manifest_path = target.join(MANIFEST);
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    fs::write(&manifest_path, &text)
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    sync_file(&manifest_path)?;
    sync_dir(target)?;
    let rows = manifest.tables.iter().map(|t| t.rows).sum();
    let run = ArchiveRun::new(
        month,
        cutoff,
        rows,
        String::from_utf8_lossy(&text).into(),
        now,
    );
    db.write(|c| -> Result<(), StoreError> {
        store::allow_long_statements(c, settings.pool.report_timeout)?;
        store::archive::record(c, &run)?;
        for (archived, written) in ARCHIVED.iter().zip(&manifest.tables) {
            let removed = archived.remove(c, cutoff, written.highest_id)?;
            if removed != written.rows {
                return Err(StoreError::corrupt(format!(
                    "{} would lose {removed} rows for the {} archived: rows were written into \
                     the archived months meanwhile",
                    archived.table, written.rows
                )));
            }
        }
        Ok(())
    })
    .map_err(|e| {
        format!(
            "nothing was removed ({e}); the files in {} are not an archive of anything removed",
            target.display()
        )
    })?;
    Ok(Outcome {
        directory: target.to_path_buf(),
        manifest,
    })
}

/// Writes one table's rows to `<table>.jsonl` in `target`, durably.
fn export(
    db: &Db,
    archived: &store::archive::Archived,
    cutoff: DateTime<Utc>,
    target: &Path,
) -> Result<TableArchive, String> {
    let file = format!("{}.jsonl", archived.table);
    let path = target.join(&file);
    let out =
        fs::File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut out = BufWriter::new(out);
    let mut digest = Sha256::new();
    let (rows, highest_id) = db
        .read(|c| {
            archived.export(c, cutoff, |line| {
                digest.update(line.as_bytes());
                digest.update(b"\n");
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")
            })
        })
        .map_err(|e| format!("cannot read {}: {e}", archived.table))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(TableArchive {
        table: archived.table.to_owned(),
        file,
        rows,
        sha256: store::files::hex(&digest.finalize()),
        highest_id,
    })
}
