"""Properties of the stats filter parser and of the queries built from it.

- Any text: `parse_filters` answers conditions within the limits or raises
  `StatsError`, nothing else (the HTTP API turns that into a 400).
- A filter written from conditions parses back to the same conditions.
- Any query `build_query` accepts runs on a real SQLite store without error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from footfall import connect
from footfall.event import Event
from footfall.stats.engine import aggregate, breakdown, timeseries
from footfall.stats.errors import StatsError
from footfall.stats.filters import (
    MAX_CONDITIONS,
    MAX_VALUE_LEN,
    MAX_VALUES,
    parse_filters,
)
from footfall.stats.funnel import funnel
from footfall.stats.model import build_query
from footfall.stats.properties import EVENT_PROPS, VISIT_PROPS

from .strategies import (
    PROPERTY_NAMES,
    filter_strings,
    funnel_steps,
    fuzz_settings,
    stats_parameters,
)

FAST = fuzz_settings(300)
KNOWN = {*EVENT_PROPS, *VISIT_PROPS}
_OP_NAMES = {"==": "is", "!=": "is_not", "~": "contains", "!~": "not_contains"}


@FAST
@given(text=st.text() | filter_strings())
@example(text="event:status==²")
@example(text="event:page==a\\|b|c;visit:country!=DE")
def test_parse_filters_raises_only_stats_error(text: str) -> None:
    try:
        conditions, goals = parse_filters(text)
    except StatsError:
        return
    assert len(conditions) <= MAX_CONDITIONS
    for c in conditions:
        assert c.prop.name in KNOWN or c.prop.name.startswith("event:props:")
        assert 1 <= len(c.values) <= MAX_VALUES
        assert all(len(v) <= MAX_VALUE_LEN and "\x00" not in v for v in c.values)
        if c.prop.numeric and c.op in ("is", "is_not"):
            assert all(v.isascii() and v.isdigit() for v in c.values), c.values
    assert all(goals) and len(set(goals)) == len(goals)


# Values the writer can express: no `;` (joins conditions), no backslash (escapes `|`).
_VALUE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=";\\\x00"), min_size=1, max_size=30
)


@st.composite
def conditions(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    name = draw(st.sampled_from(PROPERTY_NAMES))
    op = draw(st.sampled_from(list(_OP_NAMES)))
    if name == "event:status":
        values = draw(st.lists(st.integers(0, 999).map(str), min_size=1, max_size=4))
    else:
        values = draw(st.lists(_VALUE, min_size=1, max_size=4))
    return name, op, values


def _write(items: list[tuple[str, str, list[str]]]) -> str:
    escaped = ["|".join(v.replace("|", "\\|") for v in values) for _, _, values in items]
    return ";".join(f"{name}{op}{text}" for (name, op, _), text in zip(items, escaped, strict=True))


def _expected(name: str, op: str, values: list[str]) -> tuple[str, str, list[str]]:
    prop = EVENT_PROPS.get(name) or VISIT_PROPS[name]
    if op in ("==", "!="):
        values = [prop.unlabel(v) for v in values]  # "(none)" stands for the empty value
    return name, _OP_NAMES[op], values


@FAST
@given(items=st.lists(conditions(), min_size=1, max_size=MAX_CONDITIONS))
@example(items=[("event:page", "==", ["a|b", "/**"]), ("visit:source", "!=", ["Direct / None"])])
def test_written_conditions_parse_back_unchanged(items: list[tuple[str, str, list[str]]]) -> None:
    parsed, goals = parse_filters(_write(items))
    assert goals == ()
    got = [(c.prop.name, c.op, list(c.values)) for c in parsed]
    assert got == [_expected(*item) for item in items]


SITE = "filters.test"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = connect(f"sqlite:///{tmp_path_factory.mktemp('filters') / 'f.db'}")
    pages = ["/", "/blog/a", "/blog/b/c", "/docs", "/pricing"]
    s.write(
        [
            Event(
                name="pageview" if i % 4 else "signup",
                site=SITE,
                ts=NOW - timedelta(hours=3 * i),
                path=pages[i % len(pages)],
                visitor_id=f"v{i % 7}",
                visit_id=f"s{i % 11}",
                status=200 if i % 5 else 404,
                props={"route": pages[i % 3], "n": i},
                country=["DE", "FR", ""][i % 3],
            )
            for i in range(60)
        ]
    )
    yield s
    s.close()


@fuzz_settings(150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.fixed_dictionaries({}, optional=stats_parameters()))
@example(params={"filters": "event:props:route==/|/docs", "metrics": "visitors,visits"})
@example(params={"filters": "event:status==²"})
@example(params={"filters": "event:status==99999999999999999999"})
def test_every_accepted_query_runs_on_sqlite(store: Any, params: dict[str, Any]) -> None:
    # Funnels have their own test below; compare is the HTTP layer's.
    params = {k: v for k, v in params.items() if k not in ("step", "compare")}
    try:
        q = build_query(SITE, tz="Europe/Berlin", **params)
    except StatsError:
        return
    try:
        if q.prop is not None:
            rows = breakdown(store, q)
            assert len(rows) <= q.limit
        else:
            aggregate(store, q)
            timeseries(store, q)
    except StatsError:
        pass  # refused while compiling (e.g. a goal with a property it cannot combine)


@fuzz_settings(100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=funnel_steps(), period=st.sampled_from(["7d", "30d", "day"]))
def test_every_accepted_funnel_runs_on_sqlite(store: Any, steps: list[str], period: str) -> None:
    q = build_query(SITE, period=period, metrics="visitors")
    try:
        result = funnel(store, q, steps)
    except StatsError:
        return
    counts = [s["visitors"] for s in result["steps"]]
    assert counts == sorted(counts, reverse=True)  # a visitor reaches step k only via k-1
