-- The event feed serves events in the order their transactions committed. SQLite commits one
-- writer at a time, so ids already follow that order: the column stays 0 and the schema stays
-- the same as PostgreSQL's, where it holds the writing transaction.
ALTER TABLE ticket_events ADD COLUMN transaction_id BIGINT NOT NULL DEFAULT 0;
