"""The layout of docs/clickhouse-cluster.md, run as its commands say, with a worker killed.

Two `footfall serve --redis` collectors and two `footfall worker`s, events in
the two-shard ClickHouse cluster of tests/clickhouse_cluster.py
(`?cluster=`), sites, tokens and visitor state in PostgreSQL (`--meta`, a
schema of its own on the shared server). A client posts to each collector;
one worker is killed with SIGKILL while it holds unacknowledged entries, and
the other claims them.

The commands are read from docs/clickhouse-cluster.md's "Run it" block and
run as written, in its order, with the variables and `--port` values filled
in. The fault adds only its own knobs to the workers (`FAULT_FLAGS`).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import signal
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.faults.check import Outcome, outcome, stats_over_http, stored_ids
from tests.faults.load import Loader
from tests.faults.private import Unavailable, free_port, redis
from tests.faults.procs import Footfall, _healthy, pending_events, stop, wait_for
from tests.faults.scenarios import DRAIN, QUICK_CLAIM, RATE, SITE, STREAM, WARM

from footfall.delivery.redis_sink import redis_client

__all__ = ["FAULT_FLAGS", "cluster_worker_killed", "doc_commands"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "clickhouse-cluster.md"
# Small batches so a worker always holds entries; A never claims, B claims quickly.
FAULT_FLAGS = {
    "worker-a": ["--batch", "2", "--claim-idle-ms", "600000"],
    "worker-b": ["--batch", "2", *QUICK_CLAIM],
}
_BLOCK = re.compile(r"<!-- run-it -->\s*```sh\n(.*?)```", re.DOTALL)


def doc_commands() -> list[list[str]]:
    """The `footfall ...` commands of the docs' "Run it" block, as argument lists."""
    match = _BLOCK.search(DOC.read_text())
    if match is None:
        raise AssertionError(f"{DOC} has no <!-- run-it --> sh block")
    out = []
    for line in match.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "footfall":
            out.append([w for w in words[1:] if w != "&"])
    return out


def _fill(args: list[str], values: dict[str, str]) -> list[str]:
    out = [values.get(a.removeprefix("$"), a) if a.startswith("$") else a for a in args]
    if "--port" in out:
        out[out.index("--port") + 1] = str(free_port())
    return out


def _run(args: list[str], log: Path) -> str:
    """Run one `footfall ...` command to its end; its output (a failure raises)."""
    proc = Footfall(args, log)
    status = proc.wait()
    if status != 0:
        raise AssertionError(f"footfall {' '.join(args[:2])} failed:\n{proc.output()[-2_000:]}")
    return proc.output()


def _cluster_database(stack: contextlib.ExitStack) -> str:
    """A `?cluster=` URL in a fresh database, dropped on every shard when `stack` closes."""
    from tests.clickhouse_cluster import cluster_url, why_unavailable

    from footfall.stores import ch_cluster
    from footfall.stores.clickhouse import split_url

    base = cluster_url()
    if base is None:
        raise Unavailable(why_unavailable())
    url = urlsplit(base)._replace(path=f"/ff_e2e_{uuid.uuid4().hex[:10]}").geturl()
    driver_url, database, _ = split_url(url)

    def drop() -> None:
        from clickhouse_driver import Client

        client = Client.from_url(urlsplit(driver_url)._replace(path="/default").geturl())
        try:
            for host in ch_cluster.hosts(client, urlsplit(url).query.split("=", 1)[1]):
                with ch_cluster.on_host(driver_url, host) as shard:
                    shard.execute(f"DROP DATABASE IF EXISTS {database}")
        finally:
            client.disconnect()

    stack.callback(drop)
    return url


class _Both:
    """Two loaders scored as one client (what `outcome` reads)."""

    def __init__(self, *loaders: Loader) -> None:
        self.accepted = set().union(*(x.accepted for x in loaders))
        self.uncertain = set().union(*(x.uncertain for x in loaders))
        self.visitor_of = {k: v for x in loaders for k, v in x.visitor_of.items()}
        self.refused = sum(x.refused for x in loaders)
        self.errors = [e for x in loaders for e in x.errors]


