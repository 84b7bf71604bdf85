//! The schema twice, once per dialect, embedded in the binary and applied at start-up.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies what is pending; returns the names of the migrations applied now.
pub fn run(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first; returns their names.
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let reverted = match conn {
        DbConnection::Pg(c) => c.revert_all_migrations(POSTGRES),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(reverted.iter().map(ToString::to_string).collect())
}

/// Whether migrations are still pending (the service refuses to serve on an old schema).
pub fn pending(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let pending = match conn {
        DbConnection::Pg(c) => c.pending_migrations(POSTGRES).map(|m| m.len()),
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE).map(|m| m.len()),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(pending)
}
