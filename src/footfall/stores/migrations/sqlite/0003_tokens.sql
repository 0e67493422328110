-- API tokens: only a sha256 of the secret is kept; site '' means every site.
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    site TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
