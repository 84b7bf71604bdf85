//! Working time. China moves working days around its public holidays (调休: some weekend days
//! become working days), so which days count is data — a year's holidays and make-up working
//! days — not a weekday rule. Deadlines are computed here, each with the explanation of how.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

text_enum! {
    /// What the calendar says about a day that is not an ordinary weekday or weekend day.
    pub enum DayKind {
        /// A public holiday (法定节假日), off even on a weekday.
        Holiday = "holiday",
        /// A weekend day worked to make up for a holiday (调休上班).
        Workday = "workday",
    }
}

/// A year's days off and make-up working days as an administrator sends them, e.g. from the
/// State Council's annual notice on public holidays.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearInput {
    #[serde(default)]
    pub holidays: Vec<DayInput>,
    #[serde(default)]
    pub workdays: Vec<DayInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayInput {
    pub day: NaiveDate,
    #[serde(default)]
    pub name: Option<String>,
}

/// A day that differs from the weekday rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecialDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: Option<String>,
}

/// Checks a year's calendar as a whole: every day inside the year, none listed twice, none both
/// off and on, make-up working days only on weekends (a weekday is a working day already).
pub fn parse_year(
    year: i32,
    input: YearInput,
) -> Result<Vec<SpecialDay>, crate::domain::validation::ValidationErrors> {
    let mut errors = crate::domain::validation::ValidationErrors::new();
    let mut seen: BTreeMap<NaiveDate, DayKind> = BTreeMap::new();
    let mut days = Vec::new();
    for (list, kind, entries) in [
        ("holidays", DayKind::Holiday, input.holidays),
        ("workdays", DayKind::Workday, input.workdays),
    ] {
        for (i, entry) in entries.into_iter().enumerate() {
            let field = format!("{list}[{i}].day");
            if entry.day.year() != year {
                errors.add(&field, format!("must be in {year}"));
            }
            match seen.insert(entry.day, kind) {
                Some(earlier) if earlier == kind => errors.add(&field, "is listed twice"),
                Some(_) => errors.add(&field, "is both a holiday and a make-up working day"),
                None => {}
            }
            if kind == DayKind::Workday
                && !matches!(entry.day.weekday(), Weekday::Sat | Weekday::Sun)
            {
                errors.add(&field, "is a weekday, which is a working day already");
            }
            let too_long = entry
                .name
                .as_deref()
                .is_some_and(|n| n.chars().count() > 32);
            let name = match entry
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
            {
                Some(_) if too_long => {
                    errors.add(format!("{list}[{i}].name"), "must be at most 32 characters");
                    None
                }
                other => other.map(str::to_owned),
            };
            days.push(SpecialDay {
                day: entry.day,
                kind,
                name,
            });
        }
    }
    errors.finish()?;
    days.sort_by_key(|d| d.day);
    Ok(days)
}

/// Why a day did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    Weekend,
    Holiday,
}

/// A length of time a unit is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum Limit {
    /// Whole working days: the same time of day that many working days later.
    WorkingDays(u32),
    /// Office hours on working days.
    WorkingHours(u32),
    /// Clock hours, around the clock (urgent matters).
    Hours(u32),
}

text_enum! {
    /// What a [`Limit`] counts in: its variants, named as its JSON's `unit` names them.
    pub enum LimitUnit {
        WorkingDays = "working_days",
        WorkingHours = "working_hours",
        Hours = "hours",
    }
}

impl Limit {
    pub fn of(unit: LimitUnit, amount: u32) -> Self {
        match unit {
            LimitUnit::WorkingDays => Limit::WorkingDays(amount),
            LimitUnit::WorkingHours => Limit::WorkingHours(amount),
            LimitUnit::Hours => Limit::Hours(amount),
        }
    }

    pub fn unit(self) -> LimitUnit {
        match self {
            Limit::WorkingDays(_) => LimitUnit::WorkingDays,
            Limit::WorkingHours(_) => LimitUnit::WorkingHours,
            Limit::Hours(_) => LimitUnit::Hours,
        }
    }

    pub fn amount(self) -> u32 {
        match self {
            Limit::WorkingDays(n) | Limit::WorkingHours(n) | Limit::Hours(n) => n,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::WorkingDays(n) => write!(f, "{n} working day{}", if *n == 1 { "" } else { "s" }),
            Limit::WorkingHours(n) => {
                write!(f, "{n} working hour{}", if *n == 1 { "" } else { "s" })
            }
            Limit::Hours(n) => write!(f, "{n} hour{}", if *n == 1 { "" } else { "s" }),
        }
    }
}

