"""Pages, access control, cookies and CSRF against a real server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from footfall import connect
from footfall.dashboard.auth import Users, first_run_message

from .conftest import LiveServer, start_server
from .helpers import audit, csrf_from, login


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as c:
        yield c


def test_public_site_is_readable_without_login(client: httpx.Client) -> None:
    home = client.get("/")  # the only public site opens at once, as after `make run`
    assert home.status_code == 303 and home.headers["location"] == "/demo.footfall.dev"
    page = client.get("/demo.footfall.dev")
    assert page.status_code == 200 and 'data-site="demo.footfall.dev"' in page.text


def test_private_site_needs_login(client: httpx.Client) -> None:
    page = client.get("/shop.example.com?period=7d")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Fshop.example.com%3Fperiod%3D7d")
    assert client.get("/failed").status_code == 303
    # an unknown site looks the same as a private one to a stranger
    assert client.get("/nope.example.com").status_code == 303


def test_login_sets_a_strict_session_cookie(client: httpx.Client, live: LiveServer) -> None:
    response = login(client, live.user, live.password)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "footfall_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http here
    page = client.get("/shop.example.com")
    assert page.status_code == 200
    home = client.get("/")
    assert "shop.example.com" in home.text and "api.example.com" in home.text
    assert client.get("/nope.example.com").status_code == 404


def test_secure_cookie_behind_https(client: httpx.Client, live: LiveServer) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"csrf": token, "name": live.user, "password": live.password},
        headers={"x-forwarded-proto": "https"},
    )
    assert response.status_code == 303
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_and_missing_csrf(client: httpx.Client, live: LiveServer) -> None:
    assert login(client, live.user, "not the password").status_code == 401
    forged = client.post("/login", data={"name": live.user, "password": live.password})
    assert forged.status_code == 403 and "footfall_session" not in forged.headers.get(
        "set-cookie", ""
    )
    token = csrf_from(client.get("/login").text)
    other_site = client.post(
        "/login",
        data={"csrf": token, "name": live.user, "password": live.password},
        headers={"origin": "https://evil.example"},
    )
    assert other_site.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(client: httpx.Client, live: LiveServer) -> None:
    login(client, live.user, live.password)
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/shop.example.com").status_code == 200
    token = csrf_from(client.get("/").text)
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/shop.example.com").status_code == 303


def test_next_never_leaves_the_site(client: httpx.Client, live: LiveServer) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        token = csrf_from(client.get("/login").text)
        data = {"csrf": token, "name": live.user, "password": live.password, "next": target}
        assert client.post("/login", data=data).headers["location"] == "/"


def test_dashboard_does_not_shadow_other_routes(client: httpx.Client) -> None:
    assert client.get("/health").headers["content-type"].startswith("application/json")
    assert client.get("/api").status_code == 404
    assert client.get("/static").status_code == 404
    js = client.get("/static/dashboard/vendor/uPlot.iife.min.js")
    assert js.status_code == 200 and "uPlot" in js.text
    collector = client.get("/js/footfall.js")
    assert "text/html" not in collector.headers.get("content-type", "")


def test_pages_have_csp_and_no_inline_script(client: httpx.Client, live: LiveServer) -> None:
    assert audit(client.get("/login").text) == []
    login(client, live.user, live.password)
    for path in (
        "/",
        "/failed",
        "/demo.footfall.dev?period=7d&filters=event:page==/pricing",
        "/demo.footfall.dev/funnel?step=event:page==/&step=event:page==/pricing",
        "/api.example.com",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert audit(response.text) == [], path


def test_filters_and_custom_period_in_the_url(client: httpx.Client) -> None:
    page = client.get(
        "/demo.footfall.dev",
        params={
            "period": "custom",
            "from": "2026-10-01",
            "to": "2026-10-07",
            "filters": 'event:page==/"><script>alert(1)</script>',
        },
    )
    assert page.status_code == 200
    assert 'data-date="2026-10-01,2026-10-07"' in page.text
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text  # the chip, as text


def test_first_user_through_the_setup_link(tmp_path: object) -> None:
    db_url = f"sqlite:///{tmp_path}/fresh.db"
    connect(db_url).close()
    message = first_run_message(db_url, "127.0.0.1", 8000)
    assert message
    token = message.split("token=")[1].split()[0]
    for url in start_server(db_url):
        with httpx.Client(base_url=url) as client:
            assert client.get("/setup?token=wrong").status_code == 404
            form = client.get(f"/setup?token={token}")
            assert form.status_code == 200
            data = {
                "csrf": csrf_from(form.text),
                "token": token,
                "name": "root",
                "password": "first-password",
                "password2": "first-password",
            }
            created = client.post("/setup", data=data)
            assert (
                created.status_code == 303 and "footfall_session" in created.headers["set-cookie"]
            )
            assert client.get("/failed").status_code == 200  # logged in
            assert client.post("/setup", data=data).status_code == 404  # used up
    assert Users(connect(db_url)).names() == ["root"]


def test_session_middleware_names_the_user_for_other_routes(demo_db: str) -> None:
    """The contract with the stats API: `request.state.footfall_user` is the user name."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from footfall.dashboard import routes as dashboard
    from footfall.server.state import ServerState

    state = ServerState.from_url(demo_db)
    try:

        async def whoami(request: Request) -> PlainTextResponse:
            return PlainTextResponse(str(request.state.footfall_user))

        app = Starlette(
            routes=[Route("/whoami", whoami), *dashboard.routes(state)],
            middleware=dashboard.middleware(state),
        )
        with TestClient(app) as client:
            assert client.get("/whoami").text == "None"
            client.cookies.set("footfall_session", "forged-token-value")
            assert client.get("/whoami").text == "None"
            token = Users(state.store).start_session("alice")
            client.cookies.set("footfall_session", token)
            assert client.get("/whoami").text == "alice"
    finally:
        state.close()
