-- Whether a ticket was ever called back, kept on the ticket like the rest of its lifecycle
-- state, so that a month's closures are counted without looking up each one's callbacks.
ALTER TABLE tickets ADD COLUMN called_back BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE tickets SET called_back = TRUE WHERE EXISTS (SELECT 1 FROM callbacks c WHERE c.ticket_id = tickets.id);

-- A bulletin counts a month's registrations by everything it breaks them down by, and reads
-- the month's closures, from these indexes alone: no ticket row is read for either.
CREATE INDEX tickets_volume_idx ON tickets (created_at, channel, ticket_type, category_id, area_unit_id, status, current_round);
DROP INDEX tickets_closed_idx;
CREATE INDEX tickets_closures_idx ON tickets (status, closed_at, primary_unit_id, id, called_back);
