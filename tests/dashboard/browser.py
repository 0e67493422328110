"""Debian's chromium driven by Playwright, with console and dialog watchers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The committed screenshots are refreshed with FOOTFALL_SCREENSHOTS=1; other
# runs still take them (so a page that cannot render fails) into a temp folder.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def screenshot_dir(tmp: Path) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("FOOTFALL_SCREENSHOTS") == "1" else tmp


@dataclass
class Watch:
    """What a page did that it should not: dialogs, console errors, CSP reports."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                self.errors.append(msg.text)

        page.on("dialog", on_dialog)
        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


def log_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base + "/")


def wait_loaded(page: Any) -> None:
    """Until every visible panel has finished loading (rows or a message)."""
    try:
        page.wait_for_function(LOADED_JS, timeout=90_000)
    except Exception as exc:
        state = page.evaluate(
            """() => ({url: location.href,
                 panels: Array.from(document.querySelectorAll('.panel')).map(
                   p => p.id + (p.classList.contains('hidden') ? ' (hidden)' : '') + ': '
                        + p.querySelector('.status').textContent),
                 topline: Array.from(document.querySelectorAll('#topline [data-value]'))
                   .map(v => v.textContent)})"""
        )
        raise AssertionError(f"dashboard did not finish loading: {state}") from exc


LOADED_JS = """() => Array.from(document.querySelectorAll('.panel:not(.hidden) .status'))
                 .every(s => s.textContent !== 'Loading\u2026')
           && document.querySelector('#topline .stat [data-value]').textContent !== '\u2013'"""
