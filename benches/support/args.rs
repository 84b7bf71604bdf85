//! The benchmarks' command line: `--name value` options after `cargo bench --bench NAME --`.
//! `cargo bench` passes `--bench` itself; options a benchmark does not know are ignored.

pub struct Args(Vec<String>);

impl Args {
    pub fn from_env() -> Self {
        Self(std::env::args().skip(1).collect())
    }

    /// `--help` (or `-h`) was asked for: the benchmark prints its options instead of running.
    pub fn help(&self) -> bool {
        self.0.iter().any(|a| a == "--help" || a == "-h")
    }

    /// The value after `name`, parsed; one that does not parse stops the benchmark, naming it.
    pub fn get<T: std::str::FromStr>(&self, name: &str) -> Option<T> {
        let at = self.0.iter().position(|a| a == name)?;
        let value = self
            .0
            .get(at + 1)
            .unwrap_or_else(|| panic!("{name} needs a value"));
        Some(
            value
                .parse()
                .unwrap_or_else(|_| panic!("{name}: `{value}` is not a value it takes")),
        )
    }

    /// `--backend sqlite|postgres|both`: the backends to measure, both unless one is named.
    #[allow(dead_code)]
    pub fn backends(&self) -> Vec<&'static str> {
        match self.get::<String>("--backend").as_deref() {
            Some("sqlite") => vec!["sqlite"],
            Some("postgres") => vec!["postgres"],
            _ => vec!["sqlite", "postgres"],
        }
    }
}
