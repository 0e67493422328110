"""Filters on custom properties (`event:props:<key>`) with several values.

The property's SQL expression binds the JSON key as a parameter, so it must
be built once per use: pasting one expression for every alternative left
SQLite (and PostgreSQL's positional placeholders) one binding short.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from footfall import connect
from footfall.event import Event
from footfall.stats.engine import aggregate, breakdown, timeseries
from footfall.stats.model import build_query

SITE = "props.test"
NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


@pytest.fixture
def store(db_url: str) -> Any:
    s = connect(db_url)
    routes = ["/blog/a", "/blog/b", "/docs", "/blog/a"]
    s.write(
        [
            Event(
                name="pageview",
                site=SITE,
                ts=NOW - timedelta(hours=i),
                path="/",
                visitor_id=f"v{i}",
                visit_id=f"s{i}",
                props={"route": route},
            )
            for i, route in enumerate(routes)
        ]
    )
    yield s
    s.close()


@pytest.mark.parametrize(
    ("filters", "visitors"),
    [
        ("event:props:route==/blog/a|/docs", 3),
        ("event:props:route!=/blog/a|/docs", 1),
        ("event:props:route~blog|docs", 4),
        ("event:props:route!~/a|docs", 1),
    ],
)
def test_a_custom_property_filter_with_several_values_counts_each(
    store: Any, filters: str, visitors: int
) -> None:
    q = build_query(
        SITE, period="day", date="2026-03-10", filters=filters, metrics="visitors,visits"
    )
    assert aggregate(store, q)["visitors"] == visitors
    assert sum(row["visitors"] for row in timeseries(store, q)) == visitors
    by_page = build_query(
        SITE, period="day", date="2026-03-10", filters=filters, property="event:props:route"
    )
    assert sum(row["visitors"] for row in breakdown(store, by_page)) == visitors
