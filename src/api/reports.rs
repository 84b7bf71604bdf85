//! Figures for any period, and the monthly bulletin in every format, drafted, published
//! (frozen) and restated.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, Query, Reply, blocking, read_stale, write_within};
use crate::api::Caller;
use crate::domain::access::{self, Permission};
use crate::domain::audit::AuditAction;
use crate::domain::directory::UnitKind;
use crate::domain::figures::{self, Figures};
use crate::domain::period::{Month, Period, Span, SpanKind, local_midnight};
use crate::domain::problem::ProblemCode;
use crate::error::ApiError;
use crate::reports::Format;
use crate::reports::bulletin::{FigureRow, State};
use crate::reports::{self, tables};
use crate::store;
use crate::store::audit::{self, AuditEntry};

fn parse_month(raw: &str, field: &str) -> Result<Month, ApiError> {
    Month::parse(raw).map_err(|m| ApiError::invalid_field(field, m))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum View {
    /// The published bulletin when there is one, the draft otherwise.
    Current,
    /// Computed now, also for a published month.
    Restated,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulletinParams {
    month: Option<String>,
    format: Option<Format>,
    table: Option<String>,
    view: Option<View>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    period: Option<String>,
    format: Option<Format>,
    table: Option<String>,
    view: Option<View>,
}

/// `GET /api/v1/reports/monthly?month=YYYY-MM`.
pub async fn monthly(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<BulletinParams>,
) -> Result<HttpResponse, ApiError> {
    let month = parse_month(
        params
            .month
            .as_deref()
            .ok_or_else(|| ApiError::invalid_field("month", "is required (YYYY-MM)"))?,
        "month",
    )?;
    serve(
        &state,
        &caller,
        Span::month(month),
        params.format,
        params.table,
        params.view,
    )
    .await
}

/// `GET /api/v1/reports/bulletin?period=`: the bulletin of a month (as `monthly` gives it), a
/// quarter, a half-year, a year or any months, computed now.
pub async fn of_period(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<PeriodParams>,
) -> Result<HttpResponse, ApiError> {
    let span = Span::parse(params.period.as_deref().ok_or_else(|| {
        ApiError::invalid_field("period", "is required (YYYY-MM, YYYY-Qn, YYYY-Hn, YYYY)")
    })?)
    .map_err(|m| ApiError::invalid_field("period", m))?;
    serve(
        &state,
        &caller,
        span,
        params.format,
        params.table,
        params.view,
    )
    .await
}

/// A bulletin in the format asked for, as the caller may read it.
async fn serve(
    state: &web::Data<AppState>,
    caller: &Caller,
    span: Span,
    format: Option<Format>,
    table: Option<String>,
    view: Option<View>,
) -> Result<HttpResponse, ApiError> {
    let may_draft = caller.role().may(Permission::ReadReports);
    let format = format.unwrap_or(Format::Json);
    let view = view.unwrap_or(View::Current);
    if view == View::Restated && !may_draft {
        caller.require(Permission::ReadReports)?;
    }
    if table.is_some() && format != Format::Csv {
        return Err(ApiError::invalid_field(
            "table",
            "only goes with format=csv",
        ));
    }
    if let Some(table) = table.as_deref()
        && !tables::NAMES.contains(&table)
    {
        return Err(ApiError::invalid_field(
            "table",
            format!("is one of: {}", tables::NAMES.join(", ")),
        ));
    }
    let b = bulletin(state, caller, span, view == View::Restated).await?;
    let rendered = reports::render(&b, format, table.as_deref()).map_err(ApiError::internal)?;
    let mut response = HttpResponse::Ok();
    response.content_type(rendered.content_type);
    if !matches!(format, Format::Json | Format::Html) {
        response.insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", rendered.file_name),
        ));
    }
    Ok(response.body(rendered.bytes))
}

