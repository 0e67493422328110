"""Run a walk-through's blocks as printed: shell steps, services, Python apps, a crontab.

The values a walk-through depends on (paths, ports, URLs) are the variables
its `settings` block exports. A test never runs that block: it gives the
same variables values of its own (`Shell(settings=...)` checks the names are
exactly the documented ones) and runs every other block as it is printed.
One bash process per step; what a step exports (`export TOKEN=$(...)`) is
carried to the steps after it, as in the reader's terminal.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from tests.docs.doc_blocks import Block

BIN = Path(sys.executable).parent  # the test venv's footfall, celery, flask
DRIVER = Path(__file__).with_name("doc_app.py")
EXPORT = re.compile(r"^export ([A-Z_][A-Z0-9_]*)=(\S*)")
_ENV_OUT = "DOC_STEP_ENV_OUT"


def documented_settings(block: Block) -> dict[str, str]:
    """NAME -> the documented value, for each `export NAME=value` of a settings block."""
    return {m[1]: m[2] for line in block.text.splitlines() if (m := EXPORT.match(line.strip()))}


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
    return value


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return bool(reply.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Service:
    """A step that runs until stopped (a server, a worker), in a process group of its own."""

    def __init__(self, block: Block, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.block = block
        self.log = log
        self._out: IO[bytes] = log.open("ab")
        commands = [
            line for line in block.text.splitlines() if line.strip() and not line.startswith("#")
        ]
        assert len(commands) == 1, f"{block.where}: a service step is one command"
        self.proc = subprocess.Popen(  # exec: the signals reach the command itself
            ["bash", "-euo", "pipefail", "-c", f"exec {commands[0]}"],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, check: Callable[[], bool], timeout: float = 60) -> None:
        def ready() -> bool:
            assert self.proc.poll() is None, f"{self.block.where} exited:\n{self.output()}"
            return check()

        wait_until(ready, timeout, f"{self.block.where} to be ready")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the whole group, as a terminal's Ctrl-C or systemd's stop would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()
        return self.proc.returncode


class AppProcess:
    """A documented Python block run as an app in a process of its own (tests/docs/doc_app.py)."""

    def __init__(self, block: Block, env: dict[str, str], cwd: Path, python: str) -> None:
        self.block = block
        source = cwd / f"app_{block.line}.py"
        source.write_text(block.text, encoding="utf-8")
        self.proc = subprocess.Popen(
            [python, str(DRIVER), str(source)],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == {"ready": True}

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the app of {self.block.where} exited (rc {self.proc.poll()})"
        return json.loads(line)

    def call(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def emit(self, name: str, count: int, days_ago: int = 0) -> None:
        self.call("emit", name=name, count=count, days_ago=days_ago)

    def flush(self, timeout: float) -> bool:
        return bool(self.call("flush", timeout=timeout)["result"])

    def close(self) -> int:
        if self.proc.poll() is not None:
            return 0
        left = int(self.call("close")["left"])
        self.proc.wait(30)
        return left

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Shell:
    """The reader's terminal: a working folder, the settings, and what steps exported."""

    def __init__(
        self, cwd: Path, settings: Block, values: dict[str, str], path: tuple[Path, ...] = (BIN,)
    ) -> None:
        documented = documented_settings(settings)
        assert sorted(values) == sorted(documented), (
            f"{settings.where} exports {sorted(documented)}; the test sets {sorted(values)}"
        )
        self.cwd = cwd
        self.documented = documented
        self.services: list[Service] = []
        self.apps: list[AppProcess] = []
        # Nothing of footfall's from the test run leaks in: the settings are all there is.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTFALL_")}
        self.env.update(values)
        self.env["PATH"] = os.pathsep.join([*map(str, path), "/usr/bin", "/bin"])
        self.env["HOME"] = str(cwd)

    def check_printed_values(self, block: Block) -> None:
        """A step names the documented paths, URLs and ports only through their variables."""
        for name, value in self.documented.items():
            if "/" in value or value.isdigit():
                assert not re.search(rf"(?<![\w/]){re.escape(value)}(?![\w/])", block.text), (
                    f"{block.where} spells out {name}'s value: use ${name}"
                )

    def run(self, block: Block, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a step to its end; what it exports stays set for the next ones."""
        self.check_printed_values(block)
        env_out = self.cwd / ".step-env"
        script = f'{block.text}\nenv -0 > "${_ENV_OUT}"\n'
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.cwd,
            env={**self.env, _ENV_OUT: str(env_out)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"
        pairs = (item.split("=", 1) for item in env_out.read_text().split("\0") if "=" in item)
        self.env = {k: v for k, v in pairs if k != _ENV_OUT}
        return done

    def start(self, block: Block, ready: Callable[[], bool]) -> Service:
        self.check_printed_values(block)
        service = Service(block, dict(self.env), self.cwd, self.cwd / f"step_{block.line}.log")
        self.services.append(service)
        service.wait_ready(ready)
        return service

    def app(self, block: Block, python: str = sys.executable) -> AppProcess:
        app = AppProcess(block, dict(self.env), self.cwd, python)
        self.apps.append(app)
        return app

    def run_crontab(
        self, block: Block, values: dict[str, str]
    ) -> list[subprocess.CompletedProcess[str]]:
        """Run every job of a crontab block now, as cron would: its variables only, no terminal.

        A variable line of the crontab gets the value in `values` (the test's
        PATH, or a setting's value), so each must be one of those.
        """
        env = {"HOME": str(self.cwd), "LOGNAME": "footfall", "SHELL": "/bin/sh"}
        jobs = []
        for line in block.text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if re.match(r"^[A-Z_][A-Z0-9_]*=", line):
                name = line.split("=", 1)[0]
                assert name in values, f"{block.where}: the test has no value for {name}"
                env[name] = values[name]
                continue
            fields = line.split(None, 5)
            assert len(fields) == 6, f"{block.where}: not a crontab job line: {line!r}"
            jobs.append(fields[5])
        assert jobs, f"{block.where} has no job"
        results = []
        for command in jobs:
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, (
                f"{block.where}: {shlex.quote(command)} failed:\n{done.stdout}\n{done.stderr}"
            )
            results.append(done)
        return results

    def close(self) -> None:
        """Stop what is still running: apps first (they may be sending), then services."""
        for app in self.apps:
            app.kill()
        for service in reversed(self.services):
            service.stop(signal.SIGKILL if service.proc.poll() is None else signal.SIGTERM)
