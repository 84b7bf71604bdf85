//! A scratch database for one benchmark run, on either backend, removed afterwards.
//! PostgreSQL is reached at `BENCH_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`).

use diesel::prelude::*;

/// A database for one run, removed afterwards.
pub enum Scratch {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server: String, name: String },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Scratch::Postgres { server, name } = self
            && let Ok(mut conn) = diesel::PgConnection::establish(server)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

pub fn scratch(backend: &str) -> (String, Scratch) {
    match backend {
        "postgres" => {
            let server = std::env::var("BENCH_DATABASE_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("hotline_bench_{}", uuid::Uuid::now_v7().simple());
            let mut conn =
                diesel::PgConnection::establish(&server).expect("BENCH_DATABASE_URL is reachable");
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut conn)
                .unwrap();
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            (format!("{base}/{name}"), Scratch::Postgres { server, name })
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            let url = dir.path().join("bench.db").display().to_string();
            (url, Scratch::Sqlite(dir))
        }
    }
}
