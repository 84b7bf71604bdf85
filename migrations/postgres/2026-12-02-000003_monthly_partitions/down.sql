ALTER TABLE ticket_events RENAME TO ticket_events_partitioned;
ALTER SEQUENCE ticket_events_id_seq OWNED BY NONE;
CREATE TABLE ticket_events (
    id BIGINT PRIMARY KEY DEFAULT nextval('ticket_events_id_seq'),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    ticket_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id TEXT REFERENCES users (id),
    actor_role TEXT,
    actor_unit_id TEXT REFERENCES units (id),
    assignment_id TEXT REFERENCES assignments (id),
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    transaction_id BIGINT NOT NULL DEFAULT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)
);
ALTER SEQUENCE ticket_events_id_seq OWNED BY ticket_events.id;
INSERT INTO ticket_events SELECT * FROM ticket_events_partitioned;
DROP TABLE ticket_events_partitioned;
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_created_idx ON ticket_events (created_at);
CREATE INDEX ticket_events_kind_created_idx ON ticket_events (kind, created_at);
CREATE INDEX ticket_events_feed_idx ON ticket_events (transaction_id, id);

ALTER TABLE audit_log RENAME TO audit_log_partitioned;
ALTER SEQUENCE audit_log_id_seq OWNED BY NONE;
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    user_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    subject_id TEXT,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
INSERT INTO audit_log SELECT * FROM audit_log_partitioned;
DROP TABLE audit_log_partitioned;
CREATE INDEX audit_log_ticket_idx ON audit_log (ticket_id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);

DROP FUNCTION make_month_partitions(TEXT, DATE, DATE);
