//! What a backup needs from the database: a consistent copy of a live SQLite file, a check of
//! a copy, and the evidence files rows name.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{attachments, tickets};
use super::{DbConnection, StoreError};

#[derive(QueryableByName)]
struct QuickCheck {
    #[diesel(sql_type = Text)]
    quick_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Digest {
    #[diesel(sql_type = Text)]
    sha256: String,
}

/// Writes the SQLite database opened by `open` into `copy` with `VACUUM INTO`: one read
/// transaction, so the copy is the database as of its start while writers go on (WAL).
pub fn sqlite_copy(open: &str, copy: &Path) -> Result<(), StoreError> {
    let mut live = SqliteConnection::establish(open)
        .map_err(|e| StoreError::Config(format!("cannot open {open}: {e}")))?;
    // A writer's lock is waited out, not failed on.
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut live)?;
    let path = copy
        .to_str()
        .ok_or_else(|| StoreError::Config(format!("{} is not valid UTF-8", copy.display())))?;
    diesel::sql_query(format!("VACUUM INTO '{}'", path.replace('\'', "''"))).execute(&mut live)?;
    Ok(())
}

/// Checks a SQLite copy page by page; returns its tickets and the evidence its rows name.
pub fn check_sqlite_copy(copy: &Path) -> Result<(i64, Vec<String>), StoreError> {
    let mut conn = SqliteConnection::establish(&copy.display().to_string())
        .map_err(|e| StoreError::Config(format!("cannot open {}: {e}", copy.display())))?;
    let check: Vec<QuickCheck> = diesel::sql_query("PRAGMA quick_check").load(&mut conn)?;
    if check.len() != 1 || check[0].quick_check != "ok" {
        let found: Vec<&str> = check.iter().map(|c| c.quick_check.as_str()).collect();
        return Err(StoreError::corrupt(format!(
            "the copy is damaged: {}",
            found.join("; ")
        )));
    }
    let tickets = diesel::sql_query("SELECT COUNT(*) AS n FROM tickets")
        .get_result::<Count>(&mut conn)?
        .n;
    let digests = diesel::sql_query("SELECT DISTINCT sha256 FROM attachments")
        .load::<Digest>(&mut conn)?
        .into_iter()
        .map(|d| d.sha256)
        .collect();
    Ok((tickets, digests))
}

/// The digests of every evidence file the database names.
pub fn evidence_digests(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(attachments::table
        .select(attachments::sha256)
        .distinct()
        .load(conn)?)
}

/// Whether the database holds a hotline's tickets already (a restore would replace them).
pub fn holds_tickets(conn: &mut DbConnection) -> bool {
    tickets::table
        .count()
        .get_result::<i64>(conn)
        .is_ok_and(|n| n > 0)
}
