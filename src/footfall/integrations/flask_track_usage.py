"""Flask-Track-Usage 2.0's storages and rows, for apps that switch to footfall.

An app written for Flask-Track-Usage keeps what it had in one of two ways:

- It passes its storage objects (`SQLStorage`, `MongoStorage`, its own
  `Storage` subclasses) to footfall's `TrackUsage` as before. `StorageSink`
  hands each one the record Flask-Track-Usage's `after_request` built, from
  the background worker instead of the request: the storage writes its
  table, runs its post-storage hooks and answers its own `get_usage` as it
  always did, so the pages of the app that read it keep working.
- It drops Flask-Track-Usage (which does not run on Flask 2.3 or later) and
  uses `FootfallStorage(url)`: footfall's store with a storage's face,
  whose `get_usage` returns Flask-Track-Usage's dicts read from footfall's
  events and whose hooks are called the way Flask-Track-Usage called them,
  one row at a time with the row's keys.

Nothing here imports `flask_track_usage`: a storage is recognised by the
module its class comes from, and the record is built from the `Event`, so
footfall's processors (user agent, geo, privacy) decide what it holds.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from footfall.delivery.stream_worker import is_data_error
from footfall.errors import FootfallError
from footfall.event import Event
from footfall.stores import connect
from footfall.stores.base import EventFilter, Store

__all__ = [
    "FootfallStorage",
    "StorageSink",
    "UserAgent",
    "is_ftu_storage",
    "usage_record",
    "usage_row",
]

log = logging.getLogger("footfall.integrations")

_FTU_STORAGE = "flask_track_usage.storage"  # the package every Flask-Track-Usage storage subclasses
# Keys footfall's TrackUsage adds to `g.track_var` in `props`; the rest is the app's.
_ADDED_PROPS = frozenset({"endpoint", "blueprint", "view_args"})
# Record key -> SQLStorage column: the string columns a value must fit.
_COLUMNS = {
    "url": "url",
    "blueprint": "blueprint",
    "remote_addr": "remote_addr",
    "xforwardedfor": "xforwardedfor",
    "path": "path",
    "username": "username",
}
_AGENT_COLUMNS = {
    "browser": "ua_browser",
    "language": "ua_language",
    "platform": "ua_platform",
    "version": "ua_version",
}


def is_ftu_storage(obj: object) -> bool:
    """Whether `obj` takes Flask-Track-Usage's records: one of its storages or writers
    (or a subclass), or any other callable that is not a footfall sink, since
    Flask-Track-Usage called any callable it was given as a storage."""
    if any(
        c.__module__ == _FTU_STORAGE or c.__module__.startswith(_FTU_STORAGE + ".")
        for c in type(obj).__mro__
    ):
        return True
    is_sink = hasattr(obj, "write") and hasattr(obj, "close")
    return callable(obj) and not is_sink and not isinstance(obj, str | Store | type)


class UserAgent:
    """What Flask-Track-Usage's storages read of werkzeug's `request.user_agent`.

    Werkzeug stopped parsing user agents in 2.1, so under Flask-Track-Usage on
    any Flask it supports these attributes were None; here they carry
    footfall's parse (browser, operating system, browser version) and the
    request's language.
    """

    __slots__ = ("browser", "language", "platform", "string", "version")

    def __init__(
        self,
        string: str = "",
        *,
        browser: str | None = None,
        platform: str | None = None,
        version: str | None = None,
        language: str | None = None,
    ) -> None:
        self.string = string
        self.browser = browser
        self.platform = platform
        self.version = version
        self.language = language

    def __str__(self) -> str:
        return self.string

    def __repr__(self) -> str:
        return f"<UserAgent {self.browser!r}/{self.version!r} on {self.platform!r}>"


def _ftu_timestamp(ts: datetime) -> int:
    """The `date` Flask-Track-Usage put in its record, for the same moment.

    It took `utcnow()` through `time.mktime` (which reads it as local time),
    and every storage turns it back with `datetime.fromtimestamp`: the two
    local-time steps cancel, so the stored value is the naive UTC time. Doing
    the same keeps the storages' columns as they were.
    """
    naive = ts.astimezone(timezone.utc).replace(tzinfo=None)
    return int(time.mktime(naive.timetuple()))


def _first_args(query: str) -> dict[str, str]:
    """`request.args` as Flask-Track-Usage kept it: the first value of each key."""
    args: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        args.setdefault(key, value)
    return args


def usage_record(event: Event, server_name: str = "") -> dict[str, Any]:
    """The record Flask-Track-Usage 2.0 handed its storages, for one tracked request.

    What footfall does not keep is None: the raw `X-Forwarded-For` header,
    and the IP address unless the privacy step keeps it (`ip="keep"`).
    `authorization` is true when the request had a user, `ip_info` holds
    footfall's offline geo (country, region, city) when geo is on, and
    `request` is the method and URL (the protocol is not recorded).
    """
    props = event.props
    view_args = props.get("view_args")
    if view_args is None and "endpoint" in props:
        view_args = {}  # a matched view without arguments: Flask's `{}`
    geo = {k: v for k, v in (("country", event.country), ("region", event.region)) if v}
    if event.city:
        geo["city"] = event.city
    user = event.user_id or None
    return {
        "url": event.url,
        "user_agent": UserAgent(
            event.user_agent,
            browser=event.browser or None,
            platform=event.os or None,
            version=event.browser_version or None,
            language=event.language or None,
        ),
        "server_name": server_name,
        "blueprint": props.get("blueprint"),
        "view_args": view_args,
        "status": event.status,
        "remote_addr": event.ip or None,
        "xforwardedfor": None,
        "authorization": user is not None,
        "ip_info": geo or None,
        "path": event.path,
        "speed": event.duration_ms / 1000.0,
        "date": _ftu_timestamp(event.ts),
        "content_length": event.bytes,
        "request": f"{event.method} {event.url}",
        "url_args": _first_args(urlsplit(event.url).query),
        "username": user,
        "track_var": {k: v for k, v in props.items() if k not in _ADDED_PROPS},
    }


def _json_or_none(value: Any) -> str | None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return None if text == "{}" else text


def usage_row(event: Event) -> dict[str, Any]:
    """One item of Flask-Track-Usage 2.0's `get_usage` list, for one event.

    The documented shape, as `SQLStorage` returns it: `view_args`,
    `track_var` and `ip_info` are JSON strings (None when empty), `date` is
    a naive UTC datetime to the second.
    """
    record = usage_record(event)
    agent: UserAgent = record["user_agent"]
    return {
        "url": record["url"],
        "user_agent": {
            "browser": agent.browser,
            "language": agent.language,
            "platform": agent.platform,
            "version": agent.version,
        },
        "blueprint": record["blueprint"],
        "view_args": _json_or_none(record["view_args"]),
        "status": record["status"],
        "remote_addr": record["remote_addr"],
        "xforwardedfor": record["xforwardedfor"],
        "authorization": record["authorization"],
        "ip_info": _json_or_none(record["ip_info"]) if record["ip_info"] else None,
        "path": record["path"],
        "speed": record["speed"],
        "date": event.ts.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0),
        "username": record["username"],
        "track_var": _json_or_none(record["track_var"]),
    }


def _column_limits(storage: Any) -> dict[str, int]:
    """Lengths of an SQLStorage's string columns (PostgreSQL refuses longer values)."""
    table = getattr(storage, "track_table", None)
    limits: dict[str, int] = {}
    for column in getattr(table, "columns", ()):
        length = getattr(getattr(column, "type", None), "length", None)
        if isinstance(length, int) and length > 0:
            limits[str(column.name)] = length
    return limits


