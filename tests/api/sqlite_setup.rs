//! The embedded database is set up for durability whatever backend the suite runs on: WAL,
//! `synchronous=FULL`, foreign keys on every pooled connection, and writes that queue rather
//! than fail.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hotline::store::{self, DatabaseUrl, Db, PoolOptions};

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

/// A pragma's value; `column` is what the pragma's table-valued form calls it.
fn pragma(conn: &mut store::DbConnection, name: &str, column: &str) -> String {
    diesel::sql_query(format!(
        "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"
    ))
    .get_result::<Setting>(conn)
    .unwrap()
    .value
}

fn sqlite() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(dir.path().join("h.db").to_str().unwrap()).unwrap();
    let db = Db::open(
        &url,
        &PoolOptions {
            max_size: 4,
            ..PoolOptions::default()
        },
    )
    .unwrap();
    db.read(store::migrations::run).unwrap();
    (dir, db)
}

#[test]
fn every_connection_is_durable_and_checks_references() {
    let (_dir, db) = sqlite();
    // Every connection of the pool at once, so that each is a different one.
    let mut held: Vec<_> = (0..4).map(|_| db.conn().unwrap()).collect();
    for conn in &mut held {
        assert_eq!(pragma(conn, "journal_mode", "journal_mode"), "wal");
        assert_eq!(pragma(conn, "synchronous", "synchronous"), "2", "FULL");
        assert_eq!(pragma(conn, "foreign_keys", "foreign_keys"), "1");
        assert_eq!(pragma(conn, "busy_timeout", "timeout"), "5000");
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn concurrent_read_then_write_transactions_all_commit() {
    let (_dir, db) = sqlite();
    let threads = 8;
    let each = 50;
    std::thread::scope(|scope| {
        for t in 0..threads {
            let db = &db;
            scope.spawn(move || {
                for i in 0..each {
                    db.write(|c| -> Result<(), store::StoreError> {
                        // Read first, then write: the pattern that fails under deferred BEGIN.
                        let before =
                            diesel::sql_query("SELECT COUNT(*) AS n FROM ticket_number_days")
                                .get_result::<Count>(c)?
                                .n;
                        diesel::sql_query(
                            "INSERT INTO ticket_number_days (day, last_value) VALUES ($1, $2)",
                        )
                        .bind::<Text, _>(format!("{t}-{i}"))
                        .bind::<BigInt, _>(before)
                        .execute(c)?;
                        Ok(())
                    })
                    .expect("no write is refused for a lock");
                }
            });
        }
    });
    let mut conn = db.conn().unwrap();
    let total = diesel::sql_query("SELECT COUNT(*) AS n FROM ticket_number_days")
        .get_result::<Count>(&mut *conn)
        .unwrap()
        .n;
    assert_eq!(total, (threads * each) as i64);
}
