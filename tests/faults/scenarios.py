"""One function per fault: real services, a real `footfall serve`, HTTP load, the fault, recovery.

Each scenario returns an `Outcome` (accepted vs stored, duplicates, stats)
instead of asserting, so the tests and `bench/bench_faults.py` run the same
code; the tests assert that `Outcome.problems()` is empty. Every wait is
bounded. A missing binary or server raises `Unavailable`.

The layouts:

* worker, Redis, ClickHouse: `serve --redis` -> Redis Stream -> `footfall
  worker` -> store (ClickHouse holds events only, so the collector keeps its
  sites and tokens in SQLite and only the worker writes to ClickHouse);
* PostgreSQL and SIGTERM: `serve --db postgresql://...`, the collector's own
  delivery thread writing to the store.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.faults.check import Outcome, outcome, stats_in_process, stats_over_http, stored_ids
from tests.faults.load import Loader
from tests.faults.private import Unavailable, clickhouse, free_port, postgres, redis
from tests.faults.procs import Footfall, pending_events, serve, stop, wait_for, worker

from footfall.delivery.redis_sink import redis_client
from footfall.sites import add_site, create_token
from footfall.stores import connect

__all__ = ["SCENARIOS", "Unavailable"]

SITE = "example.com"
STREAM = "footfall"
RATE = 1_000.0  # events/s the client sends (the machine has 2 shared cores)
DOWN = 8.0  # seconds Redis stays down: past a few quick retries
# PostgreSQL stays down past the pool's 10 s wait for a connection, so writes fail
# and are retried (a shorter outage only slows the write down).
PG_DOWN = 15.0
CLICKHOUSE_DOWN = 30.0  # seconds ClickHouse stays stopped
DRAIN = 60.0  # seconds every accepted event has to reach the store after recovery
WARM = 1_000  # events stored before the fault, so it hits a busy pipeline

# A worker that claims a dead one's entries quickly (the default waits a minute).
QUICK_CLAIM = ("--claim-idle-ms", "500", "--claim-interval", "0.2")


def _token(db_url: str) -> str:
    """Register the site and a token for it in the store `serve` will use."""
    store = connect(db_url)
    try:
        add_site(store, SITE)
        return create_token(store, "fault-injection", SITE)[1]
    finally:
        store.close()


def _migrate(db_url: str) -> None:
    connect(db_url).close()


def _prefix() -> str:
    return f"f{uuid.uuid4().hex[:10]}"


def _stored(db_url: str, prefix: str) -> Callable[[], int]:
    return lambda: len(set(stored_ids(db_url, prefix)))


def _drain(db_url: str, loader: Loader, timeout: float = DRAIN) -> None:
    """Wait until every accepted event is stored (or the bound runs out: the check says why)."""
    accepted = set(loader.accepted)
    with contextlib.suppress(AssertionError):
        wait_for(
            lambda: accepted <= set(stored_ids(db_url, loader.prefix)),
            timeout,
            "every accepted event stored",
        )


def _window() -> list[float]:
    """Times around now: the events' `ts` is when the client made them."""
    return [time.time() - 3_600, time.time() + 60]


