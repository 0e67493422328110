"""footfall.js: its size, its build, and a real browser sending to a real server.

The browser test drives Debian's chromium through Playwright for Python
(never `playwright install`): a test page served from one loopback port loads
footfall.js from a running footfall server on another, navigates, changes
route as a single-page app, fires custom events and clicks tracked links; the
events are then read back from the SQLite file through `store.get_usage`.
"""

from __future__ import annotations

import gzip
import html
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from services import chromium, unavailable

from .live_server import SITE, LiveServer, start_server

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "src" / "footfall" / "collector" / "static" / "footfall.js"
JS_DIR = ROOT / "js"
# A desktop Chrome user agent: HeadlessChrome would be flagged as a bot by the worker.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
MAX_GZIP_BYTES = 1024


# -- the built file ------------------------------------------------------------------------


def test_built_script_is_under_one_kilobyte_gzipped() -> None:
    raw = BUILT.read_bytes()
    size = len(gzip.compress(raw, 9))
    assert size <= MAX_GZIP_BYTES, f"footfall.js is {size} bytes gzipped"
    assert b"sendBeacon" in raw and b"/api/event" in raw


def test_built_script_is_the_minified_source(tmp_path: Path) -> None:
    """The committed build equals a fresh `make assets` build of js/footfall.js."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("node/npm is not installed (needed to rebuild footfall.js)")
    if not (JS_DIR / "node_modules" / "terser").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            unavailable(f"npm ci failed: {done.stderr[-500:]}")
    out = tmp_path / "footfall.js"
    subprocess.run(
        ["node", "build.mjs", str(out)], cwd=JS_DIR, check=True, capture_output=True, timeout=60
    )
    assert out.read_bytes() == BUILT.read_bytes(), "run `make assets` and commit the result"


def test_server_serves_the_built_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    live = start_server(f"sqlite:///{tmp_path / 'js.db'}")
    try:
        r = httpx.get(f"{live.url}/js/footfall.js", timeout=10)
        assert r.status_code == 200 and "javascript" in r.headers["content-type"]
        assert r.content == BUILT.read_bytes()  # httpx undoes the gzip encoding
    finally:
        live.stop()


# -- a real browser ------------------------------------------------------------------------


def _page(script_src: str, path: str) -> bytes:
    """The test site's HTML: one page for every path, like a single-page app's fallback."""
    attrs = f'data-site="{SITE}" data-outbound-links data-file-downloads'
    if not path.startswith("/nolocal"):
        attrs += " data-allow-localhost"
    if path.startswith("/dnt"):
        attrs += " data-respect-dnt"
    if path.startswith("/hash"):
        attrs += " data-hash"
    if path.startswith("/manual"):
        attrs += " data-manual"
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Test shop {html.escape(path)}</title>
<script>
window.footfall = window.footfall ||
  function () {{ (footfall.q = footfall.q || []).push(arguments) }};
footfall('Early', {{props: {{queued: true}}}});
</script>
<script defer {attrs} src="{script_src}"></script>
</head><body>
<a id="next" href="/docs">Docs</a>
<a id="out" href="https://elsewhere.example.net/deal">Elsewhere</a>
<a id="file" href="/files/report.pdf">Report</a>
<a id="plain" href="#section">Section</a>
<script>
// Keep the browser on the loopback host: the clicks are tracked, the navigation is not made.
for (const id of ['out', 'file', 'plain']) {{
  document.getElementById(id).addEventListener('click', (e) => e.preventDefault());
}}
</script>
</body></html>"""
    return body.encode()


