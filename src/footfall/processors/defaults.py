"""The default processor chain, in the order that makes each step's input ready.

user agent -> bots (uses the parsed device) -> geo (needs the raw IP) ->
referrer -> UTM/host/path -> language -> visitor id (needs IP and UA) ->
visits (needs the visitor id) -> visit plugins -> privacy (last: drops the IP
every earlier step has used).

Used by the collector (`footfall.server.state`) and the web middlewares; a
`Tracker(processors=default_processors(store, ip="truncate"))` is the way
to change a default.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from footfall.event import utcnow
from footfall.processors import Processor
from footfall.processors.bots import BotProcessor
from footfall.processors.geo import GeoProcessor
from footfall.processors.language import LanguageProcessor
from footfall.processors.privacy import IpMode, PrivacyProcessor
from footfall.processors.referrer import ReferrerProcessor
from footfall.processors.state import ProcessorState, VisitKey, state_for
from footfall.processors.useragent import UserAgentProcessor
from footfall.processors.utm import UtmProcessor
from footfall.processors.visit_plugins import DEFAULT_VISIT_TIMEOUT
from footfall.processors.visitor import VisitorIdProcessor
from footfall.processors.visits import VisitPluginsProcessor, VisitsProcessor

__all__ = ["default_processors"]

log = logging.getLogger("footfall.processors")


def default_processors(
    store: Any = None,
    *,
    geo: bool = True,
    geoip_db: str | os.PathLike[str] | None = None,
    geo_fallback: bool = True,
    cookieless: bool = True,
    visits: bool = True,
    visit_timeout: timedelta = DEFAULT_VISIT_TIMEOUT,
    ip: IpMode = "drop",
    drop_user_agent: bool = False,
    state: ProcessorState | None = None,
    clock: Callable[[], datetime] = utcnow,
    salts: Callable[[date], bytes] | None = None,
    visit_ids: Callable[[VisitKey, int], str] | None = None,
) -> list[Processor]:
    """Build the standard chain for events that end up in `store`.

    `store` supplies shared visitor-salt and visit state (SQLite built in;
    another store through its `processor_state()`); without one, state is
    per process. `geoip_db` (or `$FOOTFALL_GEOIP_DB`) names a MaxMind-format
    database, else geoip2fast's offline country data is used unless
    `geo_fallback` is false. `cookieless` computes visitor ids from the salted
    hash of IP and user agent (events with a `user_id` and neither get the
    user's hashed id either way); `visits` assigns visit ids after
    `visit_timeout` idle and runs the visit plugins. `ip` is "drop"
    (default), "truncate" or "keep". `salts` (day -> salt) and `visit_ids`
    ((site, visitor), start -> id) replace the random daily salts and visit
    ids: a log import derives both, so a re-import gives the same ids.
    """
    chain: list[Processor] = [UserAgentProcessor(), BotProcessor()]
    if geo:
        try:
            chain.append(GeoProcessor(geoip_db, fallback=geo_fallback))
        except (OSError, ValueError) as exc:
            # A broken geo file must not stop tracking; it is loud, not fatal.
            log.error("footfall: geo database %r unusable (%s); geo disabled", geoip_db, exc)
    chain += [ReferrerProcessor(), UtmProcessor(), LanguageProcessor()]
    shared = state if state is not None else state_for(store)
    chain.append(VisitorIdProcessor(shared, cookieless=cookieless, clock=clock, salts=salts))
    if visits:
        tracker = VisitsProcessor(shared, timeout=visit_timeout, visit_id=visit_ids)
        chain += [tracker, VisitPluginsProcessor(tracker)]
    chain.append(PrivacyProcessor(ip, drop_user_agent=drop_user_agent))
    return chain
