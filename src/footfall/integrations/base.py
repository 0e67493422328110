"""What the WSGI and ASGI middleware share: their options and their tracker.

Both take the same keyword options (those of `request.Options`, plus where
events go), so the constructor lives here once and each middleware only
adds how it reads a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from footfall.integrations import tracker_source
from footfall.integrations.request import (
    DEFAULT_COOKIE_MAX_AGE,
    DEFAULT_COOKIE_NAME,
    Classifier,
    Options,
    Pattern,
    classify,
)
from footfall.processors import Processor
from footfall.tracker import Tracker

__all__ = ["MiddlewareBase"]

UserIdGetter = Callable[[Any], "str | None"]


class MiddlewareBase:
    """Options and tracker of a web middleware; see docs/integrations.md.

    `tracker` is used as given; otherwise `sinks` (sinks, stores or store
    URLs) build one with the default processors (`processor_options` go to
    them); with neither, the global `footfall.get_tracker()` is used. The
    other options are those of `footfall.integrations.request.Options`.
    `get_user_id(request)` names the user (the environ for WSGI, the scope
    for ASGI); without it the subclass's `default_user_id()` is used.
    """

    def __init__(
        self,
        app: Any,
        tracker: Tracker | None = None,
        *,
        sinks: Iterable[Any] = (),
        processors: Sequence[Processor] | None = None,
        site: str = "",
        include: Iterable[Pattern] = (),
        exclude: Iterable[Pattern] = (),
        exclude_static: bool = True,
        trusted_proxies: int = 0,
        proxy_header: str = "x-forwarded-for",
        cookie: bool = False,
        cookie_name: str = DEFAULT_COOKIE_NAME,
        cookie_max_age: int = DEFAULT_COOKIE_MAX_AGE,
        honor_dnt: bool = False,
        classify: Classifier = classify,
        get_user_id: UserIdGetter | None = None,
        **processor_options: Any,
    ) -> None:
        self.app = app
        self.options = Options(
            site=site,
            include=tuple(include),
            exclude=tuple(exclude),
            exclude_static=exclude_static,
            trusted_proxies=trusted_proxies,
            proxy_header=proxy_header,
            cookie=cookie,
            cookie_name=cookie_name,
            cookie_max_age=cookie_max_age,
            honor_dnt=honor_dnt,
            classify=classify,
        )
        self.get_tracker = tracker_source(
            tracker, sinks, site=site, processors=processors, **processor_options
        )
        self.get_user_id: UserIdGetter | None = get_user_id or self.default_user_id()

    def default_user_id(self) -> UserIdGetter | None:
        """How to name the user when `get_user_id` is not given (None: no way)."""
        return None

    @property
    def tracker(self) -> Tracker:
        """The tracker receiving this middleware's events."""
        return self.get_tracker()
