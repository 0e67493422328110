"""User agent parsing and bot flags, on real user agent strings."""

from __future__ import annotations

import pytest

from footfall.event import Event
from footfall.processors.bots import BotProcessor
from footfall.processors.useragent import UserAgentProcessor, resolver_name

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

BOTS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot-smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.6099.71 Mobile Safari/537.36 "
        "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "duckduckbot": "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
    "gptbot": (
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
        "+https://openai.com/gptbot)"
    ),
    "facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl": "curl/8.4.0",
    "wget": "Wget/1.21.4",
    "python-requests": "python-requests/2.31.0",
    "headless-chrome": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.6099.109 Safari/537.36"
    ),
    "uptimerobot": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
}


def enrich(ua: str) -> Event:
    event = Event(name="pageview", user_agent=ua)
    event = UserAgentProcessor()(event)
    return BotProcessor()(event)


def test_rust_resolver_is_used_where_installed() -> None:
    pytest.importorskip("ua_parser_rs")
    assert resolver_name() == "regex"


@pytest.mark.parametrize(
    ("ua", "browser", "version", "os", "os_version", "device"),
    [
        (CHROME_WIN, "Chrome", "120.0", "Windows", "10", "desktop"),
        (FIREFOX_MAC, "Firefox", "121.0", "Mac OS X", "10.15", "desktop"),
        (IPHONE, "Mobile Safari", "17.1", "iOS", "17.1", "mobile"),
        (IPAD, "Mobile Safari", "16.6", "iOS", "16.6", "tablet"),
        (ANDROID_PHONE, "Chrome Mobile", "120.0", "Android", "14", "mobile"),
        (ANDROID_TABLET, "Chrome", "120.0", "Android", "13", "tablet"),
    ],
)
def test_browsers(ua: str, browser: str, version: str, os: str, os_version: str, device: str):
    event = enrich(ua)
    assert (event.browser, event.browser_version) == (browser, version)
    assert (event.os, event.os_version) == (os, os_version)
    assert event.device == device
    assert event.is_bot is False


@pytest.mark.parametrize("name", sorted(BOTS))
def test_bots_flagged(name: str) -> None:
    event = enrich(BOTS[name])
    assert event.is_bot is True, name
    assert event.device == "bot"


def test_fields_already_set_are_kept() -> None:
    event = Event(name="x", user_agent=CHROME_WIN, browser="MyApp", device="tv")
    event = UserAgentProcessor()(event)
    assert event.browser == "MyApp"
    assert event.device == "tv"
    assert event.os == "Windows"


def test_results_are_cached_per_ua_string() -> None:
    proc = UserAgentProcessor(cache_size=8)
    for _ in range(3):
        proc(Event(name="x", user_agent=IPHONE))
    info = proc.lookup.cache_info()
    assert (info.hits, info.misses) == (2, 1)


def test_no_user_agent_is_left_alone() -> None:
    event = enrich("")
    assert (event.browser, event.device, event.is_bot) == ("", "", False)


def test_garbage_user_agent_does_not_fail() -> None:
    event = enrich("\u2603" * 300 + " ((( ;;; ")
    assert event.is_bot is False
    assert event.browser == ""
