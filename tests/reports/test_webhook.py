"""`post_json` against a real HTTP receiver: the body, retries, no redirects, timeouts."""

from __future__ import annotations

import pytest
from tests.reports.webhook_server import webhook_receiver

from footfall.reports import webhook
from footfall.reports.webhook import WebhookError, check_webhook_url, post_json, shown_url


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook, "RETRY_BASE", 0.01)


def test_posts_json_once() -> None:
    with webhook_receiver() as hook:
        assert post_json(hook.url(), {"text": "héllo <b>"}) == 200
    assert hook.bodies == [{"text": "héllo <b>"}]
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert hook.paths == ["/hooks/T000/B000/secret"]


def test_retries_server_errors_then_gives_up() -> None:
    with webhook_receiver() as hook:
        hook.answers = [500, 429]
        assert post_json(hook.url(), {"text": "a"}) == 200
        assert len(hook.paths) == 3 and hook.bodies == [{"text": "a"}]
        hook.answers = [502, 503, 500, 500]
        with pytest.raises(WebhookError, match="failed 3 times; last: HTTP 500"):
            post_json(hook.url(), {"text": "b"})
        assert len(hook.paths) == 6  # 3 attempts, no more


def test_client_errors_are_not_retried() -> None:
    with webhook_receiver() as hook:
        hook.answers = [404]
        with pytest.raises(WebhookError, match="answered HTTP 404"):
            post_json(hook.url(), {"text": "a"})
    assert len(hook.paths) == 1


def test_redirects_are_not_followed() -> None:
    with webhook_receiver() as elsewhere, webhook_receiver() as hook:
        hook.answers = [307]
        hook.location = elsewhere.url("/stolen")
        with pytest.raises(WebhookError, match="HTTP 307"):
            post_json(hook.url(), {"text": "secret"})
    assert len(hook.paths) == 1
    assert elsewhere.paths == []


def test_timeout_per_attempt() -> None:
    with webhook_receiver() as hook:
        hook.delay = 1.0
        with pytest.raises(WebhookError, match="failed 2 times"):
            post_json(hook.url(), {"text": "a"}, timeout=0.2, attempts=2)


def test_nobody_listening() -> None:
    with webhook_receiver() as hook:
        url = hook.url()
    with pytest.raises(WebhookError, match=r"http://127\.0\.0\.1/\.\.\. failed 1 times"):
        post_json(url, {"text": "a"}, attempts=1)


def test_urls() -> None:
    assert check_webhook_url(" https://hooks.slack.com/services/T/B/X ") == (
        "https://hooks.slack.com/services/T/B/X"
    )
    for bad in ("ftp://host/x", "hooks.slack.com/x", "https://", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            check_webhook_url(bad)
    # the path is the secret: never shown
    assert shown_url("https://hooks.slack.com/services/T/B/X") == "https://hooks.slack.com/..."
