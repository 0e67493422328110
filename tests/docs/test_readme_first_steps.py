"""README.md's "Track your own app", followed as printed, in a virtualenv of its own.

The steps are the blocks marked `doc-step: quickstart/...`: install footfall
from the checkout, add it to a Flask app, run the app and look at it in a
browser, then `footfall stats`. The virtualenv is new and outside the
checkout, so footfall runs from what the install step put there. No network:
the venv borrows the test venv's packages (Flask, footfall's dependencies,
setuptools) through a `.pth` line naming its site-packages, after its own;
`pip` and `flask` get the launchers pip would have written for them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sysconfig
import urllib.error
import urllib.request
import venv
from pathlib import Path

import pytest
from tests.docs.doc_blocks import ROOT, steps
from tests.docs.doc_steps import Service, wait_until
from tests.private_servers import free_port
from tests.services import port_open

from footfall import connect

pytestmark = pytest.mark.slow

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
LAUNCHERS = {"pip": "pip._internal.cli.main", "flask": "flask.cli"}
CHECKOUT = "/path/to/footfall"  # the README's name for the reader's checkout


def _venv(where: Path) -> Path:
    """A new venv with the test venv's packages behind its own, and pip's and flask's scripts."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    own = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(own, "zz_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    for name, module in LAUNCHERS.items():
        script = where / "bin" / name
        script.write_text(f"#!{python}\nimport sys\nfrom {module} import main\nsys.exit(main())\n")
        script.chmod(0o755)
    return where / "bin"


def _checkout(to: Path) -> Path:
    """What `pip install` reads of the checkout, copied so the build writes nothing into it."""
    to.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy2(ROOT / name, to / name)
    shutil.copytree(
        ROOT / "src",
        to / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    return to


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    store = connect(f"sqlite:///{db}")
    try:
        return store.count()
    finally:
        store.close()


def test_track_your_own_app_in_three_steps(tmp_path: Path) -> None:
    quickstart = steps("quickstart")
    assert list(quickstart) == ["install", "app", "run", "stats"]
    bin_dir = _venv(tmp_path / "venv")
    checkout = _checkout(tmp_path / "footfall")
    app_dir = tmp_path / "myapp"
    app_dir.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTFALL_", "PIP_"))}
    env.update(
        PATH=os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]),
        HOME=str(tmp_path),
        PIP_NO_INDEX="1",  # no network: the dependencies are there already
        PIP_NO_BUILD_ISOLATION="0",  # (pip's spelling of --no-build-isolation)
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        FLASK_RUN_PORT=str(port),
    )

    install = quickstart["install"].text.replace(CHECKOUT, str(checkout))
    assert install != quickstart["install"].text, f"the install step names {CHECKOUT}"
    done = subprocess.run(
        ["bash", "-euc", install], cwd=app_dir, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = subprocess.run(
        [bin_dir / "python", "-c", "import footfall; print(footfall.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert found.startswith(str(tmp_path / "venv")), found

    (app_dir / "app.py").write_text(quickstart["app"].text, encoding="utf-8")
    app = Service(quickstart["run"], env, app_dir, tmp_path / "app.log")
    try:
        app.wait_ready(lambda: port_open("127.0.0.1", port))
        for path in ("/", "/", "/missing"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"User-Agent": BROWSER}
            )
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
        wait_until(lambda: _stored(app_dir / "footfall.db") == 3, 30, "the app's events")
    finally:
        app.stop(signal.SIGINT)  # Ctrl-C

    stats = subprocess.run(
        ["bash", "-euc", quickstart["stats"].text],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stats.returncode == 0, stats.stdout + stats.stderr
    # The overview's first row: visitors, visits, pageviews, ...
    first = next(line for line in stats.stdout.splitlines() if re.match(r"^│\s*\d", line))
    visitors, visits, pageviews = (int(c) for c in re.findall(r"\d+", first)[:3])
    assert (visitors, visits, pageviews) == (1, 1, 2), stats.stdout
    # The file the app wrote, read by the `footfall` the install step put in the venv.
    assert stats.stderr.startswith(f"footfall: store sqlite:///{app_dir / 'footfall.db'}\n")
    assert (bin_dir / "footfall").is_file()
