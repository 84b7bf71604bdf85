-- The lifecycle's own records: extension requests, replies and opinions with their evidence,
-- callbacks, urges, supervisions, and the working-day calendar deadlines are computed on.

ALTER TABLE tickets ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN callback_due_at TIMESTAMP;

-- The explanation of an assignment's sign and reply deadlines (rule, start, days counted and
-- skipped), as JSON.
ALTER TABLE assignments ADD COLUMN deadlines TEXT NOT NULL DEFAULT '{}';

CREATE INDEX tickets_status_due_idx ON tickets (status, due_at);

CREATE TABLE extension_requests (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    requested_due_at TIMESTAMP NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
    requested_by TEXT REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    note TEXT
);
CREATE INDEX extension_requests_ticket_idx ON extension_requests (ticket_id);

CREATE TABLE replies (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    kind TEXT NOT NULL CHECK (kind IN ('reply', 'opinion')),
    result TEXT CHECK (result IN ('resolved', 'partially_resolved', 'explained', 'unresolvable')),
    body TEXT NOT NULL,
    contacted_at TIMESTAMP,
    contact_method TEXT CHECK (contact_method IN ('phone', 'visit', 'sms', 'wechat', 'other')),
    contact_outcome TEXT,
    no_contact_reason TEXT,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (kind <> 'reply' OR (result IS NOT NULL AND (contacted_at IS NOT NULL OR no_contact_reason IS NOT NULL)))
);
CREATE INDEX replies_ticket_idx ON replies (ticket_id);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    reply_id TEXT REFERENCES replies (id),
    unit_id TEXT REFERENCES units (id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_ticket_idx ON attachments (ticket_id);

CREATE TABLE callbacks (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    attempt INTEGER NOT NULL,
    reached BOOLEAN NOT NULL,
    satisfaction TEXT CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    resolved BOOLEAN,
    comment TEXT,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX callbacks_ticket_idx ON callbacks (ticket_id);

CREATE TABLE urges (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    kind TEXT NOT NULL CHECK (kind IN ('manual', 'system')),
    note TEXT,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX urges_ticket_idx ON urges (ticket_id);
CREATE INDEX urges_unit_idx ON urges (unit_id, created_at);

CREATE TABLE supervisions (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    reason TEXT NOT NULL,
    deadline TIMESTAMP NOT NULL,
    automatic BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    opened_by TEXT REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    outcome TEXT,
    closed_by TEXT REFERENCES users (id),
    closed_at TIMESTAMP
);
CREATE INDEX supervisions_ticket_idx ON supervisions (ticket_id);
CREATE INDEX supervisions_status_idx ON supervisions (status, opened_at, id);

-- Days that differ from the weekday rule: public holidays and make-up working days (调休).
CREATE TABLE calendar_days (
    day TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT
);
