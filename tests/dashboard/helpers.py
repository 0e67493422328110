"""Small helpers shared by the dashboard tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: httpx.Client, user: str, password: str) -> httpx.Response:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login", data={"csrf": token, "name": user, "password": password, "next": "/"}
    )


class ScriptAudit(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.problems.append("script without src")
        if tag == "style" or "style" in names:
            self.problems.append(f"inline style on <{tag}>")
        for key, value in attrs:
            if key.startswith("on"):
                self.problems.append(f"handler {key} on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {key}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script body")


def audit(html: str) -> list[str]:
    parser = ScriptAudit()
    parser.feed(html)
    return parser.problems
