//! Work the service does on its own: the urge ladder and webhook deliveries. Safe to run on any
//! number of instances at once: the database decides which instance fires which rung and which
//! sends which subscription's deliveries.

pub mod ladder;
pub mod webhooks;
