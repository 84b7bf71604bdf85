//! The bulletin of a month or of any run of months (a quarter, a half-year, a year): compiled
//! from the store's records and the figures, assembled by pure rules, and rendered as JSON,
//! CSV, XLSX and a printable HTML page. Months are published; longer spans are computed.

pub mod bulletin;
pub mod csv;
pub mod html;
pub mod labels;
pub mod sheet;
pub mod tables;
pub mod timeline;
pub mod xlsx;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::figures;
use crate::domain::period::{Month, Period, Span, SpanKind};
use crate::store::{self, Db, DbConnection, StoreError};
use bulletin::{Bulletin, Inputs};

/// The bulletin's title: the hotline's name and the period (a year's is a report, 年度工作报告).
pub fn title(hotline_name: &str, span: Span) -> String {
    match span.kind() {
        SpanKind::Year => format!("{hotline_name}{}年度工作报告", span.first().year()),
        _ => format!("{hotline_name}{}工作通报", span.label()),
    }
}

/// What the figures are computed from: the period's facts and the appeals granted.
struct FigureReads {
    facts: figures::Facts,
    granted: Vec<figures::Exemption>,
}

/// The facts but the closures: what one connection reads while the other reads the closures
/// and the [`Context`]; the two halves take about as long.
fn read_figures(conn: &mut DbConnection, period: &Period) -> Result<FigureReads, StoreError> {
    Ok(FigureReads {
        facts: store::figures::work(conn, period)?,
        granted: store::reports::granted_appeals(conn)?,
    })
}

/// Everything else a bulletin prints: registrations of the month and of the months it is
/// compared with, the rules in force, the units and categories, bonuses and typical cases.
struct Context {
    rules: store::reports::RulesVersion,
    volume: Vec<figures::VolumeCount>,
    previous_month: Vec<figures::VolumeCount>,
    a_year_earlier: Vec<figures::VolumeCount>,
    baseline: Vec<Vec<figures::VolumeCount>>,
    registered_at: Vec<DateTime<Utc>>,
    units: Vec<crate::domain::directory::Unit>,
    categories: Vec<crate::domain::directory::Category>,
    bonuses: std::collections::HashMap<uuid::Uuid, f64>,
    typical_cases: Vec<figures::TypicalCase>,
    calendar: crate::domain::calendar::WorkCalendar,
    previous_closed: u64,
    forwards: u64,
    channels: Vec<crate::domain::channel::ChannelDefinition>,
    channel_callbacks: Vec<(String, Option<crate::domain::lifecycle::Satisfaction>)>,
}

fn read_context(conn: &mut DbConnection, span: Span, timezone: Tz) -> Result<Context, StoreError> {
    let period = span.period(timezone);
    // The rules in force at the span's end, as when its last month is published.
    let rules = store::reports::rules_for(conn, span.last())?;
    let mut earlier = span;
    let mut baseline = Vec::new();
    for _ in 0..rules.rules.hot_spots.baseline_months.max(1) {
        earlier = earlier.previous();
        baseline.push(store::reports::volume(conn, &earlier.period(timezone))?);
    }
    let previous_month = baseline[0].clone();
    // Twelve months' span before is the same months a year earlier: read once.
    let a_year_earlier = if span.previous_is_a_year_earlier() {
        previous_month.clone()
    } else {
        store::reports::volume(conn, &span.a_year_earlier().period(timezone))?
    };
    if rules.rules.hot_spots.baseline_months == 0 {
        baseline.clear();
    }
    let everything = store::units::UnitFilter::default();
    let units = store::units::list(conn, &everything, None, i64::MAX)?;
    let monthly_bonuses = span
        .months()
        .map(|month| store::reports::bonus_points(conn, month))
        .collect::<Result<Vec<_>, _>>()?;
    let kinds: std::collections::HashMap<uuid::Uuid, _> =
        units.iter().map(|u| (u.id, u.kind)).collect();
    let bonuses = crate::domain::assessment::bonuses_over(&monthly_bonuses, |unit| {
        kinds
            .get(&unit)
            .and_then(|kind| rules.rules.group_of(*kind))
            .map_or(0.0, |group| group.bonus_default)
    });
    let channels = store::channels::all(conn)?;
    let apart: Vec<String> = channels
        .iter()
        .filter(|c| c.own_section)
        .map(|c| c.code.clone())
        .collect();
    Ok(Context {
        channel_callbacks: store::reports::channel_callbacks(conn, &period, &apart)?,
        channels,
        volume: store::reports::volume(conn, &period)?,
        previous_month,
        a_year_earlier,
        baseline,
        registered_at: store::reports::registered_at(conn, &period)?,
        units,
        categories: store::categories::list(conn, &Default::default(), None, i64::MAX)?,
        bonuses,
        typical_cases: store::reports::typical_cases(conn, &period)?,
        calendar: store::calendar::load(conn, timezone)?,
        previous_closed: store::reports::closed_count(conn, &span.previous().period(timezone))?,
        forwards: store::reports::forwards(conn, &period)?,
        rules,
    })
}