/// A bulletin as the caller may read it: the office its draft (or, `restated`, a published
/// month computed again), units only a published month.
pub(crate) async fn bulletin(
    state: &web::Data<AppState>,
    caller: &Caller,
    span: Span,
    restated: bool,
) -> Result<crate::reports::bulletin::Bulletin, ApiError> {
    let may_draft = caller.role().may(Permission::ReadReports);
    let current = Month::of(state.now(), state.numbering.timezone);
    let field = match span.kind() {
        SpanKind::Month => "month",
        _ => "period",
    };
    if span.first() > current {
        return Err(ApiError::invalid_field(
            field,
            format!("{span} has not begun"),
        ));
    }
    let month = span.last();
    let (timezone, name, now) = (
        state.numbering.timezone,
        state.hotline_name.clone(),
        state.now(),
    );
    let reading = state.clone();
    blocking(state.report_budget(), move || {
        let db = &reading.db;
        if may_draft {
            Ok(db.prefer_replica(|db| reports::of_span(db, span, timezone, &name, now, restated))?)
        } else {
            db.read(|c| reports::published(c, month))?.ok_or_else(|| {
                ApiError::not_found(format!("no bulletin of {month} has been published"))
            })
        }
    })
    .await
}

/// `POST /api/v1/reports/monthly/{month}/publish`: freezes a month that is over.
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<Reply, ApiError> {
    let month = super::month_in(&path)?;
    publish_month(&state, &caller, month).await
}

/// Freezes a month that is over, in one transaction with its audit entry.
pub(crate) async fn publish_month(
    state: &web::Data<AppState>,
    caller: &Caller,
    month: Month,
) -> Result<Reply, ApiError> {
    caller.require(Permission::Assess)?;
    let by = caller.id();
    let compiling = state.clone();
    let budget = state.report_budget();
    write_within(state, caller, None, budget, move |conn, now| {
        store::allow_long_statements(conn, budget)?;
        if month.period(compiling.numbering.timezone).to > now {
            return Err(ApiError::conflict(
                ProblemCode::MonthNotOver,
                format!("{month} is not over yet; its bulletin is published after its last day"),
            ));
        }
        if store::reports::is_published(conn, month)? {
            return Err(ApiError::conflict(
                ProblemCode::AlreadyPublished,
                format!("the bulletin of {month} was published already and never changes"),
            ));
        }
        let mut frozen = reports::compile(
            conn,
            Span::month(month),
            compiling.numbering.timezone,
            &compiling.hotline_name,
            now,
        )?;
        frozen.state = State::Published;
        frozen.published_at = Some(now);
        let body = serde_json::to_string(&frozen)
            .map_err(|e| ApiError::internal(format!("cannot freeze the bulletin: {e}")))?;
        match store::reports::publish(conn, month, &body, by, now) {
            Err(e) if e.is_duplicate_in("published_bulletins") => {
                return Err(ApiError::conflict(
                    ProblemCode::AlreadyPublished,
                    format!("the bulletin of {month} was published already and never changes"),
                ));
            }
            other => other?,
        }
        audit::record(
            conn,
            &AuditEntry::new(by, AuditAction::BulletinPublished, now)
                .with(serde_json::json!({"month": month})),
        )?;
        // The answer is the stored text itself: what was published, byte for byte.
        Ok(Reply::created_from_text(
            body,
            format!("/api/v1/reports/monthly?month={month}"),
        ))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureParams {
    pub month: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub unit_id: Option<Uuid>,
    pub unit_kind: Option<UnitKind>,
}

#[derive(Serialize)]
pub struct UnitFigures {
    pub unit_id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    #[serde(flatten)]
    pub figures: FigureRow,
}

#[derive(Serialize)]
struct KindFigures {
    kind: UnitKind,
    #[serde(flatten)]
    figures: FigureRow,
}

#[derive(Serialize)]
pub struct FiguresView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    /// The whole hotline's; absent for a unit handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotline: Option<FigureRow>,
    pub units: Vec<UnitFigures>,
    kinds: Vec<KindFigures>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountParams {
    by: store::counts::CountBy,
    month: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

#[derive(Serialize)]
struct CountRow {
    key: Option<String>,
    /// The unit's or category's name (the category's full path); none for a day, or for
    /// tickets without an area or category.
    name: Option<String>,
    #[serde(flatten)]
    counts: store::counts::GroupCounts,
}

/// `GET /api/v1/ticket-counts`: the tickets registered in a period, counted by township
/// (area), category or day.
pub async fn ticket_counts(
    state: web::Data<AppState>,
    // Admitted by the route's permission; nothing else of the caller narrows the counts.
    _caller: Caller,
    Query(params): Query<CountParams>,
) -> Result<HttpResponse, ApiError> {
    use store::counts::{CountBy, GroupCounts};
    let timezone = state.numbering.timezone;
    let period = period_of(params.month.as_deref(), params.from, params.to, timezone)?;
    let by = params.by;
    let (groups, names) = read_stale(&state, move |c| {
        let groups = store::counts::count(c, by, &period, timezone)?;
        let names = match by {
            CountBy::Area => store::units::names(c)?,
            CountBy::Category => store::categories::full_names(c)?,
            CountBy::Day => Default::default(),
        };
        Ok((groups, names))
    })
    .await?;
    let mut total = GroupCounts::default();
    for g in &groups {
        total.registered += g.registered;
        total.open += g.open;
        total.closed += g.closed;
        total.overdue += g.overdue;
    }
    let name_of = |key: &Option<String>| {
        key.as_deref()
            .and_then(|k| Uuid::parse_str(k).ok())
            .and_then(|id| names.get(&id).cloned())
    };
    let items: Vec<CountRow> = match by {
        // Every day of the period, those without tickets too.
        CountBy::Day => {
            let mut by_day: std::collections::HashMap<String, GroupCounts> = groups
                .into_iter()
                .filter_map(|g| g.key.clone().map(|k| (k, g)))
                .collect();
            store::counts::days_of(&period, timezone)
                .into_iter()
                .map(|day| {
                    let key = day.to_string();
                    let counts = by_day.remove(&key).unwrap_or(GroupCounts {
                        key: Some(key.clone()),
                        ..GroupCounts::default()
                    });
                    CountRow {
                        key: Some(key),
                        name: None,
                        counts,
                    }
                })
                .collect()
        }
        _ => groups
            .into_iter()
            .map(|counts| CountRow {
                key: counts.key.clone(),
                name: name_of(&counts.key),
                counts,
            })
            .collect(),
    };
    let last_day = (period.to - chrono::Duration::seconds(1))
        .with_timezone(&timezone)
        .date_naive();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "by": by,
        "from": period.from.with_timezone(&timezone).date_naive(),
        "to": last_day,
        "items": items,
        "total": {
            "registered": total.registered,
            "open": total.open,
            "closed": total.closed,
            "overdue": total.overdue,
        },
    })))
}

