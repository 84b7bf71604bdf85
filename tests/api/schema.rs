//! The schema on disk: migrations go up, down and up again, and what they create is exactly what
//! `src/store/schema.rs` declares, on the backend under test.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use hotline::store::{self, Backend, migrations};

use crate::helpers::*;

/// Table → columns in order: (name, Diesel type, nullable).
type Columns = BTreeMap<String, Vec<(String, String, bool)>>;

/// Reads the `diesel::table!` blocks of schema.rs.
fn declared() -> Columns {
    let source = include_str!("../../src/store/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some(header) = line.strip_suffix('{').filter(|_| line.contains('(')) {
            current = header.split_whitespace().next().map(str::to_owned);
            if let Some(name) = &current {
                tables.insert(name.clone(), Vec::new());
            }
        } else if line == "}" {
            current = None;
        } else if let (Some(table), Some((column, kind))) = (&current, line.split_once(" -> ")) {
            let kind = kind.trim_end_matches(',');
            let (kind, nullable) = match kind.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (kind, false),
            };
            // The service's own column types are stored as these (`store::sql`).
            let kind = match kind {
                "Uid" => "Text",
                "UtcTime" => "Timestamp",
                other => other,
            };
            tables
                .get_mut(table)
                .unwrap()
                .push((column.to_owned(), kind.to_owned(), nullable));
        }
    }
    tables
}

#[derive(QueryableByName, Debug)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

fn diesel_type(backend: Backend, column: &ColumnRow) -> String {
    let sql = column.data_type.to_ascii_lowercase();
    match (backend, sql.as_str()) {
        // A SQLite rowid key is `INTEGER PRIMARY KEY` and holds 64-bit values.
        (Backend::Sqlite, "integer") if column.pk == 1 => "BigInt",
        (_, "text") => "Text",
        (_, "bigint") => "BigInt",
        (_, "integer") => "Integer",
        (_, "boolean") => "Bool",
        (_, "double precision") | (Backend::Sqlite, "double") => "Double",
        (_, "timestamp without time zone") | (Backend::Sqlite, "timestamp") => "Timestamp",
        (_, other) => return format!("unmapped SQL type {other}"),
    }
    .to_owned()
}

/// What the database actually has.
fn actual(db: &store::Db) -> Columns {
    let backend = db.backend();
    let query = match backend {
        Backend::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             data_type::text AS data_type, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null, \
             0 AS pk FROM information_schema.columns WHERE table_schema = 'public' \
             AND table_name <> '__diesel_schema_migrations' \
             AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition) \
             ORDER BY table_name, ordinal_position"
        }
        Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             p.\"notnull\" AS not_null, p.pk AS pk FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.cid"
        }
    };
    let rows: Vec<ColumnRow> = db
        .read(|c| {
            diesel::sql_query(query)
                .load(c)
                .map_err(store::StoreError::from)
        })
        .unwrap();
    let mut tables = Columns::new();
    // The word index differs by backend (FTS5 and its shadow tables, a tsvector table) and is
    // read and written by `store::search` alone, in SQL of its own: schema.rs leaves it out.
    let word_index = |table: &str| {
        ["ticket_search", "article_search"]
            .iter()
            .any(|index| table.starts_with(index))
    };
    for row in rows.into_iter().filter(|r| !word_index(&r.table_name)) {
        // SQLite lets a single-column primary key hold NULL unless it says NOT NULL; a rowid key
        // never does.
        let nullable = row.not_null == 0
            && !(backend == Backend::Sqlite
                && row.pk == 1
                && row.data_type.eq_ignore_ascii_case("integer"));
        let kind = diesel_type(backend, &row);
        tables.entry(row.table_name.clone()).or_default().push((
            row.column_name.clone(),
            kind,
            nullable,
        ));
    }
    tables
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let (url, _database) = fresh_database();
    let db = open_db(&url);
    let applied = db.read(migrations::run).unwrap();
    assert!(!applied.is_empty());
    assert_eq!(db.read(migrations::pending).unwrap(), 0);
    let reverted = db.read(migrations::revert_all).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(
        actual(&db).is_empty(),
        "tables left after reverting: {:?}",
        actual(&db).keys()
    );
    let again = db.read(migrations::run).unwrap();
    assert_eq!(again, applied);
    assert_eq!(actual(&db).len(), declared().len());
}

#[test]
fn schema_rs_matches_what_the_migrations_create() {
    let (url, _database) = fresh_database();
    let db = open_db(&url);
    db.read(migrations::run).unwrap();
    let declared = declared();
    let actual = actual(&db);
    assert!(declared.len() >= 9, "schema.rs parsed into {declared:?}");
    assert_eq!(
        declared.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "tables differ"
    );
    for (table, columns) in &declared {
        assert_eq!(
            columns, &actual[table],
            "columns of {table} differ (name, type, nullable)"
        );
    }
}
