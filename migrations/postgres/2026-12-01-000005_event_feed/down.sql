DROP INDEX ticket_events_feed_idx;
ALTER TABLE ticket_events DROP COLUMN transaction_id;
