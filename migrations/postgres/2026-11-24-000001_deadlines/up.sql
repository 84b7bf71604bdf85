-- Deadlines that keep themselves: pausing the clock, the urge ladder's rungs (each fired once,
-- by a unique key), the administrable SLA policy, and the notification feeds.

ALTER TABLE tickets ADD COLUMN paused_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN pause_reason TEXT;

-- Which rung of which deadline a system urge is (NULL for manual urges). No CHECK: SQLite could
-- not drop the columns again.
ALTER TABLE urges ADD COLUMN rung TEXT;
ALTER TABLE urges ADD COLUMN timer TEXT;

-- One row per rung fired: the unique key is what makes a rung fire exactly once, however many
-- instances run the ladder.
CREATE TABLE ladder_rungs (
    id BIGSERIAL PRIMARY KEY,
    subject_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    timer TEXT NOT NULL CHECK (timer IN ('sign', 'reply', 'callback')),
    rung TEXT NOT NULL CHECK (rung IN ('yellow', 'red', 'supervision')),
    due_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP NOT NULL,
    UNIQUE (subject_id, timer, rung, due_at)
);
CREATE INDEX ladder_rungs_ticket_idx ON ladder_rungs (ticket_id);
CREATE INDEX assignments_status_idx ON assignments (status, ticket_id);

-- Every version of the SLA policy; the newest is in force.
CREATE TABLE sla_policies (
    id BIGSERIAL PRIMARY KEY,
    body TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

-- What a unit (or the hotline office) should look at, with the read mark shared by its people.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('unit', 'office')),
    unit_id TEXT REFERENCES units (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    read_at TIMESTAMP,
    read_by TEXT REFERENCES users (id),
    CHECK ((audience = 'unit' AND unit_id IS NOT NULL) OR (audience = 'office' AND unit_id IS NULL))
);
CREATE INDEX notifications_unit_idx ON notifications (unit_id, id);
CREATE INDEX notifications_audience_idx ON notifications (audience, id);
