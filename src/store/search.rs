//! The word index of tickets and articles (see [`crate::domain::search`] for its terms): FTS5
//! on SQLite; on PostgreSQL a GIN-indexed `tsvector` for tickets and a row per term and article
//! for articles. All are fed the same terms, so that both backends find the same rows. The
//! index narrows; the caller checks what it finds against the texts.
//!
//! Articles are few and long, and a common word is in many of them: a `tsvector` of a thousand
//! terms makes every article a wide row, and reading the keys of a thousand found articles
//! through GIN reads most of those rows. Their terms as rows of a B-tree are read from the index
//! alone, a few pages for a thousand articles.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use super::sql::{Id, Uid};
use super::{Backend, DbConnection, StoreError};
use crate::domain::search::{article_index_terms, index_terms};

/// What is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    Tickets,
    Articles,
}

impl Corpus {
    /// The table of the indexed rows, its key column, and the index's tables.
    fn names(self) -> Names {
        match self {
            Corpus::Tickets => Names {
                source: "tickets",
                index: "ticket_search",
                term_rows: None,
                rows: "ticket_search_rows",
                key: "ticket_id",
                texts: "s.title AS a, s.content AS b, COALESCE(s.address, '') AS c",
            },
            Corpus::Articles => Names {
                source: "knowledge_articles",
                index: "article_search",
                term_rows: Some("article_search_terms"),
                rows: "article_search_rows",
                key: "article_id",
                texts: "s.title AS a, s.body AS b, s.keywords AS c",
            },
        }
    }
}

impl Corpus {
    /// The terms a row is indexed under, from its texts in the order of [`Names::texts`].
    fn terms(self, [a, b, c]: [&str; 3]) -> Vec<String> {
        match self {
            Corpus::Tickets => index_terms([a, b, c]),
            Corpus::Articles => article_index_terms(a, c, b),
        }
    }
}

struct Names {
    source: &'static str,
    /// SQLite: the FTS5 table. PostgreSQL: a row per indexed row, with its `tsvector` unless
    /// its terms are in [`Names::term_rows`].
    index: &'static str,
    /// PostgreSQL: the table of the corpus's terms as `(term, key)` rows, when it has one.
    term_rows: Option<&'static str>,
    /// SQLite: the integer each indexed row is known by to FTS5.
    rows: &'static str,
    key: &'static str,
    /// The indexed texts of a source row `s`, as the text columns `a`, `b` and `c`.
    texts: &'static str,
}

