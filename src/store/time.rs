//! Both databases hold timestamps as UTC without a zone (`TIMESTAMP`); the service speaks
//! `DateTime<Utc>`. These two functions are the only crossing.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// To a column value, at the microsecond precision PostgreSQL keeps (SQLite would keep more and
/// the two backends would then answer differently).
pub fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc().trunc_subsecs(6)
}

pub fn from_db(value: NaiveDateTime) -> DateTime<Utc> {
    value.and_utc()
}
