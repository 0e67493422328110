"""Language: a raw Accept-Language header becomes its preferred language tag.

Browser events send one tag ("de-DE"); server-side sources pass the header as
it came ("de-DE,de;q=0.9,en;q=0.8"). The tag with the highest quality wins
(the first on a tie); case is normalised the BCP 47 way ("de-de" -> "de-DE",
"zh-hant-tw" -> "zh-Hant-TW"). Anything that is not a plausible tag is
cleared rather than stored, since the header is free text from the network.
"""

from __future__ import annotations

import functools
import re

from footfall.event import Event

__all__ = ["LanguageProcessor", "preferred_language"]

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
MAX_HEADER = 500  # characters of header looked at
MAX_TAG = 35


def _normalise(tag: str) -> str:
    parts = tag.split("-")
    out = [parts[0].lower()]
    for p in parts[1:]:
        if len(p) == 2 and p.isalpha():
            out.append(p.upper())  # region
        elif len(p) == 4 and p.isalpha():
            out.append(p.title())  # script
        else:
            out.append(p.lower())
    return "-".join(out)


@functools.lru_cache(maxsize=4_096)
def preferred_language(header: str) -> str:
    """The preferred language tag of an Accept-Language value, or ""."""
    best, best_q = "", -1.0
    for item in header[:MAX_HEADER].split(","):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().replace("_", "-")
        if not tag or tag == "*" or len(tag) > MAX_TAG or not _TAG.match(tag):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q and q > 0:
            best, best_q = tag, q
    return _normalise(best) if best else ""


class LanguageProcessor:
    """Replaces `event.language` by its preferred tag."""

    def __call__(self, event: Event) -> Event:
        if event.language:
            event.language = preferred_language(event.language)
        return event

    def __repr__(self) -> str:
        return "LanguageProcessor()"
