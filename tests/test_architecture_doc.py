"""docs/architecture.md's module table lists every module of the package, and only those."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_module_table_matches_the_tree() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(footfall/[\w/]+\.py)` \|", doc, flags=re.MULTILINE)
    tree = sorted(
        p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src/footfall").rglob("*.py")
    )
    assert len(listed) == len(set(listed)), "a module is listed twice"
    missing = sorted(set(tree) - set(listed))
    stale = sorted(set(listed) - set(tree))
    assert not missing, f"modules missing from docs/architecture.md: {missing}"
    assert not stale, f"docs/architecture.md lists modules that do not exist: {stale}"
