-- The office reads the audit log by person and by kind of action, newest first.
CREATE INDEX audit_log_user_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
