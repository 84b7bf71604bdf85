DROP INDEX tickets_caller_phone_unindexed_idx;
DROP INDEX tickets_caller_phone_key_idx;
ALTER TABLE tickets DROP COLUMN caller_phone_key;
