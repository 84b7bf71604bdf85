//! The knowledge base's articles, every version of each, and the direct answers that cited them.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{knowledge_article_versions, knowledge_articles, knowledge_citations};
use super::sql::{At, Day, Id};
use super::{DbConnection, StoreError, contains_pattern, lower};
use crate::domain::knowledge::{
    Article, ArticleChange, ArticleContent, ArticleScope, ArticleStanding, ArticleStatus, Upkeep,
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
    if scope.sees(&article.standing(), day) {
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
                return ranked(conn, scope, filter, day, q, skip, limit);
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

/// What decides whether a reader sees an article and a filter keeps it, and what ranks it
/// after its score: all of it but its texts.
#[derive(Queryable, Selectable)]
#[diesel(table_name = knowledge_articles)]
struct Standing {
    id: Uuid,
    unit_id: Option<Uuid>,
    status: ArticleStatus,
    category_id: Option<Uuid>,
    area_unit_id: Option<Uuid>,
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    review_due_on: NaiveDate,
    use_count: i64,
    updated_at: DateTime<Utc>,
}

impl Standing {
    fn standing(&self) -> ArticleStanding {
        ArticleStanding {
            unit_id: self.unit_id,
            status: self.status,
            category_id: self.category_id,
            area_unit_id: self.area_unit_id,
            effective_on: self.effective_on,
            expires_on: self.expires_on,
            review_due_on: self.review_due_on,
        }
    }

    /// Where it would rank with `score`: greater ranks first.
    fn rank_with(&self, score: i32) -> RankKey {
        (score, self.use_count, self.updated_at, self.id)
    }
}

/// Score, uses, last change and id: an article's place in a ranked list, greatest first.
type RankKey = (i32, i64, DateTime<Utc>, Uuid);

fn rank_key(score: i32, article: &Article) -> RankKey {
    (score, article.use_count, article.updated_at, article.id)
}

/// Up to this many articles found, each is read by its key; beyond, articles are read in the
/// order of their uses and changes until those found make up the page.
const FOUND_TO_READ_MAX: usize = 200;

/// How many articles one step of reading in rank order reads.
const RANK_ORDER_STEP: i64 = 256;

/// The articles the word index finds for `q`, ranked first by what the index promises of them,
/// then verified against their texts. Few found, each is read by its key; many found (a common
/// word), articles are read in the order of their uses and changes (an index holds that order)
/// only until the found ones among them make up the page, which for a common word is soon. The
/// page is then read whole and scored from its texts; when a text holds less than the index
/// promised, every article found is read and ranked from its text.
#[allow(clippy::too_many_arguments)]
fn ranked(
    conn: &mut DbConnection,
    scope: ArticleScope,
    filter: &ArticleFilter,
    day: NaiveDate,
    q: &str,
    skip: i64,
    limit: i64,
) -> Result<Vec<Article>, StoreError> {
    let wanted = (skip.max(0) + limit.max(0)) as usize;
    if wanted == 0 {
        return Ok(Vec::new());
    }
    let found = matches(conn, q)?;
    let kept = |s: &Standing| scope.sees(&s.standing(), day) && filter.keeps(&s.standing(), day);
    if found.len() > FOUND_TO_READ_MAX {
        let best = best_in_rank_order(conn, &found, &kept, wanted)?;
        if let Some(page) = verified(conn, best, q, wanted, false)? {
            return Ok(paged(page, skip, limit));
        }
    }
    let mut standings: Vec<(i32, Standing)> = Vec::with_capacity(found.len());
    let keys: Vec<Uuid> = found.keys().copied().collect();
    for chunk in keys.chunks(1_000) {
        let ids: Vec<Id> = chunk.iter().copied().map(Id).collect();
        for standing in knowledge_articles::table
            .filter(knowledge_articles::id.eq_any(ids))
            .select(Standing::as_select())
            .load::<Standing>(conn)?
        {
            if kept(&standing) {
                standings.push((found[&standing.id], standing));
            }
        }
    }
    standings.sort_unstable_by_key(|(promise, s)| std::cmp::Reverse(s.rank_with(*promise)));
    let page = verified(conn, standings, q, wanted, true)?.unwrap_or_default();
    Ok(paged(page, skip, limit))
}

/// The articles the index finds for `q`, each with the best score its texts can have.
fn matches(
    conn: &mut DbConnection,
    q: &str,
) -> Result<std::collections::HashMap<Uuid, i32>, StoreError> {
    Ok(super::search::article_matches(conn, q)?
        .into_iter()
        .collect())
}

/// The best `wanted` of the articles `found` that `kept` keeps, by what the index promises, from
/// reading articles in the order of their uses and changes: an article of the best promise read
/// earlier ranks before one read later, so reading stops once every promise above the page's
/// last is read whole and the page's last promise has enough articles read.
fn best_in_rank_order(
    conn: &mut DbConnection,
    found: &std::collections::HashMap<Uuid, i32>,
    kept: &dyn Fn(&Standing) -> bool,
    wanted: usize,
) -> Result<Vec<(i32, Standing)>, StoreError> {
    use knowledge_articles as a;
    // Per promise, best first: how many articles found hold it, how many of them were read,
    // and those read that are kept, in the order read.
    let mut promises: std::collections::BTreeMap<
        std::cmp::Reverse<i32>,
        (usize, usize, Vec<Standing>),
    > = std::collections::BTreeMap::new();
    for weight in found.values() {
        promises.entry(std::cmp::Reverse(*weight)).or_default().0 += 1;
    }
    let settled = |promises: &std::collections::BTreeMap<_, (usize, usize, Vec<Standing>)>| {
        let mut missing = wanted;
        for (total, read, kept) in promises.values() {
            if read == total {
                missing = missing.saturating_sub(kept.len());
                if missing == 0 {
                    return true;
                }
            } else {
                return kept.len() >= missing;
            }
        }
        true
    };
    let mut after: Option<(i64, DateTime<Utc>, Uuid)> = None;
    while !settled(&promises) {
        let mut query = a::table
            .select(Standing::as_select())
            .order((a::use_count.desc(), a::updated_at.desc(), a::id.desc()))
            .limit(RANK_ORDER_STEP)
            .into_boxed();
        if let Some((uses, at, id)) = after {
            query = query.filter(
                a::use_count.lt(uses).or(a::use_count.eq(uses).and(
                    a::updated_at
                        .lt(At(at))
                        .or(a::updated_at.eq(At(at)).and(a::id.lt(Id(id)))),
                )),
            );
        }
        let step: Vec<Standing> = query.load(conn)?;
        let Some(last) = step.last() else { break };
        after = Some((last.use_count, last.updated_at, last.id));
        for standing in step {
            if let Some(weight) = found.get(&standing.id) {
                let promise = promises.entry(std::cmp::Reverse(*weight)).or_default();
                promise.1 += 1;
                if kept(&standing) {
                    promise.2.push(standing);
                }
            }
        }
    }
    Ok(promises
        .into_iter()
        .flat_map(|(weight, (_, _, kept))| kept.into_iter().map(move |s| (weight.0, s)))
        .take(wanted)
        .collect())
}

/// The first `wanted` of `ranked` (best promise first) ranked by their texts, when their texts
/// hold what the index promised for enough of them to know the page: the texts are read a page
/// at a time until the scores read rank a full page above every promise not read yet. `None`
/// when `ranked` runs out first and is not `complete` (others not in it may rank higher).
fn verified(
    conn: &mut DbConnection,
    ranked: Vec<(i32, Standing)>,
    q: &str,
    wanted: usize,
    complete: bool,
) -> Result<Option<Vec<Article>>, StoreError> {
    let mut read: Vec<(RankKey, Article)> = Vec::new();
    let mut next = 0;
    loop {
        if read.len() >= wanted {
            let page_last = read[wanted - 1].0;
            let settled = match ranked.get(next) {
                Some((promise, s)) => page_last > s.rank_with(*promise),
                None if complete => true,
                // What is not in `ranked` promises less than its last.
                None => ranked
                    .last()
                    .is_some_and(|(promise, s)| page_last >= s.rank_with(*promise)),
            };
            if settled {
                break;
            }
        }
        if next == ranked.len() {
            if !complete {
                return Ok(None);
            }
            break;
        }
        let batch = &ranked[next..(next + wanted).min(ranked.len())];
        next += batch.len();
        let ids: Vec<Id> = batch.iter().map(|(_, s)| Id(s.id)).collect();
        let articles = knowledge_articles::table
            .filter(knowledge_articles::id.eq_any(ids))
            .select(ArticleRow::as_select())
            .load(conn)?;
        for row in articles {
            let article = row.into_article()?;
            let c = &article.content;
            let score = Rank::score(&c.title, &c.keywords, &c.body, q);
            if score > 0 {
                read.push((rank_key(score, &article), article));
            }
        }
        read.sort_unstable_by(|(x, _), (y, _)| y.cmp(x));
    }
    Ok(Some(read.into_iter().map(|(_, a)| a).collect()))
}

fn paged(ranked: Vec<Article>, skip: i64, limit: i64) -> Vec<Article> {
    ranked
        .into_iter()
        .skip(skip.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect()
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
    let mut ranked: Vec<(RankKey, Article)> = candidates
        .into_iter()
        .filter(|a| scope.sees(&a.standing(), day) && filter.keeps(&a.standing(), day))
        .filter_map(|a| {
            let c = &a.content;
            let score = Rank::score(&c.title, &c.keywords, &c.body, q);
            (score > 0).then(|| (rank_key(score, &a), a))
        })
        .collect();
    ranked.sort_unstable_by(|(x, _), (y, _)| y.cmp(x));
    ranked
        .into_iter()
        .skip(skip.max(0) as usize)
        .take(limit.max(0) as usize)
        .map(|(_, a)| a)
        .collect()
}

impl ArticleFilter {
    /// Whether the filter keeps an article of this standing on `day` (all but the question,
    /// checked by ranking).
    fn keeps(&self, article: &ArticleStanding, day: NaiveDate) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&article.status))
            && self.unit_id.is_none_or(|u| article.unit_id == Some(u))
            && self
                .category_id
                .is_none_or(|id| article.category_id == Some(id))
            && self
                .area_unit_id
                .is_none_or(|id| article.area_unit_id == Some(id))
            && (!self.review_overdue
                || (article.status == ArticleStatus::Published && article.review_due_on < day))
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
