"""Every example starts with the commands its docstring gives, and records a page view.

An example's module docstring lists its commands, indented, from the
checkout's root; a command that serves says on which port and which variable
changes it (`# on port 8001, or $PORT`). The test runs the one-off commands
(Django's `migrate`), then starts each serving one as printed, on a free
port through that variable and with `$FOOTFALL_DB` naming a file of its own,
asks for `/` as a browser would, and waits for the event in the store.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.docs.doc_steps import wait_until
from tests.private_servers import free_port
from tests.services import port_open

from footfall import connect
from footfall.event import Event

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [*sorted((ROOT / "examples").glob("*.py")), ROOT / "examples/django_site/manage.py"]
COMMAND = re.compile(r"^    ((?:python|flask|uvicorn) \S.*?)(?:\s+# on port (\d+), or \$(\w+))?$")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
WAIT = 30.0  # seconds: the bound of every wait here


@dataclass(frozen=True)
class Command:
    text: str
    port: int | None  # the documented port of a command that serves
    variable: str  # ... and the variable that changes it


def commands(example: Path) -> list[Command]:
    docstring = ast.get_docstring(ast.parse(example.read_text(encoding="utf-8")), clean=False)
    found = [COMMAND.match(line) for line in (docstring or "").splitlines()]
    return [Command(m[1], int(m[2]) if m[2] else None, m[3] or "") for m in found if m is not None]


def served(example: Path) -> list[tuple[Path, Command]]:
    return [(example, c) for c in commands(example) if c.port is not None]


def test_every_example_documents_how_to_start_it() -> None:
    for example in EXAMPLES:
        assert served(example), f"{example.relative_to(ROOT)}: no `# on port N, or $VAR` command"


def _pages(db: Path) -> list[Event]:
    if not db.exists():
        return []
    store = connect(f"sqlite:///{db}")
    try:
        return [e for e in store.get_usage() if e.path == "/" and e.status == 200]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("example", "command"),
    [case for example in EXAMPLES for case in served(example)],
    ids=lambda case: case.name if isinstance(case, Path) else case.text.split()[0],
)
def test_the_documented_command_serves_and_tracks(
    example: Path, command: Command, tmp_path: Path
) -> None:
    port = free_port()
    db = tmp_path / "footfall.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
    env.update(
        {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "FOOTFALL_DB": f"sqlite:///{db}",
            "DJANGO_DB": str(tmp_path / "django.db"),  # the Django example's own tables
            command.variable: str(port),
        }
    )
    for one_off in (c for c in commands(example) if c.port is None):
        done = subprocess.run(
            ["bash", "-c", one_off.text], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
        assert done.returncode == 0, f"{one_off.text}:\n{done.stderr.decode()}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-c", f"exec {command.text}"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def listening() -> bool:
            assert server.poll() is None, f"{command.text} exited:\n{log.read_text()}"
            return port_open("127.0.0.1", port)

        wait_until(listening, WAIT, f"{command.text} to listen on {port}")
        url = f"http://127.0.0.1:{port}/"
        request = urllib.request.Request(url, headers={"User-Agent": BROWSER})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200
        wait_until(lambda: _pages(db), WAIT, f"the page view of {command.text} in the store")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # Ctrl-C
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(10)
