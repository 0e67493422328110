"""The login limiter and form limits against a real server (uvicorn in a thread).

Password checks are counted by wrapping `Users.verify` (the real argon2
check still runs); the server trusts one proxy, so each test picks its own
client addresses with `X-Forwarded-For`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from footfall import connect
from footfall.dashboard.auth import Users
from footfall.dashboard.throttle import LoginThrottle
from footfall.sites import add_site

from .conftest import PASSWORD, start_server

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LIMIT = 10  # wrong passwords per client and user name before 429


@dataclass
class Server:
    url: str
    pages: Any  # the server's LoginPages


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from footfall.server.app import create_app

    path: Path = tmp_path_factory.mktemp("login") / "footfall.db"
    db_url = f"sqlite:///{path}"
    store = connect(db_url)
    Users(store).add("alice", PASSWORD)
    Users(store).add("bob", PASSWORD)
    add_site(store, "public.example", public=True)
    store.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FOOTFALL_TRUSTED_PROXIES", "1")
        app = create_app(db_url)
    [login] = [r for r in app.routes if getattr(r, "path", "") == "/login"]
    pages = login.endpoint.__self__  # type: ignore[attr-defined]
    for url in start_server(db_url, app):
        yield Server(url, pages)


@pytest.fixture
def fresh(server: Server) -> Iterator[Server]:
    """The server with empty login budgets and its default cap, restored afterwards."""
    throttle, cap = (
        getattr(server.pages, "throttle", None),
        getattr(server.pages, "max_verifying", 4),
    )
    server.pages.throttle = LoginThrottle()
    yield server
    server.pages.throttle, server.pages.max_verifying = throttle, cap


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of every password check the server runs during the test."""
    seen: list[str] = []
    original = Users.verify

    def counted(self: Users, name: str, password: str) -> bool:
        seen.append(name)
        return original(self, name, password)

    monkeypatch.setattr(Users, "verify", counted)
    return seen


def _csrf(url: str) -> tuple[str, str]:
    """A (cookie, form token) pair from the login page."""
    page = httpx.get(url + "/login")
    match = _CSRF.search(page.text)
    assert match
    return page.cookies["footfall_csrf"], match.group(1)


def _poster(url: str) -> Callable[..., httpx.Response]:
    cookie, token = _csrf(url)

    def post(name: str, password: str, ip: str, *, path: str = "/login") -> httpx.Response:
        return httpx.post(
            url + path,
            data={"csrf": token, "name": name, "password": password, "next": "/"},
            headers={"cookie": f"footfall_csrf={cookie}", "x-forwarded-for": ip},
            timeout=60,
        )

    return post


def test_concurrent_wrong_passwords_reach_the_check_at_most_limit_times(
    fresh: Server, verifications: list[str]
) -> None:
    fresh.pages.max_verifying = 64  # the cap out of the way: the limiter alone must hold
    post = _poster(fresh.url)
    with ThreadPoolExecutor(60) as pool:
        codes = list(
            pool.map(lambda _: post("alice", "wrong", "198.51.100.60").status_code, range(60))
        )
    assert 1 <= len(verifications) <= LIMIT
    assert codes.count(401) == len(verifications)
    assert codes.count(429) == 60 - len(verifications)


def test_the_key_is_the_proxy_aware_client_and_user(fresh: Server) -> None:
    post = _poster(fresh.url)
    attacker = "203.0.113.5"
    for _ in range(LIMIT):
        assert post("alice", "wrong", attacker).status_code == 401
    blocked = post("alice", PASSWORD, attacker)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    # Prepending an address of its choice does not make the client someone else.
    assert post("alice", PASSWORD, f"6.6.6.6, {attacker}").status_code == 429
    # Others behind the same proxy, and other users at that address, still get in.
    assert post("alice", PASSWORD, "203.0.113.6").status_code == 303
    assert post("bob", PASSWORD, attacker).status_code == 303


def test_ipv6_clients_share_their_64(fresh: Server) -> None:
    post = _poster(fresh.url)
    for _ in range(LIMIT):
        assert post("alice", "wrong", "2001:db8:1:2::1").status_code == 401
    assert post("alice", PASSWORD, "2001:db8:1:2:ffff::9").status_code == 429
    assert post("alice", PASSWORD, "2001:db8:1:3::1").status_code == 303


def test_concurrent_checks_are_capped_and_the_rest_get_503(
    fresh: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two checks run at once; the other attempts are answered without a check."""
    cap, attempts = 2, 12
    fresh.pages.max_verifying = cap
    lock, release = threading.Lock(), threading.Event()
    running = [0, 0]  # now, most at once
    original = Users.verify

    def held(self: Users, name: str, password: str) -> bool:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        try:
            release.wait(timeout=30)
            return original(self, name, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(Users, "verify", held)
    post = _poster(fresh.url)
    pool = ThreadPoolExecutor(attempts)
    try:
        futures = [pool.submit(post, f"user{i}", "wrong", "198.51.100.12") for i in range(attempts)]
        deadline = time.monotonic() + 30
        while sum(f.done() for f in futures) < attempts - cap and time.monotonic() < deadline:
            time.sleep(0.02)
        early = [f.result() for f in futures if f.done()]
    finally:
        release.set()
        pool.shutdown(wait=True)
    assert running[1] <= cap
    assert len(early) == attempts - cap, "attempts beyond the cap waited for a check"
    assert all(r.status_code == 503 and int(r.headers["retry-after"]) >= 1 for r in early)
    assert sorted(f.result().status_code for f in futures) == [401] * cap + [503] * (attempts - cap)


def test_oversized_forms_are_refused_before_parsing(fresh: Server) -> None:
    cookie, token = _csrf(fresh.url)
    headers = {"cookie": f"footfall_csrf={cookie}", "x-forwarded-for": "198.51.100.13"}
    big = {"csrf": token, "name": "alice", "password": PASSWORD, "pad": "x" * 100_000}
    for path in ("/login", "/logout", "/setup"):
        answer = httpx.post(fresh.url + path, data=big, headers=headers)
        assert answer.status_code == 413, path
        assert "larger than" in answer.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield f"csrf={token}&name=alice&password=x&pad=".encode()
        for _ in range(100):
            yield b"x" * 1_000

    streamed = httpx.post(
        fresh.url + "/login",
        content=chunks(),
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
    multipart = httpx.post(
        fresh.url + "/login", data={"csrf": token}, files={"f": b"x"}, headers=headers
    )
    assert multipart.status_code == 415


def test_export_errors_are_typed_and_hardened(fresh: Server) -> None:
    for query in ("endpoint=nothing", "endpoint=breakdown&period=forever"):
        answer = httpx.get(f"{fresh.url}/public.example/export.csv?{query}")
        assert answer.status_code == 400, query
        assert answer.headers["content-type"].startswith("text/plain"), query
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
