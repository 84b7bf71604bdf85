//! Registrations through a load balancer in front of several instances, as
//! `scripts/cluster.sh` runs it: `--clients` keep-alive connections register tickets for
//! `--seconds`, and every acknowledged ticket's id is written to `--out`, so that the script can
//! look for each of them in the database afterwards. It prints throughput, p50 and p99, the
//! failures by kind, and the acknowledgements of each second (where a killed instance shows).
//!
//!     cargo bench --bench cluster -- --address 127.0.0.1:8080 --token JWT \
//!         [--seconds 30] [--clients 32] [--out acknowledged.txt]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[path = "support/args.rs"]
mod args;
#[path = "support/http.rs"]
mod http;
use args::Args;
use http::HttpConnection;

const HELP: &str = "\
cargo bench --bench cluster -- --address HOST:PORT --token JWT [OPTIONS]

  --seconds N    how long to register (default 30)
  --clients N    concurrent keep-alive connections (default 32)
  --out FILE     where the acknowledged ids go, one per line (default acknowledged.txt)
";

#[derive(Default)]
struct Tally {
    acknowledged: Vec<String>,
    latencies: Vec<Duration>,
    failures: BTreeMap<String, u64>,
    per_second: BTreeMap<u64, u64>,
}

async fn client(
    address: String,
    authorization: String,
    started: Instant,
    until: Instant,
    tally: Rc<RefCell<Tally>>,
) {
    let body = br#"{"type":"complaint","title":"cluster load","content":"street light out at the corner"}"#;
    let mut connection: Option<HttpConnection> = None;
    while Instant::now() < until {
        let conn = match &mut connection {
            Some(conn) => conn,
            None => match HttpConnection::open(&address).await {
                Ok(conn) => connection.insert(conn),
                Err(_) => {
                    *tally
                        .borrow_mut()
                        .failures
                        .entry("connect".into())
                        .or_default() += 1;
                    actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let sent = Instant::now();
        match conn
            .send("POST", "/api/v1/tickets", &authorization, Some(body))
            .await
        {
            Ok((201, answer)) => {
                let id = serde_json::from_slice::<serde_json::Value>(&answer)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_owned));
                let mut tally = tally.borrow_mut();
                match id {
                    Some(id) => {
                        tally.acknowledged.push(id);
                        tally.latencies.push(sent.elapsed());
                        *tally
                            .per_second
                            .entry(started.elapsed().as_secs())
                            .or_default() += 1;
                    }
                    None => {
                        *tally
                            .failures
                            .entry("201 without an id".into())
                            .or_default() += 1
                    }
                }
            }
            Ok((status, _)) => {
                *tally
                    .borrow_mut()
                    .failures
                    .entry(format!("status {status}"))
                    .or_default() += 1;
            }
            Err(_) => {
                *tally
                    .borrow_mut()
                    .failures
                    .entry("connection lost".into())
                    .or_default() += 1;
                connection = None;
            }
        }
    }
}

fn main() {
    let args = Args::from_env();
    if args.help() {
        print!("{HELP}");
        return;
    }
    let address: String = args.get("--address").expect("--address HOST:PORT");
    let token: String = args.get("--token").expect("--token JWT");
    let seconds: u64 = args.get("--seconds").unwrap_or(30);
    let clients: usize = args.get("--clients").unwrap_or(32);
    let out: String = args
        .get("--out")
        .unwrap_or_else(|| "acknowledged.txt".to_owned());
    let tally = Rc::new(RefCell::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    actix_web::rt::System::new().block_on({
        let tally = tally.clone();
        async move {
            let running: Vec<_> = (0..clients)
                .map(|_| {
                    actix_web::rt::spawn(client(
                        address.clone(),
                        format!("Bearer {token}"),
                        started,
                        until,
                        tally.clone(),
                    ))
                })
                .collect();
            for task in running {
                let _ = task.await;
            }
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = tally.borrow_mut();
    let mut file = std::fs::File::create(&out).expect("the --out file");
    for id in &tally.acknowledged {
        writeln!(file, "{id}").expect("write an id");
    }
    tally.latencies.sort();
    let at = |q: f64| {
        tally
            .latencies
            .get(
                ((tally.latencies.len() as f64 * q) as usize)
                    .min(tally.latencies.len().saturating_sub(1)),
            )
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "acknowledged {} registrations in {elapsed:.1} s at {clients} connections: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        tally.acknowledged.len(),
        tally.acknowledged.len() as f64 / elapsed,
        at(0.50),
        at(0.99)
    );
    let failed: u64 = tally.failures.values().sum();
    println!("failed: {failed} {:?}", tally.failures);
    let timeline: Vec<String> = tally
        .per_second
        .iter()
        .map(|(second, n)| format!("{second}:{n}"))
        .collect();
    println!("acknowledged per second: {}", timeline.join(" "));
}
