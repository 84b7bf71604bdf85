//! The word index of tickets and articles (see [`crate::domain::search`] for its terms): FTS5
//! on SQLite; on PostgreSQL a GIN-indexed `tsvector` for tickets and a row per pair and article
//! for articles. All are fed the same terms, so that both backends find the same rows. The
//! index narrows; the caller checks what it finds against the texts.
//!
//! Articles are few and long, and a common word is in many of them: a `tsvector` of a thousand
//! terms makes every article a wide row, and reading the keys of a thousand found articles
//! through GIN reads most of those rows. Their pairs as rows of a B-tree, each with the parts
//! holding it as bits, are read from the index alone: one entry per pair and article, a few
//! pages for a thousand articles.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use super::sql::{Id, Uid};
use super::{Backend, DbConnection, StoreError};
use crate::domain::search::{
    ArticleField, article_index_pairs, article_index_terms, index_terms, query_terms,
};

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
                term_rows: Some("article_search_pairs"),
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
    /// its pairs are in [`Names::term_rows`].
    index: &'static str,
    /// PostgreSQL: the table of the corpus's pairs as `(pair, key, parts)` rows, the parts
    /// holding each pair as bits ([`crate::domain::search::ArticleField::bit`]), when it has one.
    term_rows: Option<&'static str>,
    /// SQLite: the integer each indexed row is known by to FTS5.
    rows: &'static str,
    key: &'static str,
    /// The indexed texts of a source row `s`, as the text columns `a`, `b` and `c`.
    texts: &'static str,
}

