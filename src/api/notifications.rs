//! Notification feeds: a unit handler reads their unit's, hotline staff the office's. Marking a
//! notification read marks it for everyone in that audience.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, PageParams, Query, Reply, found, parse_id, read, write};
use crate::api::Caller;
use crate::domain::access::Role;
use crate::domain::notify::Audience;
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::store;
use crate::store::notifications::{Notification, Subject};

/// Whose feed the caller reads: a unit handler their unit's, hotline staff the office's.
pub(crate) fn audience(caller: &Caller) -> Result<Audience, ApiError> {
    match (caller.role(), caller.unit_id()) {
        (Role::UnitHandler, Some(unit)) => Ok(Audience::Unit(unit)),
        (Role::UnitHandler, None) => Err(ApiError::forbidden(
            ProblemCode::Forbidden,
            "this account belongs to no unit",
        )),
        _ => Ok(Audience::Office),
    }
}

/// About a ticket (`ticket_…` set) or, when an article is due for review, an article
/// (`article_…` set).
#[derive(Serialize)]
struct NotificationView {
    id: Uuid,
    ticket_id: Option<Uuid>,
    ticket_number: Option<String>,
    ticket_title: Option<String>,
    article_id: Option<Uuid>,
    article_title: Option<String>,
    kind: String,
    details: serde_json::Value,
    created_at: DateTime<Utc>,
    read: bool,
    read_at: Option<DateTime<Utc>>,
    read_by: Option<Uuid>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        let (ticket, article) = match n.subject {
            Subject::Ticket { id, number, title } => (Some((id, number, title)), None),
            Subject::Article { id, title } => (None, Some((id, title))),
        };
        let (ticket_id, ticket_number, ticket_title) = match ticket {
            Some((id, number, title)) => (Some(id), Some(number), Some(title)),
            None => (None, None, None),
        };
        let (article_id, article_title) = article.unzip();
        Self {
            id: n.id,
            ticket_id,
            ticket_number,
            ticket_title,
            article_id,
            article_title,
            kind: n.kind,
            details: n.details,
            created_at: n.created_at,
            read: n.read_at.is_some(),
            read_at: n.read_at,
            read_by: n.read_by,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    unread: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/v1/notifications`: newest first.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let audience = audience(&caller)?;
    let paging = PageParams::new(params.limit, params.cursor);
    let before: Option<Uuid> = paging.after()?;
    let fetch = paging.fetch()?;
    let unread = params.unread.unwrap_or(false);
    let (rows, unread_count) = read(&state, move |c| {
        Ok((
            store::notifications::list(c, audience, unread, before, fetch)?,
            store::notifications::unread_count(c, audience)?,
        ))
    })
    .await?;
    let page = paging.page(rows, |n| n.id, NotificationView::from)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "items": page.items,
        "next_cursor": page.next_cursor,
        "unread": unread_count,
    })))
}

/// `POST /api/v1/notifications/{id}/read`.
pub async fn mark_read(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Reply, ApiError> {
    let audience = audience(&caller)?;
    let id = parse_id(&path, "notification")?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(
            store::notifications::mark_read(conn, audience, id, by, now),
            "notification",
            id,
        )?;
        Reply::ok(&serde_json::json!({"id": id, "read": true}))
    })
    .await
}

/// `POST /api/v1/notifications/read-all`.
pub async fn mark_all_read(state: web::Data<AppState>, caller: Caller) -> Result<Reply, ApiError> {
    let audience = audience(&caller)?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let marked = store::notifications::mark_all_read(conn, audience, by, now)?;
        Reply::ok(&serde_json::json!({"marked": marked}))
    })
    .await
}
