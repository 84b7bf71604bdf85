//! What is waiting, for whom: the dashboard's counts and the extension requests to decide.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, PageParams, Query, read, read_stale};
use crate::api::Caller;
use crate::domain::access::TicketScope;
use crate::domain::lifecycle::{ExtensionRequest, ExtensionStatus};
use crate::domain::period::{Period, local_midnight};
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::store;
use crate::store::queues::{OfficeCounts, UnitCounts};

/// The unit a caller's queues are narrowed to: `None` for the office; integrations have none.
fn own_unit(caller: &Caller) -> Result<Option<Uuid>, ApiError> {
    match caller.ticket_scope()? {
        TicketScope::All => Ok(None),
        TicketScope::Unit(unit) => Ok(Some(unit)),
        TicketScope::CreatedBy(_) => Err(ApiError::forbidden(
            ProblemCode::Forbidden,
            "integrations have no work queues",
        )),
    }
}

#[derive(Serialize)]
pub struct UnitEntry {
    pub unit_id: Uuid,
    #[serde(flatten)]
    pub counts: UnitCounts,
}

#[derive(Serialize)]
pub struct Dashboard {
    pub at: DateTime<Utc>,
    /// The whole hotline's, for the office; null for a unit.
    pub office: Option<OfficeCounts>,
    /// Each unit with work in hand (the office), or the caller's own unit.
    pub units: Vec<UnitEntry>,
}

/// `GET /api/v1/dashboard`: the work in hand, in one request: the hotline's and each unit's
/// for the office, the unit's own for a unit handler. "Today" is the hotline's day.
pub async fn dashboard(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(dashboard_of(&state, &caller).await?))
}

/// The dashboard's counts in the caller's scope.
pub async fn dashboard_of(
    state: &web::Data<AppState>,
    caller: &Caller,
) -> Result<Dashboard, ApiError> {
    let unit = own_unit(caller)?;
    let now = state.now();
    let timezone = state.numbering.timezone;
    let day = now.with_timezone(&timezone).date_naive();
    let today = Period {
        from: local_midnight(day, timezone),
        to: local_midnight(day.succ_opt().unwrap_or(day), timezone),
    };
    let (office, units) = read_stale(state, move |c| {
        Ok(store::sql::planned_once(c, |c| {
            let office = match unit {
                None => Some(store::queues::office(c, today, now)?),
                Some(_) => None,
            };
            Ok((office, store::queues::by_unit(c, unit, today)?))
        })?)
    })
    .await?;
    let mut units: Vec<UnitEntry> = units
        .into_iter()
        .map(|(unit_id, counts)| UnitEntry { unit_id, counts })
        .collect();
    if let (Some(own), true) = (unit, units.is_empty()) {
        units.push(UnitEntry {
            unit_id: own,
            counts: UnitCounts::default(),
        });
    }
    Ok(Dashboard {
        at: now,
        office,
        units,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionParams {
    status: Option<ExtensionStatus>,
    unit_id: Option<Uuid>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct ExtensionEntry {
    ticket_id: Uuid,
    ticket_number: String,
    ticket_title: String,
    #[serde(flatten)]
    request: ExtensionRequest,
}

/// `GET /api/v1/extension-requests`: requests for more time across tickets, oldest first, to
/// work through (`status=pending`); the office sees all, a unit its own.
pub async fn extension_requests(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<ExtensionParams>,
) -> Result<HttpResponse, ApiError> {
    let own = own_unit(&caller)?;
    if let (Some(own), Some(asked)) = (own, params.unit_id)
        && own != asked
    {
        return Err(ApiError::forbidden(
            ProblemCode::Forbidden,
            "a unit reads its own extension requests only",
        ));
    }
    let paging = PageParams::new(params.limit, params.cursor);
    let after: Option<(DateTime<Utc>, Uuid)> = paging.after()?;
    let fetch = paging.fetch()?;
    let (status, unit) = (params.status, own.or(params.unit_id));
    let rows = read(&state, move |c| {
        Ok(store::lifecycle::extension_list(
            c, status, unit, after, fetch,
        )?)
    })
    .await?;
    let page = paging.page(
        rows,
        |(_, _, _, r)| (r.requested_at, r.id),
        |(ticket_id, ticket_number, ticket_title, request)| ExtensionEntry {
            ticket_id,
            ticket_number,
            ticket_title,
            request,
        },
    )?;
    Ok(HttpResponse::Ok().json(page))
}
