//! The working-day calendar's data: the days that differ from the weekday rule.

use chrono::NaiveDate;
use chrono_tz::Tz;
use diesel::prelude::*;

use super::schema::calendar_days;
use super::{DbConnection, StoreError, parse_text};
use crate::domain::calendar::{DayKind, WorkCalendar};

/// The calendar as stored, in the hotline's time zone. The table holds a few dozen rows a year.
pub fn load(conn: &mut DbConnection, timezone: Tz) -> Result<WorkCalendar, StoreError> {
    let rows: Vec<(String, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let days = rows
        .into_iter()
        .map(|(day, kind)| {
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(StoreError::corrupt)?;
            Ok((day, parse_text::<DayKind>(&kind)?))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(WorkCalendar::new(timezone, days))
}
