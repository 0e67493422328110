"""A Python with the real Flask-Track-Usage 2.0 next to footfall, for tests that compare the two.

Flask-Track-Usage 2.0 imports `flask._request_ctx_stack` (gone in Flask 3)
and uses SQLAlchemy 1.x's `select([table])`, so it cannot be installed in
the test venv (Flask 3). `ftu_python()` makes a venv under `.test-venvs/`
(git-ignored) with the versions it runs on, plus a `.pth` file that appends
footfall's `src` and the test venv's site-packages *after* its own: there,
Flask 2.2 shadows Flask 3, and footfall and its dependencies come from the
test venv. Made once with pip from the package index (about 15 s), then
reused; when it cannot be made the test is skipped (failed in CI).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "flask_track_usage"
VENV = ROOT / ".test-venvs" / "ftu"
PINS = [
    "flask-track-usage==2.0.0",
    "flask==2.2.5",
    "werkzeug==2.3.8",
    "sqlalchemy==1.4.54",
    "six==1.17.0",
    "psycopg2-binary==2.9.13",
]
_STAMP = hashlib.sha256("\n".join([sys.version, *PINS]).encode()).hexdigest()[:16]


def _make(python: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS],
        check=True,
        timeout=600,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz_footfall_tests.pth").write_text(f"{ROOT / 'src'}\n{ours}\n")


def ftu_python() -> Path:
    """The venv's python, made on first use (one maker at a time: a file lock)."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".pins"
    VENV.parent.mkdir(exist_ok=True)
    with open(VENV.parent / ".ftu.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (python.exists() and stamp.exists() and stamp.read_text() == _STAMP):
            try:
                _make(python)
            except (OSError, subprocess.SubprocessError) as exc:
                unavailable(f"no venv with Flask-Track-Usage 2.0 ({exc})")
            stamp.write_text(_STAMP)
    return python


def run_ftu(script: str, *args: str, timeout: float = 180) -> Any:
    """Run `tests/data/flask_track_usage/<script>` in that venv; its stdout as JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env["FOOTFALL_NO_SIGNALS"] = "1"
    out = subprocess.run(
        [str(ftu_python()), str(DATA / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(DATA),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)
