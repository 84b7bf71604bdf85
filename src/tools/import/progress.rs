//! The progress bar of a long import.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::Report;

/// A progress bar on a terminal; nothing otherwise.
pub(super) struct Progress {
    on: bool,
    last: Option<Instant>,
    pub(super) total: Option<usize>,
}

impl Progress {
    pub(super) fn new(on: bool) -> Self {
        Self {
            on: on && std::io::stderr().is_terminal(),
            last: None,
            total: None,
        }
    }

    pub(super) fn show(&mut self, report: &Report) {
        if !self.on
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let bar = match self.total.filter(|t| *t > 0) {
            Some(total) => {
                let filled = (report.read * 30 / total).min(30);
                format!(
                    "[{}{}] {:>3}% ",
                    "#".repeat(filled),
                    "-".repeat(30 - filled),
                    report.read * 100 / total
                )
            }
            None => String::new(),
        };
        let _ = write!(
            std::io::stderr(),
            "\r{bar}{} read, {} imported, {} already there, {} bad   ",
            report.read,
            report.imported,
            report.already,
            report.bad.len()
        );
    }

    pub(super) fn done(&mut self, report: &Report) {
        if self.on {
            self.last = None;
            self.show(report);
            let _ = writeln!(std::io::stderr());
        }
    }
}
