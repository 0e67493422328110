"""Importers: history from elsewhere becomes footfall events.

One module per source (or per step of one). Access logs (`footfall import log`):

- `logline.py`: the parsed request every log format produces, and the field
  conversions they share (times, request lines, escapes);
- `nginx.py`: an nginx `log_format` string compiled to one regular
  expression; the built-in text formats (combined, common, vhost_combined)
  are such strings;
- `jsonlog.py`: JSON lines: Caddy's access log and nginx `escape=json` logs;
- `logformat.py`: which parser a `--format` / `--log-format` names;
- `logevents.py`: what a parsed line becomes (page view, request, skipped);
- `ids.py`: the per-store import secret and what is derived from it (event
  ids, visit ids, the daily visitor salts), so a re-import is idempotent;
- `blocks.py`: a block of lines -> events through the per-event part of the
  default processors; `pool.py` runs it here or in worker processes;
- `log.py`: the import itself: blocks in order, visits, the store;
- `sources.py`: opening files, gzip and stdin, oldest file first;
- `follow.py`: tailing a live log through rotation.

Flask-Track-Usage's SQL table: `flask_track_usage.py` over `sqltable.py`.
"""

from __future__ import annotations