class StorageNotReached(FootfallError):
    """A Flask-Track-Usage storage failed on a row; `events` are the ones not yet written."""

    def __init__(self, storage: Any, events: list[Event]) -> None:
        super().__init__(f"{type(storage).__name__} could not store a row")
        self.events = events  # read by the dispatcher: only these are retried


class StorageSink:
    """A Flask-Track-Usage storage fed from the background worker.

    Each event becomes the record Flask-Track-Usage built in
    `after_request` (a fresh dict per storage: some storages change the
    record they are given), and the storage is called with it, which also
    runs its post-storage hooks. Strings are cut to the lengths of an
    `SQLStorage`'s columns, so a long URL is shortened rather than the row
    refused. A row the database refuses as bad data is logged and skipped;
    any other failure hands the rest of the batch back to the worker, which
    retries from that row, so no row is written twice.
    """

    def __init__(self, storage: Any, server_name: str = "") -> None:
        if not callable(storage):
            raise TypeError(f"{storage!r} is not a Flask-Track-Usage storage")
        self.storage = storage
        self.server_name = server_name
        self._limits = _column_limits(storage)
        self._split = callable(getattr(storage, "store", None)) and isinstance(
            getattr(storage, "_post_storage_hooks", None), list
        )

    def write(self, events: Sequence[Event]) -> None:
        for i, event in enumerate(events):
            record = self._fitted(usage_record(event, self.server_name))
            try:
                self._store(record)
            except Exception as exc:
                if not is_data_error(exc):
                    raise StorageNotReached(self.storage, list(events[i:])) from exc
                log.error("footfall: %r refused the row of event %s: %s", self, event.id, exc)
                continue
            self._run_hooks(record)

    def _store(self, record: dict[str, Any]) -> None:
        """Store one record; the storage's hooks run apart (`_run_hooks`).

        Calling the storage would store and then run its hooks, and a hook
        that raised would look like a row that failed to store: retrying it
        would write the row again. A Flask-Track-Usage storage's `__call__`
        is `store(data)` followed by its `_post_storage_hooks`, so the two
        are called apart. Anything else that is callable is called as it is.
        """
        if self._split:
            self.storage.store(record)
        else:
            self.storage(record)

    def _run_hooks(self, record: dict[str, Any]) -> None:
        """The storage's post-storage hooks, as Flask-Track-Usage ran them; one that raises
        is logged (under Flask-Track-Usage it failed the request)."""
        if not self._split:
            return
        record["_parent_class_name"] = type(self.storage).__name__
        record["_parent_self"] = self.storage
        for hook in self.storage._post_storage_hooks:
            try:
                hook(**record)
            except Exception:
                log.exception("footfall: post-storage hook %r of %r raised", hook, self)

    def _fitted(self, record: dict[str, Any]) -> dict[str, Any]:
        limits = self._limits
        if not limits:
            return record
        for key, column in _COLUMNS.items():
            value, limit = record[key], limits.get(column)
            if limit and isinstance(value, str) and len(value) > limit:
                record[key] = value[:limit]
        agent = record["user_agent"]
        for attr, column in _AGENT_COLUMNS.items():
            value, limit = getattr(agent, attr), limits.get(column)
            if limit and isinstance(value, str) and len(value) > limit:
                setattr(agent, attr, value[:limit])
        return record

    def close(self) -> None:
        """Nothing to release: the storage belongs to the app."""

    def __repr__(self) -> str:
        return f"StorageSink({type(self.storage).__name__})"


