//! The knowledge base's articles, every version of each, and the direct answers that cited them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{knowledge_article_versions, knowledge_articles, knowledge_citations};
use super::search::Corpus;
use super::sql::{At, Day, Id};
use super::{DbConnection, StoreError, contains_pattern, lower};
use crate::domain::knowledge::{
    Article, ArticleChange, ArticleContent, ArticleScope, ArticleStatus, Upkeep,
};
use crate::domain::search::{Rank, query_terms};

#[derive(Queryable, Selectable)]
#[diesel(table_name = knowledge_articles)]
struct ArticleRow {
    id: Uuid,
    unit_id: Option<Uuid>,
    status: ArticleStatus,
    title: String,
    body: String,
    category_id: Option<Uuid>,
    keywords: String,
    area_unit_id: Option<Uuid>,
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    review_due_on: NaiveDate,
    version: i64,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    reviewed_at: Option<DateTime<Utc>>,
    use_count: i64,
    last_used_at: Option<DateTime<Utc>>,
}

fn keywords_of(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(StoreError::corrupt)
}

fn keywords_text(keywords: &[String]) -> String {
    serde_json::Value::from(keywords).to_string()
}

impl ArticleRow {
    fn into_article(self) -> Result<Article, StoreError> {
        Ok(Article {
            id: self.id,
            unit_id: self.unit_id,
            status: self.status,
            content: ArticleContent {
                title: self.title,
                body: self.body,
                category_id: self.category_id,
                keywords: keywords_of(&self.keywords)?,
                area_unit_id: self.area_unit_id,
                effective_on: self.effective_on,
                expires_on: self.expires_on,
                review_due_on: self.review_due_on,
            },
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_by: self.updated_by,
            updated_at: self.updated_at,
            published_at: self.published_at,
            reviewed_at: self.reviewed_at,
            use_count: self.use_count,
            last_used_at: self.last_used_at,
        })
    }
}

/// One version of an article: what it said and where it stood after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleVersion {
    pub version: i64,
    pub change: ArticleChange,
    pub status: ArticleStatus,
    pub content: ArticleContent,
    pub note: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = knowledge_article_versions)]
struct VersionRow {
    version: i64,
    change: ArticleChange,
    status: ArticleStatus,
    title: String,
    body: String,
    category_id: Option<Uuid>,
    keywords: String,
    area_unit_id: Option<Uuid>,
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    review_due_on: NaiveDate,
    note: Option<String>,
    changed_by: Uuid,
    changed_at: DateTime<Utc>,
}

/// Declares, for a table with an article's content columns (the article's own, and its
/// versions'), those columns as they are written.
macro_rules! content_columns {
    ($name:ident, $table:ident) => {
        #[derive(Insertable, AsChangeset)]
        #[diesel(table_name = $table, treat_none_as_null = true)]
        struct $name {
            status: ArticleStatus,
            title: String,
            body: String,
            category_id: Option<Id>,
            keywords: String,
            area_unit_id: Option<Id>,
            effective_on: Option<Day>,
            expires_on: Option<Day>,
            review_due_on: Day,
        }

        impl From<&Article> for $name {
            fn from(article: &Article) -> Self {
                let c = &article.content;
                Self {
                    status: article.status,
                    title: c.title.clone(),
                    body: c.body.clone(),
                    category_id: c.category_id.map(Id),
                    keywords: keywords_text(&c.keywords),
                    area_unit_id: c.area_unit_id.map(Id),
                    effective_on: c.effective_on.map(Day),
                    expires_on: c.expires_on.map(Day),
                    review_due_on: Day(c.review_due_on),
                }
            }
        }
    };
}

content_columns!(ArticleColumns, knowledge_articles);
content_columns!(VersionColumns, knowledge_article_versions);

