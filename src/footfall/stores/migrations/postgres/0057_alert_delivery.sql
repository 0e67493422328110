-- Delivery of alert transitions (mirrors sqlite/0057_alert_delivery.sql):
-- notified_version is the last version whose message was sent, claimed_at
-- when the current transition was claimed; rows from before count as sent.
ALTER TABLE alert_state ADD COLUMN IF NOT EXISTS notified_version bigint NOT NULL DEFAULT 0;
ALTER TABLE alert_state ADD COLUMN IF NOT EXISTS claimed_at bigint NOT NULL DEFAULT 0;
UPDATE alert_state SET notified_version = version, claimed_at = changed_at;