/// How a due time came about: the limit applied, from when, which days counted and which were
/// skipped and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub due_at: DateTime<Utc>,
    /// `None` when a person set the time instead of a rule.
    pub limit: Option<Limit>,
    /// The rule the limit came from, e.g. `complaint/normal reply`.
    pub rule: String,
    pub started_at: DateTime<Utc>,
    pub counted: Vec<NaiveDate>,
    pub skipped: Vec<SkippedDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedDay {
    pub day: NaiveDate,
    pub reason: SkipReason,
}

impl Due {
    /// A due time a person chose, e.g. a reviewer sending a reply back with a date.
    pub fn set_by_hand(due_at: DateTime<Utc>, started_at: DateTime<Utc>, rule: &str) -> Self {
        Self {
            due_at,
            limit: None,
            rule: rule.to_owned(),
            started_at,
            counted: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// The days that differ from the weekday rule, and the hotline's office hours and time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkCalendar {
    pub timezone: Tz,
    days: BTreeMap<NaiveDate, DayKind>,
    pub office_opens: NaiveTime,
    pub office_closes: NaiveTime,
}

/// Office hours when none are configured: 09:00 to 18:00.
pub fn default_office_hours() -> (NaiveTime, NaiveTime) {
    (
        NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time"),
        NaiveTime::from_hms_opt(18, 0, 0).expect("a valid time"),
    )
}

impl WorkCalendar {
    pub fn new(timezone: Tz, days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let (office_opens, office_closes) = default_office_hours();
        Self {
            timezone,
            days: days.into_iter().collect(),
            office_opens,
            office_closes,
        }
    }

    /// Weekends off, weekdays on, nothing else known.
    pub fn weekdays_only(timezone: Tz) -> Self {
        Self::new(timezone, [])
    }

    /// Why a day is off, or `None` when it is a working day.
    pub fn off_reason(&self, day: NaiveDate) -> Option<SkipReason> {
        match self.days.get(&day) {
            Some(DayKind::Workday) => None,
            Some(DayKind::Holiday) => Some(SkipReason::Holiday),
            None if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) => {
                Some(SkipReason::Weekend)
            }
            None => None,
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        self.off_reason(day).is_none()
    }

    fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.timezone).naive_local()
    }

