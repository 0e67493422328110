"""Flag bots: ua-parser's Spider device class plus the `crawlerdetect` list.

ua-parser knows the big crawlers by name; crawlerdetect (a port of the
maintained CrawlerDetect pattern list) also catches HTTP libraries, uptime
checkers and headless browsers such as curl, python-requests and
HeadlessChrome. A bot keeps its event (operators like to see crawl traffic)
but gets `is_bot = True` and `device = "bot"`; stats leave bots out.

The verdict reads `event.user_agent`, which holds the end user's agent or
nothing: the collector never copies a server-side sender's HTTP client
(`python-requests/...`) into it, so an event without one is not a bot by its
agent (docs/guarantees.md, "Bots and server-side senders").
"""

from __future__ import annotations

import functools
from typing import Any

from footfall.event import Event
from footfall.processors.useragent import CACHE_SIZE, WARM_AGENT

__all__ = ["BotProcessor", "is_crawler"]


def is_crawler(ua: str) -> bool:
    """Whether the crawlerdetect list matches `ua` (uncached)."""
    from crawlerdetect import CrawlerDetect

    return bool(_detector(CrawlerDetect).is_crawler(ua))


@functools.cache
def _detector(cls: type) -> Any:
    # One detector per process: it compiles a large alternation once.
    return cls()


class BotProcessor:
    """Sets `is_bot` and `device = "bot"` for crawlers; runs after useragent."""

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        self.check = functools.lru_cache(maxsize=cache_size)(is_crawler)

    def warm(self) -> None:
        """Compile the crawler list now (see `UserAgentProcessor.warm`)."""
        is_crawler(WARM_AGENT)

    def __call__(self, event: Event) -> Event:
        if event.is_bot:
            event.device = "bot"
        elif event.device == "bot" or (event.user_agent and self.check(event.user_agent)):
            event.is_bot = True
            event.device = "bot"
        return event

    def __repr__(self) -> str:
        return "BotProcessor()"