/// Computes the figures and assembles the bulletin from what was read.
fn assemble(
    span: Span,
    timezone: Tz,
    hotline_name: &str,
    as_of: DateTime<Utc>,
    read: FigureReads,
    context: Context,
) -> Bulletin {
    let period = span.period(timezone);
    let exempt: figures::Exemptions = read
        .granted
        .iter()
        .map(|e| (e.unit_id, e.ticket_id))
        .collect();
    let figures = figures::compute(&read.facts, &period, as_of, &exempt);
    // The notes name the exemptions that changed this month's figures.
    let facts = &read.facts;
    let touched: HashSet<(uuid::Uuid, uuid::Uuid)> = facts
        .assignments
        .iter()
        .map(|a| (a.unit_id, a.ticket_id))
        .chain(facts.replies.iter().map(|r| (r.unit_id, r.ticket_id)))
        .chain(
            facts
                .callbacks
                .iter()
                .filter_map(|c| Some((c.unit_id?, c.ticket_id))),
        )
        .chain(facts.urges.iter().map(|u| (u.unit_id, u.ticket_id)))
        .chain(
            facts
                .supervisions
                .iter()
                .filter_map(|s| Some((s.unit_id?, s.ticket_id))),
        )
        .collect();
    let exemptions = read
        .granted
        .into_iter()
        .filter(|e| touched.contains(&(e.unit_id, e.ticket_id)))
        .collect();
    let inputs = Inputs {
        span,
        title: title(hotline_name, span),
        timezone,
        as_of,
        volume: context.volume,
        previous_month: context.previous_month,
        a_year_earlier: context.a_year_earlier,
        baseline: context.baseline,
        registered_at: context.registered_at,
        figures,
        units: context.units,
        categories: context.categories,
        rules_effective_from: context.rules.effective_from,
        rules: context.rules.rules,
        bonuses: context.bonuses,
        typical_cases: context.typical_cases,
        exemptions,
        calendar: context.calendar,
        previous_closed: context.previous_closed,
        forwards: context.forwards,
        channels: context.channels,
        channel_callbacks: context.channel_callbacks,
    };
    bulletin::assemble(&inputs)
}

/// Reads everything a month's bulletin is made of on `conn` and assembles it, with the figures
/// taken at `as_of`: inside a transaction that must see its own writes (publishing).
pub fn compile(
    conn: &mut DbConnection,
    span: Span,
    timezone: Tz,
    hotline_name: &str,
    as_of: DateTime<Utc>,
) -> Result<Bulletin, StoreError> {
    let period = span.period(timezone);
    let mut read = read_figures(conn, &period)?;
    read.facts.closures = store::figures::closures(conn, &period)?;
    let context = read_context(conn, span, timezone)?;
    Ok(assemble(span, timezone, hotline_name, as_of, read, context))
}

