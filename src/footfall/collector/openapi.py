"""The collector's part of the OpenAPI document served at /api/docs.

Kept beside the routes it describes so a new field or status code is
documented where it is made. The schemas say what each route accepts and
every status it may answer; the fuzz suite (tests/fuzz/) sends requests
generated from them to a real server and checks the answers against them,
so a status or body shape missing here fails there.
"""

from __future__ import annotations

from typing import Any

from footfall.collector.config import MAX_EVENTS
from footfall.collector.routes import MAX_QUERY_FIELD
from footfall.collector.snowplow import GET_PATHS, POST_PATH
from footfall.collector.snowplow_protocol import PLATFORMS
from footfall.event import EVENT_FIELDS, MAX_NAME, MAX_URL, SOURCES

__all__ = ["COLLECTOR_SCHEMAS", "collector_paths"]

_ERROR = {"$ref": "#/components/schemas/Error"}
_TEXT = {"type": "string"}

# Fields an anonymous (browser) sender may set, with their short names.
_ANONYMOUS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
    "url": {"type": "string", "maxLength": MAX_URL, "description": "http(s) only"},
    "referrer": _TEXT,
    "site": {"type": "string", "description": "A registered site's domain"},
    "props": {
        "type": ["object", "string"],
        "description": "Custom properties, or that object as a JSON string",
    },
    "screen": {"type": ["string", "integer"], "description": "Screen width"},
    "title": _TEXT,
    "language": _TEXT,
    "timezone": _TEXT,
    "schema": {"type": "string", "description": "iglu:vendor/name/jsonschema/M-R-A"},
    "context": {"type": "object"},
}
_SHORT = {"n": "name", "u": "url", "r": "referrer", "d": "site", "domain": "site"}
_SHORT |= {"p": "props", "m": "props", "w": "screen", "screen_width": "screen"}
# Every other Event field needs an API token; these have types other than text.
_TRUSTED_TYPES: dict[str, Any] = {
    "ts": {"type": ["string", "number"], "description": "ISO 8601 or epoch seconds"},
    "source": {"type": "string", "enum": sorted(SOURCES)},
    "status": {"type": "integer", "minimum": 0, "maximum": 999},
    "bytes": {"type": "integer", "minimum": 0},
    "duration_ms": {"type": "number", "minimum": 0},
    "is_bot": {"type": "boolean"},
}


def _event_schema() -> dict[str, Any]:
    properties: dict[str, Any] = dict(_ANONYMOUS)
    properties |= {short: _ANONYMOUS[long] for short, long in _SHORT.items()}
    for name in EVENT_FIELDS:
        if name not in properties:
            properties[name] = {
                **_TRUSTED_TYPES.get(name, _TEXT),
                "description": "Only with an API token",
            }
    properties |= {"h": {}, "i": {}}  # Plausible's flags, ignored
    return {
        "type": "object",
        "description": "One event; unknown keys are refused (400)",
        "properties": properties,
        "additionalProperties": False,
    }


