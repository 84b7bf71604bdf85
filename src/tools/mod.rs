//! The command line's tools beside the server: a demo hotline, importing historical tickets,
//! generating synthetic ones, and backups.

pub mod backup;
pub mod demo;
pub mod generate;
pub mod import;
