//! The knowledge base (知识库): units write and keep their articles, the hotline office reviews
//! and publishes them, agents read the published ones in force, and every change keeps its
//! version.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ActionBody, AppState, IfMatch, JsonBody, PageParams, Query, Reply, check_active,
    check_filed_under, etag, found, parse_id, read, write,
};
use crate::api::Caller;
use crate::domain::access::FiguresRefused;
use crate::domain::knowledge::{
    Article, ArticleAction, ArticleChange, ArticleContent, ArticleInput, ArticleScope,
    ArticleStatus, Reader, Refusal, Upkeep, decide,
};
use crate::domain::period::Month;
use crate::domain::problem::ProblemCode;
use crate::domain::search::{self, Snippet};
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store::knowledge::{ArticleCursor, ArticleFilter, ArticlePosition, ArticleVersion};
use crate::store::{self, DbConnection};

pub(crate) fn reader(caller: &Caller) -> Reader {
    Reader {
        role: caller.role(),
        unit_id: caller.unit_id(),
    }
}

pub(crate) fn scope(caller: &Caller) -> Result<ArticleScope, ApiError> {
    reader(caller).scope().ok_or_else(|| {
        ApiError::forbidden(ProblemCode::Forbidden, "this account reads no articles")
    })
}

fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Forbidden(why) => ApiError::forbidden(ProblemCode::Forbidden, why),
        Refusal::WrongStatus { action, status } => ApiError::conflict(
            ProblemCode::InvalidTransition,
            format!("an article that is `{status}` does not allow `{action}`"),
        )
        .with_field("article_status", status.as_str()),
    }
}

/// The hotline's day at `now`: what is in force and what is due are dates there.
fn day_of(state: &AppState, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&state.numbering.timezone).date_naive()
}

#[derive(Serialize)]
struct ArticleView {
    id: Uuid,
    unit_id: Option<Uuid>,
    status: ArticleStatus,
    title: String,
    body: String,
    category_id: Option<Uuid>,
    keywords: Vec<String>,
    area_unit_id: Option<Uuid>,
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    review_due_on: NaiveDate,
    /// Published, in force, and its review date passed.
    review_overdue: bool,
    in_force: bool,
    version: i64,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_by: Uuid,
    updated_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    reviewed_at: Option<DateTime<Utc>>,
    use_count: i64,
    last_used_at: Option<DateTime<Utc>>,
    /// With a question (`q`): where the title, body or keywords hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Snippet>,
}

impl ArticleView {
    fn found(article: Article, day: NaiveDate, q: &str) -> Self {
        let keywords = article.content.keywords.join("、");
        let snippet = search::first_snippet(
            [
                article.content.title.as_str(),
                article.content.body.as_str(),
                keywords.as_str(),
            ],
            q,
        );
        Self {
            snippet,
            ..Self::new(article, day)
        }
    }

    fn new(article: Article, day: NaiveDate) -> Self {
        let in_force = article.shown_to_agents(day);
        let c = article.content;
        Self {
            id: article.id,
            unit_id: article.unit_id,
            status: article.status,
            review_overdue: article.status == ArticleStatus::Published && c.review_due_on < day,
            in_force,
            title: c.title,
            body: c.body,
            category_id: c.category_id,
            keywords: c.keywords,
            area_unit_id: c.area_unit_id,
            effective_on: c.effective_on,
            expires_on: c.expires_on,
            review_due_on: c.review_due_on,
            version: article.version,
            created_by: article.created_by,
            created_at: article.created_at,
            updated_by: article.updated_by,
            updated_at: article.updated_at,
            published_at: article.published_at,
            reviewed_at: article.reviewed_at,
            use_count: article.use_count,
            last_used_at: article.last_used_at,
            snippet: None,
        }
    }
}

fn article_reply(article: Article, day: NaiveDate, created: bool) -> Result<Reply, ApiError> {
    let version = article.version;
    let id = article.id;
    let view = ArticleView::new(article, day);
    let reply = if created {
        Reply::created(&view, format!("/api/v1/articles/{id}"))?
    } else {
        Reply::ok(&view)?
    };
    Ok(reply.with_version(version))
}

