-- Dashboard users, their login sessions and the one-time first-user link.
-- Only hashes are stored: argon2 for passwords, SHA-256 for session and
-- setup tokens (a stolen database file cannot be replayed as a cookie).
CREATE TABLE IF NOT EXISTS dashboard_users (
    name text PRIMARY KEY,
    password_hash text NOT NULL,
    created_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    token_hash text PRIMARY KEY,
    username text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboard_sessions_user ON dashboard_sessions (username);
CREATE TABLE IF NOT EXISTS dashboard_setup_tokens (
    token_hash text PRIMARY KEY,
    expires_at bigint NOT NULL
);
