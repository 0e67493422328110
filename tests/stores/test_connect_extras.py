"""`connect` names the extra to install only when the extra is what is missing."""

from __future__ import annotations

import sys

import pytest

from footfall.errors import ConfigurationError
from footfall.stores import connect

PG_URL = "postgresql://nobody@127.0.0.1:1/none"
CH_URL = "clickhouse://127.0.0.1:1/none"


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make `import name` fail as it does when a package is not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _unload(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Forget an imported module for this test, so `connect` imports it anew."""
    if module in sys.modules:
        monkeypatch.delitem(sys.modules, module)


def test_a_missing_driver_names_the_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _unload(monkeypatch, "footfall.stores.postgres")
    _block(monkeypatch, "psycopg")
    with pytest.raises(ConfigurationError, match=r"pip install 'footfall\[postgres\]'"):
        connect(PG_URL)


def test_a_missing_driver_names_the_clickhouse_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _unload(monkeypatch, "footfall.stores.clickhouse")
    _block(monkeypatch, "clickhouse_driver")
    with pytest.raises(ConfigurationError, match=r"pip install 'footfall\[clickhouse\]'"):
        connect(CH_URL)


@pytest.mark.parametrize(
    ("url", "backend"),
    [(PG_URL, "footfall.stores.postgres"), (CH_URL, "footfall.stores.clickhouse")],
)
def test_a_broken_backend_module_is_not_blamed_on_the_extra(
    monkeypatch: pytest.MonkeyPatch, url: str, backend: str
) -> None:
    _block(monkeypatch, backend)  # footfall's own module fails to import
    with pytest.raises(ImportError) as caught:
        connect(url)
    assert not isinstance(caught.value, ConfigurationError)
    assert caught.value.name == backend
