-- Each unit's tickets, with the keys its lists filter and sort by, one row per unit and ticket,
-- so that a unit's inbox reads its own rows in index order whatever the size of the hotline and
-- of the other units' work. Triggers keep it, so that no write path can forget it.
CREATE TABLE unit_tickets (
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    -- The unit is assigned in the ticket's current round: the ticket is its work now.
    holding BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    due_at TIMESTAMP,
    overdue BOOLEAN NOT NULL,
    PRIMARY KEY (ticket_id, unit_id)
);
INSERT INTO unit_tickets (ticket_id, unit_id, holding, status, created_at, due_at, overdue)
SELECT a.ticket_id, a.unit_id, MAX(a.round = t.current_round), t.status, t.created_at, t.due_at, t.overdue
FROM assignments a JOIN tickets t ON t.id = a.ticket_id
GROUP BY a.ticket_id, a.unit_id;

CREATE INDEX unit_tickets_created_idx ON unit_tickets (unit_id, created_at, ticket_id);
CREATE INDEX unit_tickets_status_created_idx ON unit_tickets (unit_id, status, created_at, ticket_id);
-- Only the tickets being worked on have a due time: these hold a unit's open work alone, and
-- its overdue tickets alone.
CREATE INDEX unit_tickets_due_idx ON unit_tickets (unit_id, due_at, ticket_id) WHERE due_at IS NOT NULL;
CREATE INDEX unit_tickets_open_created_idx ON unit_tickets (unit_id, created_at, ticket_id) WHERE due_at IS NOT NULL;
CREATE INDEX unit_tickets_overdue_due_idx ON unit_tickets (unit_id, due_at, ticket_id) WHERE overdue;
CREATE INDEX unit_tickets_overdue_created_idx ON unit_tickets (unit_id, created_at, ticket_id) WHERE overdue;

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

-- The office's lists: the open work alone and the overdue tickets alone, by due time and by
-- registration; supervised cases; by area. The keyset's tie-breaker is in every index, so that no page is sorted.
DROP INDEX tickets_category_created_idx;
CREATE INDEX tickets_category_created_idx ON tickets (category_id, created_at, id);
CREATE INDEX tickets_area_created_idx ON tickets (area_unit_id, created_at, id);
CREATE INDEX tickets_open_due_idx ON tickets (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX tickets_open_created_idx ON tickets (created_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX tickets_overdue_due_idx ON tickets (due_at, id) WHERE overdue;
CREATE INDEX tickets_overdue_created_idx ON tickets (created_at, id) WHERE overdue;
CREATE INDEX tickets_supervised_created_idx ON tickets (created_at, id) WHERE supervised;
