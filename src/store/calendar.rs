//! The working-day calendar's data: the days that differ from the weekday rule.

use chrono::NaiveDate;
use chrono_tz::Tz;
use diesel::prelude::*;

use super::schema::calendar_days;
use super::sql::Day;
use super::{DbConnection, StoreError};
use crate::domain::calendar::{DayKind, SpecialDay, WorkCalendar};

/// The calendar as stored, in the hotline's time zone. The table holds a few dozen rows a year.
pub fn load(conn: &mut DbConnection, timezone: Tz) -> Result<WorkCalendar, StoreError> {
    let days: Vec<(NaiveDate, DayKind)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    Ok(WorkCalendar::new(timezone, days))
}

/// A year's special days, in date order.
pub fn year(conn: &mut DbConnection, year: i32) -> Result<Vec<SpecialDay>, StoreError> {
    let rows: Vec<(NaiveDate, DayKind, Option<String>)> = calendar_days::table
        .filter(calendar_days::day.like(format!("{year:04}-%")))
        .order(calendar_days::day.asc())
        .select((calendar_days::day, calendar_days::kind, calendar_days::name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(day, kind, name)| SpecialDay { day, kind, name })
        .collect())
}

/// Replaces a year's special days with `days` (already checked to lie in that year).
pub fn replace_year(
    conn: &mut DbConnection,
    year: i32,
    days: &[SpecialDay],
) -> Result<(), StoreError> {
    diesel::delete(calendar_days::table.filter(calendar_days::day.like(format!("{year:04}-%"))))
        .execute(conn)?;
    for day in days {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::day.eq(Day(day.day)),
                calendar_days::kind.eq(day.kind),
                calendar_days::name.eq(day.name.as_deref()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
