//! The audit log as the office reads it: who saw a caller's identity whole, on which ticket,
//! when and why, and who changed the directory, the deadlines or the assessment.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, PageParams, Query, read};
use crate::domain::audit::AuditAction;
use crate::domain::validation::ValidationErrors;
use crate::error::ApiError;
use crate::store;
use crate::store::audit::{AuditFilter, LoggedEntry};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    action: Option<String>,
    user_id: Option<Uuid>,
    ticket_id: Option<Uuid>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct EntryView {
    id: i64,
    user_id: Option<Uuid>,
    action: AuditAction,
    ticket_id: Option<Uuid>,
    ticket_number: Option<String>,
    subject_id: Option<Uuid>,
    details: serde_json::Value,
    at: DateTime<Utc>,
}

impl From<LoggedEntry> for EntryView {
    fn from(logged: LoggedEntry) -> Self {
        let e = logged.entry;
        Self {
            id: logged.id,
            user_id: e.user_id,
            action: e.action,
            ticket_id: e.ticket_id,
            ticket_number: logged.ticket_number,
            subject_id: e.subject_id,
            details: e.details,
            at: e.at,
        }
    }
}

/// `GET /api/v1/audit-log`: newest first, filtered by action, person, ticket and time.
pub async fn list(
    state: web::Data<AppState>,
    Query(params): Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = ValidationErrors::new();
    let actions: Vec<AuditAction> =
        super::tickets::comma_list(&mut errors, "action", params.action.as_deref());
    let timezone = state.numbering.timezone;
    let from = super::tickets::instant(&mut errors, "from", params.from.as_deref(), timezone);
    let to = super::tickets::instant(&mut errors, "to", params.to.as_deref(), timezone);
    errors.finish()?;
    let filter = AuditFilter {
        actions,
        user_id: params.user_id,
        ticket_id: params.ticket_id,
        from,
        to,
    };
    let paging = PageParams::new(params.limit, params.cursor);
    let before: Option<i64> = paging.after()?;
    let fetch = paging.fetch()?;
    let rows = read(&state, move |c| {
        Ok(store::audit::list(c, &filter, before, fetch)?)
    })
    .await?;
    let page = paging.page(rows, |e| e.id, EntryView::from)?;
    Ok(HttpResponse::Ok().json(page))
}