# -- kill -9 of `footfall worker` ----------------------------------------------
def worker_killed(workdir: Path, shared_url: str) -> Outcome:
    """Two workers killed with SIGKILL: one inside a write, one between commit and ack.

    The store is a schema of its own on the shared PostgreSQL, whose `events`
    table the test locks (EXCLUSIVE: readers pass, writers wait) to hold a
    worker inside its write. A dies there with unacknowledged entries; B
    claims and stores them. B is then stopped between its commit and its
    XACK (Redis holding every write command with `CLIENT PAUSE WRITE` while
    B waits for the lock, then the lock released so B commits), so its
    entries are stored yet still pending; C claims them and the store's id
    check must drop them.
    """
    import psycopg

    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(redis(workdir / "redis"))
        db = _schema(stack, shared_url)
        token = _token(db)
        srv, url = serve(db, free_port(), workdir / "serve.log", "--redis", broker.url)
        stack.callback(srv.kill)
        spawn: Callable[..., Footfall] = lambda name, *extra: worker(  # noqa: E731
            broker.url, STREAM, db, name, workdir / f"worker-{name}.log", "--batch", "2", *extra
        )
        a = spawn("A", "--claim-idle-ms", "600000")
        stack.callback(a.kill)
        client = redis_client(broker.url)
        stack.callback(client.close)
        loader = Loader(url, token, prefix=_prefix(), rate=RATE).start()
        stack.callback(loader.stop)
        wait_for(lambda: _stored(db, loader.prefix)() >= WARM, what="events flowing")

        locker = psycopg.connect(shared_url, connect_timeout=10)
        stack.callback(locker.close)
        lock = f"LOCK TABLE {_schema_of(db)}.events IN EXCLUSIVE MODE"
        locker.execute(lock)  # A's next write waits for this lock
        held_a = wait_for(lambda: pending_events(client, STREAM, "A"), what="A holding entries")
        a.signal(signal.SIGKILL)
        a.wait()
        locker.rollback()

        b = spawn("B", *QUICK_CLAIM)
        stack.callback(b.kill)
        wait_for(lambda: not pending_events(client, STREAM, "A"), what="B claiming A's entries")
        locker.execute(lock)
        held_b = wait_for(lambda: pending_events(client, STREAM, "B"), what="B holding entries")
        # Writes (XACK among them) now wait in Redis unexecuted; a client that
        # dies meanwhile never has them run.
        client.client_pause(60_000, all=False)
        locker.rollback()
        try:
            wait_for(
                lambda: set(held_b) <= set(stored_ids(db, loader.prefix)),
                what="B committing the entries it holds",
            )
            b.signal(signal.SIGKILL)
            b.wait()
        finally:
            client.client_unpause()

        c = spawn("C", *QUICK_CLAIM)
        stack.callback(c.kill)
        time.sleep(2)  # traffic goes on after the faults
        loader.stop()
        _drain(db, loader)
        stop(c)
        summary = c.worker_summary()
        stats = stats_over_http(url, token, SITE, _window())
        return outcome(
            "kill -9 of footfall worker (mid-write, and between commit and ack)",
            loader,
            stored_ids(db, loader.prefix),
            stats,
            held_by_killed=len(held_a) + len(held_b),
            stored_before_ack=len(held_b),
            duplicates_dropped=summary["duplicates"],
            claimed=summary["claimed"],
        )


def _schema(stack: contextlib.ExitStack, shared_url: str) -> str:
    """A store URL in a fresh schema of the shared server, dropped when `stack` closes.

    `application_name` names the schema, so a test can terminate exactly
    this store's connections and no other test's.
    """
    import psycopg

    schema = f"ff_faults_{uuid.uuid4().hex[:10]}"

    def drop() -> None:
        with psycopg.connect(shared_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    stack.callback(drop)
    return f"{shared_url}?schema={schema}&application_name={schema}"


def _schema_of(db_url: str) -> str:
    from footfall.stores.postgres import split_url

    schema = split_url(db_url)[1]
    assert schema
    return schema


# -- PostgreSQL ----------------------------------------------------------------
def postgres_terminated(workdir: Path, shared_url: str) -> Outcome:
    """`pg_terminate_backend` on the collector's connections (shared server, own schema)."""
    import psycopg

    with contextlib.ExitStack() as stack:
        db = _schema(stack, shared_url)
        token = _token(db)
        srv, url = serve(db, free_port(), workdir / "serve.log")
        stack.callback(srv.kill)
        admin = psycopg.connect(shared_url, autocommit=True, connect_timeout=10)
        stack.callback(admin.close)
        loader = Loader(url, token, prefix=_prefix(), rate=RATE).start()
        stack.callback(loader.stop)
        wait_for(lambda: _stored(db, loader.prefix)() >= WARM, what="events flowing")
        killed = 0
        for _ in range(4):
            killed += len(
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (_schema_of(db),),
                ).fetchall()
            )
            time.sleep(1.0)
        loader.stop()
        _drain(db, loader)
        stats = stats_over_http(url, token, SITE, _window())
        return outcome(
            "PostgreSQL connections terminated (pg_terminate_backend, 4 times)",
            loader,
            stored_ids(db, loader.prefix),
            stats,
            connections_killed=killed,
        )


def postgres_restarted(workdir: Path) -> Outcome:
    """A private PostgreSQL stopped (fast: connections cut) for PG_DOWN seconds, then started."""
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres())
        db = pg.url
        token = _token(db)
        srv, url = serve(db, free_port(), workdir / "serve.log")
        stack.callback(srv.kill)
        loader = Loader(url, token, prefix=_prefix(), rate=RATE).start()
        stack.callback(loader.stop)
        wait_for(lambda: _stored(db, loader.prefix)() >= WARM, what="events flowing")
        pg.stop()
        during = loader.count()
        time.sleep(PG_DOWN)
        accepted_while_down = loader.count() - during
        pg.start()
        time.sleep(2)
        loader.stop()
        _drain(db, loader)
        stats = stats_over_http(url, token, SITE, _window())
        return outcome(
            f"PostgreSQL restarted ({PG_DOWN:.0f} s down)",
            loader,
            stored_ids(db, loader.prefix),
            stats,
            accepted_while_down=accepted_while_down,
        )


