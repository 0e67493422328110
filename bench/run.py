"""Run every `bench/bench_*.py` and print one table.

Each module exposes `run(quick: bool) -> list[dict]`; a row has the keys
`benchmark`, `footfall`, `peer`, `peer_value`, `ratio`, `unit`, `goal`
(missing keys print as blank). Modules run in name order; one that fails is
reported in the table and does not stop the others.

    python bench/run.py [--quick] [--only NAME] [--markdown]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
COLUMNS = ["benchmark", "footfall", "peer", "peer_value", "ratio", "unit", "goal"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", action="append", default=[], help="run only bench_NAME")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and not any(path.stem == f"bench_{n}" or path.stem == n for n in args.only):
            continue
        started = time.monotonic()
        print(f"# {path.stem} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(_load(path).run(args.quick))
        except Exception as exc:
            traceback.print_exc()
            rows.append({"benchmark": f"{path.stem}: FAILED ({exc})"})
        print(f"# {path.stem} took {time.monotonic() - started:.1f}s", file=sys.stderr)
    table = [[_fmt(r.get(c)) for c in COLUMNS] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(COLUMNS)]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"footfall benchmarks, {stamp}, `python bench/run.py{' --quick' if args.quick else ''}`")
    if args.markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "|".join("---" for _ in COLUMNS) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=False)))
        print("  ".join("-" * w for w in widths))
        for row in table:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