/// The references an article's content makes: its category and area as for a ticket.
fn check_content(conn: &mut DbConnection, content: &ArticleContent) -> Result<(), ApiError> {
    check_filed_under(conn, content.category_id, content.area_unit_id)
}

/// `POST /api/v1/articles`: a draft, owned by the writer's unit (or, from the office, by the
/// unit named or the office itself).
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<ArticleInput>,
) -> Result<Reply, ApiError> {
    let reader = reader(&caller);
    let (input, shape) = body.into_parts();
    let owner = reader.owner_of_new(input.unit_id).map_err(refused)?;
    let today = state.today();
    let content = shape.answer(ArticleContent::parse(&input, today))?;
    let by = caller.id();
    let state_for_day = state.clone();
    write(&state, &caller, None, move |conn, now| {
        let mut errors = ValidationErrors::new();
        check_active(&mut errors, "unit_id", "unit", owner, |id| {
            store::units::is_active(conn, id)
        })?;
        errors.finish()?;
        check_content(conn, &content)?;
        let article = Article {
            id: Uuid::now_v7(),
            unit_id: owner,
            status: ArticleStatus::Draft,
            content,
            version: 1,
            created_by: by,
            created_at: now,
            updated_by: by,
            updated_at: now,
            published_at: None,
            reviewed_at: None,
            use_count: 0,
            last_used_at: None,
        };
        store::knowledge::insert(conn, &article)?;
        article_reply(article, day_of(&state_for_day, now), true)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    unit_id: Option<Uuid>,
    category_id: Option<Uuid>,
    area_unit_id: Option<Uuid>,
    review_overdue: Option<bool>,
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Where the next page of a search starts: past this many of the best-ranked articles.
#[derive(Serialize, Deserialize)]
struct RankedCursor {
    skip: i64,
}

/// `GET /api/v1/articles`: most recently changed first, inside what the caller may read; with a
/// question (`q`), the best-ranked first, each with a snippet.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope(&caller)?;
    let mut errors = ValidationErrors::new();
    let statuses: Vec<ArticleStatus> =
        super::tickets::comma_list(&mut errors, "status", params.status.as_deref());
    let q = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 100) {
        errors.add("q", "must be at most 100 characters");
    }
    errors.finish()?;
    let filter = ArticleFilter {
        statuses,
        unit_id: params.unit_id,
        category_id: params.category_id,
        area_unit_id: params.area_unit_id,
        review_overdue: params.review_overdue.unwrap_or(false),
        q: q.map(str::to_lowercase),
    };
    let paging = PageParams::new(params.limit, params.cursor);
    let fetch = paging.fetch()?;
    let day = state.today();
    if let Some(q) = filter.q.clone() {
        let skip = paging.after::<RankedCursor>()?.map_or(0, |c| c.skip);
        let rows = read(&state, move |c| {
            Ok(store::knowledge::list(
                c,
                scope,
                &filter,
                day,
                ArticlePosition::Ranked(skip),
                fetch,
            )?)
        })
        .await?;
        let ranked = rows.into_iter().zip(skip + 1..);
        let page = paging.page(
            ranked.collect(),
            |(_, position)| RankedCursor { skip: *position },
            |(a, _)| ArticleView::found(a, day, &q),
        )?;
        return Ok(HttpResponse::Ok().json(page));
    }
    let after: Option<ArticleCursor> = paging.after()?;
    let rows = read(&state, move |c| {
        Ok(store::knowledge::list(
            c,
            scope,
            &filter,
            day,
            ArticlePosition::After(after),
            fetch,
        )?)
    })
    .await?;
    let page = paging.page(
        rows,
        |a| ArticleCursor {
            at: a.updated_at,
            id: a.id,
        },
        |a| ArticleView::new(a, day),
    )?;
    Ok(HttpResponse::Ok().json(page))
}

/// The published articles in force that answer `q` for an agent on a live call, best first,
/// each with the passage that holds the question.
pub(crate) async fn answers_for(
    state: &web::Data<AppState>,
    caller: &Caller,
    q: &str,
    limit: i64,
) -> Result<Vec<(Article, Option<search::Snippet>)>, ApiError> {
    let scope = scope(caller)?;
    let q = q.trim().to_lowercase();
    if q.chars().count() > 100 {
        return Err(ApiError::invalid_field(
            "q",
            "must be at most 100 characters",
        ));
    }
    let day = state.today();
    let filter = ArticleFilter {
        statuses: vec![ArticleStatus::Published],
        q: Some(q.clone()),
        ..ArticleFilter::default()
    };
    let found = read(state, move |c| {
        Ok(store::knowledge::list(
            c,
            scope,
            &filter,
            day,
            ArticlePosition::Ranked(0),
            limit,
        )?)
    })
    .await?;
    Ok(found
        .into_iter()
        .filter(|a| a.shown_to_agents(day))
        .map(|a| {
            let keywords = a.content.keywords.join("、");
            let snippet = search::first_snippet(
                [
                    a.content.title.as_str(),
                    a.content.body.as_str(),
                    keywords.as_str(),
                ],
                &q,
            );
            (a, snippet)
        })
        .collect())
}

/// `GET /api/v1/articles/{id}`.
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = scope(&caller)?;
    let id = parse_id(&path, "article")?;
    let day = state.today();
    let article = read(&state, move |c| {
        found(store::knowledge::get(c, id, scope, day), "article", id)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(article.version)))
        .json(ArticleView::new(article, day)))
}

