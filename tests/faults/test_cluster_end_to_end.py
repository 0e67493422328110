"""docs/clickhouse-cluster.md's layout, run by its own commands, with a worker killed.

Two collectors (`serve --redis`), two workers, a two-shard ClickHouse cluster
for events and PostgreSQL for sites, tokens and visitor state
(tests/faults/cluster.py). One worker is killed with SIGKILL holding
unacknowledged entries: every accepted event is stored once, both shards
hold part of them, and the stats read from the cluster equal SQLite's over
the same events.
"""

from __future__ import annotations

from pathlib import Path

from tests.faults import cluster, scenarios
from tests.services import need_postgres, unavailable


def test_a_worker_killed_on_a_cluster_loses_and_doubles_nothing(tmp_path: Path) -> None:
    try:
        result, extra = cluster.cluster_worker_killed(tmp_path, need_postgres())
    except scenarios.Unavailable as exc:
        unavailable(str(exc))
        raise  # unreachable: unavailable() skips or fails
    problems = result.problems()
    assert not problems, f"{result.fault}:\n" + "\n".join(problems) + f"\n{result.notes}"
    assert result.accepted > scenarios.WARM
    assert result.notes["held_by_killed"] > 0
    # Entries the killed worker still held are claimed by the other one.
    assert result.notes["claimed"] >= (1 if result.notes["held_at_death"] else 0)
    assert len(extra["shards"]) == 2 and all(n > 0 for n in extra["shards"])
    assert sum(extra["shards"]) == result.stored
    assert extra["differences"] == []


def test_the_deployment_guide_shows_the_commands_the_cluster_test_runs() -> None:
    """docs/deployment.md repeats the cluster page's "Run it" block word for word."""
    guide = (cluster.DOC.parent / "deployment.md").read_text()
    block = cluster._BLOCK.search(cluster.DOC.read_text())
    assert block is not None
    assert f"```sh\n{block.group(1)}```" in guide
    assert [c[0] for c in cluster.doc_commands()] == [
        "migrate", "sites", "token", "serve", "serve", "worker", "worker",
    ]  # fmt: skip
