use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong below the HTTP layer, sorted by what the caller should hear.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is too busy right now: worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("not found")]
    NotFound,
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
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(_, info) if is_busy(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::BrokenTransactionManager => {
                StoreError::Unavailable("the connection's transaction state was lost".into())
            }
            _ => StoreError::Query(error),
        }
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

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

#[cfg(test)]
mod tests {
    use super::*;

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
