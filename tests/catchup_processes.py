"""Catch-ups in real processes racing the test's writes (SQLite and PostgreSQL tests share it).

Each process connects, says it is ready, then folds in small chunks until the
test has finished writing and nothing is left, and prints how many events it
folded; the caller checks that the counts add up to what was stored.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_WORKER = """
import os, sys
from footfall import connect
from footfall.stats.summaries.catchup import catch_up, lag
store = connect(sys.argv[1], migrate=False)
done, chunk, most = sys.argv[2], int(sys.argv[4]), int(sys.argv[5])
open(sys.argv[3], "w").close()  # imported and connected: the test may start writing
folded = 0
while True:
    finished = os.path.exists(done)  # read before the lag: no write can follow it
    folded += catch_up(store, chunk=chunk, max_events=most)
    if finished and lag(store) == 0:
        break
print(folded)
"""


def fold_while_writing(
    store: Any,
    url: str,
    events: Sequence[Any],
    folder: Path,
    *,
    batch: int,
    chunk: int,
    processes: int = 2,
    timeout: float = 180,
) -> list[int]:
    """Start `processes` catch-ups on `url`, write `events` in `batch`es meanwhile;
    return the number of events each process folded."""
    done = folder / "done"
    ready = [folder / f"ready-{n}" for n in range(processes)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, str(done), str(flag), str(chunk), str(chunk * 10)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    try:
        # All must be up before the writes go on, or a slow start on a loaded machine
        # leaves one process nothing to fold and the test would not be concurrent at all.
        deadline = time.monotonic() + 60
        while not all(f.exists() for f in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert all(f.exists() for f in ready), "a catch-up process did not start"
        for i in range(0, len(events), batch):  # keep writing while they fold
            store.write(events[i : i + batch])
        done.write_text("")
        outs = [p.communicate(timeout=timeout)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert all(p.returncode == 0 for p in procs)
    return [int(o.strip()) for o in outs]
