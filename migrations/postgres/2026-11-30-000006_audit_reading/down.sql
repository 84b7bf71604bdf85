DROP INDEX audit_log_action_idx;
DROP INDEX audit_log_user_idx;
