"""Schemathesis against a real server: every documented route, no 5xx, no hang.

Cases are generated from the OpenAPI document the server itself serves at
/api/docs (stats API, collector routes, /health), positive and negative, and
sent over HTTP to `footfall serve`'s app on a seeded SQLite store. Each
answer must be documented (status, content type, body schema, headers), no
answer may be a 5xx, and none may take longer than HANG_SECONDS. The run is
done twice: anonymously (a public and a private site) and with API tokens
(one for every site, one for the private site, one unknown). Every failing
case is collected with a curl command to reproduce it, so one run shows them
all; the number of cases sent is asserted so a fuzzer that silently ran
nothing fails.

`FOOTFALL_FUZZ_SEED` picks the generator's seed (a fixed one by default, so
CI is repeatable; set another to explore).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .server import PRIVATE_SITE, PUBLIC_SITE, FuzzServer, start_server
from .strategies import event_body, pixel_query, snowplow_body, snowplow_event, stats_query

HANG_SECONDS = 5.0
SEED = int(os.environ.get("FOOTFALL_FUZZ_SEED", "20260"))
MIN_CASES_PER_RUN = 1_000  # two runs: at least 2,000 cases in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Cases per operation and per generation mode (positive, negative): where the
# parsers are (filters, event bodies, Snowplow parameters) gets the most.
EXAMPLES = {
    "GET /api/v1/stats/aggregate": 50,
    "GET /api/v1/stats/timeseries": 45,
    "GET /api/v1/stats/breakdown": 60,
    "GET /api/v1/stats/realtime/visitors": 12,
    "GET /api/v1/stats/realtime/pages": 12,
    "GET /api/v1/stats/funnel": 50,
    "POST /api/event": 90,
    "GET /api/event.gif": 45,
    "POST /com.snowplowanalytics.snowplow/tp2": 80,
    "GET /i": 60,
    "GET /ice.png": 12,
    "GET /js/footfall.js": 10,
    "GET /health": 5,
}
BAD_TOKEN = "ff_" + "0" * 43
UVICORN_REFUSAL = b"Invalid HTTP request received."


@dataclass
class Tally:
    """What one run sent and what went wrong (first case of each kind)."""

    cases: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    seconds: Counter[str] = field(default_factory=Counter)  # time spent per operation
    failures: dict[tuple[str, str], str] = field(default_factory=dict)

    def fail(self, label: str, kind: str, detail: str) -> None:
        self.failures.setdefault((label, kind), detail)

    def report(self) -> str:
        return "\n\n".join(
            f"{label}: {kind}\n{detail[:2000]}" for (label, kind), detail in self.failures.items()
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    found = start_server(tmp_path_factory.mktemp("fuzz"))
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def schema(server: FuzzServer) -> Any:
    # The document as served, so what is fuzzed is what users read.
    return schemathesis.openapi.from_url(f"{server.url}/api/docs")


def _site_key(path: str) -> str | None:
    if path.startswith("/api/v1/stats/"):
        return "site_id"
    return {"/api/event.gif": "site", "/i": "aid", "/ice.png": "aid"}.get(path)


def _aim_body(body: Any, key: str, site: str) -> None:
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, dict):
            for short in ("d", "domain"):
                item.pop(short, None)
            item[key] = site


def _aim(case: Any, site: str | None) -> None:
    """Point a generated case at a seeded site (the rest of it stays as generated)."""
    if site is None:
        return
    path = case.operation.path
    key = _site_key(path)
    if key is not None and isinstance(case.query, dict):
        for short in ("d", "domain"):
            case.query.pop(short, None)
        case.query[key] = site
    body = case.body
    if path == "/api/event" and isinstance(body, dict | list):
        events = body.get("events") if isinstance(body, dict) else None
        _aim_body(events if isinstance(events, list) else body, "site", site)
    elif path.endswith("/tp2") and isinstance(body, dict) and isinstance(body.get("data"), list):
        _aim_body(body["data"], "aid", site)


def _grammar(operation: Any, trusted: bool) -> st.SearchStrategy[dict[str, Any] | None]:
    """None (keep the generated case), or a whole input redrawn from footfall's grammar.

    Random text rarely passes a parser's first check, so most cases are
    grammatical: they reach the queries, the event builder and the store.
    """
    path = operation.path
    if path.startswith("/api/v1/stats/"):
        grammar = stats_query({p.name for p in operation.query}).map(lambda q: {"query": q})
    elif path in ("/i", "/ice.png"):
        grammar = snowplow_event().map(lambda q: {"query": q})
    elif path == "/api/event.gif":
        grammar = pixel_query().map(lambda q: {"query": q})
    elif path.endswith("/tp2"):
        grammar = snowplow_body().map(lambda b: {"body": b})
    elif path == "/api/event":
        grammar = event_body(trusted).map(lambda b: {"body": b})
    else:
        return st.none()
    return grammar | st.none()  # hypothesis leans to the first branch


def _apply(case: Any, grammar: dict[str, Any] | None) -> None:
    if grammar is None:
        return
    if "query" in grammar:
        case.query = grammar["query"]
    else:
        case.body = grammar["body"]
        case.media_type = "application/json"


def _send(case: Any, server: FuzzServer, tally: Tally) -> None:
    label = case.operation.label
    tally.cases += 1
    tally.by_operation[label] = tally.by_operation.get(label, 0) + 1
    try:
        response = case.call(base_url=server.url, timeout=HANG_SECONDS)
    except requests.Timeout:
        tally.fail(label, f"no answer within {HANG_SECONDS} s", case.as_curl_command())
        return
    except requests.ConnectionError as exc:
        tally.fail(label, "connection failed", f"{exc}\n{case.as_curl_command()}")
        return
    tally.statuses.setdefault(label, Counter())[response.status_code] += 1
    if response.status_code == 400 and response.content == UVICORN_REFUSAL:
        return  # refused by the HTTP server (e.g. a request line over its limit): no app answer
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        kinds = ", ".join(sorted({failure.title for failure in group.exceptions}))
        tally.fail(label, kinds, str(group))


def _fuzz(schema: Any, server: FuzzServer, auth: list[str | None]) -> Tally:
    tally = Tally()
    # Mostly the seeded sites; None keeps the generated value (an unknown site).
    sites = st.sampled_from([PUBLIC_SITE, PRIVATE_SITE, PUBLIC_SITE.upper(), None])
    tokens = st.sampled_from(auth)  # the valid ones first: hypothesis leans to them
    for result in schema.get_all_operations():
        operation = result.ok()
        examples = EXAMPLES[operation.label]  # a new route must be given a budget here
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @seed(SEED)
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(
                case=operation.as_strategy(generation_mode=mode),
                grammar=_grammar(operation, trusted=auth != [None]),
                site=sites,
                token=tokens,
            )
            def run(
                case: Any, grammar: dict[str, Any] | None, site: str | None, token: str | None
            ) -> None:
                _apply(case, grammar)
                _aim(case, site)
                if token is not None:
                    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
                _send(case, server, tally)

            started = time.monotonic()
            try:
                run()
            except Unsatisfiable:
                # No parameters to break (e.g. /health): nothing negative to send.
                assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
            tally.seconds[operation.label] += time.monotonic() - started
    return tally


def _check(tally: Tally, server: FuzzServer, log_start: int) -> None:
    if os.environ.get("FOOTFALL_FUZZ_SHOW"):
        for label, counts in sorted(tally.statuses.items()):
            print(f"{label} {tally.seconds[label]:.1f}s", dict(sorted(counts.items())))
    assert not tally.failures, f"{len(tally.failures)} kinds of failure:\n\n{tally.report()}"
    assert tally.cases >= MIN_CASES_PER_RUN, tally.by_operation
    assert set(tally.by_operation) == set(EXAMPLES), tally.by_operation
    # Every route answered some cases with success: the fuzzer got past the
    # first checks into the queries, the event builder and the store.
    reached = {label for label, c in tally.statuses.items() if any(200 <= s < 300 for s in c)}
    assert reached == set(EXAMPLES), {label: tally.statuses[label] for label in EXAMPLES}
    # What was accepted is written after the answer: a failure there shows
    # only in the server's counters and log.
    counters = _drained(server)
    assert counters["failed"] == 0 and counters["dropped"] == 0, counters
    assert server.process.poll() is None, server.log()[-3000:]
    log = server.log()[log_start:]
    assert "Traceback" not in log and "footfall: sink" not in log, log[-5000:]


def _drained(server: FuzzServer, timeout: float = 30.0) -> dict[str, int]:
    """The delivery counters once the server's queue is empty (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        body = requests.get(f"{server.url}/health", timeout=HANG_SECONDS).json()
        if body["queue_depth"] == 0 or time.monotonic() > deadline:
            counters: dict[str, int] = body["counters"]
            return counters
        time.sleep(0.1)


