-- Dashboard users, their login sessions and the one-time first-user link.
-- Only hashes are stored: argon2 for passwords, SHA-256 for session and
-- setup tokens (a stolen database file cannot be replayed as a cookie).
CREATE TABLE IF NOT EXISTS dashboard_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboard_sessions_user ON dashboard_sessions (username);
CREATE TABLE IF NOT EXISTS dashboard_setup_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
