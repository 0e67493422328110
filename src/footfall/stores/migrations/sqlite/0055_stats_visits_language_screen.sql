-- The visit's language and screen size (its first event's `language` and
-- `screen`) become dimensions of the stats summaries, for the dashboard's
-- Language and Screen size panels. Visits folded before this read as empty
-- until `footfall stats rebuild` folds them again.
ALTER TABLE stats_visits ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE stats_visits ADD COLUMN screen TEXT NOT NULL DEFAULT '';
