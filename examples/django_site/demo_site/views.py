"""Views of the Django example: a page, JSON, a login-only page, a stream, an error."""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><h1>Hello from Django</h1>")


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"pong": True})


@login_required(login_url="/")
def account(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"<h1>Hello {request.user.get_username()}</h1>")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Iterator[bytes]:
        for i in range(5):
            yield f"chunk {i}\n".encode()

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom")


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")
