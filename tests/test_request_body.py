"""The bounded body read shared by the collector's endpoints and the dashboard's forms."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
from starlette.requests import Request

from footfall.collector.http import read_body
from footfall.collector.ingest import Rejected
from footfall.dashboard.forms import FormRefused, read_form
from footfall.request_body import BodyRefused, read_limited


def _request(headers: dict[str, str], chunks: Iterable[bytes]) -> Request:
    parts = list(chunks)

    async def receive() -> dict[str, Any]:
        body = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, receive)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_reads_a_body_within_the_limit() -> None:
    request = _request({"content-length": "6"}, [b"abc", b"def"])
    assert _run(read_limited(request, 6)) == b"abcdef"


def test_a_declared_length_past_the_limit_is_refused_unread() -> None:
    with pytest.raises(BodyRefused) as caught:
        _run(read_limited(_request({"content-length": "7"}, [b"x" * 7]), 6))
    assert caught.value.status == 413


def test_a_chunked_body_is_counted_as_it_arrives() -> None:
    with pytest.raises(BodyRefused) as caught:
        _run(read_limited(_request({}, [b"abcd", b"efgh"]), 6))
    assert caught.value.status == 413


@pytest.mark.parametrize("length", ["²", "³", "-1", "1e3", "", "12 34"])
def test_a_content_length_that_is_not_ascii_digits_is_a_400(length: str) -> None:
    # "²" and "³" pass str.isdigit() yet int() refuses them: a 500 once.
    with pytest.raises(Rejected) as collector_refusal:
        _run(read_body(_request({"content-length": length}, [b"{}"]), 1000))
    assert collector_refusal.value.status == 400
    assert collector_refusal.value.reason == "Content-Length is not a number"
    form = {"content-length": length, "content-type": "application/x-www-form-urlencoded"}
    with pytest.raises(FormRefused) as form_refusal:
        _run(read_form(_request(form, [b"a=1"])))
    assert form_refusal.value.status == 400


def test_each_caller_keeps_its_own_words_for_a_large_body() -> None:
    with pytest.raises(Rejected, match="body larger than 4 bytes"):
        _run(read_body(_request({"content-length": "5"}, [b"12345"]), 4))
    form = {"content-length": "5", "content-type": "application/x-www-form-urlencoded"}
    with pytest.raises(FormRefused, match=r"The form is larger than 4 bytes\."):
        _run(read_form(_request(form, [b"a=123"]), limit=4))
