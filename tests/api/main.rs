//! The API suite: every test drives the real server over HTTP on a fresh database of the
//! backend under test (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

mod helpers;

mod archive;
mod auth;
mod backup;
mod channels;
mod console;
mod counts;
mod deadlines;
mod directory;
mod durability;
mod errors;
mod events;
mod evidence_store;
mod hardening;
mod idempotency;
mod import;
mod knowledge;
mod lifecycle;
mod lists;
mod nuisance;
mod office_actions;
mod open311;
mod openapi;
mod operations;
mod outages;
mod queues;
mod replica;
mod reports;
mod schema;
mod search;
mod sqlite_setup;
mod tickets;
mod tokens;
mod webhooks;
