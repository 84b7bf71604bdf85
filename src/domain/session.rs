//! How long a console session lasts. A session ends when its holder signs out, when it has not
//! been used for [`IDLE`] (a screen left open at a desk nobody sits at), and in any case
//! [`LONGEST`] after sign-in (a shift and its overtime); it also ends when the account's
//! password or access changes, as tokens do.

use chrono::{DateTime, TimeDelta, Utc};

/// Unused this long, a session has ended.
pub const IDLE: TimeDelta = TimeDelta::hours(2);

/// Used or not, a session ends this long after sign-in.
pub const LONGEST: TimeDelta = TimeDelta::hours(12);

/// How stale the record of a session's last use may grow before a request writes it again:
/// every page would otherwise be a write.
pub const RECORD_USE_EVERY: TimeDelta = TimeDelta::minutes(5);

/// When a session was started and last recorded as used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub started_at: DateTime<Utc>,
    pub used_at: DateTime<Utc>,
}

/// What a request finds a session to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStanding {
    /// Usable; `record_use`: the record of its last use is to be brought up to date.
    Live {
        record_use: bool,
    },
    Ended,
}

impl SessionTimes {
    pub fn standing(self, now: DateTime<Utc>) -> SessionStanding {
        if now - self.started_at >= LONGEST || now - self.used_at >= IDLE {
            SessionStanding::Ended
        } else {
            SessionStanding::Live {
                record_use: now - self.used_at >= RECORD_USE_EVERY,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::minutes(minutes)
    }

    #[test]
    fn a_session_ends_when_idle_or_too_old() {
        let started = SessionTimes {
            started_at: at(0),
            used_at: at(0),
        };
        assert_eq!(
            started.standing(at(1)),
            SessionStanding::Live { record_use: false }
        );
        assert_eq!(
            started.standing(at(5)),
            SessionStanding::Live { record_use: true }
        );
        assert_eq!(
            started.standing(at(119)),
            SessionStanding::Live { record_use: true }
        );
        assert_eq!(started.standing(at(120)), SessionStanding::Ended);
        let busy = SessionTimes {
            started_at: at(0),
            used_at: at(12 * 60 - 1),
        };
        assert_eq!(
            busy.standing(at(12 * 60 - 1)),
            SessionStanding::Live { record_use: false }
        );
        assert_eq!(busy.standing(at(12 * 60)), SessionStanding::Ended);
    }

    proptest! {
        /// A live session is never older than the longest nor idle longer than allowed, and an
        /// ended one never comes back to life.
        #[test]
        fn live_sessions_are_within_both_bounds(
            started in 0i64..10_000,
            used_after in 0i64..1_000,
            now_after in 0i64..2_000,
            later in 0i64..2_000,
        ) {
            let times = SessionTimes { started_at: at(started), used_at: at(started + used_after) };
            let now = at(started + used_after + now_after);
            match times.standing(now) {
                SessionStanding::Live { .. } => {
                    prop_assert!(now - times.started_at < LONGEST);
                    prop_assert!(now - times.used_at < IDLE);
                }
                SessionStanding::Ended => {
                    let afterwards = now + TimeDelta::minutes(later);
                    prop_assert_eq!(times.standing(afterwards), SessionStanding::Ended);
                }
            }
        }
    }
}
