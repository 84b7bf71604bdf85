//! The command line's tools beside the server: a demo hotline, importing historical tickets,
//! generating synthetic ones, backups, and archiving months past the keeping period.

use std::fs;
use std::io::Write;
use std::path::Path;

pub mod archive;
pub mod backup;
pub mod demo;
pub mod generate;
pub mod import;

/// Flushes a written file to the disk: what a backup or an archive holds must survive a power
/// cut before anything counts on it.
pub(crate) fn sync_file(path: &Path) -> Result<(), String> {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.flush().and_then(|()| f.sync_all()))
        .map_err(|e| format!("cannot flush {}: {e}", path.display()))
}

pub(crate) fn sync_dir(path: &Path) -> Result<(), String> {
    fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot flush {}: {e}", path.display()))
}

/// Makes `target` for `what` to be written into; it must not exist yet or be empty, so that
/// nothing is ever written over an earlier one.
pub(crate) fn create_empty_dir(target: &Path, what: &str) -> Result<(), String> {
    if target.exists()
        && fs::read_dir(target)
            .map_err(|e| format!("cannot read {}: {e}", target.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{} is not empty: {what} goes into a new directory",
            target.display()
        ));
    }
    fs::create_dir_all(target).map_err(|e| format!("cannot create {}: {e}", target.display()))
}
