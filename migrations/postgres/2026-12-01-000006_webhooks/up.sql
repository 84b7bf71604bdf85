-- Webhook subscriptions: where other systems want ticket events sent, which ones, and how far
-- the feed has been read for them. An integration's own subscription sees only the events its
-- account may follow (its channel); one made by an administrator sees every ticket's.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Comma-separated event kinds; empty for every kind.
    kinds TEXT NOT NULL DEFAULT '',
    channel TEXT,
    -- The integration account it belongs to; NULL when an administrator made it.
    owner_user_id TEXT REFERENCES users (id),
    -- The channel its owner follows (its scope); NULL for every ticket.
    scope_channel TEXT,
    -- Why it is switched off: by hand, or the receiver answered 410 Gone. NULL: active.
    disabled_reason TEXT,
    -- The last feed position read into deliveries.
    feed_transaction BIGINT NOT NULL DEFAULT 0,
    feed_event BIGINT NOT NULL DEFAULT 0,
    -- An instance is sending its deliveries until then; no other does meanwhile.
    lease_until TIMESTAMP,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX webhook_subscriptions_owner_idx ON webhook_subscriptions (owner_user_id);

-- The secrets a subscription's deliveries are signed with: every one in force signs, so a
-- receiver can move to a new secret before the old one is removed.
CREATE TABLE webhook_secrets (
    id TEXT PRIMARY KEY NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_secrets_subscription_idx ON webhook_secrets (subscription_id);

-- One row per event to send to a subscription, in feed order (id): the delivery log.
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_id BIGINT NOT NULL,
    event_kind TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    -- The body as first sent; every attempt sends the same bytes.
    payload TEXT NOT NULL,
    -- pending, delivered or dead.
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_attempt_at TIMESTAMP,
    last_status INTEGER,
    last_error TEXT,
    latency_ms BIGINT,
    event_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE UNIQUE INDEX webhook_deliveries_event_idx ON webhook_deliveries (subscription_id, event_id);
CREATE INDEX webhook_deliveries_waiting_idx ON webhook_deliveries (subscription_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_status_idx ON webhook_deliveries (status, next_attempt_at);
