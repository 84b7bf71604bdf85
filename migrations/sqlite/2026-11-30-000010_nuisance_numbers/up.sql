-- Numbers the hotline office marked as nuisance callers (恶意骚扰), found by the keyed hash of
-- the normalised number as callers' tickets are; the number itself is kept masked only.
CREATE TABLE nuisance_numbers (
    id TEXT PRIMARY KEY NOT NULL,
    phone_key TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    marked_by TEXT NOT NULL REFERENCES users (id),
    marked_at TIMESTAMP NOT NULL,
    lifted_by TEXT REFERENCES users (id),
    lifted_at TIMESTAMP,
    lift_reason TEXT
);
CREATE INDEX nuisance_numbers_key_idx ON nuisance_numbers (phone_key, expires_at) WHERE lifted_at IS NULL;
CREATE INDEX nuisance_numbers_marked_idx ON nuisance_numbers (marked_at, id);
-- A ticket registered from a marked number records the mark. (No REFERENCES here: SQLite
-- cannot drop a column that holds a foreign key, and the service writes only marks it read.)
ALTER TABLE tickets ADD COLUMN nuisance_number_id TEXT;
