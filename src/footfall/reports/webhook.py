"""POST a JSON message to an incoming webhook (Slack, Mattermost, anything that takes JSON).

An alert must not hang the check that sends it, nor be sent somewhere its
owner did not name: each attempt has a timeout, a redirect is an error (a
webhook URL that moved is a configuration to fix, and following it would
send the message, and the secret in its path, elsewhere), and a failure is
retried a few times with `backoff.py`'s delay, only when trying again can
help (no answer, 429 or 5xx; never another 4xx).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from footfall.backoff import backoff_delay
from footfall.errors import FootfallError

__all__ = ["ATTEMPTS", "TIMEOUT", "WebhookError", "check_webhook_url", "post_json", "shown_url"]

TIMEOUT = 10.0  # seconds per attempt (connect and every read)
ATTEMPTS = 3  # the first try and two retries
RETRY_BASE = 1.0  # seconds before the first retry, doubling
RETRY_CAP = 8.0
MAX_BODY = 64 * 1024  # bytes of JSON: Slack's own limit for a message is about 40,000 characters


class WebhookError(FootfallError):
    """The webhook could not be reached or refused the message; the text says which."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects())


def shown_url(url: str) -> str:
    """`url` as logs and errors show it: scheme and host only, since a webhook's
    path is its secret (`https://hooks.slack.com/services/T0/B0/XXXX`)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.hostname or ''}/..."


def check_webhook_url(url: str) -> str:
    """`url` when it is an absolute http(s) URL with a host; ValueError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"a webhook URL starts with https:// or http://, not {shown_url(url)!r}")
    return url.strip()


def post_json(
    url: str,
    body: dict[str, Any],
    *,
    timeout: float = TIMEOUT,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST `body` as JSON to `url`; the HTTP status of the answer (2xx).

    Raises `WebhookError` after `attempts` failures, or at once for an
    answer that a retry would not change (a redirect, a 4xx but 429).
    """
    check_webhook_url(url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_BODY:
        raise WebhookError(f"the message is {len(data)} bytes, more than {MAX_BODY}")
    shown = shown_url(url)
    problem = ""
    for attempt in range(max(1, attempts)):
        if attempt:
            sleep(backoff_delay(attempt - 1, base=RETRY_BASE, cap=RETRY_CAP))
        request = urllib.request.Request(  # noqa: S310 - scheme checked: http(s) only
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "footfall-alerts"},
        )
        try:
            with _OPENER.open(request, timeout=timeout) as answer:
                answer.read(4096)
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code}"
            if exc.code != 429 and exc.code < 500:
                raise WebhookError(f"the webhook {shown} answered {problem}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, reset, bad answer
            problem = str(exc) or type(exc).__name__
    raise WebhookError(f"the webhook {shown} failed {max(1, attempts)} times; last: {problem}")
