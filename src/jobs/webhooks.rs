//! The webhook worker: reads the feed into each subscription's deliveries, claims subscriptions
//! whose next delivery is due, and sends their deliveries in order, signed. Safe on any number
//! of instances: a subscription's deliveries are queued by whoever moves its feed position
//! first, and sent by whoever holds its lease.
//!
//! A subscription is sent for by its own task, so a slow or dead receiver holds up only its own
//! deliveries; every attempt is bounded by the connect and total timeouts.

use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use chrono::{DateTime, Utc};

use crate::config::WebhookSettings;
use crate::domain::clock::Clock;
use crate::domain::feed::CloudEvent;
use crate::domain::webhook::{
    AfterAttempt, Outcome, Target, after_attempt, may_deliver_to, signature_header,
};
use crate::metrics::Metrics;
use crate::store::webhooks::{self as queue, Attempt, Claim, NewDelivery, Outgoing};
use crate::store::{self, Db, StoreError};

/// Events one subscription reads from the feed per look.
const FEED_PAGE: i64 = 500;
/// Subscriptions one instance claims per look, and deliveries per claim.
const CLAIMS_PER_LOOK: i64 = 32;
const DELIVERIES_PER_CLAIM: i64 = 200;
/// Attempts recorded together while a claim is being sent. An instance that dies sends again,
/// under the same webhook-id, only what it had not recorded yet: at most this many per
/// subscription it was sending for, instead of a whole claim's.
pub const ATTEMPTS_PER_RECORD: usize = 20;
/// How often the server's worker counts the deliveries waiting, for the metrics.
const QUEUE_COUNT_EVERY: Duration = Duration::from_secs(5);
/// What of a receiver's answer is read (and thrown away) so that its connection can be reused.
const ANSWER_BYTES_READ: usize = 64 * 1024;

/// What one look did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub queued: usize,
    pub claimed: usize,
    pub delivered: usize,
    pub failed: usize,
}

/// Sends webhooks from one instance. Lives on one thread (its HTTP client does).
pub struct Deliverer {
    db: Db,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    settings: WebhookSettings,
    client: awc::Client,
}

