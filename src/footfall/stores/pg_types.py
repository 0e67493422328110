"""psycopg type loaders for the PostgreSQL store.

PostgreSQL's SUM over bigint returns `numeric`, which psycopg loads as
`Decimal`; the stats engine mixes sums with floats (`duration / visits /
1e6`) exactly as it does with SQLite's integers, so numeric comes back as
int when it is whole and float otherwise, the types SQLite would give.
"""

from __future__ import annotations

from typing import Any

from psycopg.adapt import Loader

__all__ = ["NumberLoader"]


class NumberLoader(Loader):
    """`numeric` text -> int (no fraction) or float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text or b"N" in text or b"I" in text:
            return float(text)
        return int(text)
