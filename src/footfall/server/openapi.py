"""The OpenAPI 3.1 document of the whole server, served at /api/docs.

Each part is described beside the routes it documents: the stats API in
`footfall.stats.openapi`, the collector's routes and /health in
`footfall.collector.openapi`. The server serves both, so it puts them
together; neither part needs to know the other.
"""

from __future__ import annotations

from typing import Any

from footfall.collector.openapi import COLLECTOR_SCHEMAS, collector_paths
from footfall.stats.openapi import stats_paths

__all__ = ["openapi_document"]

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}


def openapi_document() -> dict[str, Any]:
    """The document, built anew on each call (it is small, and asked for rarely)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "footfall HTTP API",
            "version": "1",
            "description": "The stats API (Plausible Stats API v1 compatible; bots are"
            " excluded) and the collector's ingestion routes.",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA, **COLLECTOR_SCHEMAS},
        },
        "paths": {**stats_paths(), **collector_paths()},
    }
