-- Delivery of alert transitions: notified_version is the last version whose
-- message was sent, claimed_at when the current transition was claimed (unix
-- seconds). A row whose version is ahead of notified_version and whose claim
-- is older than the lease belongs to a process that died before sending; the
-- next check claims it again (conditional UPDATE on claimed_at) and sends it.
-- Rows from before this migration count as sent.
ALTER TABLE alert_state ADD COLUMN notified_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alert_state ADD COLUMN claimed_at INTEGER NOT NULL DEFAULT 0;
UPDATE alert_state SET notified_version = version, claimed_at = changed_at;
