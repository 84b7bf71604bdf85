//! How wrong sign-ins are slowed down, so that guessing passwords costs an attacker time
//! without letting them lock anybody else out.
//!
//! Failures are counted twice: for the pair of client address and username, and for the
//! client address alone. The pair is what a person mistyping their own password runs into: a
//! few failures are free, then each further one makes them wait twice as long as the last, up
//! to a quarter of an hour. The address alone catches one machine trying many usernames: it may
//! fail far more often before it slows down. The username alone is never counted, because an
//! attacker anywhere could then keep its owner out. While a key must wait, the attempt is
//! refused before the password is checked, so a flood of guesses costs no hashing either.

use chrono::{DateTime, Duration, Utc};

/// One counter's rule: how many failures are free within the window, and the longest wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub free_failures: u32,
    /// Failures older than this no longer count.
    pub window: Duration,
    pub longest_wait: Duration,
}

/// A person signing in from their own machine.
pub const PAIR: Policy = Policy {
    free_failures: 4,
    window: Duration::minutes(15),
    longest_wait: Duration::minutes(15),
};

/// A whole machine, or a whole office behind one address.
pub const ADDRESS: Policy = Policy {
    free_failures: 30,
    window: Duration::minutes(15),
    longest_wait: Duration::minutes(15),
};

/// The state of one counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    pub last_failure_at: DateTime<Utc>,
    /// No attempt under this key is heard before this instant.
    pub blocked_until: Option<DateTime<Utc>>,
}

impl Policy {
    /// The wait after the `failures`-th failure in a row: none while they are free, then one
    /// second, doubling with each further one, up to the longest wait.
    pub fn wait_after(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.free_failures + 1) {
            None => Duration::zero(),
            Some(beyond) => {
                let seconds = 1i64.checked_shl(beyond.min(40)).unwrap_or(i64::MAX);
                Duration::seconds(seconds).min(self.longest_wait)
            }
        }
    }

    /// The counter after one more failure at `now`.
    pub fn fail(&self, before: Option<Counter>, now: DateTime<Utc>) -> Counter {
        let failures = match before {
            Some(c) if now - c.last_failure_at < self.window => c.failures.saturating_add(1),
            _ => 1,
        };
        let wait = self.wait_after(failures);
        Counter {
            failures,
            last_failure_at: now,
            blocked_until: (wait > Duration::zero()).then(|| now + wait),
        }
    }
}

/// How long an attempt at `now` must still wait under these counters, if at all.
pub fn wait(counters: &[Option<Counter>], now: DateTime<Utc>) -> Option<Duration> {
    counters
        .iter()
        .flatten()
        .filter_map(|c| c.blocked_until)
        .filter(|until| *until > now)
        .map(|until| until - now)
        .max()
}

/// Whole seconds to tell a client in `Retry-After`, never 0.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    let millis = wait.num_milliseconds().max(1);
    (millis as u64).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap() + Duration::seconds(seconds)
    }

    #[test]
    fn a_few_failures_are_free_then_each_doubles_the_wait() {
        let waits: Vec<i64> = (1..=10).map(|n| PAIR.wait_after(n).num_seconds()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 1, 2, 4, 8, 16, 32]);
        assert_eq!(PAIR.wait_after(40), Duration::minutes(15));
        assert_eq!(PAIR.wait_after(u32::MAX), Duration::minutes(15));
        assert_eq!(ADDRESS.wait_after(30), Duration::zero());
        assert_eq!(ADDRESS.wait_after(31), Duration::seconds(1));
    }

    #[test]
    fn failures_long_ago_no_longer_count() {
        let mut counter = None;
        for i in 0..6 {
            counter = Some(PAIR.fail(counter, at(i)));
        }
        assert_eq!(counter.unwrap().failures, 6);
        assert_eq!(
            counter.unwrap().blocked_until,
            Some(at(5) + Duration::seconds(2))
        );
        let later = PAIR.fail(counter, at(5) + Duration::minutes(16));
        assert_eq!(later.failures, 1);
        assert_eq!(later.blocked_until, None);
    }

    #[test]
    fn the_longest_wait_of_any_counter_applies() {
        let pair = Counter {
            failures: 6,
            last_failure_at: at(0),
            blocked_until: Some(at(2)),
        };
        let address = Counter {
            failures: 40,
            last_failure_at: at(0),
            blocked_until: Some(at(60)),
        };
        assert_eq!(wait(&[Some(pair), None], at(1)), Some(Duration::seconds(1)));
        assert_eq!(
            wait(&[Some(pair), Some(address)], at(1)),
            Some(Duration::seconds(59))
        );
        assert_eq!(wait(&[Some(pair)], at(2)), None);
        assert_eq!(retry_after_seconds(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_seconds(Duration::milliseconds(1001)), 2);
    }

    proptest! {
        #[test]
        fn waits_never_shrink_and_never_pass_the_longest(n in 0u32..10_000) {
            prop_assert!(PAIR.wait_after(n) <= PAIR.wait_after(n + 1));
            prop_assert!(PAIR.wait_after(n) <= PAIR.longest_wait);
            prop_assert!(ADDRESS.wait_after(n) <= PAIR.wait_after(n));
        }
    }
}
