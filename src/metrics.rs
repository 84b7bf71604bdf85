//! Counters for `/metrics`, in the Prometheus text format, kept without a metrics library: a few
//! maps under short locks are all a request pays.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<(String, String), Histogram>>,
    pub tickets_registered: AtomicU64,
    pub logins_succeeded: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_throttled: AtomicU64,
    pub ladder_passes: AtomicU64,
    /// Tickets overdue as of the last ladder pass.
    pub tickets_overdue: std::sync::atomic::AtomicI64,
    rungs: Mutex<BTreeMap<(String, String), u64>>,
    failures: Mutex<BTreeMap<&'static str, u64>>,
    webhook_attempts: Mutex<BTreeMap<&'static str, u64>>,
    webhook_lag: Mutex<Histogram>,
    /// Webhook deliveries waiting to be sent, as of this instance's last look.
    pub webhook_queue_depth: std::sync::atomic::AtomicI64,
}

/// What a webhook attempt came to, always listed (at 0 until it happens).
pub const WEBHOOK_OUTCOMES: [&str; 4] = ["delivered", "failed", "gone", "dead"];

/// The problem codes of what the environment did to a request, always listed (at 0 until they
/// happen) so that alerts can be written before the first failure.
pub const FAILURE_CODES: [&str; 6] = [
    "unavailable",
    "database_timeout",
    "storage_full",
    "storage_read_only",
    "evidence_store_unavailable",
    "internal",
];

/// Gauges read when `/metrics` is scraped.
pub struct Snapshot {
    pub db_connections: u32,
    pub db_idle_connections: u32,
    pub db_max_connections: u32,
    pub write_groups: crate::store::GroupCommits,
    /// With a read replica: the stale-tolerant reads it served, and those the primary took.
    pub replica_reads: Option<crate::store::replica::ReplicaReads>,
}

impl Metrics {
    /// Records one answered request under its route pattern (never the raw path, which would
    /// carry ids and make the series unbounded).
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let seconds = elapsed.as_secs_f64();
        let mut durations = self.durations.lock().unwrap_or_else(|e| e.into_inner());
        let histogram = durations
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.counts[i] += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    /// A request answered 5xx, by its problem code: the database unavailable or too slow, the
    /// storage full or read-only, or a failure of the service itself.
    pub fn count_failure(&self, code: &'static str) {
        *self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(code)
            .or_default() += 1;
    }

    /// Rungs the ladder fired, by deadline (sign, reply, callback) and rung.
    pub fn count_rung(&self, timer: &str, rung: &str, count: u64) {
        *self
            .rungs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((timer.to_owned(), rung.to_owned()))
            .or_default() += count;
    }

    /// A webhook attempt, by what it came to (one of [`WEBHOOK_OUTCOMES`]).
    pub fn count_webhook_attempt(&self, outcome: &'static str) {
        *self
            .webhook_attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }

