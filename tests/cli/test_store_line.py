"""Every command says which store it used, on the first line of stderr."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from footfall.cli import main
from footfall.cli.open_store import shown_url

from .conftest import SITE, invoke

DATA = Path(__file__).resolve().parents[1] / "data"
FTU_TABLE = DATA / "flask_track_usage" / "flask_usage.sqlite"

# `serve` and `worker` run until stopped: test_serve_command.py covers them.
LONG_RUNNING = {("serve",), ("worker",)}

# One run of every command, in an order that leaves each one something to do.
RUNS: list[tuple[tuple[str, ...], tuple[str, ...], str | None]] = [
    (("migrate",), (), None),
    (("demo",), ("--if-empty", "--quiet"), None),
    (("export",), ("--limit", "1"), None),
    (("stats",), ("--site", SITE, "--period", "7d"), None),
    (("stats", "rebuild"), ("--site", SITE), None),
    (("sites", "add"), ("new.example",), None),
    (("sites", "list"), (), None),
    (("sites", "edit"), ("new.example", "--public"), None),
    (("sites", "remove"), ("new.example", "--yes"), None),
    (("token", "create"), ("--name", "ci"), None),
    (("token", "list"), (), None),
    (("token", "revoke"), ("1",), None),
    (("users", "add"), ("bob", "--password-stdin"), "a long password 1\n"),
    (("users", "passwd"), ("bob", "--password-stdin"), "a long password 2\n"),
    (("users", "list"), (), None),
    (("users", "delete"), ("bob", "--yes"), None),
    (("failed", "list"), (), None),
    (("failed", "retry"), (), None),
    (
        ("alerts", "add"),
        ("--site", SITE, "--kind", "spike", "--threshold", "1e9", "--email", "o@x.y"),
        None,
    ),
    (("alerts", "list"), (), None),
    (("alerts", "check"), (), None),
    (("alerts", "remove"), ("1", "--yes"), None),
    (("goals", "add"), ("--site", SITE, "--page", "/pricing"), None),
    (("goals", "list"), (), None),
    (("goals", "remove"), ("--site", SITE, "Visit /pricing", "--yes"), None),
    (("annotate",), ("--site", SITE, "--date", "2026-03-02", "Launched"), None),
    (("reports", "add"), ("--site", SITE, "--email", "o@x.y"), None),
    (("reports", "list"), (), None),
    (("reports", "send"), ("--site", SITE, "--dry-run"), None),
    (("reports", "remove"), ("--site", SITE, "--email", "o@x.y", "--yes"), None),
    (("delete-visitor",), ("nobody", "--yes"), None),
    (("purge",), ("--older-than", "4000", "--yes"), None),
    (
        ("import", "log"),
        ("-", "--site", SITE),
        '81.2.69.142 - - [02/Mar/2026:10:00:00 +0100] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"\n',
    ),
    (("import", "flask-track-usage"), (f"sqlite:///{FTU_TABLE}",), None),
    (("import", "umami"), (str(DATA / "umami" / "website_event.csv"), "--site", SITE), None),
    (("import", "ga4"), (str(DATA / "ga4" / "totals.csv"), "--site", SITE), None),
    (
        ("import", "plausible"),
        (str(DATA / "plausible" / "imported_visitors_20240101_20240103.csv"), "--site", SITE),
        None,
    ),
    (("import", "delete"), ("--site", SITE, "--yes"), None),
    (
        ("import", "footfall"),
        ("-",),
        '{"name":"pageview","id":"e-1","ts":"2026-03-02T10:00:00Z","site":"' + SITE + '"}\n',
    ),
]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command that runs something (groups that only hold sub-commands excluded)."""
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found |= _commands(command, path)
            if command.invoke_without_command:
                found.add(path)
        else:
            found.add(path)
    return found


def test_the_runs_below_cover_every_command() -> None:
    assert {path for path, _, _ in RUNS} | LONG_RUNNING == _commands(main)


def test_every_command_names_its_store_first_with_a_relative_path_made_absolute(
    filled_url: str, empty_cwd: Path
) -> None:
    # The store sits in ./data/ under the working folder, named by a relative URL.
    shutil.copytree(Path(filled_url.removeprefix("sqlite:///")).parent, empty_cwd / "data")
    expected = f"footfall: store sqlite:///{empty_cwd / 'data' / 'footfall.db'}"
    assert expected.startswith("footfall: store sqlite:////")
    for path, args, stdin in RUNS:
        result = invoke(*path, "--db", "sqlite:///data/footfall.db", *args, input=stdin)
        assert result.exit_code == 0, (path, result.output)
        assert result.stderr.splitlines()[0] == expected, (path, result.stderr)
        assert expected not in result.stdout, path  # stdout stays clean for pipes
    assert sorted(p.name for p in empty_cwd.iterdir()) == ["data"]


def test_the_store_line_hides_passwords_and_names_memory() -> None:
    assert shown_url("postgresql://app:s3cret@db:5432/ff") == "postgresql://app:***@db:5432/ff"
    assert shown_url("sqlite://") == "sqlite:// (in memory)"
    assert shown_url("sqlite:////var/lib/footfall/footfall.db") == (
        "sqlite:////var/lib/footfall/footfall.db"
    )
    assert shown_url("sqlite:///~/ff.db") == f"sqlite:///{Path.home() / 'ff.db'}"


def test_a_command_that_creates_a_store_says_so(empty_cwd: Path) -> None:
    result = invoke("sites", "add", SITE)
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first == f"footfall: store sqlite:///{empty_cwd / 'footfall.db'} (new file)"
    again = invoke("sites", "list")
    assert again.stderr.splitlines()[0] == f"footfall: store sqlite:///{empty_cwd / 'footfall.db'}"
