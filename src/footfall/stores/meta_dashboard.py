"""Annotations and saved funnels: what the dashboard keeps per site (migration 0051).

They belong to `Meta` (the contract is `footfall.stores.meta`'s docstring) and
live in the same SQLite or PostgreSQL database as the sites. `SQLMeta`
inherits them from `DashboardMetaSQL`, so the statements for these two small
tables sit together, apart from the collector's sites, tokens and failed
events. The limits are checked here, once, for every caller (the CLI, the
dashboard's forms, the Python API).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from typing import Any

from footfall.errors import ValidationError
from footfall.stores.meta_records import (
    MAX_ANNOTATION_TEXT,
    MAX_FUNNEL_NAME,
    MAX_FUNNEL_STEP,
    MAX_FUNNEL_STEPS,
    Annotation,
    SavedFunnel,
)
from footfall.stores.meta_statements import MetaStatements

__all__ = ["DashboardMetaSQL", "check_annotation_text", "check_funnel"]


def _when(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc)


def _printable(text: str) -> bool:
    return not any(ord(c) < 32 or ord(c) == 127 for c in text)


def check_annotation_text(text: str) -> str:
    """The text as stored (trimmed); ValidationError if empty, too long or not one line."""
    clean = text.strip()
    if not clean:
        raise ValidationError("text", "an annotation needs some text")
    if len(clean) > MAX_ANNOTATION_TEXT:
        raise ValidationError("text", f"at most {MAX_ANNOTATION_TEXT} characters")
    if not _printable(clean):
        raise ValidationError("text", "no control characters (one line of text)")
    return clean


def check_funnel(name: str, steps: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Name and steps as stored; ValidationError past the limits.

    Whether each step is a valid step expression is the stats engine's to say
    (`footfall.stats.funnel.parse_steps`); callers check that first.
    """
    clean = name.strip()
    if not clean or len(clean) > MAX_FUNNEL_NAME or not _printable(clean):
        raise ValidationError("name", f"a funnel name has 1 to {MAX_FUNNEL_NAME} characters")
    kept = tuple(s.strip() for s in steps if s.strip())
    if not 2 <= len(kept) <= MAX_FUNNEL_STEPS:
        raise ValidationError("steps", f"a funnel has 2 to {MAX_FUNNEL_STEPS} steps")
    if any(len(s) > MAX_FUNNEL_STEP or not _printable(s) for s in kept):
        raise ValidationError("steps", f"a step has at most {MAX_FUNNEL_STEP} characters")
    return clean, kept


def _annotation(row: tuple[Any, ...]) -> Annotation:
    return Annotation(int(row[0]), row[1], date.fromisoformat(row[2]), row[3], _when(row[4]))


def _funnel(row: tuple[Any, ...]) -> SavedFunnel:
    steps = json.loads(row[3])
    return SavedFunnel(int(row[0]), row[1], row[2], tuple(str(s) for s in steps), _when(row[4]))


class DashboardMetaSQL(MetaStatements):
    """The annotations and funnels half of `SQLMeta` (same store, same placeholders)."""

    def _insert(self, statement: str, params: tuple[Any, ...]) -> int | None:
        """Run an `INSERT ... RETURNING id`; the id, or None when nothing was inserted."""
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(self._sql(statement), params)
            row = cur.fetchone()
        return None if row is None else int(row[0])

    def _delete(self, statement: str, params: tuple[Any, ...]) -> bool:
        with self.store.transaction() as conn:
            cur = conn.cursor()
            cur.execute(self._sql(statement), params)
            return int(cur.rowcount) > 0

    # -- annotations --------------------------------------------------------
    def add_annotation(self, site: str, day: date, text: str) -> Annotation:
        clean = check_annotation_text(text)
        now = int(time.time())
        new_id = self._insert(
            "INSERT INTO annotations (site, day, text, created_at) VALUES (?, ?, ?, ?) "
            "RETURNING id",
            (site, day.isoformat(), clean, now),
        )
        return Annotation(int(new_id or 0), site, day, clean, _when(now))

    def list_annotations(self, site: str, start: date, end: date) -> list[Annotation]:
        rows = self._query(
            "SELECT id, site, day, text, created_at FROM annotations "
            "WHERE site = ? AND day >= ? AND day <= ? ORDER BY day, id",
            (site, start.isoformat(), end.isoformat()),
        )
        return [_annotation(r) for r in rows]

    def remove_annotation(self, site: str, annotation_id: int) -> bool:
        return self._delete(
            "DELETE FROM annotations WHERE site = ? AND id = ?", (site, int(annotation_id))
        )

    # -- saved funnels ------------------------------------------------------
    def add_funnel(self, site: str, name: str, steps: Sequence[str]) -> SavedFunnel | None:
        clean, kept = check_funnel(name, steps)
        now = int(time.time())
        new_id = self._insert(
            "INSERT INTO funnels (site, name, steps, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (site, name) DO NOTHING RETURNING id",
            (site, clean, json.dumps(list(kept)), now),
        )
        if new_id is None:
            return None
        return SavedFunnel(new_id, site, clean, kept, _when(now))

    def list_funnels(self, site: str) -> list[SavedFunnel]:
        rows = self._query(
            "SELECT id, site, name, steps, created_at FROM funnels WHERE site = ? ORDER BY name",
            (site,),
        )
        return [_funnel(r) for r in rows]

    def get_funnel(self, site: str, name: str) -> SavedFunnel | None:
        rows = self._query(
            "SELECT id, site, name, steps, created_at FROM funnels WHERE site = ? AND name = ?",
            (site, name),
        )
        return _funnel(rows[0]) if rows else None

    def remove_funnel(self, site: str, name: str) -> bool:
        return self._delete("DELETE FROM funnels WHERE site = ? AND name = ?", (site, name))

    def _remove_site_notes(self, cur: Any, site: str) -> None:
        """Inside `remove_site`'s transaction: the site's annotations and funnels go with it."""
        cur.execute(self._sql("DELETE FROM annotations WHERE site = ?"), (site,))
        cur.execute(self._sql("DELETE FROM funnels WHERE site = ?"), (site,))
