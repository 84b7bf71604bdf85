DROP INDEX tickets_supervised_created_idx;
DROP INDEX tickets_open_created_idx;
DROP INDEX tickets_open_due_idx;
DROP INDEX tickets_area_created_idx;
DROP INDEX tickets_category_created_idx;
CREATE INDEX tickets_category_created_idx ON tickets (category_id, created_at);
DROP TRIGGER unit_tickets_on_ticket;
DROP TRIGGER unit_tickets_on_assignment;
DROP TABLE unit_tickets;