/// The question for the index: every term, in the backend's query language (for a corpus in
/// term rows, the terms apart by spaces). The terms are letters, digits and ideographs alone (no
/// quotes, no operators, no spaces), quoted all the same.
pub fn index_query(corpus: Corpus, backend: Backend, terms: &[String]) -> String {
    match backend {
        Backend::Sqlite => terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres if corpus.names().term_rows.is_some() => terms.join(" "),
        Backend::Postgres => terms
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// A condition on `id_column` (a key of the corpus's rows) that holds for the rows indexed
/// under every term of the question bound at `placeholder` (an [`index_query`]).
pub fn indexed_under(
    corpus: Corpus,
    backend: Backend,
    id_column: &str,
    placeholder: &str,
) -> String {
    let Names {
        index, rows, key, ..
    } = corpus.names();
    match backend {
        Backend::Sqlite => format!(
            "{id_column} IN (SELECT r.{key} FROM {index} JOIN {rows} r ON r.row = {index}.rowid \
             WHERE {index} MATCH {placeholder})"
        ),
        Backend::Postgres => format!(
            "{id_column} IN ({})",
            found_on_postgres(corpus, placeholder, "")
        ),
    }
}

/// PostgreSQL: the keys (as `key`, with the columns `also` selects) of the rows indexed under
/// every term of the question bound at `placeholder`.
fn found_on_postgres(corpus: Corpus, placeholder: &str, also: &str) -> String {
    let Names {
        index,
        key,
        term_rows,
        ..
    } = corpus.names();
    match term_rows {
        Some(term_rows) => {
            let terms = terms_bound_at(placeholder);
            format!(
                "SELECT t.{key} AS key{also} FROM {term_rows} t WHERE t.term = ANY ({terms}) \
                 GROUP BY t.{key} HAVING COUNT(*) = cardinality({terms})"
            )
        }
        None => format!(
            "SELECT s.{key} AS key{also} FROM {index} s \
             WHERE s.terms @@ CAST({placeholder} AS tsquery)"
        ),
    }
}

/// The rows indexed under every term of at least one of several groups of terms, each with the
/// sum of the weights of the groups it is indexed under all of: a subquery answering `key` (the
/// row's key) and `weight`, for a `FROM` clause, the question of group n (from 0, an
/// [`index_query`]) bound at `$n+1`. Each group is its own read of the index, which the planner
/// estimates well and which never reads the rows' terms.
pub fn weighed_matches(corpus: Corpus, backend: Backend, weights: &[i32]) -> String {
    let Names {
        index,
        rows,
        key,
        term_rows,
        ..
    } = corpus.names();
    let each = |read: &dyn Fn(usize, i32) -> String| {
        weights
            .iter()
            .enumerate()
            .map(|(n, weight)| read(n + 1, *weight))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    };
    match backend {
        // The found rows' keys are read once each, after the groups are summed.
        Backend::Sqlite => format!(
            "(SELECT r.{key} AS key, g.weight FROM (SELECT f.row, CAST(SUM(f.w) AS INTEGER) AS weight \
             FROM ({}) f GROUP BY f.row) g CROSS JOIN {rows} r ON r.row = g.row)",
            each(&|n, weight| format!(
                "SELECT rowid AS row, {weight} AS w FROM {index} WHERE {index} MATCH ${n}"
            ))
        ),
        // The term rows of every group are read in one scan of their index and summed per row
        // in one pass: a term belongs to one group alone (its letter tells which).
        Backend::Postgres => match term_rows {
            Some(term_rows) => {
                let groups: Vec<(String, i32)> = weights
                    .iter()
                    .enumerate()
                    .map(|(n, weight)| (terms_bound_at(&format!("${}", n + 1)), *weight))
                    .collect();
                let weight = groups
                    .iter()
                    .map(|(terms, weight)| {
                        format!(
                            "CASE WHEN COUNT(*) FILTER (WHERE t.term = ANY ({terms})) \
                             = cardinality({terms}) THEN {weight} ELSE 0 END"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" + ");
                let every_term = groups
                    .iter()
                    .map(|(terms, _)| terms.as_str())
                    .collect::<Vec<_>>()
                    .join(" || ");
                format!(
                    "(SELECT g.key, g.weight FROM (SELECT t.{key} AS key, \
                     CAST({weight} AS INTEGER) AS weight FROM {term_rows} t \
                     WHERE t.term = ANY ({every_term}) GROUP BY t.{key}) g WHERE g.weight > 0)"
                )
            }
            None => format!(
                "(SELECT f.key, CAST(SUM(f.w) AS INTEGER) AS weight FROM ({}) f GROUP BY f.key)",
                each(&|n, weight| found_on_postgres(
                    corpus,
                    &format!("${n}"),
                    &format!(", {weight} AS w")
                ))
            ),
        },
    }
}

/// PostgreSQL: the terms of a question for term rows (an [`index_query`]) bound at
/// `placeholder`, as an array.
fn terms_bound_at(placeholder: &str) -> String {
    format!("string_to_array(CAST({placeholder} AS TEXT), ' ')")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// How many rows are indexed under every term of `terms`, counted up to `cap`: enough to tell
/// whether reading the index's rows costs less than walking a list until its page is full.
pub fn count_indexed_under(
    conn: &mut DbConnection,
    corpus: Corpus,
    terms: &[String],
    cap: i64,
) -> Result<i64, StoreError> {
    let Names { index, .. } = corpus.names();
    let count = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT COUNT(*) AS count FROM (SELECT 1 FROM {index} WHERE {index} MATCH $1 LIMIT $2)"
        ))
        .bind::<Text, _>(index_query(corpus, Backend::Sqlite, terms))
        .bind::<BigInt, _>(cap)
        .get_result::<Count>(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT COUNT(*) AS count FROM ({} LIMIT $2) m",
            found_on_postgres(corpus, "$1", "")
        ))
        .bind::<Text, _>(index_query(corpus, Backend::Postgres, terms))
        .bind::<BigInt, _>(cap)
        .get_result::<Count>(c)?,
    };
    Ok(count.count)
}

/// Indexes one row under the terms of its texts (in the order of [`Names::texts`]), replacing
/// what it was indexed under.
pub fn index(
    conn: &mut DbConnection,
    corpus: Corpus,
    id: Uuid,
    texts: [&str; 3],
) -> Result<(), StoreError> {
    let terms = corpus.terms(texts);
    let Names {
        index,
        rows,
        key,
        term_rows,
        ..
    } = corpus.names();
    match conn {
        DbConnection::Sqlite(c) => {
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = BigInt)]
                row: i64,
            }
            let existing = diesel::sql_query(format!("SELECT row FROM {rows} WHERE {key} = $1"))
                .bind::<Uid, _>(Id(id))
                .get_result::<Row>(c)
                .optional()?;
            let row = match existing {
                Some(Row { row }) => {
                    diesel::sql_query(format!("DELETE FROM {index} WHERE rowid = $1"))
                        .bind::<BigInt, _>(row)
                        .execute(c)?;
                    row
                }
                None => {
                    diesel::sql_query(format!(
                        "INSERT INTO {rows} ({key}) VALUES ($1) RETURNING row"
                    ))
                    .bind::<Uid, _>(Id(id))
                    .get_result::<Row>(c)?
                    .row
                }
            };
            diesel::sql_query(format!(
                "INSERT INTO {index} (rowid, terms) VALUES ($1, $2)"
            ))
            .bind::<BigInt, _>(row)
            .bind::<Text, _>(terms.join(" "))
            .execute(c)?;
        }
        DbConnection::Pg(c) => match term_rows {
            Some(term_rows) => {
                diesel::sql_query(format!(
                    "INSERT INTO {index} ({key}) VALUES ($1) ON CONFLICT ({key}) DO NOTHING"
                ))
                .bind::<Uid, _>(Id(id))
                .execute(c)?;
                diesel::sql_query(format!("DELETE FROM {term_rows} WHERE {key} = $1"))
                    .bind::<Uid, _>(Id(id))
                    .execute(c)?;
                diesel::sql_query(format!(
                    "INSERT INTO {term_rows} (term, {key}) SELECT unnest($1), $2"
                ))
                .bind::<diesel::sql_types::Array<Text>, _>(terms)
                .bind::<Uid, _>(Id(id))
                .execute(c)?;
            }
            None => {
                diesel::sql_query(format!(
                    "INSERT INTO {index} ({key}, terms) VALUES ($1, array_to_tsvector($2)) \
                     ON CONFLICT ({key}) DO UPDATE SET terms = excluded.terms"
                ))
                .bind::<Uid, _>(Id(id))
                .bind::<diesel::sql_types::Array<Text>, _>(terms)
                .execute(c)?;
            }
        },
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Unindexed {
    #[diesel(sql_type = Uid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
}

