"""A full disk under `HttpSink`'s spool while its collector is down.

An app sends page views through `HttpSink` to a real `footfall serve`. The
collector stops; the sink spools until the spool's disk is full (a 1 MiB
tmpfs), or, where this machine refuses to mount one, until a 1 MiB byte cap
on a plain folder. Then the collector comes back. Promised: no crash, and
every event is either stored (once) or was reported through `on_failure` -
never both, never neither.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.faults.check import stats_over_http, stored_ids
from tests.faults.private import free_port
from tests.faults.procs import serve, stop, wait_for

from footfall import connect
from footfall.delivery.http_sink import HttpSink
from footfall.delivery.spool import DEFAULT_SPOOL_BYTES
from footfall.event import Event
from footfall.sites import add_site, create_token
from footfall.tracker import Tracker

SITE = "example.com"
PREFIX = "spool-disk-"
DISK = 1024 * 1024  # bytes: the spool's disk (tmpfs) or its cap (plain folder)
BATCH = 50  # events per sink batch: one spool file of ~30 KB
PAD = 500  # random bytes per event (hex): events that gzip cannot shrink away
DOWN_BATCHES = 100  # at most ~3 MiB of batches while the collector is down


def _mount_tmpfs(folder: Path) -> str | None:
    """Mount a DISK-sized tmpfs on `folder`; the reason when this machine refuses."""
    if shutil.which("mount") is None:
        return "no mount command"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK // 1024}k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


def _queue_depth(url: str) -> int:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return int(json.loads(response.read())["queue_depth"])


@pytest.fixture(params=["tmpfs", "capped-folder"])
def spool_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """The spool folder and the byte cap HttpSink gets for it."""
    folder = tmp_path / "spool"
    folder.mkdir()
    if request.param == "capped-folder":
        yield folder, DISK
        return
    refused = _mount_tmpfs(folder)
    if refused is not None:
        # Mounting needs a privilege, not a service: the capped-folder case still runs.
        pytest.skip(f"cannot mount a tmpfs here ({refused}); the capped folder covers the rest")
    try:
        yield folder, DEFAULT_SPOOL_BYTES  # the disk fills long before the cap
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def test_a_full_spool_disk_loses_nothing_silently(
    spool_at: tuple[Path, int], tmp_path: Path
) -> None:
    folder, cap = spool_at
    db_url = f"sqlite:///{tmp_path / 'collector.db'}"
    setup = connect(db_url)
    add_site(setup, SITE)
    _, token = create_token(setup, "app")
    setup.close()
    port, log = free_port(), tmp_path / "serve.log"
    collector, url = serve(db_url, port, log)

    reported: list[Event] = []
    sink = HttpSink(url, token, spool=folder, spool_max_bytes=cap, replay_max_interval=1.0)
    app = Tracker(
        [sink],
        on_failure=lambda delivered, failed: reported.extend(failed),
        batch_size=BATCH,
        flush_interval=0.05,
    )
    sent: list[Event] = []

    def emit(n: int, phase: str) -> None:
        for i in range(n):
            sent.append(
                app.emit(
                    "pageview",
                    {"pad": secrets.token_hex(PAD)},
                    id=f"{PREFIX}{len(sent):06d}",
                    site=SITE,
                    path=f"/{phase}/{i}",
                )
            )
        # While the collector is down the batch is only spooled (or refused): the queue
        # empties, but flush() says False until the spool is replayed.
        assert app.worker.flush(60) if phase == "down" else app.flush(60)

    try:
        emit(2 * BATCH, "up")
        stop(collector)
        # Down: the spool fills its disk (or cap), then refuses batches, which are reported.
        for _ in range(DOWN_BATCHES):
            emit(BATCH, "down")
            if len(reported) >= 2 * BATCH:
                break
        assert sink.spooled > 0

        collector, url = serve(db_url, port, log)
        emit(2 * BATCH, "back")  # queued behind the spool while it drains
        wait_for(lambda: not sink.spool, what="the spool to drain")
        emit(2 * BATCH, "after")
        app.close()

        failed = {e.id for e in reported}
        expected = {e.id for e in sent} - failed
        wait_for(lambda: _queue_depth(url) == 0, what="the collector to store what it took")
        leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
        rows = Counter(stored_ids(db_url, PREFIX))
        pageviews = stats_over_http(url, token, SITE, [e.ts.timestamp() for e in sent])
    finally:
        app.close()
        stop(collector)

    assert set(rows) == expected  # all that was not reported arrived: spooled or sent
    assert leftovers == []  # a failed append gave its partial file (and the space) back
    assert failed  # the full spool refused batches, and said so
    assert max(rows.values()) == 1 and pageviews["pageviews"] == len(expected)
    stats = app.stats()
    assert stats.failed == len(failed) and stats.delivered == len(sent) - len(failed)
    print(  # the figures of bench/README.md ("pytest -rP" shows them)
        f"sent {len(sent)}, stored {len(rows)}, reported {len(failed)}, "
        f"stored twice {sum(n - 1 for n in rows.values())}, "
        f"batches spooled {sink.spooled}, refused by the full spool {sink.dropped}"
    )
