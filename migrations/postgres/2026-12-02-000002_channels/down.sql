DROP INDEX tickets_channel_idx;
DROP INDEX tickets_volume_idx;
CREATE INDEX tickets_volume_idx ON tickets (created_at) INCLUDE (channel, ticket_type, category_id, area_unit_id, status, current_round);
ALTER TABLE tickets DROP COLUMN channel_code;
DROP TABLE channels;