#[derive(Serialize)]
struct VersionView {
    version: i64,
    change: ArticleChange,
    status: ArticleStatus,
    title: String,
    body: String,
    category_id: Option<Uuid>,
    keywords: Vec<String>,
    area_unit_id: Option<Uuid>,
    effective_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    review_due_on: NaiveDate,
    note: Option<String>,
    changed_by: Uuid,
    changed_at: DateTime<Utc>,
}

impl From<ArticleVersion> for VersionView {
    fn from(v: ArticleVersion) -> Self {
        let c = v.content;
        Self {
            version: v.version,
            change: v.change,
            status: v.status,
            title: c.title,
            body: c.body,
            category_id: c.category_id,
            keywords: c.keywords,
            area_unit_id: c.area_unit_id,
            effective_on: c.effective_on,
            expires_on: c.expires_on,
            review_due_on: c.review_due_on,
            note: v.note,
            changed_by: v.changed_by,
            changed_at: v.changed_at,
        }
    }
}

/// `GET /api/v1/articles/{id}/versions`: every version, oldest first, to those who keep the
/// article (its unit and the office).
pub async fn versions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = reader(&caller);
    let scope = scope(&caller)?;
    let id = parse_id(&path, "article")?;
    let day = state.today();
    let versions = read(&state, move |c| {
        let article = found(store::knowledge::get(c, id, scope, day), "article", id)?;
        if !reader.keeps(article.unit_id) {
            return Err(ApiError::forbidden(
                ProblemCode::Forbidden,
                "an article's versions are read by its unit and the hotline office",
            ));
        }
        Ok(store::knowledge::versions(c, id)?)
    })
    .await?;
    let items: Vec<VersionView> = versions.into_iter().map(VersionView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

/// Decides and writes one action on an article, in one transaction with its version.
/// One action on one article, in one transaction with its version: locked in the caller's
/// scope, the version checked, the rules asked, the next version saved.
pub(crate) async fn act(
    state: &web::Data<AppState>,
    caller: &Caller,
    article: &str,
    expected_version: Option<i64>,
    action: impl FnOnce(NaiveDate) -> Result<ArticleAction, ApiError> + Send + 'static,
) -> Result<Reply, ApiError> {
    let reader = reader(caller);
    let scope = scope(caller)?;
    let id = parse_id(article, "article")?;
    let by = caller.id();
    let state_for_day = state.clone();
    write(state, caller, None, move |conn, now| {
        let day = day_of(&state_for_day, now);
        let action = action(day)?;
        let before = found(store::knowledge::lock(conn, id, scope, day), "article", id)?;
        if let Some(expected) = expected_version.filter(|v| *v != before.version) {
            return Err(ApiError::version_mismatch(expected, before.version));
        }
        if let ArticleAction::Edit(content) = &action {
            check_content(conn, content)?;
        }
        let outcome = decide(&before, reader, action).map_err(refused)?;
        let mut after = before.clone();
        after.status = outcome.status;
        after.content = outcome.content;
        after.version += 1;
        after.updated_by = by;
        after.updated_at = now;
        match outcome.change {
            ArticleChange::Published => after.published_at = Some(now),
            ArticleChange::Reviewed => after.reviewed_at = Some(now),
            _ => {}
        }
        store::knowledge::save(
            conn,
            before.version,
            &after,
            outcome.change,
            outcome.note.as_deref(),
        )?;
        article_reply(after, day, false)
    })
    .await
}

/// `PUT /api/v1/articles/{id}`: new content, kept as a new version. The owning unit stays.
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
    body: JsonBody<ArticleInput>,
) -> Result<Reply, ApiError> {
    let (input, shape) = body.into_parts();
    if input.unit_id.is_some() {
        return Err(ApiError::invalid_field(
            "unit_id",
            "an article stays with the unit that owns it",
        ));
    }
    let today = state.today();
    let content = shape.answer(ArticleContent::parse(&input, today))?;
    act(&state, &caller, &path, version, move |_| {
        Ok(ArticleAction::Edit(content))
    })
    .await
}

