"""Footfall's own modules are imported at the top of a module, where a reader sees them.

An import inside a function hides a dependency from the reader and from the
import contracts' reading of the layers (`lint-imports`, pyproject.toml).
It is allowed only with a comment that says why, on its line or on the line
above it (or above the run of imports it belongs to), e.g.
`# lazy: keeps `footfall --help` fast` or `# optional extra: postgres`.
Imports under `if TYPE_CHECKING:` are fine: they never run.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "footfall"
# Comments that say nothing about why.
NOT_A_REASON = ("noqa", "type:", "pragma", "fmt:")


def _comments(source: str) -> dict[int, str]:
    """Line number -> the text of the comment on that line."""
    found: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            text = tok.string.lstrip("#").strip()
            if text and not text.startswith(NOT_A_REASON):
                found[tok.start[0]] = text
    return found


def _is_footfall(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "footfall"
    return any(alias.name.split(".")[0] == "footfall" for alias in node.names)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _bodies(node: ast.AST) -> list[list[ast.stmt]]:
    return [
        value
        for field in ("body", "orelse", "finalbody", "handlers")
        if isinstance(value := getattr(node, field, None), list)
        and all(isinstance(v, ast.stmt | ast.excepthandler) for v in value)
    ]


def _unexplained(source: str, name: str) -> list[str]:
    """`name:line: import` for each import of footfall code in a function without a reason."""
    comments = _comments(source)
    lines = source.splitlines()
    found: list[str] = []

    def explained(stmt: ast.stmt, run_start: int) -> bool:
        end = stmt.end_lineno or stmt.lineno
        return any(n in comments for n in range(stmt.lineno, end + 1)) or (
            run_start - 1 in comments
        )

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for stmt in node.orelse:
                visit(stmt, in_function)
            return
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for body in _bodies(node):
            run_start = 0  # first line of the run of imports `stmt` belongs to
            for stmt in body:
                if not isinstance(stmt, ast.Import | ast.ImportFrom):
                    run_start = 0
                    visit(stmt, inside)
                    continue
                run_start = run_start or stmt.lineno
                if inside and _is_footfall(stmt) and not explained(stmt, run_start):
                    found.append(f"{name}:{stmt.lineno}: {lines[stmt.lineno - 1].strip()}")

    visit(ast.parse(source), False)
    return found


def test_no_unexplained_import_of_footfall_inside_a_function() -> None:
    root = SRC.parent.parent
    found = [
        line
        for path in sorted(SRC.rglob("*.py"))
        for line in _unexplained(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    ]
    assert not found, (
        "import these at the top of the module, or say why on the line"
        " (e.g. `# lazy: keeps footfall --help fast`):\n" + "\n".join(found)
    )


def test_the_check_finds_only_unexplained_function_imports() -> None:
    sample = (
        "from typing import TYPE_CHECKING\n"
        "from footfall.event import Event\n"
        "if TYPE_CHECKING:\n"
        "    from footfall.stores import Store\n"
        "def bare():\n"
        "    from footfall.errors import FootfallError\n"
        "def on_the_line():\n"
        "    from footfall.errors import FootfallError  # optional extra: none\n"
        "def above_the_run():\n"
        "    # lazy: keeps the sample fast\n"
        "    import json\n"
        "    from footfall.errors import FootfallError\n"
        "def only_noqa():\n"
        "    from footfall.errors import FootfallError  # noqa: F401\n"
        "def third_party():\n"
        "    import json\n"
        "class Holder:\n"
        "    def method(self):\n"
        "        def inner():\n"
        "            from . import event\n"
    )
    assert [line.split(": ", 1)[0] for line in _unexplained(sample, "s.py")] == [
        "s.py:6",
        "s.py:14",
        "s.py:20",
    ]