/// A month (`YYYY-MM`), or days `from` to `to` inclusive within a year, in the hotline's zone.
fn period_of(
    month: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    timezone: chrono_tz::Tz,
) -> Result<Period, ApiError> {
    match (month, from, to) {
        (Some(month), None, None) => Ok(parse_month(month, "month")?.period(timezone)),
        (None, Some(from), Some(to)) if from <= to && (to - from).num_days() <= 366 => Ok(Period {
            from: local_midnight(from, timezone),
            to: local_midnight(to + chrono::Duration::days(1), timezone),
        }),
        (None, Some(_), Some(_)) => Err(ApiError::invalid_field(
            "to",
            "must be on or after `from`, within a year of it",
        )),
        _ => Err(ApiError::invalid_field(
            "month",
            "give `month` (YYYY-MM), or `from` and `to` (YYYY-MM-DD)",
        )),
    }
}

/// `GET /api/v1/figures`: the figures of any period (a month, or days `from` to `to`
/// inclusive), for the hotline, per unit and per kind of unit.
pub async fn figures(
    state: web::Data<AppState>,
    caller: Caller,
    Query(params): Query<FigureParams>,
) -> Result<HttpResponse, ApiError> {
    let view = figures_view(&state, &caller, params).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Each unit's figures over a period, as far as the caller may see them: a unit handler their
/// own unit's, the office every unit's with the kinds' and the hotline's.
pub(crate) async fn figures_view(
    state: &web::Data<AppState>,
    caller: &Caller,
    params: FigureParams,
) -> Result<FiguresView, ApiError> {
    caller.require(Permission::ReadAssessment)?;
    let timezone = state.numbering.timezone;
    let reach = access::figures_of(caller.role(), caller.unit_id(), params.unit_id)
        .map_err(|refused| ApiError::forbidden(ProblemCode::Forbidden, refused.to_string()))?;
    let period = period_of(params.month.as_deref(), params.from, params.to, timezone)?;
    let kind_filter = params.unit_kind;
    let as_of = state.now();
    read_stale(state, move |c| -> Result<FiguresView, ApiError> {
        let facts = store::figures::facts(c, &period)?;
        let exempt = store::figures::exemptions(c)?;
        let computed = figures::compute(&facts, &period, as_of, &exempt);
        let units = store::units::list(c, &Default::default(), None, i64::MAX)?;
        let kind_of: std::collections::HashMap<Uuid, UnitKind> =
            units.iter().map(|u| (u.id, u.kind)).collect();
        let mut kinds = computed.by_kind(|unit| kind_of.get(&unit).copied());
        let mut rows = Vec::new();
        for unit in &units {
            // A unit asked for by name has a row (and its kind one) even when nothing happened
            // to it.
            let f = match computed.units.get(&unit.id) {
                Some(f) => *f,
                None if reach.unit == Some(unit.id) => {
                    kinds.entry(unit.kind).or_default();
                    Figures::default()
                }
                None => continue,
            };
            let wanted = reach.unit.is_none_or(|u| u == unit.id)
                && kind_filter.is_none_or(|k| k == unit.kind);
            if wanted {
                rows.push(UnitFigures {
                    unit_id: unit.id,
                    code: unit.code.clone(),
                    name: unit.name.clone(),
                    kind: unit.kind,
                    figures: f.into(),
                });
            }
        }
        Ok(FiguresView {
            from: period.from,
            to: period.to,
            as_of,
            hotline: reach.totals.then(|| computed.hotline.into()),
            units: rows,
            kinds: if !reach.totals {
                Vec::new()
            } else {
                kinds
                    .into_iter()
                    .filter(|(k, _)| kind_filter.is_none_or(|wanted| wanted == *k))
                    .map(|(kind, f)| KindFigures {
                        kind,
                        figures: f.into(),
                    })
                    .collect()
            },
        })
    })
    .await
}

/// How many weeks the live hot spots compare with: as long as the bulletin's baseline months.
fn baseline_weeks(months: u32) -> u32 {
    (months * 52).div_ceil(12)
}

#[derive(Serialize)]
struct LiveHotSpots {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    baseline_weeks: u32,
    min_count: u64,
    min_rise: f64,
    categories: Vec<crate::reports::bulletin::HotSpot>,
    townships: Vec<crate::reports::bulletin::HotSpot>,
}

/// The dashboard's hot spots: the last seven days against the weeks before, by the bulletin's
/// rules in force this month.
pub async fn hot_spots(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let timezone = state.numbering.timezone;
    let week = chrono::Duration::days(7);
    let (rules, volume, baseline, units, categories) = read_stale(&state, move |c| {
        let rules = store::reports::rules_for(c, Month::of(now, timezone))?
            .rules
            .hot_spots;
        let this_week = Period {
            from: now - week,
            to: now,
        };
        let volume = store::reports::volume(c, &this_week)?;
        let mut baseline = Vec::new();
        let mut to = this_week.from;
        for _ in 0..baseline_weeks(rules.baseline_months) {
            baseline.push(store::reports::volume(
                c,
                &Period {
                    from: to - week,
                    to,
                },
            )?);
            to -= week;
        }
        let units = store::units::list(c, &Default::default(), None, i64::MAX)?;
        let categories = store::categories::list(c, &Default::default(), None, i64::MAX)?;
        Ok((rules, volume, baseline, units, categories))
    })
    .await?;
    let (spots_by_category, spots_by_township) =
        crate::reports::bulletin::live_hot_spots(&volume, &baseline, &rules, &units, &categories);
    Ok(HttpResponse::Ok().json(LiveHotSpots {
        from: now - week,
        to: now,
        baseline_weeks: baseline.len() as u32,
        min_count: rules.min_count,
        min_rise: rules.min_rise,
        categories: spots_by_category,
        townships: spots_by_township,
    }))
}