impl Deliverer {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        settings: WebhookSettings,
    ) -> Self {
        let connector = awc::Connector::new()
            .timeout(settings.connect_timeout)
            .handshake_timeout(settings.connect_timeout);
        let client = awc::Client::builder()
            .connector(connector)
            .timeout(settings.timeout)
            // A redirect would send the delivery where no check was made.
            .disable_redirects()
            .add_default_header(("user-agent", "hotline-webhooks"))
            .finish();
        Self {
            db,
            clock,
            metrics,
            settings,
            client,
        }
    }

    /// One look, waiting for every claimed subscription's sending to finish: what tests drive.
    /// The server's runner does not wait (see [`Runner`]).
    pub async fn pass(self: &Rc<Self>) -> Result<PassReport, StoreError> {
        let (mut report, claims) = self.look(true).await?;
        let sent = futures_util::future::join_all(
            claims.into_iter().map(|claim| self.clone().send(claim)),
        )
        .await;
        for (delivered, failed) in sent {
            report.delivered += delivered;
            report.failed += failed;
        }
        Ok(report)
    }

    /// Reads the events each subscription has not had yet into its deliveries, without claiming
    /// or sending any; answers how many were queued. A look does the same first; this lets a
    /// caller see a whole queue formed before anything is sent.
    pub async fn queue(&self) -> Result<usize, StoreError> {
        let db = self.db.clone();
        let now = self.clock.now();
        blocking(move || fan_out(&db, now).map(|(queued, _)| queued)).await
    }

    /// Queues new events and claims what is due, without sending; reads the queue's depth for
    /// the metrics when `count_queue` (a count over every waiting delivery, which a receiver
    /// that is down for days makes long: the server's looks count every few seconds only).
    async fn look(&self, count_queue: bool) -> Result<(PassReport, Vec<Claim>), StoreError> {
        let db = self.db.clone();
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.lease()).unwrap_or(chrono::Duration::MAX);
        let (queued, claims, depth) = blocking(move || {
            let (queued, active) = fan_out(&db, now)?;
            if active == 0 {
                return Ok((queued, Vec::new(), Some(0)));
            }
            let claims = db.write(|c| {
                queue::claim(c, now, now + lease, CLAIMS_PER_LOOK, DELIVERIES_PER_CLAIM)
            })?;
            let depth = if count_queue {
                Some(db.read(queue::queue_depth)?)
            } else {
                None
            };
            Ok((queued, claims, depth))
        })
        .await?;
        if let Some(depth) = depth {
            self.metrics
                .webhook_queue_depth
                .store(depth, Ordering::Relaxed);
        }
        Ok((
            PassReport {
                queued,
                claimed: claims.len(),
                ..PassReport::default()
            },
            claims,
        ))
    }

    /// How long a claim is held: long enough for a batch of attempts that each take the
    /// longest allowed, and no longer, so that a crashed instance's subscriptions go on soon.
    fn lease(&self) -> Duration {
        (self.settings.timeout + self.settings.connect_timeout) * 4
    }

    /// Sends a claim's deliveries in order until one fails or the lease runs short, records
    /// the attempts as it goes, and gives the subscription back. Answers (delivered, failed).
    async fn send(self: Rc<Self>, claim: Claim) -> (usize, usize) {
        let target = Target::parse(&claim.url);
        let (mut delivered, mut failed) = (0, 0);
        let mut attempts = Vec::new();
        for delivery in &claim.deliveries {
            if attempts.len() >= ATTEMPTS_PER_RECORD {
                let recorded = std::mem::take(&mut attempts);
                let db = self.db.clone();
                let (now, subscription) = (self.clock.now(), claim.subscription_id);
                let written = blocking(move || {
                    db.write(|c| queue::record_attempts(c, subscription, &recorded, now))
                })
                .await;
                if let Err(error) = written {
                    // Sending on would only add to what is sent again once the lease runs out.
                    tracing::warn!(%subscription, %error, "could not record webhook attempts; they will be made again");
                    return (delivered, failed);
                }
            }
            let started_at = self.clock.now();
            let attempt_budget = chrono::Duration::from_std(self.settings.timeout * 2)
                .unwrap_or(chrono::Duration::MAX);
            if delivery.next_attempt_at > started_at
                || started_at + attempt_budget > claim.lease_until
            {
                break;
            }
            let started = Instant::now();
            let answer = match &target {
                Ok(target) => self.post(target, &claim, delivery).await,
                Err(problem) => Err(format!("the subscription's URL {problem}")),
            };
            let latency = started.elapsed();
            let status = answer.as_ref().ok().copied();
            let number = delivery.attempts + 1;
            let after = after_attempt(number, Outcome::of(status), self.clock.now(), jitter());
            self.count(after, delivery, status);
            let error = match answer {
                Ok(code) if !(200..300).contains(&code) => {
                    Some(format!("the receiver answered {code}"))
                }
                Ok(_) => None,
                Err(error) => Some(error),
            };
            if after == AfterAttempt::Delivered {
                delivered += 1;
            } else {
                failed += 1;
            }
            attempts.push(Attempt {
                delivery_id: delivery.id,
                number,
                at: started_at,
                status,
                error,
                latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
                after,
            });
            if !matches!(after, AfterAttempt::Delivered | AfterAttempt::Dead) {
                break;
            }
        }
        let db = self.db.clone();
        let now = self.clock.now();
        let subscription = claim.subscription_id;
        let recorded = blocking(move || {
            db.write(|c| queue::record(c, subscription, claim.lease_until, &attempts, now))
        })
        .await;
        if let Err(error) = recorded {
            // The attempts are made again once the lease runs out: at least once, never lost.
            tracing::warn!(%subscription, %error, "could not record webhook attempts; they will be made again");
        }
        (delivered, failed)
    }

    fn count(&self, after: AfterAttempt, delivery: &Outgoing, status: Option<u16>) {
        let outcome = match after {
            AfterAttempt::Delivered => "delivered",
            AfterAttempt::RetryAt(_) => "failed",
            AfterAttempt::SwitchOff => "gone",
            AfterAttempt::Dead => "dead",
        };
        self.metrics.count_webhook_attempt(outcome);
        if after == AfterAttempt::Delivered {
            let lag = (self.clock.now() - delivery.event_at)
                .to_std()
                .unwrap_or_default();
            self.metrics.observe_webhook_lag(lag);
        } else {
            tracing::info!(
                delivery = delivery.id,
                ?status,
                ?after,
                "a webhook attempt failed"
            );
        }
    }

    /// One attempt: to an address the target resolves to that deliveries may reach, signed
    /// with every secret in force. Answers the status code, or why no answer came.
    async fn post(
        &self,
        target: &Target,
        claim: &Claim,
        delivery: &Outgoing,
    ) -> Result<u16, String> {
        let address = self.address_of(target).await?;
        let id = delivery.event_id.to_string();
        // The receiver checks the timestamp against its own clock to refuse replays, so it is
        // the moment the request leaves, whatever clock schedules the attempts.
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as i64);
        let signature =
            signature_header(&claim.secrets, &id, timestamp, delivery.payload.as_bytes());
        let request = self
            .client
            .post(&target.url)
            .address(address)
            .insert_header(("content-type", "application/json"))
            .insert_header(("webhook-id", id))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature));
        let exchange = async {
            let mut response = request
                .send_body(delivery.payload.clone())
                .await
                .map_err(|e| format!("no answer from {}: {e}", target.host))?;
            // Read so that the connection can carry the next delivery; what it says is not
            // the service's business.
            let _ = response.body().limit(ANSWER_BYTES_READ).await;
            Ok(response.status().as_u16())
        };
        actix_web::rt::time::timeout(self.settings.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "no answer from {} within {} ms",
                    target.host,
                    self.settings.timeout.as_millis()
                ))
            })
    }

    /// The address to connect to: the target's literal one, or the first its name resolves to
    /// that deliveries may reach. Connecting to the checked address, rather than resolving
    /// again, keeps a name that changes its answer from slipping past the check.
    async fn address_of(&self, target: &Target) -> Result<SocketAddr, String> {
        let addresses: Vec<SocketAddr> = match target.literal_address() {
            Some(ip) => vec![SocketAddr::new(ip, target.port)],
            None => {
                let name = (target.host.clone(), target.port);
                let lookup = actix_web::rt::task::spawn_blocking(move || {
                    name.to_socket_addrs().map(Iterator::collect::<Vec<_>>)
                });
                match actix_web::rt::time::timeout(self.settings.connect_timeout, lookup).await {
                    Ok(Ok(Ok(addresses))) => addresses,
                    Ok(Ok(Err(e))) => return Err(format!("cannot resolve {}: {e}", target.host)),
                    Ok(Err(_)) | Err(_) => {
                        return Err(format!("cannot resolve {} in time", target.host));
                    }
                }
            }
        };
        addresses
            .iter()
            .copied()
            .find(|a| may_deliver_to(a.ip(), &self.settings.allowed_targets))
            .ok_or_else(|| {
                format!(
                    "refused: {} is on loopback, link-local or a private network \
                     (HOTLINE_WEBHOOK_ALLOWED_TARGETS names the ones deliveries may reach)",
                    target.host
                )
            })
    }
}