/// Writes the version an article's change made, beside the article's row.
fn append_version(
    conn: &mut DbConnection,
    article: &Article,
    change: ArticleChange,
    note: Option<&str>,
) -> Result<(), StoreError> {
    diesel::insert_into(knowledge_article_versions::table)
        .values((
            knowledge_article_versions::article_id.eq(Id(article.id)),
            knowledge_article_versions::version.eq(article.version),
            knowledge_article_versions::change.eq(change),
            VersionColumns::from(article),
            knowledge_article_versions::note.eq(note),
            knowledge_article_versions::changed_by.eq(Id(article.updated_by)),
            knowledge_article_versions::changed_at.eq(At(article.updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Files a new article and its first version.
pub fn insert(conn: &mut DbConnection, article: &Article) -> Result<(), StoreError> {
    diesel::insert_into(knowledge_articles::table)
        .values((
            knowledge_articles::id.eq(Id(article.id)),
            knowledge_articles::unit_id.eq(article.unit_id.map(Id)),
            ArticleColumns::from(article),
            knowledge_articles::version.eq(article.version),
            knowledge_articles::created_by.eq(Id(article.created_by)),
            knowledge_articles::created_at.eq(At(article.created_at)),
            knowledge_articles::updated_by.eq(Id(article.updated_by)),
            knowledge_articles::updated_at.eq(At(article.updated_at)),
        ))
        .execute(conn)?;
    index_words(conn, article)?;
    append_version(conn, article, ArticleChange::Created, None)
}

/// Indexes the words an article is searched by: its title, body and keywords.
fn index_words(conn: &mut DbConnection, article: &Article) -> Result<(), StoreError> {
    let keywords = keywords_text(&article.content.keywords);
    super::search::index(
        conn,
        super::search::Corpus::Articles,
        article.id,
        [
            article.content.title.as_str(),
            article.content.body.as_str(),
            keywords.as_str(),
        ],
    )
}

/// The article, locked until the transaction ends so that the change decided on it is made to
/// the version it was decided on. Writing the row (unchanged) takes its lock on both backends.
pub fn lock(
    conn: &mut DbConnection,
    id: Uuid,
    scope: ArticleScope,
    day: NaiveDate,
) -> Result<Article, StoreError> {
    diesel::update(knowledge_articles::table.find(Id(id)))
        .set(knowledge_articles::version.eq(knowledge_articles::version))
        .execute(conn)?;
    get(conn, id, scope, day)
}

/// Writes a change to an article [`lock`]ed at version `expected`.
pub fn save(
    conn: &mut DbConnection,
    expected: i64,
    article: &Article,
    change: ArticleChange,
    note: Option<&str>,
) -> Result<(), StoreError> {
    let written = diesel::update(
        knowledge_articles::table
            .filter(knowledge_articles::id.eq(Id(article.id)))
            .filter(knowledge_articles::version.eq(expected)),
    )
    .set((
        ArticleColumns::from(article),
        knowledge_articles::version.eq(article.version),
        knowledge_articles::updated_by.eq(Id(article.updated_by)),
        knowledge_articles::updated_at.eq(At(article.updated_at)),
        knowledge_articles::published_at.eq(article.published_at.map(At)),
        knowledge_articles::reviewed_at.eq(article.reviewed_at.map(At)),
    ))
    .execute(conn)?;
    if written == 0 {
        return Err(StoreError::corrupt(format!(
            "article {} changed under its lock since version {expected}",
            article.id
        )));
    }
    if change == ArticleChange::Edited {
        index_words(conn, article)?;
    }
    append_version(conn, article, change, note)
}

/// The article, if the scope holds it (`day`: the hotline's day, for what is in force).
pub fn get(
    conn: &mut DbConnection,
    id: Uuid,
    scope: ArticleScope,
    day: NaiveDate,
) -> Result<Article, StoreError> {
    let article = knowledge_articles::table
        .find(Id(id))
        .select(ArticleRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?
        .into_article()?;
    if scope.sees(&article, day) {
        Ok(article)
    } else {
        Err(StoreError::NotFound)
    }
}

/// What a list of articles is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub statuses: Vec<ArticleStatus>,
    pub unit_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub area_unit_id: Option<Uuid>,
    /// Published articles whose review date has passed.
    pub review_overdue: bool,
    pub q: Option<String>,
}

/// The last article of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArticleCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// Where a page of articles starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticlePosition {
    /// After this article (none: the first page), most recently changed first.
    After(Option<ArticleCursor>),
    /// For a question (`q`): past this many articles, the best-ranked first (see
    /// [`search::Rank`]).
    Ranked(i64),
}

/// Articles in the scope matching the filter, in the order of `position`.
pub fn list(
    conn: &mut DbConnection,
    scope: ArticleScope,
    filter: &ArticleFilter,
    day: NaiveDate,
    position: ArticlePosition,
    limit: i64,
) -> Result<Vec<Article>, StoreError> {
    use knowledge_articles as a;
    let mut query = a::table.select(ArticleRow::as_select()).into_boxed();
    let published = ArticleStatus::Published;
    // In force on `day`: dates are ISO text, which compares as the dates do.
    let today = || Day(day);
    match scope {
        ArticleScope::All => {}
        ArticleScope::Unit(unit) => {
            query = query.filter(
                a::unit_id.eq(Id(unit)).or(a::status
                    .eq(published)
                    .and(a::effective_on.is_null().or(a::effective_on.le(today())))
                    .and(a::expires_on.is_null().or(a::expires_on.ge(today())))),
            );
        }
        ArticleScope::Published => {
            query = query
                .filter(a::status.eq(published))
                .filter(a::effective_on.is_null().or(a::effective_on.le(today())))
                .filter(a::expires_on.is_null().or(a::expires_on.ge(today())));
        }
    }
    if !filter.statuses.is_empty() {
        query = query.filter(a::status.eq_any(filter.statuses.clone()));
    }
    if let Some(unit) = filter.unit_id {
        query = query.filter(a::unit_id.eq(Id(unit)));
    }
    if let Some(category) = filter.category_id {
        query = query.filter(a::category_id.eq(Id(category)));
    }
    if let Some(area) = filter.area_unit_id {
        query = query.filter(a::area_unit_id.eq(Id(area)));
    }
    if filter.review_overdue {
        query = query
            .filter(a::status.eq(published))
            .filter(a::review_due_on.lt(today()));
    }
    if let Some(q) = filter.q.as_deref() {
        let like = contains_pattern(q);
        query = query.filter(
            lower(a::title)
                .like(like.clone())
                .escape('\\')
                .or(lower(a::body).like(like.clone()).escape('\\'))
                .or(lower(a::keywords).like(like).escape('\\')),
        );
    }
    match position {
        ArticlePosition::Ranked(skip) => {
            let Some(q) = filter.q.as_deref() else {
                return Err(StoreError::corrupt(
                    "a ranked list of articles without a question",
                ));
            };
            let terms = query_terms(q);
            if !terms.is_empty() {
                return ranked(conn, scope, filter, day, q, &terms, skip, limit);
            }
            // Single characters: every article holding them, read the slow way, ranked alike.
            let candidates: Vec<Article> = query
                .load::<ArticleRow>(conn)?
                .into_iter()
                .map(ArticleRow::into_article)
                .collect::<Result<_, _>>()?;
            return Ok(rank(candidates, scope, filter, day, q, skip, limit));
        }
        ArticlePosition::After(after) => {
            if let Some(after) = after {
                query = query.filter(
                    a::updated_at
                        .lt(At(after.at))
                        .or(a::updated_at.eq(At(after.at)).and(a::id.lt(Id(after.id)))),
                );
            }
            query = query.order((a::updated_at.desc(), a::id.desc()));
        }
    }
    query
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(ArticleRow::into_article)
        .collect()
}

/// The articles the word index finds for `q`, read by id alone (so that no index a filter
/// names is walked instead), then kept, ranked and paged here.
#[allow(clippy::too_many_arguments)]
fn ranked(
    conn: &mut DbConnection,
    scope: ArticleScope,
    filter: &ArticleFilter,
    day: NaiveDate,
    q: &str,
    terms: &[String],
    skip: i64,
    limit: i64,
) -> Result<Vec<Article>, StoreError> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let backend = match conn {
        DbConnection::Pg(_) => super::Backend::Postgres,
        DbConnection::Sqlite(_) => super::Backend::Sqlite,
    };
    const AT: &str = "\u{0}";
    let condition =
        super::search::indexed_under(Corpus::Articles, backend, "knowledge_articles.id", AT);
    let (before, after) = condition
        .split_once(AT)
        .ok_or_else(|| StoreError::corrupt("the word index's condition has no placeholder"))?;
    let candidates = knowledge_articles::table
        .filter(
            sql::<Bool>(before)
                .bind::<Text, _>(super::search::index_query(backend, terms))
                .sql(after),
        )
        .select(ArticleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ArticleRow::into_article)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rank(candidates, scope, filter, day, q, skip, limit))
}

/// The candidates the reader sees and the filter keeps that hold `q`, best-ranked first (see
/// [`Rank`]), past `skip`, at most `limit`.
fn rank(
    candidates: Vec<Article>,
    scope: ArticleScope,
    filter: &ArticleFilter,
    day: NaiveDate,
    q: &str,
    skip: i64,
    limit: i64,
) -> Vec<Article> {
    let mut ranked: Vec<(i32, Article)> = candidates
        .into_iter()
        .filter(|a| scope.sees(a, day) && filter.keeps(a, day))
        .filter_map(|a| {
            let c = &a.content;
            let score = Rank::score(&c.title, &c.keywords, &c.body, q);
            (score > 0).then_some((score, a))
        })
        .collect();
    ranked.sort_by(|(sa, a), (sb, b)| {
        sb.cmp(sa)
            .then(b.use_count.cmp(&a.use_count))
            .then(b.updated_at.cmp(&a.updated_at))
            .then(b.id.cmp(&a.id))
    });
    ranked
        .into_iter()
        .skip(skip.max(0) as usize)
        .take(limit.max(0) as usize)
        .map(|(_, a)| a)
        .collect()
}

impl ArticleFilter {
    /// Whether the filter keeps `article` on `day` (all but the question, checked by ranking).
    fn keeps(&self, article: &Article, day: NaiveDate) -> bool {
        let c = &article.content;
        (self.statuses.is_empty() || self.statuses.contains(&article.status))
            && self.unit_id.is_none_or(|u| article.unit_id == Some(u))
            && self.category_id.is_none_or(|id| c.category_id == Some(id))
            && self
                .area_unit_id
                .is_none_or(|id| c.area_unit_id == Some(id))
            && (!self.review_overdue
                || (article.status == ArticleStatus::Published && c.review_due_on < day))
    }
}

/// Every version of an article, oldest first.
pub fn versions(conn: &mut DbConnection, id: Uuid) -> Result<Vec<ArticleVersion>, StoreError> {
    knowledge_article_versions::table
        .filter(knowledge_article_versions::article_id.eq(Id(id)))
        .order(knowledge_article_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            Ok(ArticleVersion {
                version: row.version,
                change: row.change,
                status: row.status,
                content: ArticleContent {
                    title: row.title,
                    body: row.body,
                    category_id: row.category_id,
                    keywords: keywords_of(&row.keywords)?,
                    area_unit_id: row.area_unit_id,
                    effective_on: row.effective_on,
                    expires_on: row.expires_on,
                    review_due_on: row.review_due_on,
                },
                note: row.note,
                changed_by: row.changed_by,
                changed_at: row.changed_at,
            })
        })
        .collect()
}

/// Of these articles, the ones agents may not cite on `day`: not found, not published or not in
/// force.
pub fn not_citable(
    conn: &mut DbConnection,
    ids: &[Uuid],
    day: NaiveDate,
) -> Result<Vec<Uuid>, StoreError> {
    let found: Vec<Article> = knowledge_articles::table
        .filter(knowledge_articles::id.eq_any(ids.iter().copied().map(Id)))
        .select(ArticleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ArticleRow::into_article)
        .collect::<Result<_, _>>()?;
    Ok(ids
        .iter()
        .filter(|id| !found.iter().any(|a| a.id == **id && a.shown_to_agents(day)))
        .copied()
        .collect())
}

/// Records that a direct answer on the ticket used these articles, and counts the use.
pub fn cite(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    article_ids: &[Uuid],
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for article in article_ids {
        diesel::insert_into(knowledge_citations::table)
            .values((
                knowledge_citations::ticket_id.eq(Id(ticket_id)),
                knowledge_citations::article_id.eq(Id(*article)),
                knowledge_citations::cited_by.eq(Id(by)),
                knowledge_citations::cited_at.eq(At(now)),
            ))
            .execute(conn)?;
        diesel::update(knowledge_articles::table.find(Id(*article)))
            .set((
                knowledge_articles::use_count.eq(knowledge_articles::use_count + 1),
                knowledge_articles::last_used_at.eq(At(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A published article whose review date has passed and of which its unit was not told yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewDue {
    pub id: Uuid,
    pub unit_id: Option<Uuid>,
    pub title: String,
    pub review_due_on: NaiveDate,
}

/// Published articles whose review date lies before `day` and has not been flagged.
pub fn reviews_due(
    conn: &mut DbConnection,
    day: NaiveDate,
    limit: i64,
) -> Result<Vec<ReviewDue>, StoreError> {
    use knowledge_articles as a;
    // Those already told are left out by the statement, so that a backlog of them never hides
    // the ones still to tell.
    let rows: Vec<(Uuid, Option<Uuid>, String, NaiveDate)> = a::table
        .filter(a::status.eq(ArticleStatus::Published))
        .filter(a::review_due_on.lt(Day(day)))
        .filter(
            a::review_flagged_on
                .is_null()
                .or(a::review_flagged_on.ne(a::review_due_on.nullable())),
        )
        .order((a::review_due_on.asc(), a::id.asc()))
        .select((a::id, a::unit_id, a::title, a::review_due_on))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, unit_id, title, review_due_on)| ReviewDue {
            id,
            unit_id,
            title,
            review_due_on,
        })
        .collect())
}

/// Marks the article's passed review date as told, unless another instance did: `true` for the
/// one that marks it, which then files the notification in the same transaction.
pub fn claim_review_flag(
    conn: &mut DbConnection,
    id: Uuid,
    due: NaiveDate,
) -> Result<bool, StoreError> {
    use knowledge_articles as a;
    let marked = diesel::update(
        a::table
            .filter(a::id.eq(Id(id)))
            .filter(a::review_due_on.eq(Day(due)))
            .filter(a::status.eq(ArticleStatus::Published))
            .filter(
                a::review_flagged_on
                    .is_null()
                    .or(a::review_flagged_on.ne(Day(due))),
            ),
    )
    .set(a::review_flagged_on.eq(Day(due)))
    .execute(conn)?;
    Ok(marked == 1)
}

/// Each owning unit's upkeep on `day`, with the reviews made in `[from, to)` (times in UTC; a
/// review is on time when made on or before the review date it answered, in `timezone`).
pub fn upkeep(
    conn: &mut DbConnection,
    unit: Option<Uuid>,
    day: NaiveDate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    timezone: chrono_tz::Tz,
) -> Result<Vec<(Option<Uuid>, Upkeep)>, StoreError> {
    use knowledge_articles as a;
    let mut by_unit: std::collections::BTreeMap<Option<Uuid>, Upkeep> = Default::default();
    let mut articles = a::table
        .filter(a::status.eq(ArticleStatus::Published))
        .select((a::unit_id, a::review_due_on, a::expires_on))
        .into_boxed();
    if let Some(unit) = unit {
        articles = articles.filter(a::unit_id.eq(Id(unit)));
    }
    let published: Vec<(Option<Uuid>, NaiveDate, Option<NaiveDate>)> = articles.load(conn)?;
    for (owner, review_due_on, expires_on) in published {
        let figures = by_unit.entry(owner).or_default();
        figures.published += 1;
        figures.review_overdue += i64::from(review_due_on < day);
        figures.expired_published += i64::from(expires_on.is_some_and(|e| e < day));
    }
    // A review answers the review date of the version before it.
    let (v, before) = diesel::alias!(
        knowledge_article_versions as v,
        knowledge_article_versions as before
    );
    let mut reviews = v
        .inner_join(a::table.on(a::id.eq(v.field(knowledge_article_versions::article_id))))
        .inner_join(
            before.on(before
                .field(knowledge_article_versions::article_id)
                .eq(v.field(knowledge_article_versions::article_id))
                .and(
                    before
                        .field(knowledge_article_versions::version)
                        .eq(v.field(knowledge_article_versions::version) - 1),
                )),
        )
        .filter(
            v.field(knowledge_article_versions::change)
                .eq(ArticleChange::Reviewed),
        )
        .filter(v.field(knowledge_article_versions::changed_at).ge(At(from)))
        .filter(v.field(knowledge_article_versions::changed_at).lt(At(to)))
        .select((
            a::unit_id,
            v.field(knowledge_article_versions::changed_at),
            before.field(knowledge_article_versions::review_due_on),
        ))
        .into_boxed();
    if let Some(unit) = unit {
        reviews = reviews.filter(a::unit_id.eq(Id(unit)));
    }
    let reviews: Vec<(Option<Uuid>, DateTime<Utc>, NaiveDate)> = reviews.load(conn)?;
    for (owner, at, was_due) in reviews {
        let figures = by_unit.entry(owner).or_default();
        figures.reviewed += 1;
        figures.reviewed_on_time += i64::from(at.with_timezone(&timezone).date_naive() <= was_due);
    }
    Ok(by_unit.into_iter().collect())
}
