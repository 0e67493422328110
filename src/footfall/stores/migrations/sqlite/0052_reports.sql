-- Email reports: who gets a site's weekly or monthly report, and which were sent.
-- token is the secret of the recipient's unsubscribe link.
CREATE TABLE IF NOT EXISTS report_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    email TEXT NOT NULL,
    period TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (site, email, period)
);
-- One row per report a recipient is due: the primary key is the guard that
-- lets several processes send each report once (the one whose INSERT wins
-- sends). status: sending, sent or failed; a failed row (or a sending row
-- whose process died) is claimed again once next_try has passed.
CREATE TABLE IF NOT EXISTS report_sends (
    site TEXT NOT NULL,
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    email TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    next_try INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (site, period, period_start, email)
);
