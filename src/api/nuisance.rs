//! Nuisance callers (恶意骚扰): the hotline office marks a number with a reason and an expiry;
//! calls from it are still registered, with the agent warned (in the caller's history) and the
//! ticket recording the mark. Marking, lifting and reading the list are audited.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, JsonBody, PageParams, Query, Reply, found, parse_id, write};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::caller::{NuisanceMark, check_mark, normalized_phone};
use crate::domain::masking::mask_phone;
use crate::domain::problem::ProblemCode;
use crate::domain::validation::{ValidationErrors, required_text};
use crate::error::ApiError;
use crate::store;
use crate::store::audit::{self, AuditEntry};
use actix_web::web;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    phone: String,
    reason: String,
    expires_at: DateTime<Utc>,
}

/// `POST /api/v1/nuisance-numbers`.
pub async fn mark(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<MarkInput>,
) -> Result<Reply, ApiError> {
    let input = body.into_inner()?;
    let Some(normalized) = normalized_phone(&input.phone) else {
        return Err(ApiError::invalid_field(
            "phone",
            "must hold at least five digits of a phone number",
        ));
    };
    let key = state.phone_index.key_of_normalized(&normalized);
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let reason = check_mark(&input.reason, input.expires_at, now)?;
        let mark = NuisanceMark {
            id: Uuid::now_v7(),
            phone: mask_phone(&normalized),
            reason,
            expires_at: crate::domain::clock::micros(input.expires_at),
            marked_by: by,
            marked_at: now,
            lifted_by: None,
            lifted_at: None,
            lift_reason: None,
        };
        store::nuisance::insert(conn, &mark, &key)?;
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::NuisanceMarked, now).with(serde_json::json!({
                "nuisance_number_id": mark.id,
                "phone": mark.phone,
                "expires_at": mark.expires_at,
            })),
        )?;
        let location = format!("/api/v1/nuisance-numbers/{}", mark.id);
        Reply::created(&MarkView::new(mark, now), location)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiftInput {
    reason: String,
}

/// `POST /api/v1/nuisance-numbers/{id}/lift`.
pub async fn lift(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<LiftInput>,
) -> Result<Reply, ApiError> {
    let id = parse_id(&path, "nuisance number")?;
    let reason = body.validate(|input| {
        required_text(&input.reason, 1_000).map_err(|m| ValidationErrors::single("reason", m))
    })?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        found(store::nuisance::get(conn, id), "nuisance number", id)?;
        if !store::nuisance::lift(conn, id, by, &reason, now)? {
            return Err(ApiError::conflict(
                ProblemCode::NuisanceMarkEnded,
                "the mark has been lifted or has expired already",
            ));
        }
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::NuisanceLifted, now)
                .with(serde_json::json!({ "nuisance_number_id": id, "reason": reason })),
        )?;
        Reply::ok(&MarkView::new(store::nuisance::get(conn, id)?, now))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `in_force` (default) or `all`.
    status: Option<ListedMarks>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ListedMarks {
    #[default]
    InForce,
    All,
}

impl ListedMarks {
    fn as_str(self) -> &'static str {
        match self {
            ListedMarks::InForce => "in_force",
            ListedMarks::All => "all",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct MarkCursor {
    at: DateTime<Utc>,
    id: Uuid,
}

/// `GET /api/v1/nuisance-numbers`: newest first; the reading is audited.
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> Result<Reply, ApiError> {
    let listed = params.status.unwrap_or_default();
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        let paging = PageParams::new(params.limit, params.cursor);
        let after: Option<MarkCursor> = paging.after()?;
        let fetch = paging.fetch()?;
        let in_force_at = (listed == ListedMarks::InForce).then_some(now);
        let marks = store::nuisance::list(conn, in_force_at, after.map(|c| (c.at, c.id)), fetch)?;
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::NuisanceListed, now)
                .with(serde_json::json!({ "status": listed.as_str() })),
        )?;
        let page = paging.page(
            marks,
            |m| MarkCursor {
                at: m.marked_at,
                id: m.id,
            },
            |m| MarkView::new(m, now),
        )?;
        Reply::ok(&page).map(Reply::not_cached)
    })
    .await
}

/// A mark as the API shows it: the number masked, and whether it is in force now.
#[derive(Serialize)]
pub struct MarkView {
    #[serde(flatten)]
    mark: NuisanceMark,
    in_force: bool,
}

impl MarkView {
    pub fn new(mark: NuisanceMark, now: DateTime<Utc>) -> Self {
        let in_force = mark.in_force(now);
        Self { mark, in_force }
    }

    pub fn mark(&self) -> &NuisanceMark {
        &self.mark
    }
}
