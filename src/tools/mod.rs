//! The command line's tools beside the server: a demo hotline, importing historical tickets,
//! and generating synthetic ones.

pub mod demo;
pub mod generate;
pub mod import;
