//! The rules of the hotline, free of I/O: what a valid ticket is, who may do what, how personal
//! information is shown. Everything here is deterministic and tested without a database.

#[macro_use]
mod text_enum;

pub mod access;
pub mod assessment;
pub mod audit;
pub mod calendar;
pub mod caller;
pub mod channel;
pub mod clock;
pub mod directory;
pub mod duplicates;
pub mod evidence;
pub mod feed;
pub mod figures;
pub mod history;
pub mod knowledge;
pub mod ladder;
pub mod lifecycle;
pub mod masking;
pub mod notify;
pub mod open311;
pub mod period;
pub mod policy;
pub mod problem;
pub mod retention;
pub mod search;
pub mod session;
pub mod throttle;
pub mod ticket;
pub mod validation;
pub mod webhook;

pub use text_enum::UnknownValue;