def _utc(value: datetime | None, default: datetime) -> datetime:
    """A `get_usage` bound: naive datetimes are UTC, as Flask-Track-Usage stored them."""
    if value is None:
        return default
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class FootfallStorage:
    """A footfall store with the face of a Flask-Track-Usage 2.0 storage.

    Pass it to `TrackUsage` where `SQLStorage(...)` stood. It is a sink
    (events go to the store) with `get_usage` returning Flask-Track-Usage's
    dicts (`usage_row`) of the requests the web integrations recorded
    (`source="server"`, of `site` when given). `hooks` are
    Flask-Track-Usage post-storage hooks: classes are instantiated with the
    storage's arguments, each hook's `set_up` (if any) is called with them,
    and after each stored batch every hook is called once per event with
    the record's keys as keyword arguments. A hook that raises is logged;
    the events are stored already. Flask-Track-Usage's summary hooks
    (`sumUrl`, ...) support only its own storages: footfall's stats give
    those breakdowns.
    """

    def __init__(
        self, store: Store | str, *, hooks: Iterable[Any] = (), site: str | None = None
    ) -> None:
        self.store = connect(store) if isinstance(store, str) else store
        self.site = site
        kwargs: dict[str, Any] = {
            "store": self.store,
            "hooks": list(hooks),
            "_parent_class_name": type(self).__name__,
            "_parent_self": self,
        }
        made: list[Any] = [h(**kwargs) if inspect.isclass(h) else h for h in kwargs["hooks"]]
        for made_hook in made:
            set_up = getattr(made_hook, "set_up", None)
            if callable(set_up):
                set_up(**kwargs)
        self._hooks = made

    @property
    def preferred_batch_size(self) -> int | None:
        """The store's batch size hint."""
        return self.store.preferred_batch_size

    def write(self, events: Sequence[Event]) -> None:
        self.store.write(events)
        if not self._hooks:
            return
        name = type(self).__name__
        for event in events:
            record = usage_record(event)
            for hook in self._hooks:
                try:
                    hook(**record, _parent_class_name=name, _parent_self=self)
                except Exception:
                    log.exception("footfall: post-storage hook %r raised", hook)

    def get_usage(
        self,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        limit: int = 500,
        page: int = 1,
    ) -> list[dict[str, Any]]:
        """Recorded requests between the dates (both included), newest first.

        Flask-Track-Usage's defaults and paging: from 1970 to now, `limit`
        per 1-based `page`. Naive datetimes are UTC. Its rows kept whole
        seconds, so the bounds are compared as whole seconds too: an `end`
        of 12:00:00 takes in a request at 12:00:00.5.
        """
        start = _utc(start_date, datetime(1970, 1, 1, tzinfo=timezone.utc))
        if start.microsecond:
            start = start.replace(microsecond=0) + timedelta(seconds=1)
        end = _utc(end_date, datetime.now(timezone.utc))
        end = end.replace(microsecond=0) + timedelta(seconds=1)
        filters = EventFilter(site=self.site, source="server")
        return [usage_row(e) for e in self.store.get_usage(start, end, limit, page, filters)]

    def close(self) -> None:
        self.store.close()

    def __repr__(self) -> str:
        return f"FootfallStorage({self.store!r})"
