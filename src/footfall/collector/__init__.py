"""The collector: HTTP ingestion of browser, server-side and Snowplow events.

`routes.py` has the endpoints; `ingest.py` the one path every endpoint uses
(site and token checks, limits, validation, enqueue); `schemas.py` the JSON
Schema registry; `failed.py` the failed-events queue and retry.
"""
