-- A caller's earlier tickets are found by a keyed hash of the normalised number (the key is
-- in the service's settings, not here), never by an index of the numbers themselves.
ALTER TABLE tickets ADD COLUMN caller_phone_key TEXT;
CREATE INDEX tickets_caller_phone_key_idx ON tickets (caller_phone_key, created_at) WHERE caller_phone_key IS NOT NULL;
-- The tickets whose number is not indexed yet (written before this, or imported): the
-- background pass that indexes them reads these alone.
CREATE INDEX tickets_caller_phone_unindexed_idx ON tickets (id) WHERE caller_phone_key IS NULL AND caller_phone IS NOT NULL;