COLLECTOR_SCHEMAS: dict[str, Any] = {
    "Event": _event_schema(),
    "IngestResult": {
        "type": "object",
        "required": ["accepted", "rejected"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 0},
            "rejected": {"type": "integer", "minimum": 0},
            "deduplicated": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0, "description": "kept as failed events"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["index", "field", "reason"],
                    "properties": {
                        "index": {"type": "integer", "minimum": 0},
                        "field": {"type": "string"},
                        "reason": {"type": "string"},
                        "kept": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "SnowplowResult": {
        "type": "object",
        "required": ["accepted"],
        "properties": {
            "accepted": {"type": "integer", "minimum": 0},
            "failed": {"type": "integer", "minimum": 0},
            "rejected": {"type": "integer", "minimum": 0},
            "errors": {"$ref": "#/components/schemas/IngestResult/properties/errors"},
        },
    },
}


def _json(description: str, schema: dict[str, Any], **headers: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return out


_RETRY = {"Retry-After": "Seconds to wait before retrying"}
_GIF = {"description": "Stored: a 1x1 GIF", "content": {"image/gif": {}}}
# Whole-request refusals say {"error"}; a request whose every event failed
# carries the per-event report instead, with the events' common status.
_REFUSED = {"anyOf": [_ERROR, {"$ref": "#/components/schemas/IngestResult"}]}
_SP_REFUSED = {"anyOf": [_ERROR, {"$ref": "#/components/schemas/SnowplowResult"}]}


def _ingest_errors(refused: dict[str, Any], *codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed request or event (the reason names the field)",
        401: "Bad or revoked API token",
        403: "The API token is not valid for this site",
        404: "Unknown site",
        413: "Body too large",
        415: "Unsupported Content-Type or Content-Encoding",
        422: "Not acceptable: bad schema, unknown site (Snowplow), or kept as a failed event",
        429: "Rate limited",
        503: "Queue full: retry later",
    }
    out = {}
    for code in codes:
        if code in (429, 503):
            out[str(code)] = _json(reasons[code], refused, **_RETRY)
        else:
            out[str(code)] = _json(reasons[code], refused)
    return out


def _query(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", "maxLength": MAX_QUERY_FIELD},
    }


_PIXEL_PARAMS = [
    _query("site", "The site's domain (also `d`, `domain`)"),
    _query("d", "Short for `site`"),
    _query("domain", "Short for `site`"),
    _query("url", "Page URL (also `u`); default: the Referer header"),
    _query("u", "Short for `url`"),
    _query("ref", "Referrer (also `r`)"),
    _query("r", "Short for `ref`"),
    _query("name", "Event name (also `n`), default pageview"),
    _query("n", "Short for `name`"),
    _query("title", "Page title"),
    _query("w", "Screen width"),
    {"name": "Referer", "in": "header", "required": False, "schema": _TEXT},
]

# The Snowplow tracker protocol's parameters that footfall reads.
_SNOWPLOW_PARAMS: dict[str, str] = {
    "e": "Event type: pv, se, ue, pp, tr, ti",
    "p": "Platform: " + ", ".join(sorted(PLATFORMS)),
    "tv": "Tracker version",
    "aid": "The site's domain",
    "eid": "Event id (a UUID)",
    "url": "Page URL",
    "page": "Page title",
    "refr": "Referrer",
    "uid": "User id",
    "duid": "Domain user id",
    "nuid": "Network user id",
    "sid": "Session id",
    "dtm": "Device time (ms)",
    "stm": "Sent time (ms)",
    "ttm": "True time (ms)",
    "ue_pr": "Self-describing event (JSON)",
    "ue_px": "Self-describing event (base64 JSON)",
    "co": "Contexts (JSON)",
    "cx": "Contexts (base64 JSON)",
    "se_ca": "Structured event category",
    "se_ac": "Structured event action",
    "se_la": "Structured event label",
    "se_pr": "Structured event property",
    "se_va": "Structured event value",
    "lang": "Language",
    "res": "Screen resolution",
    "tz": "Time zone",
    "ua": "The end user's user agent",
    "tna": "Tracker namespace",
}
_SNOWPLOW_REQUIRED = frozenset({"e", "p", "tv"})


def _snowplow_get() -> dict[str, Any]:
    return {
        "get": {
            "summary": "One Snowplow event in the query string",
            "parameters": [
                {
                    "name": name,
                    "in": "query",
                    "required": name in _SNOWPLOW_REQUIRED,
                    "description": text,
                    "schema": _TEXT,
                }
                for name, text in _SNOWPLOW_PARAMS.items()
            ],
            "responses": {"200": _GIF, **_ingest_errors(_SP_REFUSED, 400, 422, 429, 503)},
        }
    }


def _snowplow_post() -> dict[str, Any]:
    value = {"type": ["string", "number", "boolean", "object", "array", "null"]}
    return {
        "post": {
            "summary": "A Snowplow payload_data envelope of events",
            "security": [{"bearer": []}, {}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["schema", "data"],
                            "properties": {
                                "schema": {
                                    "type": "string",
                                    "description": "iglu:com.snowplowanalytics.snowplow/"
                                    "payload_data/jsonschema/1-0-4",
                                },
                                "data": {
                                    "type": "array",
                                    "maxItems": MAX_EVENTS,
                                    "items": {
                                        "type": "object",
                                        "description": "Tracker parameters, as for GET /i",
                                        "properties": {
                                            name: {**value, "description": text}
                                            for name, text in _SNOWPLOW_PARAMS.items()
                                        },
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "Every event stored", "content": {"text/plain": {}}},
                **_ingest_errors(_SP_REFUSED, 400, 401, 403, 422, 429, 503),
            },
        }
    }


def _event_post() -> dict[str, Any]:
    event = {"$ref": "#/components/schemas/Event"}
    batch = {"type": "array", "minItems": 1, "maxItems": MAX_EVENTS, "items": event}
    body = {
        "oneOf": [
            event,
            batch,
            {
                "type": "object",
                "required": ["events"],
                "properties": {"events": batch},
                "additionalProperties": False,
            },
        ]
    }
    return {
        "post": {
            "summary": "One event, a list, or {events: [...]} (at most 1,000 and 1 MB)",
            "security": [{"bearer": []}, {}],
            "parameters": [
                {
                    "name": "Content-Encoding",
                    "in": "header",
                    "required": False,
                    "description": "gzip: the body is compressed (HttpSink sends it so)",
                    "schema": {"type": "string", "enum": ["gzip", "identity"]},
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": body},
                    "text/plain": {"schema": {"type": "string", "description": "The same JSON"}},
                },
            },
            "responses": {
                "202": _json(
                    "Accepted; refused events are listed in `errors`",
                    {"$ref": "#/components/schemas/IngestResult"},
                ),
                **_ingest_errors(_REFUSED, 400, 401, 403, 404, 413, 415, 422, 429, 503),
            },
        }
    }


def _script() -> dict[str, Any]:
    return {
        "get": {
            "summary": "The browser script",
            "parameters": [
                {"name": "If-None-Match", "in": "header", "required": False, "schema": _TEXT},
                {"name": "Accept-Encoding", "in": "header", "required": False, "schema": _TEXT},
            ],
            "responses": {
                "200": {"description": "footfall.js", "content": {"application/javascript": {}}},
                "304": {"description": "Not modified (ETag)"},
                "404": {"description": "The script is not built", "content": {"text/plain": {}}},
            },
        }
    }


def _health() -> dict[str, Any]:
    body = {
        "type": "object",
        "required": ["status", "store_writable", "queue_depth", "counters"],
        "properties": {
            "status": {"type": "string"},
            "store_writable": {"type": "boolean"},
            "queue_depth": {"type": "integer", "minimum": 0},
            "counters": {"type": "object"},
        },
    }
    return {
        "get": {
            "summary": "Liveness: store writable, delivery queue depth and counters",
            "responses": {
                "200": _json("Healthy", body),
                "503": _json("The store is not writable", body),
            },
        }
    }


def collector_paths() -> dict[str, Any]:
    """The OpenAPI path items of the collector's routes and /health."""
    paths: dict[str, Any] = {
        "/api/event": _event_post(),
        "/api/event.gif": {
            "get": {
                "summary": "Tracking pixel: one page view from the query string",
                "parameters": _PIXEL_PARAMS,
                "responses": {"200": _GIF, **_ingest_errors(_REFUSED, 400, 403, 404, 429, 503)},
            }
        },
        POST_PATH: _snowplow_post(),
        "/js/footfall.js": _script(),
        "/health": _health(),
    }
    for path in GET_PATHS:
        paths[path] = _snowplow_get()
    return paths
