"""Page-path wildcards, matched in linear time on every store.

In `event:page`, `visit:entry_page`, `visit:exit_page`, page goals and funnel
steps, `*` matches within one path segment (never a `/`) and `**` (any run
of two or more stars) matches across segments; everything else is literal
and the whole path must match.

A backtracking regular expression run per row (Python's `re` called by
SQLite, with the GIL held) takes minutes on one 200-character path against
`/**a**a**a**a**a**b`, and the whole server waits. So a `Wildcard` compiles
to what each database matches without backtracking:

- patterns with only `**` (or only `*`): SQLite `GLOB` / PostgreSQL `LIKE`,
  plus, for `*`, "as many `/` as the literals hold" - a `*` that crossed a
  `/` would add one, so together they are exact;
- patterns mixing both: the same test as a pre-filter, then an exact check:
  PostgreSQL's regex engine (a DFA without back-references); on SQLite, for
  one `**` (`/*/docs/**`, `/**/*.html`), GLOBs on the path's segments (split
  in C through JSON), and for two or more the linear `matches` below, in
  Python, only for rows the pre-filter let through;
- ClickHouse: `match()`, which is RE2 (linear by construction).

`GLOB`/`LIKE` cost O(path length x wildcards) per row, so a value may hold
at most `MAX_WILDCARDS` of them (`parse_wildcard` refuses more).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

from footfall.stats.errors import StatsError

__all__ = ["MAX_WILDCARDS", "Glob", "Wildcard", "count_wildcards", "parse_wildcard", "segment_glob"]

MAX_WILDCARDS = 8
_STARS = re.compile(r"\*+")
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}
_LIKE_SPECIAL = {"%": "\\%", "_": "\\_", "\\": "\\\\"}

# A segment glob: the literal pieces of one path segment's pattern, a `*` between
# each two: `a*b` is ("a", "b"), `*` is ("", ""), `docs` is ("docs",).
Glob = tuple[str, ...]


def count_wildcards(value: str) -> int:
    """How many wildcards `value` holds: each run of stars is one."""
    return len(_STARS.findall(value))


def _escape(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in text)


def _regex_literal(text: str) -> str:
    # Only the metacharacters, escaped with a backslash: valid in Python's re,
    # PostgreSQL's ARE and RE2 alike (RE2 refuses `\` before a space or letter).
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


@dataclass(frozen=True)
class Wildcard:
    """One wildcard value, split into literals and the two kinds of star.

    `parts` alternates literal text and wildcards: `("/blog/", "*", "/", "**", "")`
    (always an odd length, literals at even indexes, possibly empty).
    """

    pattern: str
    parts: tuple[str, ...]

    @property
    def wildcards(self) -> tuple[str, ...]:
        return self.parts[1::2]

    @property
    def literals(self) -> tuple[str, ...]:
        return self.parts[0::2]

    @property
    def crosses(self) -> bool:
        """Has a `**`."""
        return "**" in self.wildcards

    @property
    def within(self) -> bool:
        """Has a `*` (one segment)."""
        return "*" in self.wildcards

    @property
    def slashes(self) -> int:
        """The `/` in the literals: with `*` alone, every match has exactly these."""
        return sum(lit.count("/") for lit in self.literals)

    def glob(self) -> str:
        """SQLite GLOB (case-sensitive): every wildcard as `*`, literals escaped."""
        return "*".join(_escape(lit, _GLOB_SPECIAL) for lit in self.literals)

    def like(self) -> str:
        """LIKE with `\\` as the escape: every wildcard as `%`, literals escaped."""
        return "%".join(_escape(lit, _LIKE_SPECIAL) for lit in self.literals)

    def regex(self) -> str:
        """An anchored regular expression (`[^/]*` and `.*`) with no groups."""
        out = []
        for i, part in enumerate(self.parts):
            if i % 2:
                out.append(".*" if part == "**" else "[^/]*")
            else:
                out.append(_regex_literal(part))
        return "^" + "".join(out) + "$"

    def matches(self, value: str) -> bool:
        """The exact test, in time linear in `value` (no backtracking)."""
        return _compiled(self.parts).matches(value)

    @property
    def chunks(self) -> tuple[tuple[Glob, ...], ...]:
        """Split at each `**`, then at each literal `/`: the segment globs of each chunk."""
        return _compiled(self.parts).chunks


def segment_glob(g: Glob) -> str:
    """A segment glob as SQLite GLOB text (within one segment `*` cannot meet a `/`)."""
    return "*".join(_escape(piece, _GLOB_SPECIAL) for piece in g)


def parse_wildcard(value: str, param: str = "filters") -> Wildcard:
    """Split `value` into literals and wildcards; refuse more than MAX_WILDCARDS."""
    n = count_wildcards(value)
    if n > MAX_WILDCARDS:
        raise StatsError(
            param,
            f"at most {MAX_WILDCARDS} wildcards (* or **) in one value; {value[:80]!r} has {n}",
        )
    parts: list[str] = []
    last = 0
    for m in _STARS.finditer(value):
        parts.append(value[last : m.start()])
        parts.append("*" if len(m.group()) == 1 else "**")
        last = m.end()
    parts.append(value[last:])
    return Wildcard(value, tuple(parts))


# -- the linear matcher -------------------------------------------------------
#
# Split at `**` the pattern is chunks C0 ** C1 ** ... ** Ck, each using `*`
# alone; split at its literal `/`, a chunk is a list of segment globs. A chunk
# followed by `**` is best matched where it *ends* earliest (the `**` after it
# takes any rest), so one left-to-right pass decides: C0 at the start, each
# middle chunk at its earliest end, Ck at the end. Every step is str.find /
# startswith / endswith over a segment, so no position is tried twice per glob.


def _greedy(s: str, pieces: Glob, i: int, stop: int) -> int:
    """Find `pieces` in order within s[i:stop], each at its earliest; the end, or -1."""
    for piece in pieces:
        j = s.find(piece, i, stop)
        if j < 0:
            return -1
        i = j + len(piece)
    return i


def _full(s: str, g: Glob, a: int, b: int) -> bool:
    """Does segment glob `g` match all of s[a:b]?"""
    if len(g) == 1:
        return b - a == len(g[0]) and s.startswith(g[0], a, b)
    head, tail = g[0], g[-1]
    if b - a < len(head) + len(tail) or not s.startswith(head, a, b):
        return False
    if not s.endswith(tail, a, b):
        return False
    return _greedy(s, g[1:-1], a + len(head), b - len(tail)) >= 0


def _prefix_end(s: str, g: Glob, a: int, b: int) -> int:
    """The earliest end of a match of `g` starting exactly at a, within s[a:b], or -1."""
    if not s.startswith(g[0], a, b):
        return -1
    return _greedy(s, g[1:], a + len(g[0]), b)


def _suffix(s: str, g: Glob, lo: int, b: int) -> bool:
    """Does `g` match some s[x:b] with x >= lo?"""
    tail = g[-1]
    end = b - len(tail)
    if end < lo or not s.endswith(tail, lo, b):
        return False
    return _greedy(s, g[:-1], lo, end) >= 0


@dataclass(frozen=True)
class _Matcher:
    chunks: tuple[tuple[Glob, ...], ...]  # split at `**`, then at `/`

    def matches(self, value: str) -> bool:
        lengths = [len(seg) for seg in value.split("/")]
        starts = list(accumulate((n + 1 for n in lengths[:-1]), initial=0))
        ends = [a + n for a, n in zip(starts, lengths, strict=True)]
        if len(self.chunks) == 1:  # `*` only: segment by segment
            globs = self.chunks[0]
            return len(globs) == len(starts) and all(
                _full(value, g, a, b) for g, a, b in zip(globs, starts, ends, strict=True)
            )
        pos = _first(value, self.chunks[0], starts, ends)
        for chunk in self.chunks[1:-1]:
            if pos < 0:
                return False
            pos = _middle(value, chunk, pos, starts, ends)
        return pos >= 0 and _last(value, self.chunks[-1], pos, starts, ends)


def _first(s: str, globs: tuple[Glob, ...], starts: list[int], ends: list[int]) -> int:
    """Where C0, anchored at the start, ends earliest; -1: nowhere."""
    m = len(globs) - 1
    if m >= len(starts):
        return -1
    if not all(_full(s, globs[j], starts[j], ends[j]) for j in range(m)):
        return -1
    return _prefix_end(s, globs[m], starts[m], ends[m])


def _middle(s: str, globs: tuple[Glob, ...], pos: int, starts: list[int], ends: list[int]) -> int:
    """Where a middle chunk, starting at or after pos, ends earliest; -1: nowhere."""
    m = len(globs) - 1
    if m == 0:  # within one segment: jump to each occurrence of its first piece
        head = globs[0][0]
        while (j := s.find(head, pos)) >= 0:
            seg_end = ends[bisect_right(starts, j) - 1]
            end = _greedy(s, globs[0][1:], j + len(head), seg_end)
            if end >= 0:
                return end
            pos = seg_end + 1  # a later start in this segment leaves less room
        return -1
    for a in range(bisect_right(starts, pos) - 1, len(starts) - m):
        if not _suffix(s, globs[0], max(pos, starts[a]), ends[a]):
            continue
        if not all(_full(s, globs[j], starts[a + j], ends[a + j]) for j in range(1, m)):
            continue
        end = _prefix_end(s, globs[m], starts[a + m], ends[a + m])
        if end >= 0:
            return end
    return -1


def _last(s: str, globs: tuple[Glob, ...], pos: int, starts: list[int], ends: list[int]) -> bool:
    """Does Ck match a suffix of s starting at or after pos?"""
    m = len(globs) - 1
    a = len(starts) - 1 - m  # the chunk covers the last m + 1 segments
    if a < 0 or ends[a] < pos:
        return False
    if not _suffix(s, globs[0], max(pos, starts[a]), ends[a]):
        return False
    return all(_full(s, globs[j], starts[a + j], ends[a + j]) for j in range(1, m + 1))


@lru_cache(maxsize=256)
def _compiled(parts: tuple[str, ...]) -> _Matcher:
    chunks: list[list[list[str]]] = [[[""]]]  # chunks > segment globs > pieces
    for i, part in enumerate(parts):
        if i % 2 == 0:  # literal: its first segment continues the open piece
            first, *rest = part.split("/")
            chunks[-1][-1][-1] += first
            chunks[-1].extend([seg] for seg in rest)
        elif part == "*":  # a new piece of the same segment glob
            chunks[-1][-1].append("")
        else:  # `**`: a new chunk
            chunks.append([[""]])
    return _Matcher(tuple(tuple(tuple(g) for g in chunk) for chunk in chunks))
