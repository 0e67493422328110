-- State the processors share between processes (gunicorn workers, collector
-- workers): the daily salts of cookieless visitor ids and the last-seen time
-- of each visitor's current visit. No raw IP or user agent is ever stored.
-- day is a UTC date (YYYY-MM-DD); salt is 32 random bytes as hex.
CREATE TABLE IF NOT EXISTS visitor_salts (
    day text PRIMARY KEY,
    salt text NOT NULL,
    created_at bigint NOT NULL
);
-- started and last_seen are UTC microseconds since the epoch, like events.ts.
CREATE TABLE IF NOT EXISTS visit_state (
    site text NOT NULL,
    visitor_id text NOT NULL,
    visit_id text NOT NULL,
    started bigint NOT NULL,
    last_seen bigint NOT NULL,
    PRIMARY KEY (site, visitor_id)
);
CREATE INDEX IF NOT EXISTS visit_state_last_seen ON visit_state (last_seen);