    /// The time from an event's commit to its delivery's receipt.
    pub fn observe_webhook_lag(&self, lag: Duration) {
        let seconds = lag.as_secs_f64();
        let mut histogram = self.webhook_lag.lock().unwrap_or_else(|e| e.into_inner());
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                histogram.counts[i] += 1;
            }
        }
        histogram.sum += seconds;
        histogram.count += 1;
    }

    fn render_webhooks(&self, out: &mut String) {
        out.push_str("# HELP hotline_webhook_attempts_total Webhook delivery attempts, by outcome (delivered: 2xx; failed: tried again later; gone: 410, the subscription switched off; dead: the last attempt failed).\n");
        out.push_str("# TYPE hotline_webhook_attempts_total counter\n");
        let attempts = self
            .webhook_attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for outcome in WEBHOOK_OUTCOMES {
            let count = attempts.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "hotline_webhook_attempts_total{{outcome=\"{outcome}\"}} {count}"
            );
        }
        drop(attempts);
        out.push_str("# HELP hotline_webhook_lag_seconds Time from an event's commit to its webhook's receipt.\n");
        out.push_str("# TYPE hotline_webhook_lag_seconds histogram\n");
        let h = self.webhook_lag.lock().unwrap_or_else(|e| e.into_inner());
        for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
            let _ = writeln!(
                out,
                "hotline_webhook_lag_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "hotline_webhook_lag_seconds_bucket{{le=\"+Inf\"}} {}\nhotline_webhook_lag_seconds_sum {}\nhotline_webhook_lag_seconds_count {}",
            h.count, h.sum, h.count
        );
        drop(h);
        let _ = writeln!(
            out,
            "# HELP hotline_webhook_queue_depth Webhook deliveries waiting to be sent.\n# TYPE hotline_webhook_queue_depth gauge\nhotline_webhook_queue_depth {}",
            self.webhook_queue_depth.load(Ordering::Relaxed)
        );
    }

    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP hotline_http_requests_total HTTP requests answered, by route and status.\n",
        );
        out.push_str("# TYPE hotline_http_requests_total counter\n");
        for ((method, route, status), count) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "hotline_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape(route)
            );
        }
        out.push_str("# HELP hotline_http_request_duration_seconds Time to answer, by route.\n");
        out.push_str("# TYPE hotline_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "hotline_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "hotline_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "hotline_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "hotline_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let counters = [
            (
                "hotline_tickets_registered_total",
                "Tickets registered by this instance.",
                &self.tickets_registered,
            ),
            (
                "hotline_logins_succeeded_total",
                "Successful sign-ins.",
                &self.logins_succeeded,
            ),
            (
                "hotline_logins_failed_total",
                "Refused sign-ins.",
                &self.logins_failed,
            ),
            (
                "hotline_logins_throttled_total",
                "Sign-ins refused with 429 before any password was checked.",
                &self.logins_throttled,
            ),
            (
                "hotline_ladder_passes_total",
                "Passes of the urge ladder this instance ran.",
                &self.ladder_passes,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP hotline_ladder_rungs_total Rungs the urge ladder fired, by deadline and rung.\n");
        out.push_str("# TYPE hotline_ladder_rungs_total counter\n");
        for ((timer, rung), count) in self.rungs.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "hotline_ladder_rungs_total{{timer=\"{timer}\",rung=\"{rung}\"}} {count}"
            );
        }
        out.push_str("# HELP hotline_failures_total Requests answered 5xx, by problem code (unavailable: the database could not be reached; database_timeout: it did not answer in time; storage_full, storage_read_only: the disk refused a write).\n");
        out.push_str("# TYPE hotline_failures_total counter\n");
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut codes: Vec<&str> = FAILURE_CODES.to_vec();
        codes.extend(failures.keys().filter(|c| !FAILURE_CODES.contains(c)));
        for code in codes {
            let count = failures.get(code).copied().unwrap_or(0);
            let _ = writeln!(out, "hotline_failures_total{{code=\"{code}\"}} {count}");
        }
        drop(failures);
        let _ = writeln!(
            out,
            "# HELP hotline_tickets_overdue Tickets overdue as of the last ladder pass.\n# TYPE hotline_tickets_overdue gauge\nhotline_tickets_overdue {}",
            self.tickets_overdue.load(Ordering::Relaxed)
        );
        let gauges = [
            (
                "hotline_db_connections",
                "Open database connections.",
                snapshot.db_connections,
            ),
            (
                "hotline_db_idle_connections",
                "Idle database connections.",
                snapshot.db_idle_connections,
            ),
            (
                "hotline_db_max_connections",
                "The pool's size.",
                snapshot.db_max_connections,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let groups = &snapshot.write_groups;
        let _ = writeln!(
            out,
            "# HELP hotline_db_write_groups_total Commits of SQLite write transactions committed together (one disk flush each).\n# TYPE hotline_db_write_groups_total counter\nhotline_db_write_groups_total {}\n\
             # HELP hotline_db_grouped_writes_total Write transactions those commits made durable.\n# TYPE hotline_db_grouped_writes_total counter\nhotline_db_grouped_writes_total {}\n\
             # HELP hotline_db_writes_waiting Write transactions waiting for the next group.\n# TYPE hotline_db_writes_waiting gauge\nhotline_db_writes_waiting {}",
            groups.groups, groups.writes, groups.waiting
        );
        if let Some(reads) = snapshot.replica_reads {
            let _ = writeln!(
                out,
                "# HELP hotline_db_replica_reads_total Reads that may be a little stale, by the server that answered them.\n# TYPE hotline_db_replica_reads_total counter\n\
                 hotline_db_replica_reads_total{{served_by=\"replica\"}} {}\n\
                 hotline_db_replica_reads_total{{served_by=\"primary\"}} {}",
                reads.served, reads.fell_back
            );
        }
        self.render_webhooks(&mut out);
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_render_as_counters_and_histograms() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/api/v1/tickets/{id}", 200, Duration::from_millis(3));
        metrics.observe(
            "GET",
            "/api/v1/tickets/{id}",
            200,
            Duration::from_millis(30),
        );
        metrics.tickets_registered.fetch_add(2, Ordering::Relaxed);
        let text = metrics.render(&Snapshot {
            db_connections: 3,
            db_idle_connections: 2,
            db_max_connections: 8,
            write_groups: crate::store::GroupCommits {
                groups: 4,
                writes: 10,
                waiting: 1,
            },
            replica_reads: None,
        });
        assert!(text.contains(
            "hotline_http_requests_total{method=\"GET\",route=\"/api/v1/tickets/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(text.contains("hotline_tickets_registered_total 2"));
        assert!(text.contains("hotline_db_max_connections 8"));
        assert!(text.contains("hotline_db_write_groups_total 4\n"));
        assert!(text.contains("hotline_db_grouped_writes_total 10\n"));
        assert!(text.contains("hotline_failures_total{code=\"storage_full\"} 0"));
        metrics.count_failure("storage_full");
        metrics.count_failure("database_timeout");
        let text = metrics.render(&Snapshot {
            db_connections: 3,
            db_idle_connections: 2,
            db_max_connections: 8,
            write_groups: crate::store::GroupCommits {
                groups: 4,
                writes: 10,
                waiting: 1,
            },
            replica_reads: None,
        });
        assert!(text.contains("hotline_failures_total{code=\"storage_full\"} 1"));
        assert!(text.contains("hotline_failures_total{code=\"database_timeout\"} 1"));
    }
}
