"""The stats API's part of the OpenAPI document served at /api/docs.

Built from the same allow-lists the API checks parameters against. The server
(`footfall.server.openapi`) puts it together with the collector's part; the
fuzz suite in tests/fuzz/ checks every answer of a real server against it.
"""

from __future__ import annotations

from typing import Any

from footfall.stats.model import INTERVALS, METRICS, PERIODS
from footfall.stats.properties import ALL_NAMES

__all__ = ["stats_paths"]


def _p(name: str, description: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_SITE = _p("site_id", "The site's domain.", True)
_PERIOD = _p("period", "Whole days in the site's time zone.", enum=list(PERIODS), default="30d")
_DATE = _p("date", "YYYY-MM-DD (the period's last day), or YYYY-MM-DD,YYYY-MM-DD for custom.")
_METRICS = _p("metrics", "Comma-separated: " + ", ".join(METRICS), default="visitors")
_FILTERS = _p(
    "filters",
    "Conditions joined by `;`: `property==value` (`|` any of), `!=`, `~` contains, `!~`;"
    " `*`/`**` wildcards in page paths; `event:goal==Name` (`A|B`: any of) narrows to"
    " conversions of the site's saved goal of that name (else an event of that name, or"
    " `Visit /path`)."
    " Properties: " + ", ".join(ALL_NAMES),
)


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERR = _error("Bad parameter (the message names it)")
_AUTH = _error("Missing or invalid token")
_FORBIDDEN = _error("The token belongs to another site")
_UNKNOWN_SITE = _error(
    "A valid token names a site that is neither registered nor has events (anonymous"
    " callers get 401 instead, so they learn no site names)"
)
_UNAVAILABLE = _error(
    "The query ran over its time budget, no query slot was free (Retry-After), or the store"
    " could not be read"
)
_VALUE = {"type": ["number", "null"]}
# total_revenue and average_revenue: an amount and its currency (null without revenue goals).
_MONEY = {
    "type": "object",
    "required": ["value", "currency"],
    "properties": {"value": {"type": "number"}, "currency": {"type": "string"}},
}
_METRIC = {"anyOf": [_VALUE, _MONEY]}
# A row of a time series or a breakdown: its label plus one number per metric.
_ROWS = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": {"anyOf": [{"type": ["string", "number", "null"]}, _MONEY]},
            },
        }
    },
}
_AGGREGATE = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["value"],
                "properties": {"value": _METRIC, "change": _VALUE},
            },
        }
    },
}
_FUNNEL = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "object",
            "required": ["steps", "entering_visitors", "converted_visitors", "conversion_rate"],
            "properties": {
                "steps": {"type": "array", "items": {"type": "object"}},
                "entering_visitors": {"type": "integer"},
                "converted_visitors": {"type": "integer"},
                "conversion_rate": _VALUE,
            },
        }
    },
}


_WITH_IMPORTED = _p(
    "with_imported",
    "true adds the data imported from Plausible or GA4; the answer then has"
    " `meta.imports_included`, and a `warning` where the query keeps them out",
    enum=["true", "false"],
    default="false",
)


def _get(
    summary: str, params: list[dict[str, Any]], example: Any, schema: dict[str, Any]
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "security": [{"bearer": []}, {}],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": schema, "example": example}},
                },
                "400": _ERR,
                "401": _AUTH,
                "403": _FORBIDDEN,
                "404": _UNKNOWN_SITE,
                "503": _UNAVAILABLE,
            },
        }
    }


def stats_paths() -> dict[str, Any]:
    """The OpenAPI path items of the stats API (errors refer to the `Error` schema)."""
    base = "/api/v1/stats"
    common = [_SITE, _PERIOD, _DATE, _METRICS, _FILTERS, _WITH_IMPORTED]
    return {
        f"{base}/aggregate": _get(
            "Metrics over the whole period",
            [*common, _p("compare", "previous_period adds `change`", enum=["previous_period"])],
            {"results": {"visitors": {"value": 3}}},
            _AGGREGATE,
        ),
        f"{base}/timeseries": _get(
            "Metrics per time bucket (every bucket present)",
            [*common, _p("interval", "Bucket size", enum=list(INTERVALS))],
            {"results": [{"date": "2026-10-01", "visitors": 3}]},
            _ROWS,
        ),
        f"{base}/breakdown": _get(
            "Metrics per value of a property",
            [
                *common,
                _p("property", "One of: " + ", ".join(ALL_NAMES), True),
                _p("limit", "Rows per page (1-1000)", default="100"),
                _p("page", "1-based page", default="1"),
            ],
            {"results": [{"page": "/", "visitors": 3}]},
            _ROWS,
        ),
        f"{base}/realtime/visitors": _get(
            "Visitors in the last 5 minutes", [_SITE], 4, {"type": "integer", "minimum": 0}
        ),
        f"{base}/realtime/pages": _get(
            "Pages of the current visits",
            [_SITE],
            {"results": [{"page": "/", "visitors": 2}]},
            _ROWS,
        ),
        f"{base}/funnel": _get(
            "Visitors through ordered steps",
            [
                _SITE,
                _PERIOD,
                _DATE,
                {
                    "name": "step",
                    "in": "query",
                    "required": True,
                    "description": "Repeat once per step: event:page==/x or event:name==X",
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "style": "form",
                    "explode": True,
                },
            ],
            {
                "results": {
                    "steps": [
                        {
                            "step": 1,
                            "label": "event:page==/",
                            "visitors": 10,
                            "conversion_rate": 100.0,
                            "conversion_rate_step": 100.0,
                            "dropoff": 0,
                            "dropoff_percentage": 0.0,
                        }
                    ],
                    "entering_visitors": 10,
                    "converted_visitors": 2,
                    "conversion_rate": 20.0,
                }
            },
            _FUNNEL,
        ),
    }
