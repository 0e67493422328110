"""Page-path wildcards: `*` within a segment, `**` across, matched without backtracking.

The linear matcher and the SQL each dialect is given are checked against a
plain regular expression of the documented rule, for every pattern and path
over a small alphabet; the HTTP API refuses values with too many wildcards.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from footfall.server.state import ServerState
from footfall.stats import api
from footfall.stats.dialect import Params, SQLiteDialect
from footfall.stats.errors import StatsError
from footfall.stats.filters import parse_filters
from footfall.stats.wildcard import MAX_WILDCARDS, parse_wildcard

from .conftest import TOKENS
from .dataset import UTC_SITE

AUTH = {"Authorization": f"Bearer {TOKENS[UTC_SITE]}"}


def reference(pattern: str) -> re.Pattern[str]:
    """The documented rule as a (backtracking) regular expression: fine for short paths."""
    out = []
    for i, part in enumerate(pattern.split("**")):
        if i:
            out.append(".*")
        out.append("[^/]*".join(re.escape(p) for p in part.split("*")))
    return re.compile("^" + "".join(out) + r"\Z", re.DOTALL)


def words(alphabet: str, longest: int) -> Iterator[str]:
    for n in range(longest + 1):
        for letters in itertools.product(alphabet, repeat=n):
            yield "".join(letters)


def token_patterns(longest: int) -> Iterator[str]:
    """Patterns of up to `longest` tokens `a`, `/`, `*`, `**` (no two wildcards side by
    side, which would merge): several `**` with `*` between them need this many."""
    tokens = ("a", "/", "*", "**")
    for n in range(1, longest + 1):
        for seq in itertools.product(tokens, repeat=n):
            if "*" in seq[0] + "".join(seq) and not any(
                "*" in x and "*" in y for x, y in itertools.pairwise(seq)
            ):
                yield "".join(seq)


PATHS = list(words("ab/", 5))
PATTERNS = sorted({p for p in words("ab/*", 5) if "*" in p} | set(token_patterns(5)))


def test_matcher_agrees_with_the_rule_on_every_short_pattern_and_path() -> None:
    wrong = []
    for pattern in PATTERNS:
        w, rule = parse_wildcard(pattern), reference(pattern)
        wrong += [(pattern, p) for p in PATHS if w.matches(p) != bool(rule.match(p))]
    assert wrong == []


def test_sqlite_sql_agrees_with_the_rule_on_every_short_pattern_and_path() -> None:
    """GLOB (plus the `/` count, plus the exact check for mixed stars), as compiled."""
    conn = sqlite3.connect(":memory:")
    d = SQLiteDialect()
    d.prepare(conn)
    conn.execute("CREATE TABLE t (path TEXT NOT NULL)")
    conn.executemany("INSERT INTO t VALUES (?)", [(p,) for p in PATHS])
    wrong = []
    for pattern in PATTERNS:
        p = Params(d)
        sql = f"SELECT path FROM t WHERE {d.wildcard('path', parse_wildcard(pattern), p)}"
        got = {row[0] for row in conn.execute(sql, p.values)}
        rule = reference(pattern)
        if got != {x for x in PATHS if rule.match(x)}:
            wrong.append(pattern)
    assert wrong == []


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/blog/*", "/blog/a", True),
        ("/blog/*", "/blog/a/b", False),
        ("/blog/**", "/blog/a/b", True),
        ("/*/docs/**", "/de/docs/install", True),
        ("/*/docs/**", "/a/b/docs/install", False),
        ("/**/*.html", "/a/b/c.html", True),
        ("/**/*.html", "/a/b.html/c", False),
        ("/[x]?/*", "/[x]?/y", True),  # GLOB's own metacharacters are literal
        ("/[x]?/*", "/x/y", False),
        ("/100%_*", "/100%_off", True),  # LIKE's too
        ("/100%_*", "/100xyoff", False),
        ("/**a**a**a**a**a**b", "/" + "a" * 199, False),
    ],
)
def test_examples(pattern: str, path: str, expected: bool) -> None:
    assert parse_wildcard(pattern).matches(path) is expected
    if len(path) < 40:  # the backtracking rule takes minutes on the long one
        assert bool(reference(pattern).match(path)) is expected


def test_runs_of_stars_count_as_one_wildcard() -> None:
    w = parse_wildcard("/a/***/b*")
    assert w.wildcards == ("**", "*")
    assert parse_wildcard("/" + "*/" * MAX_WILDCARDS).wildcards == ("*",) * MAX_WILDCARDS


@pytest.mark.parametrize(
    "filters",
    [
        "event:page==/" + "*a" * (MAX_WILDCARDS + 1),
        "visit:entry_page==/x|/" + "**a" * (MAX_WILDCARDS + 1),
        "visit:exit_page!=/" + "*/" * (MAX_WILDCARDS + 1),
        "event:goal==Visit /" + "*a" * (MAX_WILDCARDS + 1),
    ],
)
def test_too_many_wildcards_are_refused(filters: str) -> None:
    with pytest.raises(StatsError) as info:
        parse_filters(filters)
    assert info.value.param == "filters"
    assert f"at most {MAX_WILDCARDS} wildcards" in info.value.message


def test_stars_are_plain_characters_elsewhere() -> None:
    """Only page paths take wildcards: a value of another property may hold any stars."""
    conditions, _ = parse_filters("visit:utm_campaign==" + "*" * 50)
    assert conditions[0].values == ("*" * 50,)


@pytest.fixture(scope="module")
def client(store: Any) -> Iterator[TestClient]:
    state = ServerState(store=store, tracker=None, db_url=store.url)  # type: ignore[arg-type]
    with TestClient(Starlette(routes=api.routes(state))) as c:
        yield c


def test_api_answers_400_for_too_many_wildcards(client: TestClient) -> None:
    too_many = "/" + "**a" * (MAX_WILDCARDS + 1)
    r = client.get(
        "/api/v1/stats/aggregate",
        headers=AUTH,
        params={"site_id": UTC_SITE, "filters": f"event:page=={too_many}"},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("filters: at most")
    r = client.get(
        "/api/v1/stats/funnel",
        headers=AUTH,
        params={"site_id": UTC_SITE, "step": ["event:page==/", f"event:page=={too_many}"]},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("step: at most")


def test_api_answers_the_pathological_pattern(client: TestClient) -> None:
    """Six wildcards are allowed; on the data set nothing ends in `b` after an `a`."""
    r = client.get(
        "/api/v1/stats/aggregate",
        headers=AUTH,
        params={"site_id": UTC_SITE, "filters": "event:page==/**a**a**a**a**a**b"},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"results": {"visitors": {"value": 0}}}
