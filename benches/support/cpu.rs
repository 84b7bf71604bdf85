//! What serving costs the machine: CPU time of the processes that serve, and this process's
//! peak resident memory, read from `/proc`.

/// User and system CPU time in a `/proc/…/stat` line.
fn stat_seconds(stat: &str) -> Option<f64> {
    let ticks_per_second = 100.0;
    // The command name is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / ticks_per_second)
}

fn seconds_of(path: &str) -> f64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| stat_seconds(&s))
        .unwrap_or(0.0)
}

/// CPU time, user and system, of the processes that serve: this one, and on PostgreSQL every
/// process of the server (its backends, writer and WAL writer alike).
pub fn cpu_seconds(postgres: bool) -> f64 {
    let mut total = seconds_of("/proc/self/stat");
    if postgres && let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
                continue;
            };
            if comm.trim() == "postgres" {
                total += seconds_of(&path.join("stat").to_string_lossy());
            }
        }
    }
    total
}

/// The CPU time spent serving from its start: [`cpu_seconds`] less the calling thread's, which
/// runs the load client (the server's workers and blocking threads are threads of their own),
/// so that the figure is what the service and its database cost, as a client elsewhere would
/// see it.
pub struct ServingCpu {
    postgres: bool,
    total: f64,
    client: f64,
}

impl ServingCpu {
    pub fn start(postgres: bool) -> Self {
        Self {
            postgres,
            total: cpu_seconds(postgres),
            client: seconds_of("/proc/thread-self/stat"),
        }
    }

    pub fn seconds(&self) -> f64 {
        let client = seconds_of("/proc/thread-self/stat") - self.client;
        cpu_seconds(self.postgres) - self.total - client
    }
}

pub fn peak_resident_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
