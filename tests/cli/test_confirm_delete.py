"""Deleting commands ask at a terminal, take `--yes` in scripts, and say so without one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import footfall
from footfall.event import Event
from footfall.sites import list_sites
from footfall.stores.meta import open_meta

from .conftest import SITE, invoke

FOOTFALL = str(Path(sys.executable).parent / "footfall")
WAIT = 60.0


def _old_and_new_events(url: str) -> None:
    """Two events 500 days old and one from now."""
    now = datetime.now(timezone.utc)
    with footfall.connect(url) as store:
        store.write(
            [
                Event(name="pageview", site=SITE, path="/old", ts=now - timedelta(days=500)),
                Event(name="pageview", site=SITE, path="/old", ts=now - timedelta(days=501)),
                Event(name="pageview", site=SITE, path="/new", ts=now),
            ]
        )


def _count(url: str) -> int:
    with footfall.connect(url) as store:
        return store.count()


def _saved(url: str) -> tuple[int, int, int, int]:
    """How many alerts, goals, report recipients and annotations the store keeps."""
    with footfall.connect(url) as store:
        meta = open_meta(store)
        return (
            len(meta.list_alerts()),
            len(meta.list_goals(SITE)),
            len(meta.list_reports()),
            len(meta.list_annotations(SITE, date(1970, 1, 1), date(9999, 12, 31))),
        )


def test_purge_from_cron_needs_yes_and_says_so(tmp_path: Path) -> None:
    """A real `footfall` process with no terminal, as cron runs it."""
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    _old_and_new_events(url)
    cron = [FOOTFALL, "purge", "--older-than", "400", "--db", url]
    refused = subprocess.run(
        cron,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert refused.returncode == 2, refused.stderr
    assert "--yes" in refused.stderr and "no terminal" in refused.stderr
    assert "Aborted!" not in refused.stderr
    assert _count(url) == 3
    done = subprocess.run(
        [*cron, "--yes"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    assert "deleted 2 events" in done.stdout
    assert _count(url) == 1


def _at_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run `footfall ARGS` on a pseudo-terminal, answer its question; (exit code, output)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [FOOTFALL, *args], stdin=follower, stdout=follower, stderr=follower, close_fds=True
    )
    os.close(follower)
    seen, answered = b"", False
    deadline = time.monotonic() + WAIT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the process exited and closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(leader, answer.encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
        os.close(leader)
    return code, seen.decode(errors="replace")


def test_at_a_terminal_purge_asks_and_does_what_the_answer_says(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'footfall.db'}"
    _old_and_new_events(url)
    args = ["purge", "--db", url, "--older-than", "400"]
    code, output = _at_a_terminal(args, "n")
    assert code == 1 and "Delete events before" in output and "Aborted!" in output, output
    assert _count(url) == 3
    code, output = _at_a_terminal(args, "y")
    assert code == 0 and "deleted 2 events" in output, output
    assert _count(url) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("delete-visitor", "v1"),
        ("users", "delete", "bob"),
        ("sites", "remove", SITE, "--with-events"),
        ("purge", "--older-than", "0"),
        ("import", "delete", "--site", SITE),
        ("alerts", "remove", "1"),
        ("goals", "remove", "--site", SITE, "Visit /0"),
        ("reports", "remove", "--site", SITE, "--email", "a@example.com"),
        ("annotate", "--remove", "1", "--site", SITE),
    ],
    ids=" ".join,
)
def test_without_a_terminal_every_delete_names_yes_and_deletes_nothing(
    args: tuple[str, ...], filled_url: str
) -> None:
    assert (
        invoke("users", "add", "bob", "--db", filled_url, input="a long password\n").exit_code == 0
    )
    spike = ("--kind", "spike", "--threshold", "9", "--email", "o@x.y")
    for setup in (
        ("alerts", "add", "--site", SITE, *spike),
        ("goals", "add", "--site", SITE, "--page", "/0"),
        ("reports", "add", "--site", SITE, "--email", "a@example.com"),
        ("annotate", "--site", SITE, "Launched"),
    ):
        assert invoke(*setup, "--db", filled_url).exit_code == 0
    before = _count(filled_url), _saved(filled_url)
    assert before[1] == (1, 1, 1, 1)
    result = invoke(*args, "--db", filled_url)
    assert result.exit_code == 2, result.output
    assert "Pass --yes" in result.stderr
    assert (_count(filled_url), _saved(filled_url)) == before
    assert invoke("users", "list", "--db", filled_url).stdout.split() == ["bob"]
    with footfall.connect(filled_url) as store:
        assert [s.domain for s in list_sites(store)] == [SITE]
    assert invoke(*args, "--db", filled_url, "--yes").exit_code == 0
