DROP TABLE notifications;
DROP TABLE sla_policies;
DROP INDEX assignments_status_idx;
DROP TABLE ladder_rungs;
ALTER TABLE urges DROP COLUMN timer;
ALTER TABLE urges DROP COLUMN rung;
ALTER TABLE tickets DROP COLUMN pause_reason;
ALTER TABLE tickets DROP COLUMN paused_at;
