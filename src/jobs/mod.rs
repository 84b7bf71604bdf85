//! Work the service does on its own: the urge ladder. Safe to run on any number of instances at
//! once: the database decides which instance fires which rung.

pub mod ladder;
