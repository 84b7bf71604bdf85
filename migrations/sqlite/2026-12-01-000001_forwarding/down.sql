PRAGMA foreign_keys = OFF;
BEGIN;
-- A trigger that reads the table would stop the rename below: it is made again after.
DROP TRIGGER unit_tickets_on_ticket;
DELETE FROM unit_tickets WHERE NOT EXISTS (
    SELECT 1 FROM assignments a WHERE a.ticket_id = unit_tickets.ticket_id AND a.unit_id = unit_tickets.unit_id AND a.role <> 'forwarded'
);
UPDATE ticket_events SET assignment_id = NULL WHERE assignment_id IN (SELECT id FROM assignments WHERE role = 'forwarded');
CREATE TABLE assignments_rebuilt (
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
    deadlines TEXT NOT NULL DEFAULT '{}',
    UNIQUE (ticket_id, round, unit_id)
);
INSERT INTO assignments_rebuilt (id, ticket_id, unit_id, round, role, status, forced, dispatched_by, dispatched_at, sign_due_at, due_at, original_due_at, signed_at, returned_at, return_reason, replied_at, closed_at, deadlines)
SELECT id, ticket_id, unit_id, round, role, status, forced, dispatched_by, dispatched_at, sign_due_at, due_at, original_due_at, signed_at, returned_at, return_reason, replied_at, closed_at, deadlines FROM assignments WHERE role <> 'forwarded';
DROP TABLE assignments;
ALTER TABLE assignments_rebuilt RENAME TO assignments;
CREATE INDEX assignments_unit_ticket_idx ON assignments (unit_id, ticket_id);
CREATE INDEX assignments_ticket_idx ON assignments (ticket_id);
CREATE INDEX assignments_status_idx ON assignments (status, ticket_id);
CREATE INDEX assignments_dispatched_idx ON assignments (dispatched_at);
CREATE INDEX assignments_due_idx ON assignments (due_at);
CREATE INDEX assignments_returned_idx ON assignments (returned_at);
CREATE TRIGGER unit_tickets_on_assignment AFTER INSERT ON assignments
BEGIN
    INSERT INTO unit_tickets (ticket_id, unit_id, holding, status, created_at, due_at, overdue)
    SELECT t.id, NEW.unit_id, NEW.round = t.current_round, t.status, t.created_at, t.due_at, t.overdue
    FROM tickets t WHERE t.id = NEW.ticket_id
    ON CONFLICT (ticket_id, unit_id) DO UPDATE SET holding = excluded.holding;
END;
CREATE TRIGGER unit_tickets_on_ticket AFTER UPDATE OF status, due_at, overdue, current_round ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.due_at IS NOT NEW.due_at OR OLD.overdue IS NOT NEW.overdue OR OLD.current_round IS NOT NEW.current_round
BEGIN
    UPDATE unit_tickets
    SET status = NEW.status,
        due_at = NEW.due_at,
        overdue = NEW.overdue,
        holding = EXISTS (
            SELECT 1 FROM assignments a
            WHERE a.ticket_id = NEW.id AND a.unit_id = unit_tickets.unit_id AND a.round = NEW.current_round
        )
    WHERE ticket_id = NEW.id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
