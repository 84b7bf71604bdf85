DROP INDEX tickets_closures_idx;
CREATE INDEX tickets_closed_idx ON tickets (closed_at);
DROP INDEX tickets_volume_idx;
ALTER TABLE tickets DROP COLUMN called_back;
