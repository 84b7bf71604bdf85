-- The event feed serves events in the order their transactions committed. Ids come from a
-- sequence in the order transactions asked for them, which is not the order they commit in: a
-- transaction that took id 10 and commits after the one that took id 11 would be skipped by a
-- follower that read 11 in between. Each event is stamped with its transaction, and the feed
-- serves only transactions older than the oldest one still running, in (transaction, id) order.
-- Events written before the feed existed are all committed; they come first, in id order.
ALTER TABLE ticket_events ADD COLUMN transaction_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_events ALTER COLUMN transaction_id
    SET DEFAULT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT);
CREATE INDEX ticket_events_feed_idx ON ticket_events (transaction_id, id);