/// The question for a text index (FTS5, or the tickets' `tsvector`): every term, in the
/// backend's query language. The terms are letters, digits and ideographs alone (no quotes, no
/// operators, no spaces), quoted all the same.
pub fn index_query(backend: Backend, terms: &[String]) -> String {
    match backend {
        Backend::Sqlite => terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres => terms
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// A condition on `id_column` (a ticket's id) that holds for the tickets indexed under every
/// term of the question bound at `placeholder` (an [`index_query`]). Articles are ranked by the
/// parts holding a question instead ([`article_matches`]).
pub fn indexed_under(backend: Backend, id_column: &str, placeholder: &str) -> String {
    let Names {
        index, rows, key, ..
    } = Corpus::Tickets.names();
    match backend {
        Backend::Sqlite => format!(
            "{id_column} IN (SELECT r.{key} FROM {index} JOIN {rows} r ON r.row = {index}.rowid \
             WHERE {index} MATCH {placeholder})"
        ),
        Backend::Postgres => format!(
            "{id_column} IN ({})",
            tickets_found_on_postgres(placeholder)
        ),
    }
}

/// PostgreSQL: the ids (as `key`) of the tickets indexed under every term of the question bound
/// at `placeholder`.
fn tickets_found_on_postgres(placeholder: &str) -> String {
    let Names { index, key, .. } = Corpus::Tickets.names();
    format!("SELECT s.{key} AS key FROM {index} s WHERE s.terms @@ CAST({placeholder} AS tsquery)")
}

#[derive(QueryableByName)]
struct Match {
    #[diesel(sql_type = Uid)]
    key: Uuid,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    weight: i32,
}

/// The articles indexed as holding every pair of `q` in at least one of their parts, each with
/// the sum of the weights of the parts that do ([`ArticleField::weight`]): the best score its
/// texts can have, as a part may hold the pairs apart.
pub fn article_matches(conn: &mut DbConnection, q: &str) -> Result<Vec<(Uuid, i32)>, StoreError> {
    let Names {
        index,
        rows,
        key,
        term_rows,
        ..
    } = Corpus::Articles.names();
    let found: Vec<Match> = match conn {
        // Each part is its own read of the index, which the planner estimates well; the found
        // rows' keys are read once each, after the parts are summed.
        DbConnection::Sqlite(c) => {
            let parts = ArticleField::ALL
                .iter()
                .enumerate()
                .map(|(n, field)| {
                    format!(
                        "SELECT rowid AS row, {} AS w FROM {index} WHERE {index} MATCH ${}",
                        field.weight(),
                        n + 1
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let sql = format!(
                "SELECT r.{key} AS key, g.weight FROM (SELECT f.row, CAST(SUM(f.w) AS INTEGER) \
                 AS weight FROM ({parts}) f GROUP BY f.row) g CROSS JOIN {rows} r ON r.row = g.row"
            );
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>();
            for field in ArticleField::ALL {
                query = query.bind::<Text, _>(index_query(Backend::Sqlite, &field.terms(q)));
            }
            query.load(c)?
        }
        // One read of the index, an entry per pair and article: the parts holding every pair
        // are the AND of the pairs' parts.
        DbConnection::Pg(c) => {
            let term_rows = term_rows.expect("articles are in term rows on PostgreSQL");
            let pairs = query_terms(q);
            let weight = ArticleField::ALL
                .iter()
                .map(|f| {
                    format!(
                        "CASE WHEN bit_and(t.parts) & {} <> 0 THEN {} ELSE 0 END",
                        f.bit(),
                        f.weight()
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ");
            diesel::sql_query(format!(
                "SELECT t.{key} AS key, CAST({weight} AS INTEGER) AS weight FROM {term_rows} t \
                 WHERE t.pair = ANY ($1) GROUP BY t.{key} \
                 HAVING COUNT(*) = $2 AND bit_and(t.parts) <> 0"
            ))
            .bind::<diesel::sql_types::Array<Text>, _>(&pairs)
            .bind::<BigInt, _>(pairs.len() as i64)
            .load(c)?
        }
    };
    Ok(found.into_iter().map(|m| (m.key, m.weight)).collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// How many tickets are indexed under every term of `terms`, counted up to `cap`: enough to
/// tell whether reading the index's rows costs less than walking a list until its page is full.
pub fn count_indexed_under(
    conn: &mut DbConnection,
    terms: &[String],
    cap: i64,
) -> Result<i64, StoreError> {
    let Names { index, .. } = Corpus::Tickets.names();
    let count = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT COUNT(*) AS count FROM (SELECT 1 FROM {index} WHERE {index} MATCH $1 LIMIT $2)"
        ))
        .bind::<Text, _>(index_query(Backend::Sqlite, terms))
        .bind::<BigInt, _>(cap)
        .get_result::<Count>(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT COUNT(*) AS count FROM ({} LIMIT $2) m",
            tickets_found_on_postgres("$1")
        ))
        .bind::<Text, _>(index_query(Backend::Postgres, terms))
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
            .bind::<Text, _>(corpus.terms(texts).join(" "))
            .execute(c)?;
        }
        DbConnection::Pg(c) => match term_rows {
            Some(term_rows) => {
                let [title, body, keywords] = texts;
                let (pairs, parts): (Vec<String>, Vec<i16>) =
                    article_index_pairs(title, keywords, body)
                        .into_iter()
                        .unzip();
                diesel::sql_query(format!(
                    "INSERT INTO {index} ({key}) VALUES ($1) ON CONFLICT ({key}) DO NOTHING"
                ))
                .bind::<Uid, _>(Id(id))
                .execute(c)?;
                diesel::sql_query(format!("DELETE FROM {term_rows} WHERE {key} = $1"))
                    .bind::<Uid, _>(Id(id))
                    .execute(c)?;
                diesel::sql_query(format!(
                    "INSERT INTO {term_rows} (pair, {key}, parts) SELECT unnest($1), $2, unnest($3)"
                ))
                .bind::<diesel::sql_types::Array<Text>, _>(pairs)
                .bind::<Uid, _>(Id(id))
                .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(parts)
                .execute(c)?;
            }
            None => {
                diesel::sql_query(format!(
                    "INSERT INTO {index} ({key}, terms) VALUES ($1, array_to_tsvector($2)) \
                     ON CONFLICT ({key}) DO UPDATE SET terms = excluded.terms"
                ))
                .bind::<Uid, _>(Id(id))
                .bind::<diesel::sql_types::Array<Text>, _>(corpus.terms(texts))
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
