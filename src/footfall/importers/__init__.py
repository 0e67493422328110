"""Importers: history from elsewhere becomes footfall events.

One module per source. Access logs (`footfall import log`):

- `logline.py`: the parsed request every log format produces, and the field
  conversions they share (times, request lines, escapes);
- `nginx.py`: an nginx `log_format` string compiled to one regular
  expression; the built-in text formats (combined, common, vhost_combined)
  are such strings;
- `jsonlog.py`: JSON lines: Caddy's access log and nginx `escape=json` logs;
- `logformat.py`: which parser a `--format` / `--log-format` names;
- `ids.py`: the per-store import secret and what is derived from it (event
  ids, visit ids, the daily visitor salts), so a re-import is idempotent;
- `log.py`: parsed requests -> events -> the default processors -> the store,
  in large batches, with the counts the command reports;
- `sources.py`: opening files, gzip and stdin, oldest file first;
- `follow.py`: tailing a live log through rotation.
"""

from __future__ import annotations
