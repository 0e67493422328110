"""docs/goals.md, followed as printed: its commands, their output, its HTTP answers.

The page's `goals/cli` commands run in order against a new store, and the
last one must print the page's `goals/list` block. Then the page's first
Python block sends its events into that store, and every request of the
`goals/http` block must get exactly the JSON the page shows. (The page's
Python blocks also run on their own, as every doc block does.)
"""

from __future__ import annotations

import json
import shlex
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient
from tests.docs.doc_blocks import ROOT, blocks_of, steps

from footfall import connect
from footfall.cli import main
from footfall.server.state import ServerState
from footfall.stats import api
from footfall.stores.meta import hash_token, open_meta

PAGE = ROOT / "docs" / "goals.md"
SECRET = "ff_docs_goals_secret"


def _run(line: str, db: str) -> Any:
    args = shlex.split(line)
    assert args[0] == "footfall", line
    result = CliRunner().invoke(main, args[1:], env={"FOOTFALL_DB": db}, prog_name="footfall")
    assert result.exit_code == 0, (line, result.output)
    return result


def test_the_goals_page_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'footfall.db'}"
    page = steps("goals")
    lines = [line for line in page["cli"].text.splitlines() if line.strip()]
    results = [_run(line, db) for line in lines]
    assert results[-1].stdout == page["list"].text

    events = next(b for b in blocks_of(PAGE) if b.is_python)
    exec(compile(events.text, str(PAGE), "exec"), {})  # the page's own block

    store = connect(db)
    try:
        open_meta(store).add_token("docs", "example.com", hash_token(SECRET), SECRET[:9])
        state = ServerState(store=store, tracker=None, db_url=db)  # type: ignore[arg-type]
        with TestClient(Starlette(routes=api.routes(state))) as client:
            shown = page["http"].text.splitlines()
            requests = [(a, b) for a, b in pairwise(shown) if a.startswith("GET ")]
            assert len(requests) == 3
            for request, answer in requests:
                path = request.removeprefix("GET ")
                r = client.get(path, headers={"Authorization": f"Bearer {SECRET}"})
                assert r.status_code == 200, (path, r.text)
                assert r.json() == json.loads(answer.strip().removeprefix("-> ")), path
    finally:
        store.close()
