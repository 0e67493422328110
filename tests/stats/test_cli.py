"""`footfall stats`: the overview tables print the engine's numbers."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from footfall import stats
from footfall.cli import main

from .dataset import UTC_SITE
from .test_engine import CUSTOM


def test_overview_tables(store: Any) -> None:
    result = CliRunner().invoke(
        main,
        ["stats", "--db", store.url, "--site", UTC_SITE, "--period", "custom", "--date", CUSTOM],
    )
    assert result.exit_code == 0, result.output
    totals = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics="visitors,visits")
    assert str(totals["visitors"]) in result.output and str(totals["visits"]) in result.output
    for title in ("top page", "top source", "top country", "top browser", "over time"):
        assert title in result.output


def test_bad_option_is_a_usage_error(store: Any) -> None:
    result = CliRunner().invoke(
        main, ["stats", "--db", store.url, "--site", UTC_SITE, "--period", "fortnight"]
    )
    assert result.exit_code == 2 and "period" in result.output


def test_rebuild_command(store: Any) -> None:
    before = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics="visitors,visits")
    result = CliRunner().invoke(main, ["stats", "rebuild", "--db", store.url, "--site", UTC_SITE])
    assert result.exit_code == 0 and "rebuilt" in result.output
    after = stats.query(store, UTC_SITE, period="custom", date=CUSTOM, metrics="visitors,visits")
    assert after == before
