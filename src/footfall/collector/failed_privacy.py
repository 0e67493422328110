"""A failed event keeps no more of a visitor than a stored event would.

Failed events are kept for inspection and retry, which is no reason to keep
the raw IP address or cookie values that stored events never hold. Before
one is written (on the failed-events writer thread, off the request path):

- its built event goes through the steps of the collector's chain that read
  what privacy removes -- user agent, bots, geo, the visitor id -- and then
  through the chain's own `PrivacyProcessor` (the same IP mode, the same
  user-agent rule; the default one when the chain has none). The visits step
  is left to the retry: a failed event opens no visit. Each of these steps
  leaves alone a field it already filled, so a retry stores what the
  original would have been stored as, visitor id and country included.
- its original payload, when it is a map of fields (Snowplow's parameters,
  an API event), gets the same treatment field by field: `ip` anonymised as
  the event's IP is, `ua` / `user_agent` dropped when the privacy step drops
  user agents, and Snowplow's cookie ids (`duid`, `nuid`, `tnuid`, `sid`)
  replaced by the per-site pseudonyms stored events carry. A payload that is
  not a map (a malformed item of a batch) is kept as the text that came in.
  The request's own address is never added to a payload.

The row's `visitor_id` -- what `footfall delete-visitor` matches -- is the
visitor id its event got here (Snowplow's hashed `duid`/`nuid`/`tnuid`, an
API event's own `visitor_id`, else the cookieless id of the day), or, for a
payload with no event, the pseudonym of the cookie id in the payload; ""
when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from footfall.collector.snowplow_protocol import hashed_id
from footfall.event import Event
from footfall.processors import Processor, run_chain
from footfall.processors.bots import BotProcessor
from footfall.processors.geo import GeoProcessor
from footfall.processors.privacy import PrivacyProcessor
from footfall.processors.useragent import UserAgentProcessor
from footfall.processors.visitor import VisitorIdProcessor

__all__ = ["FailedPrivacy"]

log = logging.getLogger("footfall.collector")

# The steps that read the IP or the user agent, which privacy may then remove.
_BEFORE_PRIVACY = (UserAgentProcessor, BotProcessor, GeoProcessor, VisitorIdProcessor)
_COOKIE_IDS = ("duid", "nuid", "tnuid")  # Snowplow's visitor ids, in the order used
_SESSION_IDS = ("sid",)


def _text(value: Any) -> str | None:
    """A parameter as text, as `snowplow_protocol` reads it (None: not a scalar)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


class FailedPrivacy:
    """Anonymises failed events as `chain` anonymises the events it stores."""

    def __init__(self, chain: Sequence[Processor] = ()) -> None:
        self.steps: list[Processor] = [p for p in chain if isinstance(p, _BEFORE_PRIVACY)]
        found = [p for p in chain if isinstance(p, PrivacyProcessor)]
        self.privacy = found[-1] if found else PrivacyProcessor()

    def payload(self, payload: Any) -> tuple[Any, str]:
        """(the payload as it may be kept, the visitor id it names or "").

        Pure and cheap (a shallow copy of a map): called on the request path.
        """
        if isinstance(payload, Event):
            return "", ""  # the built event is kept (anonymised) in its own column
        if not isinstance(payload, Mapping):
            return payload, ""
        kept = dict(payload)
        site = _text(kept.get("aid")) or ""
        if "ip" in kept and self.privacy.ip_mode != "keep":
            ip = self.privacy.anonymise_ip(_text(kept["ip"]) or "")
            if ip:
                kept["ip"] = ip
            else:
                del kept["ip"]
        if self.privacy.drop_user_agent:
            kept.pop("ua", None)
            kept.pop("user_agent", None)
        visitor = ""
        for key in (*_COOKIE_IDS, *_SESSION_IDS):
            if key not in kept:
                continue
            value = _text(kept[key])
            if not value:
                del kept[key]  # not an id the event could have used: nothing to keep
                continue
            kept[key] = hashed_id(site, value)
            if key in _COOKIE_IDS and not visitor:
                visitor = kept[key]
        return kept, visitor

    def event(self, event: Event) -> Event:
        """Enrich with the steps before privacy, then anonymise (worker thread: may do I/O)."""
        try:
            done = run_chain(self.steps, [event])
            event = done[0] if done else event
        except Exception:
            # Enrichment is a nicety here; anonymisation below is not.
            log.exception("footfall: enriching a failed event failed; anonymising it as it is")
        anonymous = self.privacy(event)
        return anonymous if anonymous is not None else event
