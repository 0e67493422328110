"""CSV export of any panel, by asking the stats API in-process.

The export calls the same `/api/v1/stats/*` endpoint the panel's numbers
came from, through the application itself (the same middleware, the same
authorisation, the caller's own cookie), so a CSV can never show more than
the page did. Cells that a spreadsheet would read as a formula are
neutralised with a leading apostrophe (OWASP's CSV-injection advice).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from footfall.dashboard.security import harden

__all__ = ["ENDPOINTS", "call_api", "export_error", "neutralise", "to_csv"]

ENDPOINTS = ("aggregate", "timeseries", "breakdown", "funnel")
PASSED_PARAMS = (
    *("period", "date", "filters", "metrics", "property", "interval", "compare", "limit"),
    "with_imported",
)
MAX_BODY = 50 * 1024 * 1024
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_error(text: str, status: int) -> Response:
    """A refused export: plain text with the dashboard's security headers.

    The reason may echo the caller's input (a filter, a property), so it is
    sent as `text/plain` with `nosniff` and the CSP, never left untyped for a
    browser to sniff as HTML.
    """
    status = status if 400 <= status <= 599 else 502
    return harden(PlainTextResponse(text[:1000] + "\n", status_code=status))


def neutralise(value: object) -> object:
    """Keep a spreadsheet from running a cell that came from the network."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if isinstance(value, (dict, list)):
        value = orjson.dumps(value).decode()
    return neutralise(value)


def _rows(endpoint: str, results: Any) -> tuple[list[str], list[list[object]]]:
    if endpoint == "aggregate" and isinstance(results, dict):
        header = ["metric", "value", "change"]
        rows: list[list[object]] = []
        for metric, entry in results.items():
            if isinstance(entry, dict):
                rows.append([metric, entry.get("value"), entry.get("change")])
            else:
                rows.append([metric, entry, None])
        return header, rows
    if isinstance(results, dict):
        steps = results.get("steps")
        if isinstance(steps, list):
            results = steps
        else:
            return ["key", "value"], [[k, v] for k, v in results.items()]
    if not isinstance(results, list):
        return ["value"], [[results]]
    header = []
    for item in results:
        if isinstance(item, dict):
            header.extend(k for k in item if k not in header)
    return header, [[item.get(k) for k in header] for item in results if isinstance(item, dict)]


def _is_money(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"value", "currency"}


def _split_money(
    header: list[str], rows: list[list[object]]
) -> tuple[list[str], list[list[object]]]:
    """A revenue `{"value": 68.5, "currency": "EUR"}` becomes 68.5 and a `currency` column.

    So a spreadsheet sums the amounts; the goals of one query share a currency.
    """
    if not any(_is_money(v) for row in rows for v in row):
        return header, rows
    out: list[list[object]] = []
    for row in rows:
        currencies = {v["currency"] for v in row if isinstance(v, dict) and _is_money(v)}
        cells = [v["value"] if isinstance(v, dict) and _is_money(v) else v for v in row]
        out.append([*cells, currencies.pop() if len(currencies) == 1 else None])
    return [*header, "currency"], out


def to_csv(endpoint: str, body: Any) -> str:
    """The API's JSON answer as CSV text, every string cell neutralised."""
    results = body.get("results") if isinstance(body, dict) else body
    header, rows = _split_money(*_rows(endpoint, results))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


async def call_api(
    request: Request, endpoint: str, params: list[tuple[str, str]]
) -> tuple[int, Any]:
    """GET /api/v1/stats/<endpoint> through this app, as the caller; (status, JSON)."""
    path = f"/api/v1/stats/{endpoint}"
    forwarded = [
        (k, v) for k, v in request.scope.get("headers", []) if k in (b"host", b"cookie", b"origin")
    ]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": request.url.scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": urlencode(params).encode(),
        "headers": [*forwarded, (b"accept", b"application/json")],
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
        "state": {},
    }
    status = 500
    chunks: list[bytes] = []
    size = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY:
                chunks.append(chunk)

    await request.app(scope, receive, send)
    if size > MAX_BODY:
        return 413, {"error": "answer too large to export"}
    try:
        return status, orjson.loads(b"".join(chunks) or b"null")
    except orjson.JSONDecodeError:
        return status, {"error": b"".join(chunks)[:500].decode("utf-8", "replace")}
