//! How long the record of what happened (ticket events, the audit log, sent webhooks) is kept
//! before it may leave the database for an archive. Months here are UTC months, the partitions'
//! own; the rule is checked on instants, so every row archived is past the keeping period
//! whatever the hotline's time zone.

use chrono::{DateTime, Months, NaiveTime, Utc};

use super::period::Month;

/// Why rows before a month may not be archived yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithinKeepingPeriod {
    /// The latest month whose earlier rows may leave now.
    pub latest_allowed: Month,
    pub keep_months: u32,
}

impl std::fmt::Display for WithinKeepingPeriod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows are kept {} months: the latest month they may be archived before is {}",
            self.keep_months, self.latest_allowed
        )
    }
}

/// The first instant of `month` in UTC.
pub fn month_start(month: Month) -> DateTime<Utc> {
    month.first_day().and_time(NaiveTime::MIN).and_utc()
}

/// The instant before which rows may be archived, when every one of them is at least
/// `keep_months` old at `now`.
pub fn archive_cutoff(
    before: Month,
    now: DateTime<Utc>,
    keep_months: u32,
) -> Result<DateTime<Utc>, WithinKeepingPeriod> {
    let cutoff = month_start(before);
    let oldest_kept = now - Months::new(keep_months);
    if cutoff <= oldest_kept {
        return Ok(cutoff);
    }
    let mut latest_allowed = Month::of(oldest_kept, chrono_tz::UTC);
    if month_start(latest_allowed) > oldest_kept {
        latest_allowed = latest_allowed.previous();
    }
    Err(WithinKeepingPeriod {
        latest_allowed,
        keep_months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap()
    }

    #[test]
    fn a_month_is_archived_only_once_all_of_it_is_past_the_keeping_period() {
        let now = Utc.with_ymd_and_hms(2031, 3, 15, 9, 0, 0).unwrap();
        assert_eq!(
            archive_cutoff(month("2021-03"), now, 120),
            Ok(Utc.with_ymd_and_hms(2021, 3, 1, 0, 0, 0).unwrap())
        );
        let refused = archive_cutoff(month("2021-04"), now, 120).unwrap_err();
        assert_eq!(refused.latest_allowed, month("2021-03"));
        assert!(refused.to_string().contains("kept 120 months"));
    }

    #[test]
    fn the_boundary_instant_itself_may_leave() {
        let now = Utc.with_ymd_and_hms(2031, 3, 1, 0, 0, 0).unwrap();
        assert!(archive_cutoff(month("2021-03"), now, 120).is_ok());
        let a_second_earlier = now - chrono::Duration::seconds(1);
        assert_eq!(
            archive_cutoff(month("2021-03"), a_second_earlier, 120)
                .unwrap_err()
                .latest_allowed,
            month("2021-02")
        );
    }

    #[test]
    fn whatever_the_time_every_allowed_cutoff_is_older_than_the_keeping_period() {
        let start = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        for hours in (0..24 * 800).step_by(7) {
            let now = start + chrono::Duration::hours(hours);
            for keep in [0, 1, 12, 60, 120] {
                let refused = match archive_cutoff(month("2035-12"), now, keep) {
                    Ok(_) => continue,
                    Err(refused) => refused,
                };
                let allowed = archive_cutoff(refused.latest_allowed, now, keep)
                    .expect("the month it names is allowed");
                assert!(allowed + Months::new(keep) <= now);
                assert!(archive_cutoff(refused.latest_allowed.next(), now, keep).is_err());
            }
        }
    }
}
