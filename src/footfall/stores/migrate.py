"""Versioned schema migrations kept as numbered SQL files per dialect.

Files live in `footfall/stores/migrations/<dialect>/NNNN_name.sql`. A file
holds one or more statements, each ending with `;` at the end of a line (a
triggers' inner `;` must not end a line). Applied versions are recorded in
`footfall_migrations`; each store runs them inside its own locking so two
processes starting at once apply each file once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["Migration", "load_migrations", "pending_migrations", "split_statements"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql)

    @property
    def label(self) -> str:
        """How `migrate()` reports it: `0001_events`."""
        return f"{self.version:04d}_{self.name}"


def split_statements(sql: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("--")):
            continue
        current.append(line)
        if stripped.endswith(";"):
            out.append("\n".join(current).strip().rstrip(";"))
            current = []
    if any(line.strip() and not line.strip().startswith("--") for line in current):
        out.append("\n".join(current).strip().rstrip(";"))
    return out


def load_migrations(dialect: str) -> list[Migration]:
    """Every migration file shipped for `dialect`, in version order."""
    folder = resources.files("footfall.stores") / "migrations" / dialect
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration versions for {dialect}: {versions}")
    return found


def pending_migrations(dialect: str, done: set[int]) -> list[Migration]:
    """The migrations of `dialect` whose version is not in `done`, in order."""
    return [m for m in load_migrations(dialect) if m.version not in done]