def cluster_worker_killed(workdir: Path, shared_pg: str) -> tuple[Outcome, dict[str, Any]]:
    """The outcome, and what the checks beyond it need: the URLs and the shards' row counts."""
    from tests.faults.scenarios import _schema

    with contextlib.ExitStack() as stack:
        ch = _cluster_database(stack)
        meta = _schema(stack, shared_pg)
        broker = stack.enter_context(redis(workdir / "redis"))
        values = {"EVENTS": ch, "META": meta, "REDIS": broker.url}
        token, urls, workers = "", [], {}
        for n, command in enumerate(doc_commands()):
            args = _fill(command, values)
            log = workdir / f"{n:02d}-{args[0]}.log"
            if args[0] == "serve":
                srv = Footfall(args, log)
                stack.callback(srv.kill)
                url = f"http://127.0.0.1:{args[args.index('--port') + 1]}"
                wait_for(lambda s=srv, u=url: _healthy(s, u), what="footfall serve /health")
                urls.append(url)
            elif args[0] == "worker":
                name = args[args.index("--consumer") + 1]
                workers[name] = Footfall([*args, *FAULT_FLAGS[name]], log)
                stack.callback(workers[name].kill)
                assert args[args.index("--stream") + 1] == STREAM
            else:
                output = _run(args, log)
                if args[:2] == ["token", "create"]:
                    token = output.strip().splitlines()[-1]
        assert token and len(urls) == len(workers) == 2
        prefix = f"c{uuid.uuid4().hex[:10]}"
        loaders = [
            Loader(url, token, prefix=f"{prefix}{i}", rate=RATE / 2).start()
            for i, url in enumerate(urls)
        ]
        for x in loaders:
            stack.callback(x.stop)
        wait_for(lambda: len(stored_ids(ch, prefix)) >= WARM, what="events flowing")
        client = redis_client(broker.url)
        stack.callback(client.close)
        held = wait_for(
            lambda: pending_events(client, STREAM, "worker-a"), what="A holding entries"
        )
        workers["worker-a"].signal(signal.SIGKILL)
        workers["worker-a"].wait()
        # What A still held once dead (it may have acknowledged the batch seen
        # above just before the signal): B must claim exactly those.
        held_at_death = pending_events(client, STREAM, "worker-a")
        wait_for(
            lambda: not pending_events(client, STREAM, "worker-a"), what="B claiming A's entries"
        )
        time.sleep(2)  # traffic goes on after the fault
        for x in loaders:
            x.stop()
        both = _Both(*loaders)
        with contextlib.suppress(AssertionError):
            wait_for(
                lambda: both.accepted <= set(stored_ids(ch, prefix)), DRAIN, "every event stored"
            )
        stop(workers["worker-b"])
        summary = workers["worker-b"].worker_summary()
        stats = stats_over_http(urls[1], token, SITE, [time.time() - 3_600, time.time() + 60])
        result = outcome(
            "kill -9 of one of two footfall workers writing to a two-shard cluster",
            both,  # type: ignore[arg-type]  # scored like one Loader
            stored_ids(ch, prefix),
            stats,
            held_by_killed=len(held),
            held_at_death=len(held_at_death),
            claimed=summary["claimed"],
        )
        return result, {"shards": _shard_counts(ch), "differences": _versus_sqlite(ch, workdir)}


METRICS = "visitors,visits,pageviews,events,views_per_visit,bounce_rate,visit_duration"


def _versus_sqlite(url: str, workdir: Path) -> list[Any]:
    """Every stats answer of the cluster that differs from SQLite's over the same events
    (read back from the cluster): totals, a zero-filled daily series, breakdowns,
    a filter and a funnel."""
    from datetime import datetime, timedelta, timezone

    from footfall import connect, stats
    from footfall.stats.model import build_query
    from footfall.stores.clickhouse import ClickHouseStore

    cluster = ClickHouseStore(url)
    lite = connect(f"sqlite:///{workdir / 'same-events.db'}")
    try:
        for page in range(1, 1_000):
            events = cluster.get_usage(limit=5_000, page=page)
            if not events:
                break
            lite.write(events)
        today = datetime.now(timezone.utc).date()
        span = f"{today - timedelta(days=3)},{today + timedelta(days=1)}"
        shapes: list[dict[str, Any]] = [
            {"metrics": METRICS},
            {"metrics": METRICS, "filters": "event:page==/page/1"},
            {"kind": "timeseries", "interval": "date", "metrics": METRICS},
            *[
                {"kind": "breakdown", "property": p, "metrics": "visitors,pageviews"}
                for p in ("event:page", "visit:source", "visit:country")
            ],
        ]
        out: list[Any] = []
        for shape in shapes:
            kw = {"period": "custom", "date": span, "tz": "UTC", "engine": "raw", **shape}
            want, got = stats.query(lite, SITE, **kw), stats.query(cluster, SITE, **kw)
            if got != want or not want:
                out.append((shape, want, got))
        q = build_query(SITE, period="custom", date=span, tz="UTC")
        steps = ["event:page==/page/1", "event:page==/page/2"]
        if stats.funnel(cluster, q, steps) != stats.funnel(lite, q, steps):
            out.append(("funnel", steps))
        return out
    finally:
        cluster.close()
        lite.close()


def _shard_counts(url: str) -> list[int]:
    from footfall.stores import ch_cluster
    from footfall.stores.clickhouse import ClickHouseStore

    store = ClickHouseStore(url)
    try:
        counts = []
        for host in ch_cluster.hosts(store.client, store.cluster or ""):
            with ch_cluster.on_host(store.driver_url, host, store.database) as client:
                counts.append(int(client.execute("SELECT count() FROM events_local")[0][0]))
        return counts
    finally:
        store.close()
