//! What serving costs the machine: CPU time of the processes that serve, and this process's
//! peak resident memory, read from `/proc`.

/// CPU time, user and system, of the processes that serve: this one, and on PostgreSQL every
/// process of the server (its backends, writer and WAL writer alike).
pub fn cpu_seconds(postgres: bool) -> f64 {
    let ticks_per_second = 100.0;
    let of = |stat: &str| -> Option<f64> {
        // The command name is in parentheses and may hold spaces: count fields after it.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let user: f64 = fields.get(11)?.parse().ok()?;
        let system: f64 = fields.get(12)?.parse().ok()?;
        Some((user + system) / ticks_per_second)
    };
    let mut total = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| of(&s))
        .unwrap_or(0.0);
    if postgres && let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
                continue;
            };
            if comm.trim() == "postgres"
                && let Some(seconds) = std::fs::read_to_string(path.join("stat"))
                    .ok()
                    .and_then(|s| of(&s))
            {
                total += seconds;
            }
        }
    }
    total
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
