//! The data deadlines are computed on: the working-day calendar, year by year, and the SLA
//! policy. Everyone signed in reads them; administrators change them. Deadlines already set keep
//! their values; dispatches after a change use the new data.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{AppState, JsonBody, Reply, read, write};
use crate::api::Caller;
use crate::domain::audit::AuditAction;
use crate::domain::calendar::{DayKind, SpecialDay, YearInput, parse_year};
use crate::domain::policy::Policy;
use crate::error::ApiError;
use crate::store::audit::{self, AuditEntry};
use crate::store::policy::PolicyVersion;
use crate::store::{self, DbConnection};

#[derive(Serialize)]
struct DayView {
    day: chrono::NaiveDate,
    name: Option<String>,
}

#[derive(Serialize)]
struct YearView {
    year: i32,
    holidays: Vec<DayView>,
    workdays: Vec<DayView>,
}

fn year_view(year: i32, days: Vec<SpecialDay>) -> YearView {
    let (mut holidays, mut workdays) = (Vec::new(), Vec::new());
    for day in days {
        let view = DayView {
            day: day.day,
            name: day.name,
        };
        match day.kind {
            DayKind::Holiday => holidays.push(view),
            DayKind::Workday => workdays.push(view),
        }
    }
    YearView {
        year,
        holidays,
        workdays,
    }
}

pub(crate) fn parse_year_path(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no calendar year {raw}: years run from 2000 to 2100"
            ))
        })
}

/// `GET /api/v1/calendar/{year}`.
pub async fn get_year(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let year = parse_year_path(&path)?;
    let days = read(&state, move |c| Ok(store::calendar::year(c, year)?)).await?;
    Ok(HttpResponse::Ok().json(year_view(year, days)))
}

/// `PUT /api/v1/calendar/{year}`: replaces the year's holidays and make-up working days at once.
pub async fn put_year(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<YearInput>,
) -> Result<Reply, ApiError> {
    let year = parse_year_path(&path)?;
    let days = body.validate(|input| parse_year(year, input))?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        replace_year(conn, now, by, year, &days)?;
        Reply::ok(&year_view(year, days))
    })
    .await
}

/// Replaces a year's special days, audited: the one way the API and the console change the
/// calendar.
pub(crate) fn replace_year(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    year: i32,
    days: &[SpecialDay],
) -> Result<(), ApiError> {
    store::calendar::replace_year(conn, year, days)?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::CalendarReplaced, now)
            .with(serde_json::json!({"year": year, "days": days.len()})),
    )?;
    Ok(())
}

#[derive(Serialize)]
struct PolicyView {
    /// `null` while the built-in default is in force.
    version: Option<i64>,
    updated_by: Option<Uuid>,
    updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    policy: Policy,
}

impl From<PolicyVersion> for PolicyView {
    fn from(p: PolicyVersion) -> Self {
        Self {
            version: p.version,
            updated_by: p.created_by,
            updated_at: p.created_at,
            policy: p.policy,
        }
    }
}

/// `GET /api/v1/sla-policies`: the policy in force.
pub async fn get_policy(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let current = read(&state, |c| Ok(store::policy::current(c)?)).await?;
    Ok(HttpResponse::Ok().json(PolicyView::from(current)))
}

/// `PUT /api/v1/sla-policies`: a new policy, for dispatches made from now on.
pub async fn put_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<Policy>,
) -> Result<Reply, ApiError> {
    let policy = body.validate(|input| input.check())?;
    let by = caller.id();
    write(&state, &caller, None, move |conn, now| {
        Reply::ok(&PolicyView::from(replace_policy(conn, now, by, &policy)?))
    })
    .await
}

/// Puts a checked policy in force for dispatches from now on, audited: the one way the API and
/// the console change it.
pub(crate) fn replace_policy(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    by: Uuid,
    policy: &Policy,
) -> Result<PolicyVersion, ApiError> {
    let stored = store::policy::replace(conn, policy, by, now)?;
    audit::record(
        conn,
        &AuditEntry::new(by, AuditAction::SlaPolicyReplaced, now)
            .with(serde_json::json!({"version": stored.version})),
    )?;
    Ok(stored)
}