# -- Redis -----------------------------------------------------------------------
def redis_restarted(workdir: Path) -> Outcome:
    """The collector's and the worker's Redis stopped for DOWN seconds, then started."""
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(redis(workdir / "redis"))
        db = f"sqlite:///{workdir / 'footfall.db'}"
        token = _token(db)
        srv, url = serve(db, free_port(), workdir / "serve.log", "--redis", broker.url)
        stack.callback(srv.kill)
        w = worker(broker.url, STREAM, db, "W", workdir / "worker.log")
        stack.callback(w.kill)
        loader = Loader(url, token, prefix=_prefix(), rate=RATE).start()
        stack.callback(loader.stop)
        wait_for(lambda: _stored(db, loader.prefix)() >= WARM, what="events flowing")
        broker.stop()
        during = loader.count()
        time.sleep(DOWN)
        accepted_while_down = loader.count() - during
        broker.start()
        time.sleep(2)
        loader.stop()
        _drain(db, loader)
        stats = stats_over_http(url, token, SITE, _window())
        return outcome(
            f"Redis restarted ({DOWN:.0f} s down)",
            loader,
            stored_ids(db, loader.prefix),
            stats,
            accepted_while_down=accepted_while_down,
        )


# -- ClickHouse ------------------------------------------------------------------
def clickhouse_stopped(workdir: Path) -> Outcome:
    """ClickHouse stopped for CLICKHOUSE_DOWN seconds under `footfall worker`, then started."""
    with contextlib.ExitStack() as stack:
        ch = stack.enter_context(clickhouse())
        broker = stack.enter_context(redis(workdir / "redis"))
        meta = f"sqlite:///{workdir / 'meta.db'}"
        token = _token(meta)
        _migrate(ch.url)
        srv, url = serve(meta, free_port(), workdir / "serve.log", "--redis", broker.url)
        stack.callback(srv.kill)
        w = worker(broker.url, STREAM, ch.url, "W", workdir / "worker.log")
        stack.callback(w.kill)
        loader = Loader(url, token, prefix=_prefix(), rate=RATE).start()
        stack.callback(loader.stop)
        wait_for(lambda: _stored(ch.url, loader.prefix)() >= WARM, what="events flowing")
        ch.stop()
        during = loader.count()
        time.sleep(CLICKHOUSE_DOWN)
        accepted_while_down = loader.count() - during
        ch.start()
        time.sleep(2)
        loader.stop()
        _drain(ch.url, loader)
        stats = stats_in_process(ch.url, SITE, _window())
        return outcome(
            f"ClickHouse stopped for {CLICKHOUSE_DOWN:.0f} s",
            loader,
            stored_ids(ch.url, loader.prefix),
            stats,
            accepted_while_down=accepted_while_down,
        )


# -- SIGTERM of `footfall serve` ---------------------------------------------------
SIGTERM_EVENTS = 5_000  # queued behind a blocked store when SIGTERM arrives
HOLD_AFTER_SIGTERM = 8.0  # the store stays blocked this long after the signal


def serve_sigterm(workdir: Path, shared_url: str) -> Outcome:
    """SIGTERM with SIGTERM_EVENTS queued behind a store blocked by a table lock.

    The lock (on the test's own schema) makes every write wait, so the queue
    is as deep as what was accepted; it is released HOLD_AFTER_SIGTERM
    seconds after the signal, well inside the documented drain time.
    """
    import psycopg

    with contextlib.ExitStack() as stack:
        db = _schema(stack, shared_url)
        token = _token(db)
        srv, url = serve(db, free_port(), workdir / "serve.log")
        stack.callback(srv.kill)
        locker = psycopg.connect(shared_url, connect_timeout=10)
        stack.callback(locker.close)
        locker.execute(f"LOCK TABLE {_schema_of(db)}.events IN EXCLUSIVE MODE")  # writers wait
        loader = Loader(url, token, prefix=_prefix(), rate=5_000, total=SIGTERM_EVENTS)
        loader.start()
        stack.callback(loader.stop)
        wait_for(lambda: loader.done, what="every event answered")
        srv.signal(signal.SIGTERM)
        time.sleep(HOLD_AFTER_SIGTERM)
        locker.rollback()
        status = srv.wait(DRAIN + 30)
        stats = stats_in_process(db, SITE, _window())
        return outcome(
            f"SIGTERM of footfall serve, {SIGTERM_EVENTS:,} queued, store blocked "
            f"{HOLD_AFTER_SIGTERM:.0f} s after it",
            loader,
            stored_ids(db, loader.prefix),
            stats,
            exit_status=status,
        )


SCENARIOS: dict[str, Callable[..., Outcome]] = {
    "worker_killed": worker_killed,
    "postgres_terminated": postgres_terminated,
    "postgres_restarted": postgres_restarted,
    "redis_restarted": redis_restarted,
    "clickhouse_stopped": clickhouse_stopped,
    "serve_sigterm": serve_sigterm,
}