    /// A local wall-clock time as an instant; a time skipped by a daylight-saving change moves
    /// to the first instant after it.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(at) = self.timezone.from_local_datetime(&probe).earliest() {
                return at.with_timezone(&Utc);
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local)
    }

    /// The due time `limit` after `start`, with its explanation.
    pub fn due(&self, start: DateTime<Utc>, limit: Limit, rule: &str) -> Due {
        let mut counted = Vec::new();
        let mut skipped = Vec::new();
        let mut skip = |day: NaiveDate, reason: SkipReason, skipped: &mut Vec<SkippedDay>| {
            if skipped.last().is_none_or(|s: &SkippedDay| s.day != day) {
                skipped.push(SkippedDay { day, reason });
            }
        };
        let due_at = match limit {
            Limit::Hours(n) => start + Duration::hours(i64::from(n)),
            Limit::WorkingDays(n) => {
                let local = self.local(start);
                // Time spent on a day off does not count: the clock starts at the next working
                // day's beginning.
                let (mut day, time) = if let Some(reason) = self.off_reason(local.date()) {
                    skip(local.date(), reason, &mut skipped);
                    (
                        self.next_working_day(local.date(), &mut skipped, &mut skip),
                        NaiveTime::MIN,
                    )
                } else {
                    (local.date(), local.time())
                };
                for _ in 0..n {
                    day = self.next_working_day(day, &mut skipped, &mut skip);
                    counted.push(day);
                }
                if n == 0 {
                    counted.push(day);
                }
                self.instant(day.and_time(time))
            }
            Limit::WorkingHours(n) => {
                let mut remaining = Duration::hours(i64::from(n));
                let mut cursor = self.local(start);
                loop {
                    let day = cursor.date();
                    if let Some(reason) = self.off_reason(day) {
                        skip(day, reason, &mut skipped);
                        cursor = (day + Duration::days(1)).and_time(self.office_opens);
                        continue;
                    }
                    let opens = day.and_time(self.office_opens);
                    let closes = day.and_time(self.office_closes);
                    if cursor < opens {
                        cursor = opens;
                    }
                    if cursor >= closes {
                        cursor = (day + Duration::days(1)).and_time(self.office_opens);
                        continue;
                    }
                    if counted.last() != Some(&day) {
                        counted.push(day);
                    }
                    let available = closes - cursor;
                    if remaining <= available {
                        break self.instant(cursor + remaining);
                    }
                    remaining -= available;
                    cursor = (day + Duration::days(1)).and_time(self.office_opens);
                }
            }
        };
        Due {
            due_at,
            limit: Some(limit),
            rule: rule.to_owned(),
            started_at: start,
            counted,
            skipped,
        }
    }

    /// The first working day after `day`, recording the days passed over.
    fn next_working_day(
        &self,
        day: NaiveDate,
        skipped: &mut Vec<SkippedDay>,
        skip: &mut impl FnMut(NaiveDate, SkipReason, &mut Vec<SkippedDay>),
    ) -> NaiveDate {
        let mut next = day + Duration::days(1);
        while let Some(reason) = self.off_reason(next) {
            skip(next, reason, skipped);
            next += Duration::days(1);
        }
        next
    }

    /// Working time between two instants, measured the way `limit` counts: whole working days
    /// (every hour of a working day), office hours of working days, or clock time. Zero when
    /// `to` is not after `from`.
    pub fn working_time(&self, from: DateTime<Utc>, to: DateTime<Utc>, limit: Limit) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if let Limit::Hours(_) = limit {
            return to - from;
        }
        let (start, end) = (self.local(from), self.local(to));
        let mut total = Duration::zero();
        let mut day = start.date();
        while day <= end.date() {
            if self.is_working_day(day) {
                let (opens, closes) = match limit {
                    Limit::WorkingHours(_) => (
                        day.and_time(self.office_opens),
                        day.and_time(self.office_closes),
                    ),
                    _ => (
                        day.and_time(NaiveTime::MIN),
                        (day + Duration::days(1)).and_time(NaiveTime::MIN),
                    ),
                };
                let from = opens.max(start);
                let until = closes.min(end);
                if until > from {
                    total += until - from;
                }
            }
            day += Duration::days(1);
        }
        total
    }

    /// The instant `amount` of working time (counted as `limit` counts) after `start`: how far a
    /// deadline moves when its clock was stopped for that long.
    pub fn advance(&self, start: DateTime<Utc>, amount: Duration, limit: Limit) -> DateTime<Utc> {
        if let Limit::Hours(_) = limit {
            return start + amount;
        }
        let mut remaining = amount;
        let mut cursor = self.local(start);
        loop {
            let day = cursor.date();
            let (opens, closes) = match limit {
                Limit::WorkingHours(_) => (
                    day.and_time(self.office_opens),
                    day.and_time(self.office_closes),
                ),
                _ => (
                    day.and_time(NaiveTime::MIN),
                    (day + Duration::days(1)).and_time(NaiveTime::MIN),
                ),
            };
            if self.is_working_day(day) && cursor < closes {
                let from = cursor.max(opens);
                if remaining <= closes - from {
                    return self.instant(from + remaining);
                }
                remaining -= closes - from;
            }
            cursor = (day + Duration::days(1)).and_time(NaiveTime::MIN);
        }
    }

    /// The end of the first working day after the one `instant` falls on (local midnight that
    /// ends it): when a callback that starts the working day after a review is due.
    pub fn end_of_next_working_day(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        let mut day = self.local(instant).date() + Duration::days(1);
        while !self.is_working_day(day) {
            day += Duration::days(1);
        }
        self.instant((day + Duration::days(1)).and_time(NaiveTime::MIN))
    }

    /// The holidays and make-up working days the calendar knows, in date order.
    pub fn special_days(&self) -> impl Iterator<Item = (NaiveDate, DayKind)> + '_ {
        self.days.iter().map(|(d, k)| (*d, *k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// A National Day week shaped as the State Council's notices shape them: 1–7 October off,
    /// the Sunday before (27 September) and the Saturday after (10 October) worked.
    fn national_day() -> WorkCalendar {
        let mut days: Vec<(NaiveDate, DayKind)> = (1..=7)
            .map(|d| (date(2026, 10, d), DayKind::Holiday))
            .collect();
        days.push((date(2026, 9, 27), DayKind::Workday));
        days.push((date(2026, 10, 10), DayKind::Workday));
        WorkCalendar::new(chrono_tz::Asia::Shanghai, days)
    }

    #[test]
    fn weekends_holidays_and_make_up_days() {
        let calendar = national_day();
        assert_eq!(
            calendar.off_reason(date(2026, 9, 26)),
            Some(SkipReason::Weekend)
        );
        assert!(
            calendar.is_working_day(date(2026, 9, 27)),
            "a worked Sunday"
        );
        assert_eq!(
            calendar.off_reason(date(2026, 10, 1)),
            Some(SkipReason::Holiday),
            "a Thursday off"
        );
        assert!(
            calendar.is_working_day(date(2026, 10, 10)),
            "a worked Saturday"
        );
        assert!(calendar.is_working_day(date(2026, 10, 9)));
    }

    #[test]
    fn working_days_keep_the_time_of_day() {
        let calendar = WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai);
        let friday = at(2026, 11, 20, 10, 30);
        let due = calendar.due(friday, Limit::WorkingDays(1), "test");
        assert_eq!(due.due_at, at(2026, 11, 23, 10, 30), "Monday, same time");
        assert_eq!(due.counted, [date(2026, 11, 23)]);
        assert_eq!(
            due.skipped,
            [
                SkippedDay {
                    day: date(2026, 11, 21),
                    reason: SkipReason::Weekend
                },
                SkippedDay {
                    day: date(2026, 11, 22),
                    reason: SkipReason::Weekend
                }
            ]
        );
    }

    #[test]
    fn a_dispatch_on_a_day_off_starts_the_next_working_morning() {
        let calendar = WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai);
        let saturday = at(2026, 11, 21, 15, 0);
        let due = calendar.due(saturday, Limit::WorkingDays(1), "test");
        assert_eq!(
            due.due_at,
            at(2026, 11, 24, 0, 0),
            "the whole of Monday counts"
        );
        assert_eq!(due.counted, [date(2026, 11, 24)]);
    }

    #[test]
    fn the_national_day_week_is_skipped_and_its_saturday_worked() {
        let calendar = national_day();
        let before = at(2026, 9, 30, 16, 0);
        let due = calendar.due(before, Limit::WorkingDays(2), "complaint/normal sign");
        assert_eq!(due.counted, [date(2026, 10, 8), date(2026, 10, 9)]);
        assert_eq!(due.due_at, at(2026, 10, 9, 16, 0));
        assert_eq!(due.skipped.len(), 7);
        assert!(due.skipped.iter().all(|s| s.reason == SkipReason::Holiday));
        let three = calendar.due(before, Limit::WorkingDays(3), "test");
        assert_eq!(
            three.due_at,
            at(2026, 10, 10, 16, 0),
            "the make-up Saturday counts"
        );
        let fifteen = calendar.due(
            at(2026, 9, 25, 9, 0),
            Limit::WorkingDays(15),
            "complaint/normal reply",
        );
        assert_eq!(fifteen.counted.len(), 15);
        assert!(fifteen.counted.contains(&date(2026, 9, 27)));
        assert!(
            !fifteen
                .counted
                .iter()
                .any(|d| (1..=7).contains(&d.day()) && d.month() == 10)
        );
    }

    #[test]
    fn working_hours_run_in_office_hours_only() {
        let calendar = WorkCalendar::weekdays_only(chrono_tz::Asia::Shanghai);
        let late_friday = at(2026, 11, 20, 17, 30);
        let due = calendar.due(late_friday, Limit::WorkingHours(2), "test");
        assert_eq!(
            due.due_at,
            at(2026, 11, 23, 10, 30),
            "30 minutes on Friday, 90 on Monday"
        );
        assert_eq!(due.counted, [date(2026, 11, 20), date(2026, 11, 23)]);
        let early = calendar.due(at(2026, 11, 18, 7, 0), Limit::WorkingHours(1), "test");
        assert_eq!(early.due_at, at(2026, 11, 18, 10, 0));
        let long = calendar.due(at(2026, 11, 18, 9, 0), Limit::WorkingHours(9), "test");
        assert_eq!(
            long.due_at,
            at(2026, 11, 18, 18, 0),
            "a full office day ends at closing"
        );
    }

    #[test]
    fn clock_hours_ignore_the_calendar() {
        let calendar = national_day();
        let holiday = at(2026, 10, 2, 23, 30);
        let due = calendar.due(holiday, Limit::Hours(1), "urgent sign");
        assert_eq!(due.due_at, at(2026, 10, 3, 0, 30));
        assert!(due.skipped.is_empty());
    }

    #[test]
    fn callbacks_are_due_by_the_end_of_the_next_working_day() {
        let calendar = national_day();
        assert_eq!(
            calendar.end_of_next_working_day(at(2026, 9, 30, 11, 0)),
            at(2026, 10, 9, 0, 0)
        );
        assert_eq!(
            calendar.end_of_next_working_day(at(2026, 11, 18, 11, 0)),
            at(2026, 11, 20, 0, 0)
        );
    }

    #[test]
    fn working_time_counts_only_what_the_limit_counts() {
        let calendar = national_day();
        let day = Duration::hours(24);
        // Wednesday 30 September 16:00 to Thursday 8 October 16:00: 8 hours of the Wednesday,
        // the holiday week skipped, 16 hours of the Thursday.
        let across = calendar.working_time(
            at(2026, 9, 30, 16, 0),
            at(2026, 10, 8, 16, 0),
            Limit::WorkingDays(1),
        );
        assert_eq!(across, day);
        let office = calendar.working_time(
            at(2026, 9, 30, 16, 0),
            at(2026, 10, 8, 10, 0),
            Limit::WorkingHours(1),
        );
        assert_eq!(office, Duration::hours(3));
        let clock = calendar.working_time(
            at(2026, 9, 30, 16, 0),
            at(2026, 10, 8, 16, 0),
            Limit::Hours(1),
        );
        assert_eq!(clock, Duration::days(8));
        assert_eq!(
            calendar.working_time(
                at(2026, 10, 8, 0, 0),
                at(2026, 10, 1, 0, 0),
                Limit::WorkingDays(1)
            ),
            Duration::zero()
        );
    }

    #[test]
    fn advancing_and_counting_agree_with_due_times() {
        let calendar = national_day();
        for (h, limit) in [
            (16, Limit::WorkingDays(3)),
            (11, Limit::WorkingHours(20)),
            (8, Limit::Hours(30)),
        ] {
            let start = at(2026, 9, 29, h, 0);
            let due = calendar.due(start, limit, "test").due_at;
            let length = calendar.working_time(start, due, limit);
            assert_eq!(calendar.advance(start, length, limit), due, "{limit}");
        }
        let moved = calendar.advance(
            at(2026, 9, 30, 20, 0),
            Duration::hours(6),
            Limit::WorkingDays(1),
        );
        assert_eq!(
            moved,
            at(2026, 10, 8, 2, 0),
            "4 hours on the Wednesday, then after the holiday week"
        );
    }

    #[test]
    fn a_year_is_checked_as_a_whole() {
        let input: YearInput = serde_json::from_value(serde_json::json!({
            "holidays": [{"day": "2026-10-01", "name": "国庆节"}, {"day": "2026-10-02"}, {"day": "2025-12-31"}],
            "workdays": [{"day": "2026-10-10", "name": "国庆调休"}, {"day": "2026-10-02"}, {"day": "2026-10-09"}]
        }))
        .unwrap();
        let errors = parse_year(2026, input).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "holidays[2].day",
                "workdays[1].day",
                "workdays[1].day",
                "workdays[2].day"
            ]
        );
        let good: YearInput = serde_json::from_value(serde_json::json!({
            "holidays": [{"day": "2026-10-02"}, {"day": "2026-10-01", "name": "国庆节"}],
            "workdays": [{"day": "2026-10-10", "name": "国庆调休"}]
        }))
        .unwrap();
        let days = parse_year(2026, good).unwrap();
        assert_eq!(
            days.iter().map(|d| d.day.day()).collect::<Vec<_>>(),
            [1, 2, 10]
        );
        assert_eq!(days[0].name.as_deref(), Some("国庆节"));
    }

    #[test]
    fn limits_read_as_words_and_serialize_as_data() {
        assert_eq!(Limit::WorkingDays(15).to_string(), "15 working days");
        assert_eq!(Limit::Hours(1).to_string(), "1 hour");
        assert_eq!(
            serde_json::to_value(Limit::WorkingHours(4)).unwrap(),
            serde_json::json!({"unit": "working_hours", "amount": 4})
        );
    }

    #[test]
    fn a_limit_comes_apart_into_the_unit_its_json_names_and_back() {
        for unit in LimitUnit::ALL {
            for amount in [0, 1, 24] {
                let limit = Limit::of(*unit, amount);
                assert_eq!((limit.unit(), limit.amount()), (*unit, amount));
                assert_eq!(
                    serde_json::to_value(limit).unwrap()["unit"],
                    unit.as_str(),
                    "{limit:?}"
                );
            }
        }
    }
}
