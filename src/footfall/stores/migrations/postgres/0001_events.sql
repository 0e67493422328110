-- The raw event table (mirrors sqlite/0001_events.sql column for column).
-- ts is UTC microseconds since the epoch, as in SQLite, so the stats engine
-- binds the same parameters on every store. Text is COLLATE "C" so ORDER BY
-- and GROUP BY sort bytewise exactly like SQLite and ClickHouse do.
-- is_bot stays a 0/1 smallint for the same reason (portable `is_bot = 0`).
CREATE TABLE IF NOT EXISTS events (
    id text COLLATE "C" NOT NULL PRIMARY KEY,
    ts bigint NOT NULL,
    site text COLLATE "C" NOT NULL DEFAULT '',
    name text COLLATE "C" NOT NULL,
    source text COLLATE "C" NOT NULL DEFAULT '',
    url text COLLATE "C" NOT NULL DEFAULT '',
    host text COLLATE "C" NOT NULL DEFAULT '',
    path text COLLATE "C" NOT NULL DEFAULT '',
    title text COLLATE "C" NOT NULL DEFAULT '',
    referrer text COLLATE "C" NOT NULL DEFAULT '',
    referrer_host text COLLATE "C" NOT NULL DEFAULT '',
    referrer_source text COLLATE "C" NOT NULL DEFAULT '',
    utm_source text COLLATE "C" NOT NULL DEFAULT '',
    utm_medium text COLLATE "C" NOT NULL DEFAULT '',
    utm_campaign text COLLATE "C" NOT NULL DEFAULT '',
    utm_term text COLLATE "C" NOT NULL DEFAULT '',
    utm_content text COLLATE "C" NOT NULL DEFAULT '',
    method text COLLATE "C" NOT NULL DEFAULT '',
    status integer NOT NULL DEFAULT 0,
    duration_ms double precision NOT NULL DEFAULT 0,
    bytes bigint NOT NULL DEFAULT 0,
    visitor_id text COLLATE "C" NOT NULL DEFAULT '',
    visit_id text COLLATE "C" NOT NULL DEFAULT '',
    user_id text COLLATE "C" NOT NULL DEFAULT '',
    ip text COLLATE "C" NOT NULL DEFAULT '',
    user_agent text COLLATE "C" NOT NULL DEFAULT '',
    country text COLLATE "C" NOT NULL DEFAULT '',
    region text COLLATE "C" NOT NULL DEFAULT '',
    city text COLLATE "C" NOT NULL DEFAULT '',
    browser text COLLATE "C" NOT NULL DEFAULT '',
    browser_version text COLLATE "C" NOT NULL DEFAULT '',
    os text COLLATE "C" NOT NULL DEFAULT '',
    os_version text COLLATE "C" NOT NULL DEFAULT '',
    device text COLLATE "C" NOT NULL DEFAULT '',
    is_bot smallint NOT NULL DEFAULT 0,
    language text COLLATE "C" NOT NULL DEFAULT '',
    screen text COLLATE "C" NOT NULL DEFAULT '',
    platform text COLLATE "C" NOT NULL DEFAULT '',
    timezone text COLLATE "C" NOT NULL DEFAULT '',
    props jsonb NOT NULL DEFAULT '{}',
    context jsonb NOT NULL DEFAULT '{}',
    schema text COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_site_ts ON events (site, ts);
CREATE INDEX IF NOT EXISTS events_visitor ON events (visitor_id);
