-- Foundation: the directory (units, categories, users), tickets with their lifecycle columns,
-- assignments, the event timeline, idempotency keys and the access audit.
-- Enumerations are TEXT with CHECK constraints where the set is closed; event kinds and
-- assignment states grow with the lifecycle and are checked by the service instead.
-- Timestamps are TIMESTAMP holding UTC; ids are UUIDv7 as TEXT (identical in both dialects).

CREATE TABLE units (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('department', 'township', 'enterprise', 'center')),
    parent_id TEXT REFERENCES units (id),
    sort_order INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX units_parent_idx ON units (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'dispatcher', 'unit_handler', 'supervisor', 'admin', 'integration')),
    unit_id TEXT REFERENCES units (id),
    channel TEXT CHECK (channel IN ('phone', 'web', 'wechat', 'app', 'mailbox', 'upper_platform', 'open311', 'other')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    -- Tokens carry the generation they were issued in; raising it ends them all.
    token_generation BIGINT NOT NULL DEFAULT 0,
    last_login_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (role <> 'unit_handler' OR unit_id IS NOT NULL),
    CHECK (role <> 'integration' OR channel IS NOT NULL)
);
CREATE INDEX users_unit_idx ON users (unit_id);

CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    parent_id TEXT REFERENCES categories (id),
    name TEXT NOT NULL,
    full_name TEXT NOT NULL UNIQUE,
    level INTEGER NOT NULL CHECK (level IN (1, 2)),
    default_unit_id TEXT REFERENCES units (id),
    sort_order INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((level = 1 AND parent_id IS NULL) OR (level = 2 AND parent_id IS NOT NULL))
);
CREATE INDEX categories_parent_idx ON categories (parent_id);

-- One row per local calendar day: the last sequence handed out in ticket numbers of that day.
CREATE TABLE ticket_number_days (
    day TEXT PRIMARY KEY NOT NULL,
    last_value BIGINT NOT NULL
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL CHECK (channel IN ('phone', 'web', 'wechat', 'app', 'mailbox', 'upper_platform', 'open311', 'other')),
    external_ref TEXT,
    ticket_type TEXT NOT NULL CHECK (ticket_type IN ('consult', 'help', 'complaint', 'report', 'suggestion', 'praise', 'other')),
    category_id TEXT REFERENCES categories (id),
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    caller_name TEXT,
    caller_phone TEXT,
    confidential BOOLEAN NOT NULL DEFAULT FALSE,
    address TEXT,
    area_unit_id TEXT REFERENCES units (id),
    latitude DOUBLE,
    longitude DOUBLE,
    priority TEXT NOT NULL CHECK (priority IN ('normal', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('registered', 'dispatched', 'handling', 'returned', 'replied', 'awaiting_callback', 'closed', 'merged', 'invalid')),
    -- Lifecycle state kept on the ticket so that lists and inboxes filter without joins;
    -- the timeline remains the record these are derived from.
    current_round INTEGER NOT NULL DEFAULT 0,
    primary_unit_id TEXT REFERENCES units (id),
    sign_due_at TIMESTAMP,
    due_at TIMESTAMP,
    overdue BOOLEAN NOT NULL DEFAULT FALSE,
    supervised BOOLEAN NOT NULL DEFAULT FALSE,
    return_count INTEGER NOT NULL DEFAULT 0,
    rework_count INTEGER NOT NULL DEFAULT 0,
    urge_count INTEGER NOT NULL DEFAULT 0,
    merged_into_id TEXT REFERENCES tickets (id),
    close_reason TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    UNIQUE (channel, external_ref)
);
CREATE INDEX tickets_created_idx ON tickets (created_at, id);
CREATE INDEX tickets_status_created_idx ON tickets (status, created_at, id);
CREATE INDEX tickets_primary_unit_due_idx ON tickets (primary_unit_id, due_at);
CREATE INDEX tickets_category_created_idx ON tickets (category_id, created_at);
CREATE INDEX tickets_created_by_idx ON tickets (created_by, created_at);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    round INTEGER NOT NULL CHECK (round >= 1),
    role TEXT NOT NULL CHECK (role IN ('primary', 'assisting')),
    status TEXT NOT NULL,
    forced BOOLEAN NOT NULL DEFAULT FALSE,
    dispatched_by TEXT NOT NULL REFERENCES users (id),
    dispatched_at TIMESTAMP NOT NULL,
    sign_due_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP NOT NULL,
    original_due_at TIMESTAMP NOT NULL,
    signed_at TIMESTAMP,
    returned_at TIMESTAMP,
    return_reason TEXT,
    replied_at TIMESTAMP,
    closed_at TIMESTAMP,
    UNIQUE (ticket_id, round, unit_id)
);
CREATE INDEX assignments_unit_ticket_idx ON assignments (unit_id, ticket_id);
CREATE INDEX assignments_ticket_idx ON assignments (ticket_id);

CREATE TABLE ticket_events (
    id INTEGER PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    ticket_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id TEXT REFERENCES users (id),
    actor_role TEXT,
    actor_unit_id TEXT REFERENCES units (id),
    assignment_id TEXT REFERENCES assignments (id),
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_created_idx ON ticket_events (created_at);

-- A POST's first successful answer, replayed for the same key and body for 24 hours.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    location TEXT,
    etag TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Who saw personal information whole, and who changed the directory.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    user_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    subject_id TEXT,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_ticket_idx ON audit_log (ticket_id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
