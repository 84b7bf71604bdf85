//! The monthly bulletin: compiled from the store's records and the figures, assembled by pure
//! rules, and rendered as JSON, CSV, XLSX and a printable HTML page.

pub mod bulletin;
pub mod csv;
pub mod html;
pub mod labels;
pub mod tables;
pub mod xlsx;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::figures;
use crate::domain::period::Month;
use crate::store::{self, DbConnection, StoreError};
use bulletin::{Bulletin, Inputs};

/// The bulletin's title: the hotline's name and the month.
pub fn title(hotline_name: &str, month: Month) -> String {
    format!(
        "{hotline_name}{}年{}月工作通报",
        month.year(),
        month.month()
    )
}

/// Reads everything a month's bulletin is made of and assembles it, with the figures taken at
/// `as_of`.
pub fn compile(
    conn: &mut DbConnection,
    month: Month,
    timezone: Tz,
    hotline_name: &str,
    as_of: DateTime<Utc>,
) -> Result<Bulletin, StoreError> {
    let period = month.period(timezone);
    let rules = store::reports::rules_for(conn, month)?;
    let facts = store::figures::facts(conn, &period)?;
    let exempt = store::figures::exemptions(conn)?;
    let figures = figures::compute(&facts, &period, as_of, &exempt);
    // The notes name the exemptions that changed this month's figures.
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
    let exemptions = store::reports::granted_appeals(conn)?
        .into_iter()
        .filter(|e| touched.contains(&(e.unit_id, e.ticket_id)))
        .collect();
    let mut earlier = month;
    let mut baseline = Vec::new();
    for _ in 0..rules.rules.hot_spots.baseline_months.max(1) {
        earlier = earlier.previous();
        baseline.push(store::reports::volume(conn, &earlier.period(timezone))?);
    }
    let previous_month = baseline[0].clone();
    if rules.rules.hot_spots.baseline_months == 0 {
        baseline.clear();
    }
    let everything = store::units::UnitFilter::default();
    let inputs = Inputs {
        month,
        title: title(hotline_name, month),
        timezone,
        as_of,
        volume: store::reports::volume(conn, &period)?,
        previous_month,
        a_year_earlier: store::reports::volume(conn, &month.a_year_earlier().period(timezone))?,
        baseline,
        registered_at: store::reports::registered_at(conn, &period)?,
        figures,
        units: store::units::list(conn, &everything, None, i64::MAX)?,
        categories: store::categories::list(conn, &Default::default(), None, i64::MAX)?,
        rules_effective_from: rules.effective_from,
        rules: rules.rules,
        bonuses: store::reports::bonus_points(conn, month)?,
        typical_cases: store::reports::typical_cases(conn, &period)?,
        exemptions,
    };
    Ok(bulletin::assemble(&inputs))
}

/// The month's published bulletin, as frozen.
pub fn published(conn: &mut DbConnection, month: Month) -> Result<Option<Bulletin>, StoreError> {
    store::reports::published(conn, month)?
        .map(|p| {
            let mut frozen: Bulletin =
                serde_json::from_value(p.body).map_err(StoreError::corrupt)?;
            frozen.state = bulletin::State::Published;
            Ok(frozen)
        })
        .transpose()
}

/// The month's bulletin: the published one, or (`restated`, or when none was published) one
/// computed now, marked restated beside a published one.
pub fn monthly(
    conn: &mut DbConnection,
    month: Month,
    timezone: Tz,
    hotline_name: &str,
    now: DateTime<Utc>,
    restated: bool,
) -> Result<Bulletin, StoreError> {
    let published = published(conn, month)?;
    if let (Some(frozen), false) = (&published, restated) {
        return Ok(frozen.clone());
    }
    let mut compiled = compile(conn, month, timezone, hotline_name, now)?;
    if let Some(frozen) = published {
        compiled.state = bulletin::State::Restated;
        compiled.published_at = frozen.published_at;
    }
    Ok(compiled)
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
    let stem = format!("bulletin-{}", b.month);
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
