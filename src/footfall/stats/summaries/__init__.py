"""Stats summaries: pre-aggregated rows the stats engine answers from when it can.

Writes insert raw events only; the summaries trail them and are brought up to
date before every read, so answers never miss a stored event. Where the engine
cannot answer from them exactly, it reads raw events (`footfall.stats.sql`).

SQLite and PostgreSQL (summary tables folded by a catch-up):

- `catchup.py`    the watermark catch-up: fold what was stored since (`catch_up`,
  `ensure_current` before every read, `lag`)
- `fold.py`       fold event rows into `stats_rollup` and `stats_sketches` (`apply_rows`)
- `visits.py`     fold events into whole visits (`stats_visits`) and their rollup rows
- `dimensions.py` what a summary row is keyed by: event columns, dimensions, local buckets
- `sketches.py`   unique-visitor HLL sketches: merge on fold, union on read
- `site_status.py` `stats_sites`: each site's time zone and whether its summaries are complete
- `read.py`       answer a query from the summaries, or say why not (`summary_parts`, `why_not`)
- `goals.py`      `stats_goal_rows`: what saved goals are counted from, folded and read
- `qmark.py`      the summaries' `?` SQL run on PostgreSQL

ClickHouse (materialized views, `footfall.stores.ch_views`, plus a compaction):

- `clickhouse_sql.py`     the SQL that reads and compacts the views' tables
- `clickhouse_compact.py` recompute visit counters and breakdowns once inserts settle
- `clickhouse_read.py`    totals, series and breakdowns from the views' tables

Both:

- `deletes.py`  what a delete does to the summaries (the stores' delete hooks)
- `rebuild.py`  recompute a site from its raw events (`footfall stats rebuild`)
- `thread.py`   the background thread `footfall serve` runs the catch-up on

The stores do not import this package (it sits above them): their deletes
reach `deletes.py` through `footfall.stores.hooks`, registered by
`footfall.wiring`.
"""
