"""An app made of a documented Python block, driven over stdin by a walk-through test.

    python tests/docs/doc_app.py BLOCK.py

runs the block as the app's setup (it must leave a `tracker`), then answers
one JSON line per command line:

    {"op": "emit", "name": "x", "count": 10, "days_ago": 0}  -> {"ok": true}
    {"op": "flush", "timeout": 10}                           -> {"result": true}
    {"op": "stats"}                                          -> DeliveryStats as a dict
    {"op": "close"}                                          -> {"left": 0}, then exits

The app is a process of its own, as in a deployment: its tracker's worker,
HttpSink spool and replay thread live and die with it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any


def _answer(tracker: Any, command: dict[str, Any]) -> dict[str, Any]:
    op = command["op"]
    if op == "emit":
        ts = datetime.now(timezone.utc) - timedelta(days=command.get("days_ago", 0))
        for n in range(command["count"]):
            tracker.emit(command["name"], {"n": n}, ts=ts)
        return {"ok": True}
    if op == "flush":
        return {"result": tracker.flush(timeout=command["timeout"])}
    if op == "stats":
        return dataclasses.asdict(tracker.stats())
    if op == "close":
        return {"left": tracker.close(timeout=command.get("timeout", 10))}
    raise ValueError(f"unknown op {op!r}")


def main(block: Path) -> None:
    app: dict[str, Any] = {"__name__": "doc_app"}
    exec(compile(block.read_text(encoding="utf-8"), str(block), "exec"), app)
    tracker = app["tracker"]
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        print(json.dumps(_answer(tracker, command)), flush=True)
        if command["op"] == "close":
            return


if __name__ == "__main__":
    main(Path(sys.argv[1]))
