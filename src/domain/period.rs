//! Reporting periods: calendar months in the hotline's time zone, runs of whole months (a
//! quarter, a half-year, a year, any months), and any `[from, to)` span of instants.

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

/// What a span of months is, for its name and the words that compare it (上月, 上期).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Month,
    Quarter,
    Half,
    Year,
    /// Any other run of whole months.
    Months,
}

/// A run of whole months, from `first` to `last`, written `YYYY-MM` (a month), `YYYY-Qn` (a
/// quarter), `YYYY-Hn` (a half-year), `YYYY` (a year) or `YYYY-MM..YYYY-MM` (any months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    first: Month,
    last: Month,
}

/// The most months a span holds: bulletins compare with as many before.
pub const SPAN_MONTHS_MAX: u32 = 36;

impl Span {
    pub fn month(month: Month) -> Self {
        Self {
            first: month,
            last: month,
        }
    }

    /// The months from `first` to `last`, both included.
    pub fn new(first: Month, last: Month) -> Option<Self> {
        let span = Self { first, last };
        (first <= last && span.months_count() <= SPAN_MONTHS_MAX).then_some(span)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "`{text}` is not a period: YYYY-MM, YYYY-Q1 to Q4, YYYY-H1 or H2, YYYY, or \
                 YYYY-MM..YYYY-MM of at most {SPAN_MONTHS_MAX} months"
            )
        };
        let month = |m: &str| Month::parse(m).map_err(|_| invalid());
        if let Some((first, last)) = text.split_once("..") {
            return Self::new(month(first)?, month(last)?).ok_or_else(invalid);
        }
        if text.len() == 4 {
            let year: i32 = text.parse().map_err(|_| invalid())?;
            let first = Month::new(year, 1).ok_or_else(invalid)?;
            return Self::new(first, Month::new(year, 12).ok_or_else(invalid)?).ok_or_else(invalid);
        }
        let (year, part) = text.split_once('-').ok_or_else(invalid)?;
        let year: i32 = if year.len() == 4 {
            year.parse().map_err(|_| invalid())?
        } else {
            return Err(invalid());
        };
        let (first, months) = match part {
            "Q1" => (1, 3),
            "Q2" => (4, 3),
            "Q3" => (7, 3),
            "Q4" => (10, 3),
            "H1" => (1, 6),
            "H2" => (7, 6),
            _ => return Ok(Self::month(month(text)?)),
        };
        let first = Month::new(year, first).ok_or_else(invalid)?;
        Self::new(
            first,
            Month::new(year, first.month() + months - 1).ok_or_else(invalid)?,
        )
        .ok_or_else(invalid)
    }

    pub fn first(self) -> Month {
        self.first
    }

    pub fn last(self) -> Month {
        self.last
    }

    pub fn months_count(self) -> u32 {
        ((self.last.year() - self.first.year()) * 12 + self.last.month() as i32
            - self.first.month() as i32
            + 1) as u32
    }

    pub fn months(self) -> impl Iterator<Item = Month> {
        std::iter::successors(Some(self.first), |m| Some(m.next()))
            .take_while(move |m| *m <= self.last)
    }

    pub fn kind(self) -> SpanKind {
        let (first, count) = (self.first.month(), self.months_count());
        let same_year = self.first.year() == self.last.year();
        match (count, first) {
            (1, _) => SpanKind::Month,
            (3, 1 | 4 | 7 | 10) if same_year => SpanKind::Quarter,
            (6, 1 | 7) if same_year => SpanKind::Half,
            (12, 1) => SpanKind::Year,
            _ => SpanKind::Months,
        }
    }

    /// The span of as many months just before (环比).
    pub fn previous(self) -> Self {
        let count = self.months_count();
        let last = self.first.previous();
        let first = (1..count).fold(last, |m, _| m.previous());
        Self { first, last }
    }

    /// Whether the span just before is the same months a year earlier (a span of twelve
    /// months): 环比 and 同比 are then one comparison.
    pub fn previous_is_a_year_earlier(self) -> bool {
        self.previous() == self.a_year_earlier()
    }

    /// The same months a year earlier (同比).
    pub fn a_year_earlier(self) -> Self {
        Self {
            first: self.first.a_year_earlier(),
            last: self.last.a_year_earlier(),
        }
    }

    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.months().flat_map(Month::days)
    }

    pub fn period(self, timezone: Tz) -> Period {
        Period {
            from: self.first.period(timezone).from,
            to: self.last.period(timezone).to,
        }
    }

    /// As bulletins name it: 2026年10月, 2026年第三季度, 2026年上半年, 2026年, 2026年1月至5月.
    pub fn label(self) -> String {
        let (year, first, last) = (self.first.year(), self.first.month(), self.last.month());
        match self.kind() {
            SpanKind::Month => format!("{year}年{first}月"),
            SpanKind::Quarter => {
                let name = ["一", "二", "三", "四"][(first as usize - 1) / 3];
                format!("{year}年第{name}季度")
            }
            SpanKind::Half if first == 1 => format!("{year}年上半年"),
            SpanKind::Half => format!("{year}年下半年"),
            SpanKind::Year => format!("{year}年"),
            SpanKind::Months if self.last.year() == year => {
                format!("{year}年{first}月至{last}月")
            }
            SpanKind::Months => {
                format!("{year}年{first}月至{}年{last}月", self.last.year())
            }
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, first) = (self.first.year(), self.first.month());
        match self.kind() {
            SpanKind::Month => write!(f, "{}", self.first),
            SpanKind::Quarter => write!(f, "{year}-Q{}", (first - 1) / 3 + 1),
            SpanKind::Half => write!(f, "{year}-H{}", (first - 1) / 6 + 1),
            SpanKind::Year => write!(f, "{year}"),
            SpanKind::Months => write!(f, "{}..{}", self.first, self.last),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Span::parse(&text).map_err(serde::de::Error::custom)
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
    fn spans_parse_name_and_compare() {
        let cases = [
            ("2026-10", "2026-10", 1, "2026年10月", "2026-09", "2025-10"),
            (
                "2026-Q3",
                "2026-Q3",
                3,
                "2026年第三季度",
                "2026-Q2",
                "2025-Q3",
            ),
            (
                "2026-Q1",
                "2026-Q1",
                3,
                "2026年第一季度",
                "2025-Q4",
                "2025-Q1",
            ),
            (
                "2026-H1",
                "2026-H1",
                6,
                "2026年上半年",
                "2025-H2",
                "2025-H1",
            ),
            (
                "2026-H2",
                "2026-H2",
                6,
                "2026年下半年",
                "2026-H1",
                "2025-H2",
            ),
            ("2025", "2025", 12, "2025年", "2024", "2024"),
            (
                "2026-01..2026-05",
                "2026-01..2026-05",
                5,
                "2026年1月至5月",
                "2025-08..2025-12",
                "2025-01..2025-05",
            ),
            (
                "2025-11..2026-02",
                "2025-11..2026-02",
                4,
                "2025年11月至2026年2月",
                "2025-07..2025-10",
                "2024-11..2025-02",
            ),
            (
                "2026-07..2026-09",
                "2026-Q3",
                3,
                "2026年第三季度",
                "2026-Q2",
                "2025-Q3",
            ),
            (
                "2026-05..2026-05",
                "2026-05",
                1,
                "2026年5月",
                "2026-04",
                "2025-05",
            ),
        ];
        for (text, shown, months, label, previous, earlier) in cases {
            let span = Span::parse(text).unwrap();
            assert_eq!(
                (
                    span.to_string().as_str(),
                    span.months_count(),
                    span.label().as_str(),
                    span.previous().to_string().as_str(),
                    span.a_year_earlier().to_string().as_str()
                ),
                (shown, months, label, previous, earlier),
                "{text}"
            );
        }
        for bad in [
            "2026-Q5",
            "2026-H3",
            "26",
            "2026-10..2026-09",
            "2020-01..2023-01",
            "2026-q1",
            "",
            "2026-1",
            "20261",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Span::parse("2024").unwrap().days().count(), 366);
        assert!(Span::parse("2026").unwrap().previous_is_a_year_earlier());
        assert!(
            Span::parse("2025-07..2026-06")
                .unwrap()
                .previous_is_a_year_earlier()
        );
        assert!(!Span::parse("2026-Q3").unwrap().previous_is_a_year_earlier());
        let year = Span::parse("2026")
            .unwrap()
            .period(chrono_tz::Asia::Shanghai);
        assert_eq!(year.from.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(year.to.to_rfc3339(), "2026-12-31T16:00:00+00:00");
    }

    proptest::proptest! {
        #[test]
        fn a_span_is_preceded_by_as_many_months_and_reads_back_as_written(
            year in 2001i32..2099, month in 1u32..=12, count in 1u32..=SPAN_MONTHS_MAX,
        ) {
            let first = Month::new(year, month).unwrap();
            let last = (1..count).fold(first, |m, _| m.next());
            proptest::prop_assume!(last.year() <= 2100);
            let span = Span::new(first, last).unwrap();
            proptest::prop_assert_eq!(Span::parse(&span.to_string()).unwrap(), span);
            let previous = span.previous();
            proptest::prop_assert_eq!(previous.months_count(), count);
            proptest::prop_assert_eq!(previous.last().next(), span.first());
            proptest::prop_assert_eq!(span.a_year_earlier().months_count(), count);
            proptest::prop_assert_eq!(span.months().count() as u32, count);
        }
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
