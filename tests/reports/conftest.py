"""A filled SQLite store for the report tests: the stats tests' data set, copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.stats.dataset import TZ, TZ_SITE, build

from footfall import connect
from footfall.stores import meta_reports
from footfall.stores.meta import SavedGoal, Site, open_meta

SITE = TZ_SITE  # Europe/Berlin, with a change from summer time on 2026-10-25
# Before every period the tests report on: subscriptions made "then" are due.
LONG_AGO = int(datetime(2026, 9, 1, tzinfo=timezone.utc).timestamp())


@pytest.fixture(scope="session")
def filled_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data set in a SQLite file, its summaries folded, a page goal and an event goal saved."""
    path = tmp_path_factory.mktemp("reports") / "template.db"
    store = connect(f"sqlite:///{path}")
    meta = open_meta(store)
    meta.add_site(Site(SITE, TZ, True))
    meta.add_goal(SavedGoal(site=SITE, name="Signup", event="Signup"))
    meta.add_goal(SavedGoal(site=SITE, name="Visit /pricing", page="/pricing"))
    store.write(build())
    store.close()
    return path


@pytest.fixture
def db_url(filled_db: Path, tmp_path: Path) -> str:
    """A copy of the filled store for one test."""
    path = tmp_path / "footfall.db"
    shutil.copy(filled_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    s = connect(db_url)
    yield s
    s.close()


def subscribe(store: Any, email: str, period: str = "week", site: str = SITE) -> Any:
    """Subscribe `email` as if long ago, so every period the tests pick is due for it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(meta_reports, "_now", lambda: LONG_AGO)
        sub = open_meta(store).add_report(site, email, period)
    assert sub is not None
    return sub
