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
