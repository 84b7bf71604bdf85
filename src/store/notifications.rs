//! The notification feeds: what a unit (or the hotline office) should look at, with one read
//! mark shared by its people.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{knowledge_articles, notifications, tickets};
use super::sql::{At, Id};
use super::{DbConnection, StoreError};
use crate::domain::notify::{Audience, Notice};

/// What a notification is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Ticket {
        id: Uuid,
        number: String,
        title: String,
    },
    Article {
        id: Uuid,
        title: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub subject: Subject,
    pub kind: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub read_by: Option<Uuid>,
}

fn audience_columns(audience: Audience) -> (&'static str, Option<Id>) {
    match audience {
        Audience::Unit(unit) => ("unit", Some(Id(unit))),
        Audience::Office => ("office", None),
    }
}

/// Files a change's notices, in the transaction that records the change.
pub fn insert(
    conn: &mut DbConnection,
    ticket_id: Uuid,
    notices: &[Notice],
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for notice in notices {
        let (audience, unit) = audience_columns(notice.audience);
        diesel::insert_into(notifications::table)
            .values((
                notifications::id.eq(Id(Uuid::now_v7())),
                notifications::audience.eq(audience),
                notifications::unit_id.eq(unit),
                notifications::ticket_id.eq(Id(ticket_id)),
                notifications::kind.eq(notice.kind),
                notifications::details.eq(details.to_string()),
                notifications::created_at.eq(At(now)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The kind of the notification that tells a unit one of its articles is due for review.
pub const ARTICLE_REVIEW_DUE: &str = "article_review_due";

/// Tells the article's unit (the office, for its own articles) that the article's review date
/// has passed.
pub fn insert_for_article(
    conn: &mut DbConnection,
    article_id: Uuid,
    audience: Audience,
    details: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (audience, unit) = audience_columns(audience);
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(Id(Uuid::now_v7())),
            notifications::audience.eq(audience),
            notifications::unit_id.eq(unit),
            notifications::article_id.eq(Id(article_id)),
            notifications::kind.eq(ARTICLE_REVIEW_DUE),
            notifications::details.eq(details.to_string()),
            notifications::created_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(())
}

type Row = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
    Option<String>,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<Uuid>,
);

fn into_notification(row: Row) -> Result<Notification, StoreError> {
    let (
        id,
        ticket_id,
        number,
        ticket_title,
        article_id,
        article_title,
        kind,
        details,
        created_at,
        read_at,
        read_by,
    ) = row;
    let subject = match (ticket_id, number, ticket_title, article_id, article_title) {
        (Some(id), Some(number), Some(title), None, _) => Subject::Ticket { id, number, title },
        (None, _, _, Some(id), Some(title)) => Subject::Article { id, title },
        _ => {
            return Err(StoreError::corrupt(format!(
                "notification {id} is about nothing"
            )));
        }
    };
    Ok(Notification {
        id,
        subject,
        kind,
        details: serde_json::from_str(&details).map_err(StoreError::corrupt)?,
        created_at,
        read_at,
        read_by,
    })
}

/// An audience's feed, newest first, after (older than) the notification `before`.
pub fn list(
    conn: &mut DbConnection,
    audience: Audience,
    unread_only: bool,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let (kind, unit) = audience_columns(audience);
    let mut query = notifications::table
        .left_join(tickets::table)
        .left_join(knowledge_articles::table)
        .filter(notifications::audience.eq(kind))
        .select((
            notifications::id,
            notifications::ticket_id,
            tickets::number.nullable(),
            tickets::title.nullable(),
            notifications::article_id,
            knowledge_articles::title.nullable(),
            notifications::kind,
            notifications::details,
            notifications::created_at,
            notifications::read_at,
            notifications::read_by,
        ))
        .into_boxed();
    if let Some(unit) = unit {
        query = query.filter(notifications::unit_id.eq(unit));
    }
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before {
        query = query.filter(notifications::id.lt(Id(before)));
    }
    let rows: Vec<Row> = query
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)?;
    rows.into_iter().map(into_notification).collect()
}

fn in_audience(
    audience: Audience,
) -> Box<
    dyn diesel::expression::BoxableExpression<
            notifications::table,
            super::MultiBackend,
            SqlType = diesel::sql_types::Bool,
        >,
> {
    let (kind, unit) = audience_columns(audience);
    match unit {
        Some(unit) => Box::new(
            notifications::audience
                .eq(kind)
                .and(notifications::unit_id.eq(unit).assume_not_null()),
        ),
        None => Box::new(notifications::audience.eq(kind)),
    }
}

/// Marks one notification of the audience read (once; later marks keep the first).
pub fn mark_read(
    conn: &mut DbConnection,
    audience: Audience,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let exists: i64 = notifications::table
        .filter(notifications::id.eq(Id(id)))
        .filter(in_audience(audience))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(StoreError::NotFound);
    }
    diesel::update(
        notifications::table
            .filter(notifications::id.eq(Id(id)))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::read_at.eq(At(now)),
        notifications::read_by.eq(Id(by)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Marks every unread notification of the audience read; returns how many.
pub fn mark_all_read(
    conn: &mut DbConnection,
    audience: Audience,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        notifications::table
            .filter(in_audience(audience))
            .filter(notifications::read_at.is_null()),
    )
    .set((
        notifications::read_at.eq(At(now)),
        notifications::read_by.eq(Id(by)),
    ))
    .execute(conn)?)
}

/// How many are unread.
pub fn unread_count(conn: &mut DbConnection, audience: Audience) -> Result<i64, StoreError> {
    Ok(notifications::table
        .filter(in_audience(audience))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)?)
}