/// The same bulletin as [`compile`], read on two connections at once that see one state of the
/// database: the facts on one; the closures, the volume and everything else on the other.
pub fn compile_at_once(
    db: &Db,
    span: Span,
    timezone: Tz,
    hotline_name: &str,
    as_of: DateTime<Utc>,
) -> Result<Bulletin, StoreError> {
    let period = span.period(timezone);
    let (mut read, (context, closures)) = db.read_consistent(
        |conn| read_figures(conn, &period),
        |conn| {
            Ok::<_, StoreError>((
                read_context(conn, span, timezone)?,
                store::figures::closures(conn, &period)?,
            ))
        },
    )?;
    read.facts.closures = closures;
    Ok(assemble(span, timezone, hotline_name, as_of, read, context))
}

/// The month's published bulletin, as frozen.
pub fn published(conn: &mut DbConnection, month: Month) -> Result<Option<Bulletin>, StoreError> {
    store::reports::published(conn, month)?
        .map(|body| {
            let mut frozen: Bulletin = serde_json::from_str(&body).map_err(StoreError::corrupt)?;
            frozen.state = bulletin::State::Published;
            Ok(frozen)
        })
        .transpose()
}

/// The month's bulletin: the published one, or (`restated`, or when none was published) one
/// computed now, marked restated beside a published one.
pub fn monthly(
    db: &Db,
    month: Month,
    timezone: Tz,
    hotline_name: &str,
    now: DateTime<Utc>,
    restated: bool,
) -> Result<Bulletin, StoreError> {
    match db.read(|conn| published(conn, month))? {
        Some(frozen) if !restated => Ok(frozen),
        published => {
            let mut compiled =
                compile_at_once(db, Span::month(month), timezone, hotline_name, now)?;
            if let Some(frozen) = published {
                compiled.state = bulletin::State::Restated;
                compiled.published_at = frozen.published_at;
            }
            Ok(compiled)
        }
    }
}

/// The bulletin of any span: a month's as [`monthly`] gives it; a longer span's computed now
/// (only months are published).
pub fn of_span(
    db: &Db,
    span: Span,
    timezone: Tz,
    hotline_name: &str,
    now: DateTime<Utc>,
    restated: bool,
) -> Result<Bulletin, StoreError> {
    match span.kind() {
        SpanKind::Month => monthly(db, span.last(), timezone, hotline_name, now, restated),
        _ => compile_at_once(db, span, timezone, hotline_name, now),
    }
}

/// The formats a bulletin is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Html,
}

/// A rendered bulletin: what it is, what to call the file, its bytes.
pub struct Rendered {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Renders a bulletin; CSV is one table when `table` names one, a zip of all of them
/// otherwise.
pub fn render(b: &Bulletin, format: Format, table: Option<&str>) -> Result<Rendered, String> {
    let stem = format!("bulletin-{}", b.span());
    Ok(match format {
        Format::Json => Rendered {
            content_type: "application/json",
            file_name: format!("{stem}.json"),
            bytes: serde_json::to_vec(b).map_err(|e| e.to_string())?,
        },
        Format::Html => Rendered {
            content_type: "text/html; charset=utf-8",
            file_name: format!("{stem}.html"),
            bytes: html::render(b).into_bytes(),
        },
        Format::Csv => match table {
            Some(name) => {
                let table = tables::table(b, name).ok_or_else(|| {
                    format!(
                        "no table `{name}`; the tables are: {}",
                        tables::NAMES.join(", ")
                    )
                })?;
                Rendered {
                    content_type: "text/csv; charset=utf-8",
                    file_name: format!("{stem}-{name}.csv"),
                    bytes: csv::table(&table),
                }
            }
            None => Rendered {
                content_type: "application/zip",
                file_name: format!("{stem}-csv.zip"),
                bytes: csv::zip(&tables::tables(b), &stem).map_err(|e| e.to_string())?,
            },
        },
        Format::Xlsx => Rendered {
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            file_name: format!("{stem}.xlsx"),
            bytes: xlsx::workbook(&b.title, &tables::tables(b)).map_err(|e| e.to_string())?,
        },
    })
}
