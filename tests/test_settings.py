"""Environment variables: one module reads them, one page lists them, bad values fail loudly."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from footfall import settings
from footfall.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "footfall"
PAGE = ROOT / "docs" / "configuration.md"
NAME = re.compile(r"\bFOOTFALL_[A-Z][A-Z0-9_]*\b")


def _names_in(*folders: Path) -> dict[str, str]:
    """Every FOOTFALL_ name in the Python files under `folders`, with one file it is in."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            for name in NAME.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def _environment_reads(path: Path) -> list[int]:
    """Lines where `path` reads the process environment (`os.environ[...] = x` is a write)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    written = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del))
    }
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "environb", "getenv")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and id(node) not in written
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ("environ", "environb", "getenv") for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.keyword) and node.arg in ("envvar", "auto_envvar_prefix"):
            lines.append(node.value.lineno)  # click reading the environment for us
    return sorted(lines)


def test_every_variable_in_the_code_is_on_the_configuration_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    names = _names_in(SRC, ROOT / "tests", ROOT / "bench")
    missing = {name: where for name, where in names.items() if f"`{name}`" not in page}
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_variable_on_the_page_is_still_read_somewhere() -> None:
    used = set(_names_in(SRC, ROOT / "tests", ROOT / "bench"))
    listed = set(NAME.findall(PAGE.read_text(encoding="utf-8")))
    assert listed - used == set()


def test_every_declared_setting_is_checked_and_listed_once() -> None:
    declared = [v for v in vars(settings).values() if isinstance(v, settings.Setting)]
    assert sorted(s.name for s in declared) == sorted(s.name for s in settings.ALL)
    assert len({s.name for s in settings.ALL}) == len(settings.ALL)
    page = PAGE.read_text(encoding="utf-8")
    for setting in settings.ALL:
        assert f"| `{setting.name}` |" in page, setting.name


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "settings.py" and (lines := _environment_reads(path))
    }
    assert not readers, f"read these through footfall.settings instead: {readers}"


def test_the_reader_check_sees_reads_and_lets_writes_pass(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "os.environ['FOOTFALL_DB'] = 'x'\n"
        "a = os.environ.get('FOOTFALL_DB')\n"
        "b = os.getenv('FOOTFALL_DB')\n"
        "c = os.environ['FOOTFALL_DB']\n"
        "option(envvar='FOOTFALL_DB')\n"
    )
    assert _environment_reads(sample) == [3, 4, 5, 6]


def test_a_setting_is_read_when_called_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOOTFALL_QUEUE_SIZE", raising=False)
    assert settings.QUEUE_SIZE() == 100_000
    monkeypatch.setenv("FOOTFALL_QUEUE_SIZE", "500")
    assert settings.QUEUE_SIZE() == 500
    monkeypatch.setenv("FOOTFALL_QUEUE_SIZE", "  ")
    assert settings.QUEUE_SIZE() == 100_000  # empty counts as unset


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("FOOTFALL_QUEUE_SIZE", "lots"),
        ("FOOTFALL_QUEUE_SIZE", "0"),
        ("FOOTFALL_QUEUE_SIZE", "1.5"),
        ("FOOTFALL_SERVER_DRAIN_SECONDS", "0"),
        ("FOOTFALL_STATS_TIMEOUT", "-1"),
        ("FOOTFALL_STATS_TIMEOUT", "nan"),
        ("FOOTFALL_CATCHUP_SECONDS", "soon"),
        ("FOOTFALL_CH_SETTLE_SECONDS", "inf"),
        ("FOOTFALL_ROLLUP_CHUNK", "0"),
        ("FOOTFALL_RATE_LIMIT", "fast"),
        ("FOOTFALL_RATE_LIMIT", "10/0"),
        ("FOOTFALL_TRUSTED_PROXIES", "-1"),
        ("FOOTFALL_SCHEMAS_STRICT", "maybe"),
        ("FOOTFALL_SQLITE_WRITER_LOCK", "2"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(name: str, text: str) -> None:
    with pytest.raises(settings.SettingError, match=name) as caught:
        settings.check({name: text})
    assert caught.value.name == name
    assert isinstance(caught.value, ConfigurationError) and isinstance(caught.value, ValueError)


def test_values_parse_to_their_types() -> None:
    env = {
        "FOOTFALL_RATE_LIMIT": "off",
        "FOOTFALL_TRUSTED_PROXIES": " 2 ",
        "FOOTFALL_FAILED_BYTES": "1_000",
        "FOOTFALL_CATCHUP_MAX_LAG": "1e5",
        "FOOTFALL_NO_SIGNALS": "yes",
        "FOOTFALL_SQLITE_WRITER_LOCK": "off",
    }
    assert settings.RATE_LIMIT(env) == (0.0, 0.0)
    assert settings.RATE_LIMIT({"FOOTFALL_RATE_LIMIT": "10"}) == (10.0, 20.0)
    assert settings.RATE_LIMIT({"FOOTFALL_RATE_LIMIT": "0.5/3"}) == (0.5, 3.0)
    assert settings.TRUSTED_PROXIES(env) == 2
    assert settings.FAILED_BYTES(env) == 1_000
    assert settings.CATCHUP_MAX_LAG(env) == 100_000
    assert settings.NO_SIGNALS(env) is True and settings.NO_SIGNALS({}) is False
    assert settings.SQLITE_WRITER_LOCK(env) is False and settings.SQLITE_WRITER_LOCK({}) is True
    assert settings.SCHEMAS({}) is None


def test_serve_refuses_a_bad_value_before_starting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from footfall.cli import main

    db = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("FOOTFALL_DB", db)  # serve sets it; monkeypatch puts it back
    monkeypatch.setenv("FOOTFALL_CATCHUP_SECONDS", "soon")
    result = CliRunner().invoke(main, ["serve", "--db", db, "--port", "1"])
    assert result.exit_code == 1
    assert "FOOTFALL_CATCHUP_SECONDS must be a number at least 0, not 'soon'" in result.output
    assert not (tmp_path / "serve.db").exists()  # stopped before touching the store


def test_the_server_refuses_a_bad_value_when_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from footfall.server.app import create_app

    monkeypatch.setenv("FOOTFALL_STATS_CONCURRENCY", "0")
    with pytest.raises(settings.SettingError, match="FOOTFALL_STATS_CONCURRENCY"):
        create_app(f"sqlite:///{tmp_path / 'app.db'}")
