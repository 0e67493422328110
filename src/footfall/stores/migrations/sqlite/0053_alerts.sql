-- Alert rules of a site and the state of their episodes.
-- kind: spike (current visitors above threshold), drop (the last hour's
-- pageviews below threshold % of the same hour a week before), errors (the
-- share of 5xx responses of a path above threshold %), slow (a path's p95
-- duration above threshold ms). window_seconds and min_requests bound the
-- errors and slow kinds (and min_requests the drop kind's baseline).
-- email and webhook are where messages go ('' = not there).
CREATE TABLE IF NOT EXISTS alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    threshold REAL NOT NULL,
    window_seconds INTEGER NOT NULL DEFAULT 0,
    min_requests INTEGER NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',
    webhook TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_rules_site ON alert_rules (site, id);
-- One row per rule and subject ('' for a whole-site kind, the path for errors
-- and slow): firing or not, and a version every transition increments, so a
-- conditional UPDATE lets exactly one process send each fire and recovery.
CREATE TABLE IF NOT EXISTS alert_state (
    rule_id INTEGER NOT NULL,
    subject TEXT NOT NULL,
    firing INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    value REAL NOT NULL DEFAULT 0,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, subject)
);
