-- Figures, assessment and the monthly bulletin: what the figures need beside the timeline,
-- indexes for reading a period, and the records of assessment (rules, bonuses, appeals, typical
-- cases, published bulletins).

-- The reply due time in force when a primary unit replied (on-time rate, overdue).
ALTER TABLE replies ADD COLUMN due_at TIMESTAMP;
UPDATE replies SET due_at = (SELECT a.due_at FROM assignments a WHERE a.id = replies.assignment_id)
    WHERE kind = 'reply';
-- The primary unit when the citizen was called back (satisfaction per unit). No REFERENCES:
-- SQLite could not drop the column again.
ALTER TABLE callbacks ADD COLUMN unit_id TEXT;
UPDATE callbacks SET unit_id = (SELECT t.primary_unit_id FROM tickets t WHERE t.id = callbacks.ticket_id);

CREATE INDEX ticket_events_kind_created_idx ON ticket_events (kind, created_at);
CREATE INDEX assignments_dispatched_idx ON assignments (dispatched_at);
CREATE INDEX assignments_due_idx ON assignments (due_at);
CREATE INDEX assignments_returned_idx ON assignments (returned_at);
CREATE INDEX replies_created_idx ON replies (created_at);
CREATE INDEX replies_due_idx ON replies (due_at);
CREATE INDEX callbacks_created_idx ON callbacks (created_at);
CREATE INDEX urges_created_idx ON urges (created_at);
CREATE INDEX supervisions_opened_idx ON supervisions (opened_at);
CREATE INDEX tickets_closed_idx ON tickets (closed_at);

-- Assessment rules, each in force from its month until a later one.
CREATE TABLE assessment_rules (
    effective_from TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

-- The bonus (附加分) a supervisor gives a unit for a month.
CREATE TABLE assessment_bonuses (
    month TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units (id),
    points DOUBLE NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT REFERENCES users (id),
    set_at TIMESTAMP NOT NULL,
    PRIMARY KEY (month, unit_id)
);

-- A unit's appeal (申诉) against a dissatisfied callback or an overdue mark; granted, it takes
-- the ticket out of the unit's figures (核减). One per ticket, unit and subject.
CREATE TABLE appeals (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    subject TEXT NOT NULL CHECK (subject IN ('dissatisfied_callback', 'overdue')),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'refused')),
    filed_by TEXT REFERENCES users (id),
    filed_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    decision_note TEXT,
    UNIQUE (ticket_id, unit_id, subject)
);
CREATE INDEX appeals_status_idx ON appeals (status, filed_at);
CREATE INDEX appeals_unit_idx ON appeals (unit_id, filed_at);
-- Evidence of an appeal. No REFERENCES: SQLite could not drop
-- the column again.
ALTER TABLE attachments ADD COLUMN appeal_id TEXT;

-- Tickets a supervisor holds up as typical (典型案例), for better or worse.
CREATE TABLE typical_cases (
    ticket_id TEXT PRIMARY KEY NOT NULL REFERENCES tickets (id),
    polarity TEXT NOT NULL CHECK (polarity IN ('positive', 'negative')),
    note TEXT NOT NULL,
    flagged_by TEXT REFERENCES users (id),
    flagged_at TIMESTAMP NOT NULL
);
CREATE INDEX typical_cases_flagged_idx ON typical_cases (flagged_at);

-- A published month's bulletin, frozen.
CREATE TABLE published_bulletins (
    month TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    published_by TEXT REFERENCES users (id),
    published_at TIMESTAMP NOT NULL
);
