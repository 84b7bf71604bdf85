//! What one line of a benchmark's table measured: every request's latency, the wall time, the
//! serving CPU time, and a size (items of a list, bytes of a page).

use std::time::Duration;

pub struct Measured {
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
    pub cpu: f64,
    pub items: usize,
}

impl Measured {
    /// One line: size, requests per second, p50 and p99 latency in ms, CPU ms per request.
    pub fn print(&mut self, backend: &str, name: &str) {
        self.latencies.sort_unstable();
        let at = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize)
                .clamp(1, self.latencies.len())
                - 1;
            self.latencies[i].as_secs_f64() * 1000.0
        };
        let n = self.latencies.len() as f64;
        println!(
            "{backend:<9} {name:<30} {:>6} {:>8.0} {:>8.2} {:>8.2} {:>8.3}",
            self.items,
            n / self.elapsed.as_secs_f64(),
            at(0.50),
            at(0.99),
            self.cpu * 1000.0 / n,
        );
    }
}
