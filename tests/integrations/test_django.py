"""The Django middleware and app, driven through the example project's test client."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import read_events

pytest.importorskip("django")

SITE = Path(__file__).resolve().parents[2] / "examples" / "django_site"


@pytest.fixture(scope="module")
def django_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The example project set up once per module, with its tables migrated."""
    import django
    from django.core.management import call_command

    tmp = tmp_path_factory.mktemp("django")
    saved = {k: os.environ.get(k) for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_DB", "FOOTFALL_DB")}
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo_site.settings"
    os.environ["DJANGO_DB"] = str(tmp / "django.sqlite3")
    os.environ["FOOTFALL_DB"] = f"sqlite:///{tmp / 'footfall-default.db'}"
    sys.path.insert(0, str(SITE))
    try:
        django.setup()
        call_command("migrate", verbosity=0)
        yield
    finally:
        from footfall.integrations.django import reset

        reset()
        sys.path.remove(str(SITE))
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def site(django_site: None, db_url: str) -> Iterator[Any]:
    """Run the test with FOOTFALL pointed at this test's store."""
    from django.test import override_settings

    from footfall.integrations.django import configured_tracker, reset

    def configure(**extra: Any) -> Any:
        reset()
        config = {"STORES": [db_url], "SITE": "django.example", "EXCLUDE": ["/healthz"], **extra}
        override = override_settings(FOOTFALL=config)
        override.enable()
        overrides.append(override)
        return configured_tracker()

    overrides: list[Any] = []
    yield configure
    for override in reversed(overrides):
        override.disable()
    reset()


def test_app_config_is_installed(django_site: None) -> None:
    from django.apps import apps

    from footfall.integrations.django.apps import FootfallConfig

    assert isinstance(apps.get_app_config("footfall"), FootfallConfig)


def test_events_reach_the_store(site: Any, db_url: str) -> None:
    from django.test import Client

    tracker = site()
    client = Client(HTTP_USER_AGENT="Mozilla/5.0", HTTP_ACCEPT_LANGUAGE="nl")
    page = client.get("/?utm_source=news", HTTP_REFERER="https://duckduckgo.com/")
    client.get("/api/ping")
    client.get("/healthz")  # excluded in settings
    client.get("/assets/site.css")  # STATIC_URL: excluded as static
    events = read_events(tracker, db_url)
    assert [(e.name, e.path, e.status) for e in events] == [
        ("pageview", "/", 200),
        ("request", "/api/ping", 200),
    ]
    first = events[0]
    assert first.url == "http://testserver/?utm_source=news"
    assert first.site == "django.example"
    assert first.bytes == len(page.content)
    assert first.referrer == "https://duckduckgo.com/"
    assert first.source == "server"


def test_user_id_from_request_user(site: Any, db_url: str) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    tracker = site()
    user = User.objects.create_user("carol", password="pw-not-used")
    client = Client()
    client.force_login(user)
    client.get("/account")  # login_required loads request.user
    client.get("/")  # the user is never loaded: no query spent on it
    events = read_events(tracker, db_url)
    assert [e.user_id for e in events] == [str(user.pk), ""]
    user.delete()


def test_load_user_setting(site: Any, db_url: str) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    tracker = site(LOAD_USER=True)
    user = User.objects.create_user("dave", password="pw-not-used")
    client = Client()
    client.force_login(user)
    client.get("/")
    (event,) = read_events(tracker, db_url)
    assert event.user_id == str(user.pk)
    user.delete()


def test_streaming_response(site: Any, db_url: str) -> None:
    from django.test import Client

    tracker = site()
    resp = Client().get("/stream")
    body = b"".join(resp.streaming_content)
    resp.close()
    (event,) = read_events(tracker, db_url)
    assert (event.status, event.bytes) == (200, len(body))


def test_exception_is_a_500_and_propagates(site: Any, db_url: str) -> None:
    from django.test import Client

    tracker = site()
    with pytest.raises(RuntimeError, match="boom"):
        Client().get("/boom")
    (event,) = read_events(tracker, db_url)
    assert event.status == 500


def test_spoofed_forwarded_for(site: Any, db_url: str) -> None:
    from django.test import Client

    tracker = site(PRIVACY={"ip": "keep"})
    Client().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="198.51.100.7")
    tracker.close()
    tracker = site(PRIVACY={"ip": "keep"}, TRUSTED_PROXIES=1)
    Client().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.8", REMOTE_ADDR="10.0.0.1")
    assert [e.ip for e in read_events(tracker, db_url)] == ["198.51.100.7", "203.0.113.8"]


def test_cookie_mode_and_dnt(site: Any, db_url: str) -> None:
    from django.test import Client

    tracker = site(COOKIE=True, HONOR_DNT=True)
    client = Client()
    first = client.get("/")
    morsel = first.cookies["footfall_visit"]
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and not morsel["secure"]
    assert morsel["path"] == "/"
    second = client.get("/api/ping")
    assert "footfall_visit" not in second.cookies
    secure = Client().get("/", secure=True).cookies["footfall_visit"]
    assert secure["secure"]
    client.get("/", HTTP_DNT="1")
    events = read_events(tracker, db_url)
    assert len(events) == 3
    assert events[0].visitor_id == events[1].visitor_id == morsel.value


def test_async_stack(site: Any, db_url: str) -> None:
    from django.test import AsyncClient

    tracker = site()

    async def go() -> Any:
        client = AsyncClient()
        return await client.get("/api/ping")

    resp = asyncio.run(go())
    assert resp.status_code == 200
    (event,) = read_events(tracker, db_url)
    assert (event.path, event.status) == ("/api/ping", 200)


def test_events_a_view_emits_share_the_requests_visitor_and_visit(site: Any, db_url: str) -> None:
    """Sync and async: the view's `footfall.emit` counts as the request's visitor and visit."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    import footfall
    from footfall.integrations.django import FootfallMiddleware

    tracker = site()  # registered as the global tracker: `footfall.emit` goes there too

    def view(request: HttpRequest) -> HttpResponse:
        footfall.emit("shop.checkout", {"path": request.path})
        return HttpResponse("<p>ok</p>", content_type="text/html")

    async def async_view(request: HttpRequest) -> HttpResponse:
        return view(request)

    factory = RequestFactory()
    alice = {"REMOTE_ADDR": "81.2.69.142", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/128.0"}
    bob = {"REMOTE_ADDR": "81.2.69.160", "HTTP_USER_AGENT": "Mozilla/5.0 Chrome/126.0"}
    FootfallMiddleware(view)(factory.get("/alice", **alice))
    asyncio.run(FootfallMiddleware(async_view)(factory.get("/bob", **bob)))
    events = read_events(tracker, db_url)
    pages = {e.path: e for e in events if e.name == "pageview"}
    custom = {e.props["path"]: e for e in events if e.name == "shop.checkout"}
    assert set(pages) == set(custom) == {"/alice", "/bob"}
    for path, page in pages.items():
        assert page.visitor_id and custom[path].visitor_id == page.visitor_id
        assert page.visit_id and custom[path].visit_id == page.visit_id
    assert pages["/alice"].visitor_id != pages["/bob"].visitor_id


def test_unknown_setting_is_refused(django_site: None) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from footfall.integrations.django import load_settings

    with override_settings(FOOTFALL={"STORE": "sqlite://"}):
        with pytest.raises(ImproperlyConfigured, match="STORE"):
            load_settings()
