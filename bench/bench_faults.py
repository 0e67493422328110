"""Accepted vs stored under each injected fault (the scenarios of tests/faults).

Runs the fault-injection scenarios the test suite runs - real services, a
real `footfall serve`, a client posting page views over HTTP, the fault, the
recovery - and reports per fault how many events the client was told 202,
how many are stored, how many are stored twice, and what the stats count.

    python bench/bench_faults.py [--quick] [--only NAME]   # a Markdown table
    python bench/run.py --only faults                      # the common table

`--quick` leaves out the ClickHouse scenario (30 s of outage). The
PostgreSQL scenarios that terminate connections, kill workers or send
SIGTERM use a schema of their own on the shared server
($FOOTFALL_TEST_POSTGRES); restarts only ever hit private servers.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import scenarios  # noqa: E402 - needs the path above
from tests.faults.check import Outcome  # noqa: E402
from tests.services import POSTGRES_URL  # noqa: E402

NEEDS_SHARED_POSTGRES = {"worker_killed", "postgres_terminated", "serve_sigterm"}
SLOW = {"clickhouse_stopped"}


def outcomes(quick: bool, only: list[str] | None = None) -> Iterator[tuple[str, Any, float]]:
    """(name, Outcome or the reason it could not run, seconds) per scenario."""
    for name, scenario in scenarios.SCENARIOS.items():
        if (only and name not in only) or (quick and name in SLOW):
            continue
        workdir = Path(tempfile.mkdtemp(prefix=f"footfall-bench-{name}-"))
        args: list[Any] = [workdir]
        if name in NEEDS_SHARED_POSTGRES:
            args.append(POSTGRES_URL)
        started = time.monotonic()
        try:
            result: Any = scenario(*args)
        except scenarios.Unavailable as exc:
            result = f"skipped: {exc}"
        except Exception as exc:  # a timeout or a crash: report it, run the others
            result = f"FAILED: {type(exc).__name__}: {str(exc)[:200]}"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        yield name, result, time.monotonic() - started


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows for bench/run.py: stored against accepted, per fault."""
    rows: list[dict[str, Any]] = []
    for name, result, _ in outcomes(quick):
        if not isinstance(result, Outcome):
            rows.append({"benchmark": f"fault {name}: {result}"})
            continue
        doubled = f", {len(result.doubled)} stored twice" if result.doubled else ""
        rows.append(
            {
                "benchmark": f"{result.fault}{doubled}",
                "footfall": result.stored,
                "peer": "accepted (202)",
                "peer_value": result.accepted,
                "ratio": result.stored / result.accepted if result.accepted else None,
                "unit": "events stored",
                "goal": "= accepted, none twice",
            }
        )
    return rows


COLUMNS = (
    "fault",
    "accepted (202)",
    "stored",
    "lost",
    "stored twice",
    "stats: page views",
    "stats: visitors (expected)",
    "stats: visits (expected)",
    "refused (503, resent)",
    "seconds",
    "details",
)


def table(quick: bool, only: list[str] | None) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name, r, took in outcomes(quick, only):
        if not isinstance(r, Outcome):
            lines.append(f"| {name}: {r} |" + " |" * (len(COLUMNS) - 1))
            continue
        cells = [
            r.fault,
            f"{r.accepted:,}",
            f"{r.stored:,}",
            f"{len(r.missing):,}",
            f"{len(r.doubled):,}",
            f"{r.pageviews:,}",
            f"{r.visitors:,} ({r.expected_visitors:,})",
            f"{r.visits:,} ({r.expected_visitors:,})",
            f"{r.refused:,}",
            f"{took:.0f}",
            ", ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in r.notes.items()),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="leave out the 30 s ClickHouse stop")
    parser.add_argument("--only", action="append", help=f"one of {', '.join(scenarios.SCENARIOS)}")
    args = parser.parse_args()
    print(table(args.quick, args.only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