/// Reads every active subscription's new events into its deliveries; answers how many, and
/// how many subscriptions are active.
fn fan_out(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize), StoreError> {
    let mut queued = 0;
    let readers = db.read(queue::readers)?;
    let active = readers.len();
    for reader in readers {
        let subscription = &reader.subscription;
        let page = db.read(|c| {
            store::events::feed(
                c,
                subscription.scope,
                &subscription.filter(),
                reader.position,
                FEED_PAGE,
            )
        })?;
        if page.resume_after == reader.position {
            continue;
        }
        let deliveries = page
            .events
            .into_iter()
            .map(|fed| {
                Ok(NewDelivery {
                    event_id: fed.event.id,
                    event_kind: fed.event.kind,
                    ticket_id: fed.event.ticket_id,
                    event_at: fed.event.created_at,
                    payload: serde_json::to_string(&CloudEvent::from(fed))
                        .map_err(StoreError::corrupt)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let count = deliveries.len();
        let moved = db.write(|c| {
            queue::fan_out(
                c,
                subscription.id,
                reader.position,
                page.resume_after,
                deliveries,
                now,
            )
        })?;
        if moved {
            queued += count;
        }
    }
    Ok((queued, active))
}

/// A draw in `[0, 1)` to spread retries.
fn jitter() -> f64 {
    (OsRng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    actix_web::rt::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the webhook worker's task failed".into(),
            ))
        })
}

/// The worker's thread inside a server: a look every `interval`, each claimed subscription sent
/// for by its own task, until stopped.
pub struct Runner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        settings: WebhookSettings,
    ) -> std::io::Result<Option<Self>> {
        let Some(interval) = settings.interval else {
            return Ok(None);
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                system.block_on(async move {
                    let deliverer = Rc::new(Deliverer::new(db, clock, metrics, settings));
                    let mut counted_at: Option<Instant> = None;
                    while !stopping.load(Ordering::Relaxed) {
                        let count_queue = counted_at.is_none_or(|at| at.elapsed() >= QUEUE_COUNT_EVERY);
                        if count_queue {
                            counted_at = Some(Instant::now());
                        }
                        match deliverer.look(count_queue).await {
                            Ok((_, claims)) => {
                                for claim in claims {
                                    actix_web::rt::spawn(deliverer.clone().send(claim));
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "the webhook worker could not look for work; it tries again");
                            }
                        }
                        actix_web::rt::time::sleep(interval).await;
                    }
                });
            })?;
        Ok(Some(Self {
            stop,
            thread: Some(thread),
        }))
    }

    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
