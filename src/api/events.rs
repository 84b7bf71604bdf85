//! `GET /api/v1/events`: every ticket event in commit order, for other systems to follow. Each
//! item is a CloudEvents 1.0 event in its JSON form, as a webhook delivers it.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::pagination::{decode_cursor, encode_cursor};
use super::tickets::comma_list;
use super::{AppState, Query, read};
use crate::api::Caller;
use crate::domain::feed::CloudEvent;
use crate::domain::feed::{FeedFilter, FeedPosition};
use crate::domain::problem::ProblemCode;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store;

/// Events served by one request at most, and by default.
const MAX_LIMIT: u32 = 1_000;
const DEFAULT_LIMIT: u32 = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    after: Option<String>,
    limit: Option<u32>,
    kind: Option<String>,
    channel: Option<String>,
}

/// A page of the feed. `next_cursor` is always there: the follower keeps it and asks `after`
/// it next, whether or not this page held events.
#[derive(Serialize)]
struct FeedView {
    items: Vec<CloudEvent>,
    next_cursor: String,
    /// Events already committed wait behind an older change still in progress: ask again
    /// shortly rather than at the usual pace.
    held_back: bool,
}

/// A position as its follower holds it: opaque, the two numbers of a [`FeedPosition`].
fn cursor_of(position: FeedPosition) -> String {
    encode_cursor(&(position.transaction, position.event))
}

fn position_of(cursor: &str) -> Result<FeedPosition, ApiError> {
    let (transaction, event): (i64, i64) = decode_cursor(cursor)
        .map_err(|_| ApiError::invalid_field("after", "is not a cursor this feed handed out"))?;
    Ok(FeedPosition { transaction, event })
}

/// `GET /api/v1/events`: the events after `after` (from the first without it) in the order
/// their changes committed.
pub async fn feed(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = caller
        .role()
        .event_scope(caller.unit_id(), caller.channel())
        .ok_or_else(|| {
            ApiError::forbidden(ProblemCode::Forbidden, "this account follows no events")
        })?;
    let mut errors = ValidationErrors::new();
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
            DEFAULT_LIMIT
        }
    };
    let filter = FeedFilter {
        kinds: comma_list(&mut errors, "kind", params.kind.as_deref()),
        channel: comma_list(&mut errors, "channel", params.channel.as_deref())
            .into_iter()
            .next(),
    };
    if params.channel.as_deref().is_some_and(|c| c.contains(',')) {
        errors.add("channel", "names one channel");
    }
    errors.finish()?;
    let after = params
        .after
        .as_deref()
        .map(position_of)
        .transpose()?
        .unwrap_or_default();
    let page = read(&state, move |c| {
        Ok(store::events::feed(
            c,
            scope,
            &filter,
            after,
            i64::from(limit),
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(FeedView {
        next_cursor: cursor_of(page.resume_after),
        held_back: page.held_back,
        items: page.events.into_iter().map(CloudEvent::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_hands_back_its_position_and_garbage_is_refused() {
        let position = FeedPosition {
            transaction: 7_421,
            event: 99,
        };
        assert_eq!(position_of(&cursor_of(position)).unwrap(), position);
        assert!(position_of("nonsense").is_err());
    }
}
