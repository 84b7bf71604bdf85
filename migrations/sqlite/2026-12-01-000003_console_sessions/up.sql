-- Console sessions, by the SHA-256 of their cookie's secret (never the secret itself), with the
-- token their forms carry back and the account's token generation at sign-in.
CREATE TABLE console_sessions (
    key TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    form_token TEXT NOT NULL,
    token_generation BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP NOT NULL
);
CREATE INDEX console_sessions_used_idx ON console_sessions (used_at);
CREATE INDEX console_sessions_started_idx ON console_sessions (started_at);
