"""The built package stands alone: installed from its wheel, outside the checkout, it works.

Until footfall is on a package index, users install the wheel `make dist`
builds. Everything the code reads at run time besides Python (migrations,
dashboard templates and static files, the browser script) must be inside it,
or a fresh install fails on its first `footfall migrate` or page view while
every test run from the checkout passes.

The build starts from a copy of the checkout (without its venv, caches and
databases), so it neither writes into the working tree nor depends on files
only a developer's machine has. It runs `python -m build --no-isolation`: the
sdist first, then the wheel from the sdist, as `make dist` does, so a file
missing from the sdist is missing from the wheel too. No network is needed:
setuptools and build come with the dev extra.

The wheel goes into a fresh venv with `pip install --no-deps --no-index`; its
dependencies come from the venv running the tests through a `.pth` line that
names that venv's site-packages directory (a plain path entry: the `.pth`
files in it, such as an editable install's pointer to `src/`, are not run).
The test checks that `footfall` is imported from the new venv and that the
checkout's `src/` is not on its path.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.private_servers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SITE = "example.com"
WAIT = 60.0  # seconds: the bound of every wait here
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
# What an sdist may hold at its top: the build's inputs and setuptools' own files.
SDIST_TOP = {"PKG-INFO", "README.md", "pyproject.toml", "setup.cfg", "MANIFEST.in", "src"}
LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS")


@dataclass(frozen=True)
class Dist:
    source: Path  # the copy of the checkout the build started from
    wheel: Path
    sdist: Path

    @property
    def package(self) -> Path:
        return self.source / "src" / "footfall"


def _not_source(folder: str, names: list[str]) -> set[str]:
    """What the build copy leaves out: environments, caches, databases, old builds."""
    left_out = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    left_out |= {n for n in names if re.search(r"\.db($|-|\.)", n)}
    if Path(folder) == ROOT:
        left_out |= {n for n in names if n.startswith(".") and n != ".gitignore"}
        left_out |= {"build", "dist"} & set(names)
    if Path(folder).name == "js":
        left_out |= {"node_modules"} & set(names)
    return left_out


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """Build the sdist and the wheel once for this module, from a copy of the checkout."""
    base = tmp_path_factory.mktemp("dist")
    source = base / "footfall"
    shutil.copytree(ROOT, source, ignore=_not_source)
    out = base / "out"
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"python -m build failed:\n{done.stdout}\n{done.stderr}"
    (wheel,) = out.glob("footfall-*-py3-none-any.whl")
    (sdist,) = out.glob("footfall-*.tar.gz")
    return Dist(source, wheel, sdist)


def _package_files(package: Path) -> set[str]:
    """Every file of the package tree, as `footfall/...` paths (bytecode aside)."""
    return {
        p.relative_to(package.parent).as_posix()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_wheel_holds_every_file_of_the_package_and_nothing_else(dist: Dist) -> None:
    expected = _package_files(dist.package)
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
    shipped = {n for n in names if not n.split("/")[0].endswith(".dist-info")}

    assert sorted(expected - shipped) == [], "in src/footfall but missing from the wheel"
    assert sorted(shipped - expected) == [], "in the wheel but not in src/footfall"
    # The data files the package reads at run time, by name, so that the
    # comparison above cannot pass on an empty or partial tree.
    for data in (
        "footfall/py.typed",
        "footfall/stores/migrations/sqlite/0001_events.sql",
        "footfall/stores/migrations/postgres/0001_events.sql",
        "footfall/stores/migrations/clickhouse/0001_events.sql",
        "footfall/collector/static/footfall.js",
        "footfall/dashboard/templates/base.html",
        "footfall/dashboard/static/dashboard.css",
        "footfall/dashboard/static/vendor/uPlot.iife.min.js",
    ):
        assert data in shipped


def test_sdist_holds_the_package_and_no_tests_bench_or_docs(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        members = [m.name for m in sdist.getmembers()]
    top_dir = dist.sdist.name.removesuffix(".tar.gz")
    assert all(m == top_dir or m.startswith(top_dir + "/") for m in members)
    inside = [m.removeprefix(top_dir + "/") for m in members if m != top_dir]

    top = {m.split("/")[0] for m in inside}
    strays = {t for t in top - SDIST_TOP if not t.upper().startswith(LICENSE_PREFIXES)}
    assert strays == set(), f"the sdist holds {sorted(strays)}"
    under_src = {m.split("/")[1] for m in inside if m.startswith("src/") and m != "src/"}
    assert under_src <= {"footfall", "footfall.egg-info"}
    missing = {f for f in _package_files(dist.package) if f"src/{f}" not in inside}
    assert sorted(missing) == [], "in src/footfall but missing from the sdist"


# --- the wheel installed alone ------------------------------------------------------


class Installed:
    """A fresh venv outside the checkout holding the wheel, and commands run from it."""

    def __init__(self, root: Path, wheel: Path) -> None:
        self.venv = root / "venv"
        self.python = self.venv / "bin" / "python"
        self.cwd = root / "work"  # an empty folder, as a new user's
        self.cwd.mkdir()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "FOOTFALL_", "VIRTUAL_ENV"))
        }
        self.env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(self.venv)],
            check=True,
            timeout=WAIT,
        )
        # The tests' own pip installs into the new venv: no network, no dependencies.
        pip = [sys.executable, "-m", "pip", "--python", str(self.python), "install"]
        pip += ["--no-deps", "--no-index", "--no-cache-dir", "--disable-pip-version-check"]
        done = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=WAIT * 2)
        assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
        # The dependencies: this venv's site-packages, as plain path entries.
        self.deps = list(dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")))
        own = self.python_says("import sysconfig; print(sysconfig.get_paths()['purelib'])")
        (Path(own) / "_footfall_test_deps.pth").write_text("\n".join(self.deps) + "\n")

    def python_says(self, code: str) -> str:
        """What the new venv's Python prints for `code`, run from the empty folder."""
        done = subprocess.run(
            [str(self.python), "-c", code],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def footfall(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`footfall ARGS` through the console script the wheel installed."""
        done = subprocess.run(
            [str(self.venv / "bin" / "footfall"), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        assert done.returncode == 0, f"footfall {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    @contextmanager
    def serve(self, db_url: str, log: Path) -> Iterator[str]:
        """`footfall serve` on a free port; yields its base URL, stops it with SIGTERM."""
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [str(self.venv / "bin" / "footfall"), "serve", "--db", db_url, "--port", str(port)]
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:

            def healthy() -> bool:
                if proc.poll() is not None:
                    pytest.fail(f"footfall serve exited with {proc.returncode}:\n{_read(log)}")
                try:
                    return get(f"{base}/health").status == 200
                except OSError:
                    return False

            wait_for(healthy, f"footfall serve to answer /health:\n{_read(log)}")
            yield base
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(WAIT)


def _read(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def wait_for(check: Callable[[], Any], what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT:.0f}s waiting for {what}")
        time.sleep(0.1)
    return value


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def get(url: str, body: dict[str, Any] | None = None) -> Answer:
    """GET `url` (POST `body` as JSON if given) with a browser's User-Agent."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"User-Agent": BROWSER, "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return Answer(r.status, r.headers.get("Content-Type", ""), r.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read())


def test_installed_wheel_migrates_serves_the_script_and_a_dashboard(
    dist: Dist, tmp_path: Path
) -> None:
    app = Installed(tmp_path, dist.wheel)

    # footfall comes from the new venv; the checkout's sources are nowhere on the path.
    found = json.loads(
        app.python_says(
            "import footfall, json, sys; print(json.dumps([footfall.__file__, sys.path]))"
        )
    )
    assert Path(found[0]).is_relative_to(app.venv)
    for entry in found[1]:
        inside_checkout = entry and Path(entry).resolve().is_relative_to(ROOT)
        assert not inside_checkout or entry in app.deps, f"{entry} is on the installed path"

    db = tmp_path / "x" / "footfall.db"
    db.parent.mkdir()
    url = f"sqlite:///{db}"  # an absolute path: four slashes
    app.footfall("migrate", "--db", url)
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"events", "sites"} <= tables
    app.footfall("sites", "add", SITE, "--public", "--db", url)

    with app.serve(url, tmp_path / "serve.log") as base:
        health = get(f"{base}/health")
        assert (health.status, health.json()["status"]) == (200, "ok")

        script = get(f"{base}/js/footfall.js")
        assert script.status == 200
        assert script.content_type.startswith("application/javascript")
        assert script.body == (dist.package / "collector" / "static" / "footfall.js").read_bytes()

        for i in range(3):
            event = {"name": "pageview", "site": SITE, "url": f"https://{SITE}/p{i}"}
            assert get(f"{base}/api/event", event).status == 202
        stats = f"{base}/api/v1/stats/aggregate?site_id={SITE}&metrics=pageviews"
        wait_for(
            lambda: get(stats).json()["results"]["pageviews"]["value"] == 3,
            "3 page views in the stats of the installed server",
        )

        page = get(f"{base}/{SITE}")
        assert (page.status, page.content_type.split(";")[0]) == (200, "text/html")
        html = page.body.decode()
        assert f'data-site="{SITE}"' in html
        # Every stylesheet and script the page names is served, byte for byte.
        assets = re.findall(r'(?:href|src)="/static/dashboard/([^"]+)"', html)
        assert "vendor/uPlot.iife.min.js" in assets
        for asset in assets:
            served = get(f"{base}/static/dashboard/{asset}")
            assert served.status == 200, asset
            assert served.body == (dist.package / "dashboard" / "static" / asset).read_bytes()

        login = get(f"{base}/login")
        assert login.status == 200
        assert b'name="password"' in login.body