def test_anonymous_requests_get_no_5xx_and_no_hang(schema: Any, server: FuzzServer) -> None:
    start = len(server.log())
    tally = _fuzz(schema, server, [None])
    _check(tally, server, start)


def test_token_requests_get_no_5xx_and_no_hang(schema: Any, server: FuzzServer) -> None:
    start = len(server.log())
    tally = _fuzz(schema, server, [server.token, server.site_token, BAD_TOKEN])
    _check(tally, server, start)


def test_served_document_covers_every_public_route(schema: Any) -> None:
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == set(EXAMPLES)


_PV = "e=pv&p=web&tv=js-3&aid=" + PUBLIC_SITE
_STATS = "/api/v1/stats/{}?site_id=" + PUBLIC_SITE + "&period=7d&filters="
EDGE_INPUTS = [
    ("GET", _STATS.format("timeseries") + "event:props:route~blog|docs", None, 200),
    (
        "GET",
        _STATS.format("breakdown") + "event:props:route==/|/docs&property=event:page",
        None,
        200,
    ),
    ("GET", _STATS.format("aggregate") + "event:status==%C2%B2", None, 400),
    ("GET", _STATS.format("aggregate") + "event:status==99999999999999999999", None, 400),
    ("GET", "/i?" + _PV + "&ttm=999999999999999", None, 200),
    ("GET", "/i?" + _PV + "&dtm=1&stm=999999999999999", None, 200),
    ("GET", "/i?" + _PV + "&ttm=%C2%B2", None, 400),
    (
        "POST",
        "/com.snowplowanalytics.snowplow/tp2",
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
            "data": [{"e": "pv", "p": "web", "tv": "js-3", "aid": PUBLIC_SITE, "dtm": "9" * 15}],
        },
        200,
    ),
    ("POST", "/api/event", {"site": PUBLIC_SITE, "ts": "9999-12-31T23:59:59-23:59"}, 400),
    ("POST", "/api/event", {"site": PUBLIC_SITE, "source": []}, 400),
]


@pytest.mark.parametrize(("method", "target", "body", "status"), EDGE_INPUTS)
def test_edge_inputs_are_answered_without_a_server_error(
    server: FuzzServer, method: str, target: str, body: Any, status: int
) -> None:
    headers = {"Authorization": f"Bearer {server.token}"} if body else {}
    response = requests.request(
        method, server.url + target, json=body, headers=headers, timeout=HANG_SECONDS
    )
    assert response.status_code == status, response.text[:500]
