"""What the docs say about the command line matches it."""

from __future__ import annotations

import re
from pathlib import Path

from footfall.cli import main

ROOT = Path(__file__).resolve().parents[2]
# `sqlite:///var/...` is the relative path var/...: an absolute one takes four slashes.
THREE_SLASHES_TO_A_SYSTEM_FOLDER = re.compile(
    r"sqlite:///(?:var|srv|opt|home|tmp|etc|usr|mnt|root|Users)/"
)


def test_the_readme_command_table_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `footfall ([\w-]+)", readme, flags=re.MULTILINE))
    missing = sorted(set(main.commands) - rows)
    assert not missing, f"README.md's command table lacks {missing}"


def test_absolute_sqlite_paths_in_the_docs_have_four_slashes() -> None:
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "examples").rglob("*")]
    wrong = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        if path.is_file() and path.suffix in (".md", ".py", ".sh", ".txt", ".toml", ".ini")
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if THREE_SLASHES_TO_A_SYSTEM_FOLDER.search(line)
    ]
    assert not wrong, "\n".join(wrong)
