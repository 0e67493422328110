"""Commands that read or change what a store holds never create one where none is."""

from __future__ import annotations

from pathlib import Path

import pytest

import footfall
from footfall.sites import list_sites, list_tokens

from .conftest import SITE, invoke

NEEDS_A_STORE = [
    ("sites", "list"),
    ("sites", "edit", SITE, "--public"),
    ("sites", "remove", SITE, "--yes"),
    ("token", "list"),
    ("token", "revoke", "1"),
    ("users", "list"),
    ("users", "delete", "bob", "--yes"),
    ("users", "passwd", "bob", "--password-stdin"),
    ("failed", "list"),
    ("failed", "retry"),
    ("stats", "--site", SITE),
    ("stats", "rebuild"),
    ("export",),
    ("purge", "--older-than", "400", "--yes"),
    ("delete-visitor", "v1", "--yes"),
]


@pytest.mark.parametrize("args", NEEDS_A_STORE, ids=" ".join)
def test_without_a_store_the_command_fails_and_creates_nothing(
    args: tuple[str, ...], empty_cwd: Path
) -> None:
    result = invoke(*args, input="a long password\n")
    assert result.exit_code == 1, result.output
    assert "no footfall database at ./footfall.db: pass --db or set FOOTFALL_DB" in result.stderr
    assert list(empty_cwd.iterdir()) == []


def test_a_missing_store_named_by_the_environment_is_not_created_either(
    empty_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = empty_cwd / "not" / "there.db"
    monkeypatch.setenv("FOOTFALL_DB", f"sqlite:///{missing}")
    result = invoke("sites", "list")
    assert result.exit_code == 1
    assert f"no footfall database at {missing}" in result.stderr
    assert list(empty_cwd.iterdir()) == []


def test_sites_and_tokens_go_to_the_store_named_by_db_or_the_environment(
    tmp_path: Path, empty_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Layout 2's steps: the site and the token land in the server's store, not in ./."""
    by_option = f"sqlite:///{tmp_path / 'option.db'}"
    assert invoke("sites", "add", SITE, "--db", by_option).exit_code == 0
    made = invoke("token", "create", "--name", "backend", "--site", SITE, "--db", by_option)
    assert made.exit_code == 0, made.output
    by_env = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("FOOTFALL_DB", by_env)
    assert invoke("sites", "add", "other.example").exit_code == 0
    assert invoke("token", "create", "--name", "app").exit_code == 0
    with footfall.connect(by_option) as store:
        assert [s.domain for s in list_sites(store)] == [SITE]
        assert [t.name for t in list_tokens(store)] == ["backend"]
    with footfall.connect(by_env) as store:
        assert [s.domain for s in list_sites(store)] == ["other.example"]
        assert [t.name for t in list_tokens(store)] == ["app"]
    assert list(empty_cwd.iterdir()) == []
