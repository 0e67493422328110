"""Web framework integrations: one thin module per framework.

`wsgi` and `asgi` hold the middleware; `flask` and `django` wrap them in the
shape their framework expects; `request` is the extractor they share. Each
framework module imports its framework at import time and raises a
`ConfigurationError` that says what to install when it is missing.

This module holds what every integration needs to get a tracker: either the
one the application passes, the global one (`footfall.get_tracker()`,
resolved per request so registering later still works), or one built here
from sinks, stores or store URLs with the default processors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from footfall.errors import ConfigurationError
from footfall.processors import Processor
from footfall.processors.defaults import default_processors
from footfall.stores import connect
from footfall.stores.base import Store
from footfall.tracker import Tracker, get_tracker

__all__ = ["build_tracker", "not_installed", "tracker_source"]

log = logging.getLogger("footfall.integrations")


def not_installed(framework: str, extra: str, exc: ImportError) -> ConfigurationError:
    """The error a framework module raises when its framework is missing."""
    return ConfigurationError(
        f"footfall's {framework} integration needs {framework}: "
        f"`pip install 'footfall[{extra}]'` ({exc})"
    )


def build_tracker(
    sinks: Iterable[Any],
    *,
    site: str = "",
    processors: Sequence[Processor] | None = None,
    name: str = "default",
    **processor_options: Any,
) -> Tracker:
    """A server-side tracker writing to `sinks` (sinks, stores or store URLs).

    Store URLs are opened here (and migrated) so the default processors can
    keep their shared state (daily salts, open visits) in the first store.
    `processor_options` go to `default_processors` (privacy, geo database,
    bot handling, ...); pass `processors` to choose the chain yourself.
    """
    resolved = [connect(s) if isinstance(s, str) else s for s in sinks]
    if not resolved:
        raise ConfigurationError("no sinks given: pass a store URL, a store or a sink")
    if processors is None:
        store = next((s for s in resolved if isinstance(s, Store)), None)
        if store is None:
            store = next((getattr(s, "store", None) for s in resolved), None)
        processors = list(default_processors(store, **processor_options))
    elif processor_options:
        raise TypeError(f"unexpected options with explicit processors: {sorted(processor_options)}")
    return Tracker(resolved, processors, site=site, source="server", name=name)


def tracker_source(
    tracker: Tracker | None,
    sinks: Iterable[Any] = (),
    *,
    site: str = "",
    processors: Sequence[Processor] | None = None,
    **processor_options: Any,
) -> Callable[[], Tracker]:
    """How a middleware finds its tracker on each request.

    An explicit tracker wins; else sinks build one; else the global tracker
    is looked up per request (a dict look-up), so an app can create the
    middleware first and register its tracker later.
    """
    if tracker is not None and (sinks or processor_options):
        raise TypeError("pass either tracker= or sinks/options, not both")
    sink_list = list(sinks)
    if tracker is None and sink_list:
        tracker = build_tracker(sink_list, site=site, processors=processors, **processor_options)
    elif processor_options:
        raise TypeError(f"processor options need sinks=: {sorted(processor_options)}")
    if tracker is not None:
        fixed = tracker
        return lambda: fixed
    return get_tracker
