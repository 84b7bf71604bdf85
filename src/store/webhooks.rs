//! Webhook subscriptions, their secrets, and the delivery log the worker sends from.
//!
//! Deliveries are written from the feed per subscription (`fan_out`), claimed by one instance at
//! a time per subscription with a lease (`claim`), and their attempts recorded (`record`). A
//! subscription's pending deliveries go out in id order, which is feed order.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use uuid::Uuid;

use super::schema::{webhook_deliveries as d, webhook_secrets as k, webhook_subscriptions as s};
use super::sql::{At, Id, Uid, UtcTime};
use super::{DbConnection, MultiBackend, StoreError};
use crate::domain::access::EventScope;
use crate::domain::feed::FeedPosition;
use crate::domain::ticket::{Channel, EventKind};
use crate::domain::webhook::{
    AfterAttempt, Delivery, DeliveryStatus, GONE_REASON, SigningSecret, Subscription,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = s)]
struct SubscriptionRow {
    id: Uuid,
    url: String,
    description: String,
    kinds: String,
    channel: Option<Channel>,
    owner_user_id: Option<Uuid>,
    scope_channel: Option<Channel>,
    disabled_reason: Option<String>,
    created_by: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SubscriptionRow {
    fn into_subscription(self) -> Result<Subscription, StoreError> {
        Ok(Subscription {
            id: self.id,
            url: self.url,
            description: self.description,
            kinds: kinds_of(&self.kinds)?,
            channel: self.channel,
            owner_user_id: self.owner_user_id,
            scope: self
                .scope_channel
                .map_or(EventScope::All, EventScope::Channel),
            disabled_reason: self.disabled_reason,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn kinds_of(text: &str) -> Result<Vec<EventKind>, StoreError> {
    text.split(',')
        .filter(|k| !k.is_empty())
        .map(|k| k.parse().map_err(StoreError::corrupt))
        .collect()
}

fn kinds_text(kinds: &[EventKind]) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn scope_channel(scope: EventScope) -> Option<&'static str> {
    match scope {
        EventScope::Channel(channel) => Some(channel.as_str()),
        EventScope::All | EventScope::Unit(_) => None,
    }
}

/// Files a subscription that starts reading the feed after `start`.
pub fn insert(
    conn: &mut DbConnection,
    subscription: &Subscription,
    start: FeedPosition,
) -> Result<(), StoreError> {
    diesel::insert_into(s::table)
        .values((
            s::id.eq(Id(subscription.id)),
            s::url.eq(&subscription.url),
            s::description.eq(&subscription.description),
            s::kinds.eq(kinds_text(&subscription.kinds)),
            s::channel.eq(subscription.channel.map(Channel::as_str)),
            s::owner_user_id.eq(subscription.owner_user_id.map(Id)),
            s::scope_channel.eq(scope_channel(subscription.scope)),
            s::disabled_reason.eq(subscription.disabled_reason.as_deref()),
            s::feed_transaction.eq(start.transaction),
            s::feed_event.eq(start.event),
            s::created_by.eq(Id(subscription.created_by)),
            s::created_at.eq(At(subscription.created_at)),
            s::updated_at.eq(At(subscription.updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes what may change of a subscription: where, what, and whether it delivers.
pub fn update(conn: &mut DbConnection, subscription: &Subscription) -> Result<(), StoreError> {
    diesel::update(s::table.find(Id(subscription.id)))
        .set((
            s::url.eq(&subscription.url),
            s::description.eq(&subscription.description),
            s::kinds.eq(kinds_text(&subscription.kinds)),
            s::channel.eq(subscription.channel.map(Channel::as_str)),
            s::disabled_reason.eq(subscription.disabled_reason.as_deref()),
            s::updated_at.eq(At(subscription.updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes a subscription from use; its delivery log stays.
pub fn delete(conn: &mut DbConnection, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(s::table.find(Id(id)))
        .set((s::deleted_at.eq(At(now)), s::updated_at.eq(At(now))))
        .execute(conn)?;
    Ok(())
}

/// A subscription in use.
pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Subscription, StoreError> {
    s::table
        .find(Id(id))
        .filter(s::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .first(conn)?
        .into_subscription()
}

/// The subscriptions in use, oldest first: all of them, or one integration account's.
pub fn list(conn: &mut DbConnection, owner: Option<Uuid>) -> Result<Vec<Subscription>, StoreError> {
    let mut query = s::table
        .filter(s::deleted_at.is_null())
        .select(SubscriptionRow::as_select())
        .order((s::created_at.asc(), s::id.asc()))
        .into_boxed();
    if let Some(owner) = owner {
        query = query.filter(s::owner_user_id.eq(Id(owner)));
    }
    query
        .load(conn)?
        .into_iter()
        .map(SubscriptionRow::into_subscription)
        .collect()
}

/// A secret as it is listed: never its text, which is shown once, when it is made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecretInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
}

pub fn add_secret(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    secret: &SigningSecret,
    now: DateTime<Utc>,
) -> Result<SecretInfo, StoreError> {
    let info = SecretInfo {
        id: Uuid::now_v7(),
        created_at: now,
    };
    diesel::insert_into(k::table)
        .values((
            k::id.eq(Id(info.id)),
            k::subscription_id.eq(Id(subscription_id)),
            k::secret.eq(secret.to_text()),
            k::created_at.eq(At(now)),
        ))
        .execute(conn)?;
    Ok(info)
}

pub fn secrets(
    conn: &mut DbConnection,
    subscription_id: Uuid,
) -> Result<Vec<SecretInfo>, StoreError> {
    Ok(k::table
        .filter(k::subscription_id.eq(Id(subscription_id)))
        .order((k::created_at.asc(), k::id.asc()))
        .select((k::id, k::created_at))
        .load::<(Uuid, DateTime<Utc>)>(conn)?
        .into_iter()
        .map(|(id, created_at)| SecretInfo { id, created_at })
        .collect())
}

/// Removes one secret; answers whether it was there.
pub fn remove_secret(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    secret_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(
        k::table
            .filter(k::subscription_id.eq(Id(subscription_id)))
            .filter(k::id.eq(Id(secret_id))),
    )
    .execute(conn)?
        > 0)
}

/// Where a subscription has read the feed to, and what it reads: for the worker.
#[derive(Debug, Clone)]
pub struct Reader {
    pub subscription: Subscription,
    pub position: FeedPosition,
}

/// The active subscriptions and where each has read the feed to.
pub fn readers(conn: &mut DbConnection) -> Result<Vec<Reader>, StoreError> {
    s::table
        .filter(s::deleted_at.is_null())
        .filter(s::disabled_reason.is_null())
        .order(s::id.asc())
        .select((
            SubscriptionRow::as_select(),
            s::feed_transaction,
            s::feed_event,
        ))
        .load::<(SubscriptionRow, i64, i64)>(conn)?
        .into_iter()
        .map(|(row, transaction, event)| {
            Ok(Reader {
                subscription: row.into_subscription()?,
                position: FeedPosition { transaction, event },
            })
        })
        .collect()
}

/// An event to deliver, as the feed served it.
pub struct NewDelivery {
    pub event_id: i64,
    pub event_kind: EventKind,
    pub ticket_id: Uuid,
    pub payload: String,
    pub event_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = d)]
struct DeliveryInsert {
    subscription_id: Id,
    event_id: i64,
    event_kind: &'static str,
    ticket_id: Id,
    payload: String,
    status: &'static str,
    attempts: i32,
    next_attempt_at: At,
    event_at: At,
    created_at: At,
}

/// Queues `deliveries`, read from the feed after `from` up to `to`, for a subscription, and
/// moves it on to `to`; answers `false`, writing nothing, when the subscription is no longer
/// at `from` (another instance queued them first) or is gone.
pub fn fan_out(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    from: FeedPosition,
    to: FeedPosition,
    deliveries: Vec<NewDelivery>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let query = s::table
        .find(Id(subscription_id))
        .filter(s::deleted_at.is_null())
        .select((s::feed_transaction, s::feed_event));
    // SQLite's writers already run one at a time (`BEGIN IMMEDIATE`).
    let at: Option<(i64, i64)> = match conn {
        DbConnection::Pg(c) => query.for_update().get_result(c).optional()?,
        DbConnection::Sqlite(c) => query.get_result(c).optional()?,
    };
    if at != Some((from.transaction, from.event)) {
        return Ok(false);
    }
    let rows: Vec<DeliveryInsert> = deliveries
        .into_iter()
        .map(|delivery| DeliveryInsert {
            subscription_id: Id(subscription_id),
            event_id: delivery.event_id,
            event_kind: delivery.event_kind.as_str(),
            ticket_id: Id(delivery.ticket_id),
            payload: delivery.payload,
            status: DeliveryStatus::Pending.as_str(),
            attempts: 0,
            next_attempt_at: At(now),
            event_at: At(delivery.event_at),
            created_at: At(now),
        })
        .collect();
    if !rows.is_empty() {
        crate::per_backend!(conn, |c| diesel::insert_into(d::table)
            .values(&rows)
            .execute(c))?;
    }
    diesel::update(s::table.find(Id(subscription_id)))
        .set((
            s::feed_transaction.eq(to.transaction),
            s::feed_event.eq(to.event),
        ))
        .execute(conn)?;
    Ok(true)
}

/// A delivery as the worker sends it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub event_id: i64,
    pub payload: String,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub event_at: DateTime<Utc>,
}

/// A subscription one instance sends for until `lease_until`, with its first deliveries in line.
#[derive(Debug, Clone)]
pub struct Claim {
    pub subscription_id: Uuid,
    pub url: String,
    pub secrets: Vec<SigningSecret>,
    pub lease_until: DateTime<Utc>,
    pub deliveries: Vec<Outgoing>,
}

#[derive(QueryableByName)]
struct Claimable {
    #[diesel(sql_type = Uid)]
    id: Uuid,
}

/// Claims up to `subscriptions` active subscriptions whose first delivery in line is due at
/// `now` and that no instance holds, until `lease_until`, with up to `batch` deliveries each.
/// PostgreSQL skips subscriptions another instance is claiming at the same moment; SQLite runs
/// one writer at a time.
pub fn claim(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    subscriptions: i64,
    batch: i64,
) -> Result<Vec<Claim>, StoreError> {
    let lock = match conn {
        DbConnection::Pg(_) => " FOR UPDATE OF s SKIP LOCKED",
        DbConnection::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT s.id FROM webhook_subscriptions s \
         WHERE s.deleted_at IS NULL AND s.disabled_reason IS NULL \
         AND (s.lease_until IS NULL OR s.lease_until <= $1) \
         AND (SELECT d.next_attempt_at FROM webhook_deliveries d \
              WHERE d.subscription_id = s.id AND d.status = 'pending' \
              ORDER BY d.id LIMIT 1) <= $2 \
         ORDER BY s.lease_until NULLS FIRST, s.id LIMIT $3{lock}"
    );
    let ids: Vec<Uuid> = diesel::sql_query(sql)
        .into_boxed::<MultiBackend>()
        .bind::<UtcTime, _>(At(now))
        .bind::<UtcTime, _>(At(now))
        .bind::<BigInt, _>(subscriptions)
        .load::<Claimable>(conn)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Id> = ids.iter().copied().map(Id).collect();
    diesel::update(s::table.filter(s::id.eq_any(&keys)))
        .set(s::lease_until.eq(At(lease_until)))
        .execute(conn)?;
    let urls: Vec<(Uuid, String)> = s::table
        .filter(s::id.eq_any(&keys))
        .order(s::id.asc())
        .select((s::id, s::url))
        .load(conn)?;
    let secrets: Vec<(Uuid, String)> = k::table
        .filter(k::subscription_id.eq_any(&keys))
        .order((k::created_at.asc(), k::id.asc()))
        .select((k::subscription_id, k::secret))
        .load(conn)?;
    let mut claims = Vec::with_capacity(ids.len());
    for (id, url) in urls {
        let deliveries = d::table
            .filter(d::subscription_id.eq(Id(id)))
            .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
            .order(d::id.asc())
            .limit(batch)
            .select((
                d::id,
                d::event_id,
                d::payload,
                d::attempts,
                d::next_attempt_at,
                d::event_at,
            ))
            .load::<(i64, i64, String, i32, DateTime<Utc>, DateTime<Utc>)>(conn)?
            .into_iter()
            .map(
                |(id, event_id, payload, attempts, next_attempt_at, event_at)| Outgoing {
                    id,
                    event_id,
                    payload,
                    attempts: u32::try_from(attempts).unwrap_or_default(),
                    next_attempt_at,
                    event_at,
                },
            )
            .collect();
        claims.push(Claim {
            subscription_id: id,
            url,
            secrets: secrets
                .iter()
                .filter(|(of, _)| *of == id)
                .map(|(_, text)| SigningSecret::parse(text).map_err(StoreError::corrupt))
                .collect::<Result<_, _>>()?,
            lease_until,
            deliveries,
        });
    }
    Ok(claims)
}

/// One attempt to send a delivery, and what it comes to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    /// The attempt's number, from 1.
    pub number: u32,
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub after: AfterAttempt,
}

/// Records a claim's attempts and gives the subscription back, unless its lease ran out and
/// another instance holds it now.
pub fn record(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    lease_until: DateTime<Utc>,
    attempts: &[Attempt],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    record_attempts(conn, subscription_id, attempts, now)?;
    diesel::update(
        s::table
            .find(Id(subscription_id))
            .filter(s::lease_until.eq(At(lease_until))),
    )
    .set(s::lease_until.eq(None::<At>))
    .execute(conn)?;
    Ok(())
}

/// Records attempts made under a claim that goes on: what is recorded is not sent again if the
/// instance dies before the claim ends.
pub fn record_attempts(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    attempts: &[Attempt],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for attempt in attempts {
        let row = d::table
            .filter(d::id.eq(attempt.delivery_id))
            .filter(d::status.eq(DeliveryStatus::Pending.as_str()));
        let common = (
            d::attempts.eq(i32::try_from(attempt.number).unwrap_or(i32::MAX)),
            d::last_attempt_at.eq(At(attempt.at)),
            d::last_status.eq(attempt.status.map(i32::from)),
            d::last_error.eq(attempt.error.as_deref()),
            d::latency_ms.eq(attempt.latency_ms),
        );
        match attempt.after {
            AfterAttempt::Delivered => {
                diesel::update(row)
                    .set((
                        common,
                        d::status.eq(DeliveryStatus::Delivered.as_str()),
                        d::delivered_at.eq(At(attempt.at)),
                    ))
                    .execute(conn)?;
            }
            AfterAttempt::RetryAt(at) => {
                diesel::update(row)
                    .set((common, d::next_attempt_at.eq(At(at))))
                    .execute(conn)?;
            }
            AfterAttempt::Dead => {
                diesel::update(row)
                    .set((common, d::status.eq(DeliveryStatus::Dead.as_str())))
                    .execute(conn)?;
            }
            AfterAttempt::SwitchOff => {
                diesel::update(row)
                    .set((common, d::next_attempt_at.eq(At(now))))
                    .execute(conn)?;
                diesel::update(s::table.find(Id(subscription_id)))
                    .set((
                        s::disabled_reason.eq(GONE_REASON),
                        s::updated_at.eq(At(now)),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = d)]
struct DeliveryRow {
    id: i64,
    subscription_id: Uuid,
    event_id: i64,
    event_kind: String,
    ticket_id: Uuid,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_status: Option<i32>,
    last_error: Option<String>,
    latency_ms: Option<i64>,
    event_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<Delivery, StoreError> {
        let status: DeliveryStatus = self.status.parse().map_err(StoreError::corrupt)?;
        Ok(Delivery {
            id: self.id,
            subscription_id: self.subscription_id,
            event_id: self.event_id,
            event_kind: self.event_kind.parse().map_err(StoreError::corrupt)?,
            ticket_id: self.ticket_id,
            status,
            attempts: u32::try_from(self.attempts).unwrap_or_default(),
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(self.next_attempt_at),
            last_attempt_at: self.last_attempt_at,
            last_status: self.last_status.and_then(|s| u16::try_from(s).ok()),
            last_error: self.last_error,
            latency_ms: self.latency_ms,
            event_at: self.event_at,
            delivered_at: self.delivered_at,
        })
    }
}

/// A subscription's deliveries, newest first, before delivery `before`.
pub fn deliveries(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    status: Option<DeliveryStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut query = d::table
        .filter(d::subscription_id.eq(Id(subscription_id)))
        .select(DeliveryRow::as_select())
        .order(d::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(d::status.eq(status.as_str()));
    }
    if let Some(before) = before {
        query = query.filter(d::id.lt(before));
    }
    query
        .load(conn)?
        .into_iter()
        .map(DeliveryRow::into_delivery)
        .collect()
}

pub fn delivery(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    delivery_id: i64,
) -> Result<Delivery, StoreError> {
    d::table
        .filter(d::subscription_id.eq(Id(subscription_id)))
        .filter(d::id.eq(delivery_id))
        .select(DeliveryRow::as_select())
        .first(conn)?
        .into_delivery()
}

/// Puts a delivery that is not waiting back in line, as if new: its attempts start again.
/// Answers whether it did.
pub fn redeliver(
    conn: &mut DbConnection,
    subscription_id: Uuid,
    delivery_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(diesel::update(
        d::table
            .filter(d::subscription_id.eq(Id(subscription_id)))
            .filter(d::id.eq(delivery_id))
            .filter(d::status.ne(DeliveryStatus::Pending.as_str())),
    )
    .set((
        d::status.eq(DeliveryStatus::Pending.as_str()),
        d::attempts.eq(0),
        d::next_attempt_at.eq(At(now)),
        d::delivered_at.eq(None::<At>),
    ))
    .execute(conn)?
        > 0)
}

/// Deliveries waiting to be sent for active subscriptions.
pub fn queue_depth(conn: &mut DbConnection) -> Result<i64, StoreError> {
    #[derive(QueryableByName)]
    struct Depth {
        #[diesel(sql_type = BigInt)]
        depth: i64,
    }
    Ok(diesel::sql_query(
        "SELECT COUNT(*) AS depth FROM webhook_deliveries d \
         JOIN webhook_subscriptions s ON s.id = d.subscription_id \
         WHERE d.status = $1 AND s.deleted_at IS NULL AND s.disabled_reason IS NULL",
    )
    .bind::<Text, _>(DeliveryStatus::Pending.as_str())
    .get_result::<Depth>(conn)?
    .depth)
}

/// Deliveries waiting and dead, per subscription, for the ones that have any.
pub fn open_counts(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<Uuid, (i64, i64)>, StoreError> {
    let rows: Vec<(Uuid, String, i64)> = d::table
        .filter(d::status.eq_any([
            DeliveryStatus::Pending.as_str(),
            DeliveryStatus::Dead.as_str(),
        ]))
        .group_by((d::subscription_id, d::status))
        .select((d::subscription_id, d::status, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = std::collections::HashMap::new();
    for (subscription, status, count) in rows {
        let entry: &mut (i64, i64) = counts.entry(subscription).or_default();
        if status == DeliveryStatus::Pending.as_str() {
            entry.0 = count;
        } else {
            entry.1 = count;
        }
    }
    Ok(counts)
}