@pytest.fixture
def site_server(server: LiveServer) -> Iterator[str]:
    script_src = f"{server.url}/js/footfall.js"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _page(script_src, self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("FOOTFALL_RATE_LIMIT", "off")
    live = start_server(f"sqlite:///{tmp_path / 'browser.db'}")
    yield live
    live.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.mark.browser
@pytest.mark.slow
def test_real_browser_page_views_spa_routes_and_events(
    browser: Any, server: LiveServer, site_server: str
) -> None:
    context = browser.new_context(user_agent=USER_AGENT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sent: list[dict[str, Any]] = []  # what the script put on the wire

    def on_request(request: Any) -> None:
        if request.url == f"{server.url}/api/event" and request.method == "POST":
            sent.append(json.loads(request.post_data or "{}"))

    page.on("request", on_request)
    cookies_before = context.cookies()

    def until(n: int) -> list[Any]:
        found = server.wait_for(lambda evs: len(evs) >= n, site=SITE)
        assert len(found) == n, [(e.name, e.url) for e in found]
        return found

    # 1. Landing from an external link; a call queued before the script loaded.
    start = f"{site_server}/start?x=1"
    page.goto(start, referer="https://news.example.net/story")
    until(2)
    # 2. A full page load to another page.
    page.click("#next")
    page.wait_for_url(f"{site_server}/docs")
    until(4)  # its pageview and its own queued 'Early'
    # 3. SPA route changes: pushState, replaceState to the same URL (not counted), popstate.
    page.evaluate("history.pushState({}, '', '/app/settings?tab=billing')")
    until(5)
    page.evaluate("history.replaceState({}, '', location.href)")
    page.evaluate("footfall('Signup', {props: {plan: 'pro', seats: 3}})")
    until(6)
    page.evaluate("history.back()")
    until(7)
    # 4. Opt-in link tracking: an outbound link and a file download; a plain anchor is not.
    page.click("#plain")
    page.click("#out")
    until(8)
    page.click("#file")
    events = until(9)

    docs = f"{site_server}/docs"
    settings = f"{site_server}/app/settings?tab=billing"
    got = [(e.name, e.url, e.props) for e in events]
    assert got == [
        ("pageview", start, {}),
        ("Early", start, {"queued": True}),
        ("pageview", docs, {}),
        ("Early", docs, {"queued": True}),
        ("pageview", settings, {}),
        ("Signup", settings, {"plan": "pro", "seats": 3}),
        ("pageview", docs, {}),
        ("Outbound Link: Click", docs, {"url": "https://elsewhere.example.net/deal"}),
        ("File Download", docs, {"url": f"{site_server}/files/report.pdf"}),
    ]
    paths = [e.path for e in events if e.name == "pageview"]
    assert paths == ["/start", "/docs", "/app/settings", "/docs"]
    for e in events:
        assert e.site == SITE and e.source == "browser"
        assert e.browser == "Chrome" and not e.is_bot
        assert e.visitor_id  # the cookieless id, computed by the worker
    assert len({e.visitor_id for e in events}) == 1

    # The external referrer is kept; in-site referrers are not referrals (cleared by the
    # worker), but on the wire each SPA page view refers from the route before it.
    assert events[0].referrer == "https://news.example.net/story"
    assert events[0].referrer_host == "news.example.net"
    assert all(e.referrer == "" for e in events[2:])
    wire = [(s["n"], s["u"], s["r"]) for s in sent if s["n"] == "pageview"]
    assert wire == [
        ("pageview", start, "https://news.example.net/story"),
        ("pageview", docs, start),
        ("pageview", settings, docs),
        ("pageview", docs, settings),
    ]
    assert context.cookies() == cookies_before == []  # footfall.js sets no cookie
    context.close()


@pytest.mark.browser
def test_real_browser_respects_localhost_and_privacy_settings(
    browser: Any, server: LiveServer, site_server: str
) -> None:
    """Nothing is sent from localhost without data-allow-localhost, nor under GPC with
    data-respect-dnt; a normal page afterwards proves the script was running."""
    context = browser.new_context(user_agent=USER_AGENT)
    context.add_init_script(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {get: () => true})"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    warnings: list[str] = []
    page.on("console", lambda msg: warnings.append(msg.text) if msg.type == "warning" else None)
    page.goto(f"{site_server}/nolocal/page")
    page.goto(f"{site_server}/dnt/page")
    page.wait_for_function("typeof footfall === 'function' && !footfall.q")
    page.goto(f"{site_server}/counted")
    found = server.wait_for(lambda evs: len(evs) >= 2, site=SITE)
    assert sorted((e.name, e.url) for e in found) == [
        ("Early", f"{site_server}/counted"),
        ("pageview", f"{site_server}/counted"),
    ]
    # The warning names the attribute that lifts it, so a developer knows what to add.
    assert any("localhost" in w and "data-allow-localhost" in w for w in warnings)
    assert any("Do-Not-Track" in w for w in warnings)
    context.close()


@pytest.mark.browser
def test_a_headless_browser_under_its_own_user_agent_is_stored_as_a_bot(
    browser: Any, server: LiveServer, site_server: str
) -> None:
    """What docs/browser.md warns about: a headless Chromium announces itself, so its
    page views are kept as bot traffic and left out of the stats."""
    context = browser.new_context()  # no user_agent=: the browser's own
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site_server}/headless")
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")
    found = server.wait_for(lambda evs: len(evs) >= 2, site=SITE)
    assert sorted(e.name for e in found) == ["Early", "pageview"]
    assert all(e.is_bot and e.device == "bot" for e in found)
    context.close()


@pytest.mark.browser
def test_real_browser_hash_routes_and_fetch_fallback(
    browser: Any, server: LiveServer, site_server: str
) -> None:
    """With data-hash, #/routes are page views; without sendBeacon, fetch delivers;
    with data-manual, only the page's own calls count."""
    context = browser.new_context(user_agent=USER_AGENT)
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'sendBeacon', {value: undefined})"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.resource_type) if r.method == "POST" else None)
    app = f"{site_server}/hash/app"
    page.goto(app)
    server.wait_for(lambda evs: len(evs) >= 2, site=SITE)
    page.evaluate("location.hash = '#/inbox'")
    found = server.wait_for(lambda evs: len(evs) >= 3, site=SITE)
    assert [(e.name, e.url) for e in found] == [
        ("pageview", app),
        ("Early", app),
        ("pageview", f"{app}#/inbox"),
    ]
    assert found[2].path == "/hash/app"
    assert posts and set(posts) == {"fetch"}  # no beacon was available

    # data-manual: no automatic page view (the queued call still goes); the page sends its own.
    manual = f"{site_server}/manual/step-1"
    page.goto(manual)
    found = server.wait_for(lambda evs: len(evs) >= 4, site=SITE)
    page.evaluate("history.pushState({}, '', '/manual/step-2')")
    page.evaluate("footfall('pageview', {u: location.origin + '/manual/virtual'})")
    found = server.wait_for(lambda evs: len(evs) >= 5, site=SITE)
    assert [(e.name, e.url) for e in found[3:]] == [
        ("Early", manual),
        ("pageview", f"{site_server}/manual/virtual"),
    ]
    context.close()
