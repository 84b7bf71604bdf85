-- The append-only tables grow by every change of every ticket for as long as the hotline runs.
-- Partitioned by the month their rows were written (UTC), a month's reading (the bulletin) scans
-- that month's partition only, vacuum works on the months still written to, and a month past
-- its keeping period leaves by dropping its partition (`hotline archive`) instead of deleting
-- millions of rows one by one. Nothing references these tables, so their keys may carry the
-- month as PostgreSQL requires. Webhook deliveries stay one table: they are updated until
-- delivered, and one row per event and subscription is a uniqueness the month cannot be part of.

-- Makes the month partitions of `parent` from `first_month` to `last_month` that do not exist
-- yet, and answers how many it made. Rows that fell into the DEFAULT partition for a month
-- (written with a clock outside the months made, or imported before theirs was) are moved into
-- the new month's partition, since PostgreSQL refuses a partition whose rows sit in DEFAULT.
-- Instances starting together take turns through the advisory lock.
CREATE FUNCTION make_month_partitions(parent TEXT, first_month DATE, last_month DATE)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
    month DATE := date_trunc('month', first_month);
    next_month DATE;
    partition TEXT;
    made INTEGER := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('make_month_partitions'));
    WHILE month <= last_month LOOP
        next_month := month + INTERVAL '1 month';
        partition := parent || '_' || to_char(month, 'YYYY_MM');
        IF to_regclass(partition) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', partition, parent);
            EXECUTE format(
                'WITH moved AS (DELETE FROM %I WHERE created_at >= %L AND created_at < %L RETURNING *) '
                'INSERT INTO %I SELECT * FROM moved',
                parent || '_default', month, next_month, partition);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                parent, partition, month, next_month);
            made := made + 1;
        END IF;
        month := next_month;
    END LOOP;
    RETURN made;
END $$;

ALTER TABLE ticket_events RENAME TO ticket_events_before_partitioning;
ALTER TABLE ticket_events_before_partitioning
    RENAME CONSTRAINT ticket_events_pkey TO ticket_events_before_partitioning_pkey;
ALTER SEQUENCE ticket_events_id_seq OWNED BY NONE;
DROP INDEX ticket_events_ticket_idx, ticket_events_created_idx, ticket_events_kind_created_idx,
    ticket_events_feed_idx;
CREATE TABLE ticket_events (
    id BIGINT NOT NULL DEFAULT nextval('ticket_events_id_seq'),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    ticket_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id TEXT REFERENCES users (id),
    actor_role TEXT,
    actor_unit_id TEXT REFERENCES units (id),
    assignment_id TEXT REFERENCES assignments (id),
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    transaction_id BIGINT NOT NULL DEFAULT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE ticket_events_id_seq OWNED BY ticket_events.id;
CREATE TABLE ticket_events_default PARTITION OF ticket_events DEFAULT;
SELECT make_month_partitions('ticket_events',
    CAST(COALESCE((SELECT min(created_at) FROM ticket_events_before_partitioning), now()) AS DATE),
    CAST(now() + INTERVAL '3 months' AS DATE));
INSERT INTO ticket_events SELECT id, ticket_id, ticket_version, kind, actor_user_id, actor_role,
    actor_unit_id, assignment_id, details, created_at, transaction_id
    FROM ticket_events_before_partitioning;
DROP TABLE ticket_events_before_partitioning;
CREATE INDEX ticket_events_ticket_idx ON ticket_events (ticket_id, id);
CREATE INDEX ticket_events_created_idx ON ticket_events (created_at);
CREATE INDEX ticket_events_kind_created_idx ON ticket_events (kind, created_at);
CREATE INDEX ticket_events_feed_idx ON ticket_events (transaction_id, id);

ALTER TABLE audit_log RENAME TO audit_log_before_partitioning;
ALTER TABLE audit_log_before_partitioning
    RENAME CONSTRAINT audit_log_pkey TO audit_log_before_partitioning_pkey;
ALTER SEQUENCE audit_log_id_seq OWNED BY NONE;
DROP INDEX audit_log_ticket_idx, audit_log_created_idx, audit_log_user_idx, audit_log_action_idx;
CREATE TABLE audit_log (
    id BIGINT NOT NULL DEFAULT nextval('audit_log_id_seq'),
    user_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    ticket_id TEXT REFERENCES tickets (id),
    subject_id TEXT,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
SELECT make_month_partitions('audit_log',
    CAST(COALESCE((SELECT min(created_at) FROM audit_log_before_partitioning), now()) AS DATE),
    CAST(now() + INTERVAL '3 months' AS DATE));
INSERT INTO audit_log SELECT id, user_id, action, ticket_id, subject_id, details, created_at
    FROM audit_log_before_partitioning;
DROP TABLE audit_log_before_partitioning;
CREATE INDEX audit_log_ticket_idx ON audit_log (ticket_id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
