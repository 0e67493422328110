"""The fenced code blocks of README.md and docs/, with the marker comment right above each.

Two markers, HTML comments on the line right above a fence (invisible where
the Markdown is rendered):

* `<!-- doc-step: GROUP/STEP -->`: the block is one step of a walk-through
  that a test in tests/docs runs in order (the README's first steps, the
  deployment layouts); that test reads the block from here, so the page and
  the test cannot drift apart.
* `<!-- not run: REASON -->`: a Python block that is a fragment, and why
  (it names your own app, it is a Django settings file, ...).

Every other Python block runs as it is printed (tests/docs/doc_pages.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ("py", "python", "python3")
MARKER = re.compile(r"^<!--\s*(doc-step|not run):\s*(.*?)\s*-->$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    options: tuple[str, ...]  # the rest of the info string (`fixture:app`, `continuation`)
    text: str
    marker: str  # "doc-step", "not run" or ""
    argument: str  # the step's name, or the reason a block is not run

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def doc_pages() -> list[Path]:
    """README.md and every page under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def is_doc_page(path: Path) -> bool:
    return path.suffix == ".md" and (
        path == ROOT / "README.md" or (ROOT / "docs") in path.resolve().parents
    )


@cache
def _parse(path: Path, mtime: float) -> tuple[Block, ...]:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    blocks = []
    for i, token in enumerate(tokens):
        if token.type != "fence" or not token.map:
            continue
        info = token.info.split()
        marker = argument = ""
        above = tokens[i - 1] if i else None
        if above is not None and above.type == "html_block":
            found = MARKER.match(above.content.strip())
            if found:
                marker, argument = found.groups()
        blocks.append(
            Block(
                path=path,
                line=token.map[0] + 1,
                lang=info[0] if info else "",
                options=tuple(info[1:]),
                text=token.content,
                marker=marker,
                argument=argument,
            )
        )
    return tuple(blocks)


def blocks_of(path: Path) -> tuple[Block, ...]:
    """The fenced blocks of one page, in order (re-read when the file changes)."""
    return _parse(path, path.stat().st_mtime)


def steps(group: str) -> dict[str, Block]:
    """The `doc-step: GROUP/NAME` blocks of every page, by NAME, in page order."""
    found: dict[str, Block] = {}
    for page in doc_pages():
        for block in blocks_of(page):
            if block.marker == "doc-step" and block.argument.startswith(f"{group}/"):
                name = block.argument.split("/", 1)[1]
                assert name not in found, f"two blocks are step {block.argument}"
                found[name] = block
    return found