/// `POST /api/v1/articles/{id}/submit`: the unit asks the office to review it.
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
) -> Result<Reply, ApiError> {
    act(&state, &caller, &path, version, |_| {
        Ok(ArticleAction::Submit)
    })
    .await
}

/// `POST /api/v1/articles/{id}/publish`: the office publishes it to agents.
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
) -> Result<Reply, ApiError> {
    act(&state, &caller, &path, version, |_| {
        Ok(ArticleAction::Publish)
    })
    .await
}

/// `POST /api/v1/articles/{id}/archive`: withdrawn from agents for good.
pub async fn archive(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
) -> Result<Reply, ApiError> {
    act(&state, &caller, &path, version, |_| {
        Ok(ArticleAction::Archive)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectInput {
    reason: String,
}

/// `POST /api/v1/articles/{id}/reject`: back to its unit as a draft, with the reason.
pub async fn reject(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
    body: JsonBody<RejectInput>,
) -> Result<Reply, ApiError> {
    let action = body.validate(|input| ArticleAction::reject(&input.reason))?;
    act(&state, &caller, &path, version, move |_| Ok(action)).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    review_due_on: Option<NaiveDate>,
}

/// `POST /api/v1/articles/{id}/review`: checked and still right (复核); reviewed again on
/// `review_due_on` (a year on when absent).
pub async fn review(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    IfMatch(version): IfMatch,
    body: ActionBody<ReviewInput>,
) -> Result<Reply, ApiError> {
    let next_due = body.into_inner()?.review_due_on;
    act(&state, &caller, &path, version, move |day| {
        Ok(ArticleAction::review(next_due, day)?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpkeepParams {
    month: Option<String>,
    unit_id: Option<Uuid>,
}

#[derive(Serialize)]
struct UpkeepView {
    unit_id: Option<Uuid>,
    #[serde(flatten)]
    figures: Upkeep,
}

/// `GET /api/v1/articles/upkeep?month=YYYY-MM`: each unit's upkeep of its articles, for
/// assessment: published articles, reviews overdue and expired articles still published today,
/// and the reviews made in the month and how many of them on time. A unit reads its own.
pub async fn upkeep(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<UpkeepParams>,
) -> Result<HttpResponse, ApiError> {
    let figures =
        crate::domain::access::figures_of(caller.role(), caller.unit_id(), params.unit_id)
            .map_err(|refusal| match refusal {
                FiguresRefused::NoUnit | FiguresRefused::AnotherUnit => {
                    ApiError::forbidden(ProblemCode::Forbidden, refusal.to_string())
                }
            })?;
    let timezone = state.numbering.timezone;
    let now = state.now();
    let month = match params.month.as_deref() {
        Some(text) => Month::parse(text).map_err(|e| ApiError::invalid_field("month", e))?,
        None => Month::of(now, timezone),
    };
    let period = month.period(timezone);
    let day = day_of(&state, now);
    let rows = read(&state, move |c| {
        Ok(store::knowledge::upkeep(
            c,
            figures.unit,
            day,
            period.from,
            period.to,
            timezone,
        )?)
    })
    .await?;
    let items: Vec<UpkeepView> = rows
        .into_iter()
        .map(|(unit_id, figures)| UpkeepView { unit_id, figures })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "month": month.to_string(), "items": items })))
}