/// Indexes up to `limit` rows the index does not hold yet (written before it existed); answers
/// how many.
pub fn index_missing(
    conn: &mut DbConnection,
    corpus: Corpus,
    limit: i64,
) -> Result<usize, StoreError> {
    let Names {
        source,
        index,
        rows,
        key,
        texts,
        ..
    } = corpus.names();
    let indexed = match conn {
        DbConnection::Sqlite(_) => rows,
        DbConnection::Pg(_) => index,
    };
    let sql = format!(
        "SELECT s.id, {texts} FROM {source} s WHERE NOT EXISTS \
         (SELECT 1 FROM {indexed} i WHERE i.{key} = s.id) LIMIT $1"
    );
    let missing: Vec<Unindexed> = crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<BigInt, _>(limit)
        .load(c))?;
    for row in &missing {
        self::index(
            conn,
            corpus,
            row.id,
            [row.a.as_str(), row.b.as_str(), row.c.as_str()],
        )?;
    }
    Ok(missing.len())
}

/// Whether every row of the corpus is indexed, counted rather than looked for one by one: a
/// start-up over a million tickets asks this in a few milliseconds.
pub fn complete(conn: &mut DbConnection, corpus: Corpus) -> Result<bool, StoreError> {
    let Names {
        source,
        index,
        rows,
        ..
    } = corpus.names();
    let indexed = match conn {
        DbConnection::Sqlite(_) => rows,
        DbConnection::Pg(_) => index,
    };
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM {source}) - (SELECT COUNT(*) FROM {indexed}) AS count"
    );
    let missing: Count = crate::per_backend!(conn, |c| diesel::sql_query(&sql).get_result(c))?;
    Ok(missing.count == 0)
}
