//! Reporting periods: calendar months in the hotline's time zone, and any `[from, to)` span.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.from <= instant && instant < self.to
    }
}

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (2000..=2100).contains(&year)).then_some(Self { year, month })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not a month written YYYY-MM (2000-01 to 2100-12)");
        let (year, month) = text.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year = year.parse().map_err(|_| invalid())?;
        let month = month.parse().map_err(|_| invalid())?;
        Self::new(year, month).ok_or_else(invalid)
    }

    /// The month an instant falls in, in `timezone`.
    pub fn of(instant: DateTime<Utc>, timezone: Tz) -> Self {
        let local = instant.with_timezone(&timezone);
        Self {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The same month a year earlier (同比).
    pub fn a_year_earlier(self) -> Self {
        Self {
            year: self.year - 1,
            month: self.month,
        }
    }

    /// Every day of the month.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        let end = self.next().first_day();
        self.first_day().iter_days().take_while(move |d| *d < end)
    }

    /// The month's instants, from local midnight on its first day to local midnight on the next
    /// month's.
    pub fn period(self, timezone: Tz) -> Period {
        Period {
            from: local_midnight(self.first_day(), timezone),
            to: local_midnight(self.next().first_day(), timezone),
        }
    }
}

/// The first instant of a day in `timezone` (the earliest, should a clock change repeat it).
pub fn local_midnight(day: NaiveDate, timezone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    timezone
        .from_local_datetime(&midnight)
        .earliest()
        .or_else(|| {
            // A day that starts inside a spring-forward gap begins an hour later.
            timezone
                .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .expect("a day has a first instant")
        .with_timezone(&Utc)
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Month::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly_and_step_across_years() {
        let july = Month::parse("2022-07").unwrap();
        assert_eq!(july.to_string(), "2022-07");
        assert_eq!(july.previous().to_string(), "2022-06");
        assert_eq!(
            Month::parse("2022-01").unwrap().previous().to_string(),
            "2021-12"
        );
        assert_eq!(
            Month::parse("2022-12").unwrap().next().to_string(),
            "2023-01"
        );
        assert_eq!(july.a_year_earlier().to_string(), "2021-07");
        for bad in [
            "2022-7", "2022-13", "22-07", "2022/07", "1999-12", "2022-00", "",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(july.days().count(), 31);
        assert_eq!(Month::parse("2024-02").unwrap().days().count(), 29);
    }

    #[test]
    fn a_month_runs_from_local_midnight_to_local_midnight() {
        let period = Month::parse("2022-07")
            .unwrap()
            .period(chrono_tz::Asia::Shanghai);
        assert_eq!(period.from.to_rfc3339(), "2022-06-30T16:00:00+00:00");
        assert_eq!(period.to.to_rfc3339(), "2022-07-31T16:00:00+00:00");
        assert!(period.contains(period.from));
        assert!(!period.contains(period.to));
        let instant = "2022-07-31T15:59:59Z".parse().unwrap();
        assert_eq!(
            Month::of(instant, chrono_tz::Asia::Shanghai).to_string(),
            "2022-07"
        );
        let after = "2022-07-31T16:00:00Z".parse().unwrap();
        assert_eq!(
            Month::of(after, chrono_tz::Asia::Shanghai).to_string(),
            "2022-08"
        );
    }
}
