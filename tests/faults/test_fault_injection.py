"""Faults injected into real services under HTTP load: every accepted event is stored, once.

Each test runs one scenario of tests/faults/scenarios.py (a real `footfall
serve`, a client posting page views with their own ids, the fault, the
recovery) and checks its outcome: the stored ids are exactly the accepted
ones, no event is stored twice, and the stats API counts each page view,
visitor and visit once. Select them with `pytest -m faults` (or tests/faults).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.faults import scenarios
from tests.faults.check import Outcome
from tests.services import need_postgres, unavailable


def shared_postgres() -> str:
    """The shared PostgreSQL (each scenario uses a schema of its own there, never restarts it)."""
    return need_postgres()


def run(scenario: Callable[..., Outcome], *args: object) -> Outcome:
    try:
        result = scenario(*args)
    except scenarios.Unavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() skips or fails
    problems = result.problems()
    assert not problems, f"{result.fault}:\n" + "\n".join(problems) + f"\n{result.notes}"
    assert result.accepted > scenarios.WARM  # the client was told 202 before and after
    return result


def test_killed_workers_entries_are_claimed_and_stored_once(tmp_path: Path) -> None:
    result = run(scenarios.worker_killed, tmp_path, shared_postgres())
    assert result.notes["claimed"] >= 1
    # What B had committed but not acknowledged came back through C and was dropped by id.
    assert result.notes["stored_before_ack"] > 0
    assert result.notes["duplicates_dropped"] >= result.notes["stored_before_ack"]


def test_terminated_postgresql_connections_lose_nothing(tmp_path: Path) -> None:
    result = run(scenarios.postgres_terminated, tmp_path, shared_postgres())
    assert result.notes["connections_killed"] > 0


def test_postgresql_restart_during_ingestion_loses_nothing(tmp_path: Path) -> None:
    result = run(scenarios.postgres_restarted, tmp_path)
    assert result.notes["accepted_while_down"] > 0


def test_redis_restart_during_ingestion_loses_nothing(tmp_path: Path) -> None:
    result = run(scenarios.redis_restarted, tmp_path)
    assert result.notes["accepted_while_down"] > 0


def test_clickhouse_stopped_for_30s_loses_nothing(tmp_path: Path) -> None:
    result = run(scenarios.clickhouse_stopped, tmp_path)
    assert result.notes["accepted_while_down"] > 0


def test_sigterm_with_a_deep_queue_stores_every_accepted_event(tmp_path: Path) -> None:
    result = run(scenarios.serve_sigterm, tmp_path, shared_postgres())
    assert result.accepted == scenarios.SIGTERM_EVENTS  # all queued before the signal
