use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong below the HTTP layer, sorted by what the caller should hear.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is too busy right now: worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A statement, or the request's whole database work, ran past its time: worth retrying.
    #[error("database timed out: {0}")]
    Timeout(String),
    /// The disk under the database or the file store is full: nothing was written.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// The evidence store (a directory or a bucket) failed, refused, was too slow, or lacks a
    /// file the database names: worth retrying, and the operator's to look at.
    #[error("evidence store: {0}")]
    EvidenceStore(String),
    /// The database refuses writes (a read-only disk, a standby after failover).
    #[error("storage read-only: {0}")]
    ReadOnly(String),
    #[error("not found")]
    NotFound,
    /// What was asked for reaches back before the record `hotline archive` moved out.
    #[error("the record before {before} has been archived")]
    Archived {
        before: chrono::DateTime<chrono::Utc>,
    },
    /// A unique constraint refused the row; `table` tells which.
    #[error("duplicate row in {table}")]
    Duplicate { table: String },
    /// A row points at something that does not exist.
    #[error("reference to a missing row: {0}")]
    MissingReference(String),
    /// A stored value the service cannot read back: a bug or a hand edit, never the client's fault.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(DieselError),
}

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }

    pub fn is_duplicate_in(&self, wanted: &str) -> bool {
        matches!(self, StoreError::Duplicate { table } if table == wanted)
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Duplicate {
                    table: violated_table(info.table_name(), info.message()),
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StoreError::MissingReference(info.message().to_owned())
            }
            DieselError::BrokenTransactionManager => {
                StoreError::Unavailable("the connection's transaction state was lost".into())
            }
            DieselError::DatabaseError(_, info) => match outage(&error) {
                Some(Outage::ConnectionLost | Outage::Busy) => {
                    StoreError::Unavailable(info.message().to_owned())
                }
                Some(Outage::Timeout) => StoreError::Timeout(info.message().to_owned()),
                Some(Outage::StorageFull) => StoreError::StorageFull(info.message().to_owned()),
                Some(Outage::ReadOnly) => StoreError::ReadOnly(info.message().to_owned()),
                None => StoreError::Query(error),
            },
            _ => StoreError::Query(error),
        }
    }
}

/// Why the database could not do what was asked, when the reason lies in the environment and
/// not in the request: the caller should retry later rather than change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The connection is gone (server restart, `pg_terminate_backend`, a broken network): the
    /// connection must leave the pool.
    ConnectionLost,
    /// Locked by another writer, or a transaction the server chose to abort; the connection is
    /// fine.
    Busy,
    Timeout,
    StorageFull,
    ReadOnly,
}

/// Sorts a database error into the outages the service answers 503 or 507 to.
///
/// PostgreSQL's error codes do not reach us through Diesel, only its kinds and messages;
/// SQLite's messages are fixed English texts. PostgreSQL words its messages in the server's
/// `lc_messages`, so the timeout and disk texts below are recognised for English servers
/// (the default of initdb and the official images).
pub fn outage(error: &DieselError) -> Option<Outage> {
    let DieselError::DatabaseError(kind, info) = error else {
        return None;
    };
    match kind {
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
            return Some(Outage::ConnectionLost);
        }
        DatabaseErrorKind::SerializationFailure => return Some(Outage::Busy),
        DatabaseErrorKind::ReadOnlyTransaction => return Some(Outage::ReadOnly),
        _ => {}
    }
    let message = info.message();
    let has = |needle: &str| message.contains(needle);
    if has("database is locked") || has("database is busy") || has("deadlock detected") {
        Some(Outage::Busy)
    } else if has("statement timeout") || has("canceling statement due to user request") {
        Some(Outage::Timeout)
    } else if has("database or disk is full")
        || has("No space left on device")
        || has("could not extend file")
    {
        Some(Outage::StorageFull)
    } else if has("readonly database") || has("read-only") {
        Some(Outage::ReadOnly)
    } else if has("disk I/O error")
        || has("server closed the connection")
        || has("terminating connection")
        || has("no connection to the server")
        || has("could not receive data from server")
        || has("could not send data to server")
        || has("SSL connection has been closed")
    {
        Some(Outage::ConnectionLost)
    } else {
        None
    }
}

/// PostgreSQL names the table; SQLite only says `UNIQUE constraint failed: table.column, …`.
fn violated_table(table: Option<&str>, message: &str) -> String {
    if let Some(table) = table {
        return table.to_owned();
    }
    message
        .strip_prefix("UNIQUE constraint failed: ")
        .and_then(|columns| columns.split('.').next())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn outages_are_told_from_the_errors_of_both_databases() {
        use DatabaseErrorKind::*;
        let cases = [
            (
                ClosedConnection,
                "server closed the connection unexpectedly",
                Some(Outage::ConnectionLost),
            ),
            (
                UnableToSendCommand,
                "no connection to the server",
                Some(Outage::ConnectionLost),
            ),
            (
                Unknown,
                "terminating connection due to administrator command",
                Some(Outage::ConnectionLost),
            ),
            (
                Unknown,
                "canceling statement due to statement timeout",
                Some(Outage::Timeout),
            ),
            (
                Unknown,
                "database or disk is full",
                Some(Outage::StorageFull),
            ),
            (
                Unknown,
                "could not extend file \"base/16384/2619\": No space left on device",
                Some(Outage::StorageFull),
            ),
            (
                Unknown,
                "attempt to write a readonly database",
                Some(Outage::ReadOnly),
            ),
            (
                ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction",
                Some(Outage::ReadOnly),
            ),
            (Unknown, "database is locked", Some(Outage::Busy)),
            (
                SerializationFailure,
                "could not serialize access",
                Some(Outage::Busy),
            ),
            (Unknown, "deadlock detected", Some(Outage::Busy)),
            (CheckViolation, "CHECK constraint failed: status", None),
            (Unknown, "no such column: x", None),
        ];
        for (kind, message, expected) in cases {
            assert_eq!(
                outage(&database_error(kind, message)),
                expected,
                "{message}"
            );
        }
        assert_eq!(outage(&DieselError::NotFound), None);
        assert!(matches!(
            StoreError::from(database_error(Unknown, "database or disk is full")),
            StoreError::StorageFull(_)
        ));
        assert!(matches!(
            StoreError::from(database_error(
                Unknown,
                "canceling statement due to statement timeout"
            )),
            StoreError::Timeout(_)
        ));
    }

    #[test]
    fn sqlite_unique_messages_name_the_table() {
        assert_eq!(
            violated_table(
                None,
                "UNIQUE constraint failed: tickets.channel, tickets.external_ref"
            ),
            "tickets"
        );
        assert_eq!(violated_table(Some("units"), "whatever"), "units");
        assert_eq!(violated_table(None, "something else"), "");
    }
}
