"""The dashboard: server-rendered pages over the stats API, users and sessions.

`routes` and `middleware` are picked up by `footfall.server.app`; the pages
are Jinja2 shells whose numbers the browser fetches from the same
`/api/v1/stats/*` endpoints that API users call.
"""
